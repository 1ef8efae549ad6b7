"""Scorecard benchmark (issue 9): one shop with 100,000 orders (each approved then decided, half of them shipped
with a parcel) spread over `--days` days, rows bulk-inserted; prints the time of `scorecards.queries.scorecard`
per window. Target: well under a second per window.

Run: `python bench/scorecards.py [--orders 100000] [--days 365] [--database-url URL]` (default: a fresh SQLite
file under var/bench). On PostgreSQL pass an empty database's URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if not args.database_url:
        path = ROOT / "var" / "bench" / "scorecards.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        args.database_url = f"sqlite:///{path}"
    os.environ["COMPTOIR_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from comptoir.core import clock
    from comptoir.orders.models import CommercialOrder, Order, OrderHistory
    from comptoir.scorecards import queries
    from comptoir.shipping.models import Shipment
    from comptoir.shops.models import Shop

    now = clock.now()
    shop = Shop.objects.create(id=1, name="Bench", created_date=now, last_updated_date=now)
    step = timedelta(days=args.days) / args.orders
    started = time.perf_counter()
    batch = 5000
    for first in range(0, args.orders, batch):
        count = min(batch, args.orders - first)
        commercials = CommercialOrder.objects.bulk_create([
            CommercialOrder(commercial_id=f"C{first + i}", created_date=now, imported_date=now, payload_digest="x")
            for i in range(count)])
        orders = []
        for i in range(count):
            n = first + i
            entered = now - timedelta(days=args.days) + step * n
            shipped = entered + timedelta(days=3) if n % 2 == 0 else None
            orders.append(Order(
                order_id=f"B{n}", commercial=commercials[i], shop=shop, state="SHIPPED" if shipped else "REFUSED",
                created_date=entered, last_updated_date=entered, acceptance_deadline=entered + timedelta(days=7),
                shipped_date=shipped, shipping_late=n % 10 == 0, customer_id="c", customer_firstname="A",
                customer_lastname="B", relay_token=f"t{n}"))
        orders = Order.objects.bulk_create(orders)
        history = []
        parcels = []
        for order in orders:
            decided = order.created_date + timedelta(hours=20)
            history.append(OrderHistory(order=order, created_date=order.created_date, actor="OPERATOR",
                                        trigger="APPROVE"))
            history.append(OrderHistory(order=order, created_date=decided, actor="SELLER",
                                        trigger="ACCEPT" if order.shipped_date else "REFUSE"))
            if order.shipped_date:
                parcels.append(Shipment(shipment_id=f"S{order.order_id}", order=order, shop=shop, status="SHIPPED",
                                        tracking_number="T" if order.pk % 3 else "", shipped_date=order.shipped_date,
                                        created_date=now, last_updated_date=now))
        OrderHistory.objects.bulk_create(history)
        Shipment.objects.bulk_create(parcels)
    loaded = time.perf_counter() - started
    figures = {"orders": args.orders, "spread_days": args.days, "load_s": round(loaded, 1),
               "database": args.database_url.split(":")[0]}
    for days in (30, 90):
        queries.scorecard(shop.id, days)  # warm the calendar's year tables
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            card = queries.scorecard(shop.id, days)
            runs.append(time.perf_counter() - t0)
        figures[f"window_{days}_ms"] = round(min(runs) * 1000, 1)
        figures[f"window_{days}_decisions"] = next(iter(card.values())).denominator
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
