"""Profile the hot paths in-process (cProfile and statement counts): one OR21 accept (`decide_lines` plus the
key lookup), and the worker's auto-refusal and auto-reception sweeps with their outbox delivery.

    COMPTOIR_DATABASE_URL=sqlite:////tmp/prof.sqlite3 .venv/bin/python bench/profile_hot.py --orders 200

Builds its own orders through the real services (import, approve, accept, debit, ship) on the database named
by COMPTOIR_DATABASE_URL (migrated first), then prints per-order milliseconds, statements per order and the
top of the profile for each part. Meant for A/B comparisons of the code, not for published figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def _profile(label: str, fn, n: int, top: int) -> None:  # noqa: ANN001
    from django.db import connection, reset_queries

    reset_queries()
    connection.force_debug_cursor = True
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    fn()
    prof.disable()
    wall = time.perf_counter() - t0
    queries = [q for q in connection.queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    connection.force_debug_cursor = False
    print(f"\n=== {label}: {n} orders, {wall * 1000 / n:.2f} ms/order (profiled), "
          f"{len(queries) / n:.1f} statements/order")
    for q in queries[: max(1, len(queries) // n) + 2]:
        print(f"    {q['sql'][:150]}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    print("\n".join(out.getvalue().splitlines()[:top + 12]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=200)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--only", default="accept,refusal,reception")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("COMPTOIR_HOME", str(ROOT))
    os.environ.setdefault("COMPTOIR_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    from datetime import timedelta

    from tests.factories import ShopFactory, make_order, shop_key

    from comptoir.core import clock
    from comptoir.orders import services
    from comptoir.orders.models import Order
    from comptoir.orders.rules import Decision
    from comptoir.orders.states import Actor
    from comptoir.shops.services import authenticate_key
    from comptoir.timers import worker
    from comptoir.timers.models import Timer

    parts = args.only.split(",")
    n = args.orders
    worker_id = "profile"
    settings.COMPTOIR["WORKER_BATCH_SIZE"] = 200

    def drain() -> None:  # deliver whatever the set-up left in the outbox and due
        Timer.objects.filter(state="PENDING").update(due_at=clock.now() + timedelta(days=3650))
        while worker.sweep_timers(worker_id) or worker.notification_services.sweep_outbox(worker_id):
            pass

    shop = ShopFactory()
    key = shop_key(shop)
    if "accept" in parts:
        orders = [make_order("WAITING_ACCEPTANCE", shop=shop) for _ in range(n)]
        drain()
        plan = [(o.order_id, list(o.lines.order_by("index").values_list("line_id", flat=True))) for o in orders]

        def accept_all() -> None:
            for order_id, line_ids in plan:
                api_key = authenticate_key(key)
                services.decide_lines(order_id=order_id, shop_id=api_key.shop_id,
                                      decisions=[Decision(lid, True) for lid in line_ids],
                                      who=services.Who(Actor.SELLER, f"API boutique {api_key.shop_id}"))

        _profile("accept (decide_lines + key lookup)", accept_all, n, args.top)

    for kind, state, timer_kind in (("refusal", "WAITING_ACCEPTANCE", "AUTO_REFUSE"),
                                    ("reception", "SHIPPED", "AUTO_RECEIVE")):
        if kind not in parts:
            continue
        settings.COMPTOIR["DEBIT_DELAY_SECONDS"] = 0
        sweep_shop = ShopFactory()
        made = [make_order(state, shop=sweep_shop) for _ in range(n)]
        drain()
        Timer.objects.filter(order__in=made, kind=timer_kind, state="PENDING").update(
            due_at=clock.now() - timedelta(seconds=1))

        def sweep() -> None:
            worker.run_until_idle(worker_id)

        _profile(f"auto-{kind} sweep (worker rounds incl. outbox)", sweep, n, args.top)
        left = Order.objects.filter(pk__in=[o.pk for o in made], state=state).count()
        print(f"    orders left in {state}: {left}")



if __name__ == "__main__":
    main()
