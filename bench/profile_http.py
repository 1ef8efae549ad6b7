"""Profile one API write over the whole Django stack in-process (WSGI handler, middleware, ninja, service):
OR21 accepts, ST01 creates and ships a parcel of every line (bench/shipments.py's call), or OR28 refunds a 0.50 €
gesture on a line already refunded once (bench/refunds.py's steady-state call), through django.test.Client;
timed without then with cProfile; prints the SQL statements and Python function calls per call.

    COMPTOIR_DATABASE_URL=sqlite:////tmp/prof.sqlite3 .venv/bin/python bench/profile_http.py --call st01 --orders 300

Meant for A/B comparisons of the code (no gunicorn, no network), not for published figures.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def _plans(call: str, n: int, client: Any) -> tuple[list[Any], Callable[[Any], None]]:
    """`n` calls' worth of subjects (twice: unprofiled, profiled) and the function making one call."""
    import orjson
    from tests.factories import make_order

    from comptoir.orders.states import OrderState

    shop = client.shop
    if call == "or21":
        orders = [make_order("WAITING_ACCEPTANCE", shop=shop) for _ in range(n)]
        plan = [(o.order_id, list(o.lines.order_by("index").values_list("line_id", flat=True))) for o in orders]

        def one(item: Any) -> None:
            order_id, line_ids = item
            body = orjson.dumps({"order_lines": [{"id": lid, "accepted": True} for lid in line_ids]})
            r = client.put(f"/api/orders/{order_id}/accept", body, content_type="application/json")
            assert r.status_code == 204, (r.status_code, r.content[:300])

        return plan, one
    if call == "st01":
        orders = [make_order(OrderState.SHIPPING, shop=shop, lines=2) for _ in range(n)]
        plan = [(o.pk, o.order_id, list(o.lines.order_by("index").values_list("line_id", flat=True)))
                for o in orders]

        def one(item: Any) -> None:
            pk, order_id, line_ids = item
            body = orjson.dumps({"shipments": [{
                "order_id": order_id, "shipped": True,
                "tracking": {"carrier_name": "Bench Colis", "tracking_number": f"BC{pk}",
                             "tracking_url": f"https://suivi.example.com/{pk}"},
                "shipment_lines": [{"order_line_id": lid, "quantity": 1} for lid in line_ids]}]})
            r = client.post("/api/shipments", body, content_type="application/json")
            assert r.status_code == 201 and b'"shipment_errors":[]' in r.content, (r.status_code, r.content[:300])

        return plan, one
    if call == "or28":
        orders = [make_order(OrderState.SHIPPED, shop=shop, lines=2) for _ in range(n)]
        plan = [o.lines.order_by("index").values_list("line_id", flat=True)[1] for o in orders]

        def one(item: Any) -> None:
            body = orjson.dumps({"refunds": [{"order_line_id": item, "reason_code": "22", "amount": 0.5}]})
            r = client.put("/api/orders/refund", body, content_type="application/json")
            assert r.status_code == 200, (r.status_code, r.content[:300])

        for item in plan:  # the bench's calls are steady-state ones: the order already took a gesture
            one(item)
        return plan, one
    raise SystemExit(f"unknown call {call}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--call", default="or21", choices=["or21", "st01", "or28"])
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--top", type=int, default=50)
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--callers", default="", help="also print the callers of functions matching this pattern")
    ap.add_argument("--sql", action="store_true", help="print the statements of one call")
    args = ap.parse_args()
    from bench.profiling import print_profile, setup_django

    setup_django(unlimited_rates=True)
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from tests.factories import ShopFactory, shop_key

    from comptoir.core import clock
    from comptoir.timers import worker
    from comptoir.timers.models import Timer

    shop = ShopFactory()
    client = Client(HTTP_AUTHORIZATION=shop_key(shop))
    client.shop = shop  # type: ignore[attr-defined]
    n = args.orders
    plan, one = _plans(args.call, 2 * n + 1, client)
    Timer.objects.filter(state="PENDING").update(due_at=clock.now() + timedelta(days=3650))
    while worker.notification_services.sweep_outbox("profile"):
        pass
    with CaptureQueriesContext(connection) as captured:
        one(plan[0])
    statements = [q["sql"] for q in captured.captured_queries]
    plain = [s for s in statements if not s.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN"))]
    print(f"{args.call.upper()}: {len(plain)} statements per call (+{len(statements) - len(plain)} "
          "SAVEPOINT/RELEASE/BEGIN)")
    if args.sql:
        for s in statements:
            print("  ", s[:220])

    def run(chunk: list[Any]) -> None:
        for item in chunk:
            one(item)

    t0, c0 = time.perf_counter(), time.process_time()
    run(plan[1:n + 1])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU time is the steadier figure on a shared machine (wall time counts the waits for a core).
    print(f"{args.call.upper()} over the Django stack: {wall * 1000 / n:.2f} ms/request unprofiled, "
          f"{cpu * 1000 / n:.2f} ms CPU ({n} requests, load {os.getloadavg()[0]:.2f})")
    prof = cProfile.Profile()
    prof.enable()
    run(plan[n + 1:])
    prof.disable()
    stats = pstats.Stats(prof)
    print(f"{stats.total_calls / n:.0f} Python function calls per call ({stats.prim_calls / n:.0f} primitive)")
    print_profile(prof, sort=args.sort, top=args.top, callers=args.callers)


if __name__ == "__main__":
    main()
