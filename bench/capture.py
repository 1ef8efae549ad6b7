"""Capture the SQL of one real OR21 accept (`decide_lines` plus the API key lookup), rolled back afterwards.

Run as `python -m bench.capture` with COMPTOIR_DATABASE_URL set; prints a JSON list of statements (the
first 160 characters of each) so run.py can show them beside the ceiling loop's statements.
"""

from __future__ import annotations

import json
import os
import sys


class _Rollback(Exception):
    pass


def sweep(prefix: str) -> None:
    """The SQL of one worker timer run (claim + handler) for the first sweep order whose order_id starts with
    `prefix` (bench/sweeps.py: SWR auto-refusal, SWV auto-reception), rolled back; outbox delivery excluded."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from comptoir.core import clock
    from comptoir.orders.models import Order
    from comptoir.timers import worker
    from comptoir.timers.models import Timer

    order = Order.objects.filter(order_id__startswith=prefix).order_by("id").first()
    timer = Timer.objects.filter(order=order, state="PENDING", kind__in=["AUTO_REFUSE", "AUTO_RECEIVE"]).first() \
        if order else None
    if timer is None:
        json.dump({"error": f"no pending sweep timer for {prefix}"}, sys.stdout)
        return
    clock.offset()
    with CaptureQueriesContext(connection) as captured:
        try:
            with transaction.atomic():
                Timer.objects.filter(id=timer.id).update(claimed_by="capture", attempts=1)
                worker.run_timer(timer.id, timer.kind, order.pk, "capture")
                raise _Rollback
        except _Rollback:
            pass
    statements = [q["sql"][:160] for q in captured.captured_queries
                  if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]
    lines = order.lines.count()
    json.dump({"lines": lines, "statements": statements}, sys.stdout)  # the first UPDATE stands for the claim


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    import django

    django.setup()
    if len(sys.argv) > 1:
        sweep(sys.argv[1])
        return
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from comptoir.orders import services
    from comptoir.orders.models import Order
    from comptoir.orders.rules import Decision
    from comptoir.orders.states import Actor
    from comptoir.shops.services import key_owner

    order = Order.objects.filter(state="WAITING_ACCEPTANCE").order_by("id").first()
    if order is None:
        print("[]")
        return
    line_ids = list(order.lines.order_by("index").values_list("line_id", flat=True))
    from comptoir.core import clock

    clock.offset()  # warm the sandbox-clock cache, as a running server has it
    with CaptureQueriesContext(connection) as captured:
        key_owner(f"bench-shop-{order.shop_id}")  # what the API's ShopKey runs
        try:
            with transaction.atomic():
                services.decide_lines(order_id=order.order_id, shop_id=order.shop_id,
                                      decisions=[Decision(lid, True) for lid in line_ids],
                                      who=services.Who(Actor.SELLER, f"API boutique {order.shop_id}"))
                raise _Rollback
        except _Rollback:
            pass
    statements = [q["sql"][:160] for q in captured.captured_queries
                  if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]
    json.dump({"lines": len(line_ids), "statements": statements}, sys.stdout)


if __name__ == "__main__":
    main()
