"""The Django side of the fault runs, in a child process on the run's database (COMPTOIR_DATABASE_URL):
`setup` (migrate, shops with keys and a webhook endpoint, orders waiting for acceptance, through the real
services), `status` (what the worker still has to do), `reconcile` (reliability/reconcile.py) and `files`
(document and attachment rows against the files in storage). Each prints one JSON line.

    python -m reliability.db setup --shops 4 --orders 40 --receiver http://127.0.0.1:PORT/hook
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LINES_PER_ORDER = 2
SHOP_BASE = 7100
OPERATOR_KEY = "reliability-operator"


def shop_key_of(shop_id: int) -> str:
    return f"reliability-shop-{shop_id}"


def setup(*, shops: int, orders: int, receiver: str | None, state: str = "WAITING_ACCEPTANCE") -> dict[str, Any]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.factories import OPERATOR, OfferFactory, ShopFactory, import_request, make_order

    from comptoir.orders import services
    from comptoir.refunds.services import ensure_default_reasons
    from comptoir.shipping.services import ensure_default_carriers
    from comptoir.shops.services import issue_api_key
    from comptoir.webhooks.services import create_endpoint

    ensure_default_reasons()
    ensure_default_carriers()
    issue_api_key(shop_id=None, raw_key=OPERATOR_KEY)
    made: list[dict[str, Any]] = []
    for s in range(shops):
        shop = ShopFactory(id=SHOP_BASE + s, name=f"Boutique fiabilité {s}")
        issue_api_key(shop_id=shop.id, raw_key=shop_key_of(shop.id))
        if receiver:
            create_endpoint(shop_id=shop.id, url=receiver, description="reliability receiver")
        offers = [OfferFactory(shop=shop, sku=f"REL-{shop.id}-{i}", price_cents=1000 * (i + 1), stock=100_000)
                  for i in range(LINES_PER_ORDER)]
        for n in range(s, orders, shops):
            if state == "WAITING_ACCEPTANCE":
                request = import_request([(offer, 1) for offer in offers], commercial_id=f"REL-{n:05d}")
                (order,), _ = services.import_customer_order(request, who=OPERATOR)
                services.approve_order(order_id=order.order_id, who=OPERATOR)
            else:
                order = make_order(state, shop=shop, offers=[(offer, 1) for offer in offers])
            lines = list(order.lines.order_by("index").values_list("line_id", flat=True))
            made.append({"n": n, "order_id": order.order_id, "shop_id": shop.id, "key": shop_key_of(shop.id),
                         "lines": lines})
    made.sort(key=lambda o: o["n"])
    return {"operator_key": OPERATOR_KEY, "orders": made}


def status() -> dict[str, Any]:
    """What is left for the worker: due timers, outbox rows and webhook deliveries not yet done."""
    from django.db.models import Q

    from comptoir.core import clock
    from comptoir.notifications.models import OutboxEvent
    from comptoir.timers.models import Timer
    from comptoir.webhooks.models import Delivery, WebhookEvent

    now = clock.now()
    return {
        "timers_due": Timer.objects.filter(state="PENDING", due_at__lte=now).count(),
        "timers_claimed_lapsed": Timer.objects.filter(state="PENDING", claimed_until__lt=now,
                                                      due_at__lte=now).count(),
        "outbox_pending": OutboxEvent.objects.filter(state="PENDING").count(),
        "outbox_pending_due": OutboxEvent.objects.filter(state="PENDING", next_attempt_at__lte=now).count(),
        "outbox_dead": OutboxEvent.objects.filter(state="DEAD").count(),
        "webhook_events_not_fanned_out": WebhookEvent.objects.filter(fanned_out=False).count(),
        "deliveries_pending": Delivery.objects.filter(state="PENDING").count(),
        "deliveries_dead": Delivery.objects.filter(state="DEAD").count(),
        "in_flight_claims": Timer.objects.filter(state="PENDING").filter(~Q(claimed_by=""),
                                                                         claimed_until__gt=now).count(),
        "refunds_waiting": _refunds_waiting(),
        "now": now.isoformat(),
        "later_timers": Timer.objects.filter(state="PENDING", due_at__gt=now,
                                             due_at__lte=now + timedelta(minutes=2)).count(),
    }


def _refunds_waiting() -> int:
    from comptoir.refunds.models import Refund

    return Refund.objects.exclude(state="REFUNDED").count()


def files(documents_dir: str) -> dict[str, Any]:
    """Every document and attachment row has its file (same size), and every file has its row."""
    from comptoir.documents.models import OrderDocument
    from comptoir.messaging.models import Attachment

    root = Path(documents_dir)
    on_disk = {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()} \
        if root.exists() else {}
    rows = {d.file.name: d.file_size for d in OrderDocument.objects.all()}
    rows.update({a.file.name: a.size for a in Attachment.objects.all()})
    missing = sorted(name for name in rows if name not in on_disk)
    wrong_size = sorted(name for name, size in rows.items() if name in on_disk and on_disk[name] != size)
    orphans = sorted(name for name in on_disk if name not in rows)
    return {"documents": OrderDocument.objects.count(), "attachments": Attachment.objects.count(),
            "files": len(on_disk), "rows_without_file": missing, "rows_with_wrong_size": wrong_size,
            "orphan_files": orphans}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--shops", type=int, default=4)
    p.add_argument("--orders", type=int, default=40)
    p.add_argument("--receiver")
    p.add_argument("--state", default="WAITING_ACCEPTANCE")
    sub.add_parser("status")
    p = sub.add_parser("reconcile")
    p.add_argument("--client-log", required=True)
    p.add_argument("--receiver-log")
    p.add_argument("--mail-dir")
    p = sub.add_parser("files")
    p.add_argument("--documents-dir", required=True)
    args = ap.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    import django

    django.setup()
    if args.command == "setup":
        out = setup(shops=args.shops, orders=args.orders, receiver=args.receiver, state=args.state)
    elif args.command == "status":
        out = status()
    elif args.command == "reconcile":
        from reliability.reconcile import reconcile

        out = reconcile(client_log=args.client_log, receiver_log=args.receiver_log, mail_dir=args.mail_dir)
    else:
        out = files(args.documents_dir)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
