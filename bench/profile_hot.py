"""Profile the hot paths in-process (cProfile and statement counts): one OR21 accept (`decide_lines` plus the
key lookup), and the worker's auto-refusal and auto-reception sweeps with their outbox delivery.

    COMPTOIR_DATABASE_URL=sqlite:////tmp/prof.sqlite3 .venv/bin/python bench/profile_hot.py --orders 200

Builds its own orders through the real services (import, approve, accept, debit, ship) on the database named
by COMPTOIR_DATABASE_URL (migrated first), then prints per-order milliseconds, statements per order and the
top of the profile for each part (`--no-profile`: CPU and wall time without cProfile's overhead); the sweeps
are timed apart from the delivery of the events they wrote. Meant for A/B comparisons of the code, not for published figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def _profile(label: str, fn, n: int, top: int, profiled: bool = True) -> None:  # noqa: ANN001
    from django.db import connection

    # Statements counted by an execute wrapper, not the debug cursor (whose quoting of every parameter of a
    # multi-row statement would cost more than the statement): an executemany of n rows counts n statements.
    kinds: dict[str, int] = {}
    calls = 0

    def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        nonlocal calls
        calls += 1
        head = " ".join(sql.split()[:4])[:70]
        kinds[head] = kinds.get(head, 0) + (len(params) if many else 1)
        return execute(sql, params, many, context)

    prof = cProfile.Profile()
    with connection.execute_wrapper(count):
        t0, c0 = time.perf_counter(), time.process_time()
        if profiled:
            prof.enable()
        fn()
        prof.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    executed = sum(kinds.values())
    print(f"\n=== {label}: {n} orders, {wall * 1000 / n:.2f} ms/order wall, {cpu * 1000 / n:.2f} ms/order CPU "
          f"({'profiled' if profiled else 'not profiled'}), {executed / n:.2f} statements/order "
          f"({executed} executed in {calls} calls to the database; BEGIN/COMMIT not counted)")
    for head, number in sorted(kinds.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {number:6d}  {head}")
    if not profiled:
        return
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    print("\n".join(out.getvalue().splitlines()[:top + 12]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=200)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--only", default="accept,refusal,reception")
    ap.add_argument("--no-profile", action="store_true", help="time without cProfile (its overhead skews A/B)")
    args = ap.parse_args()
    from bench.profiling import setup_django

    setup_django()
    from datetime import timedelta

    from django.conf import settings
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

        _profile("accept (decide_lines + key lookup)", accept_all, n, args.top, not args.no_profile)

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

        def sweep() -> None:  # the timer sweep alone (`worker --once --only timers`)
            while worker.sweep_timers(worker_id):
                pass

        def deliver() -> None:  # then the delivery of the events it wrote
            while worker.notification_services.sweep_outbox(worker_id):
                pass

        _profile(f"auto-{kind} sweep (timer rounds only)", sweep, n, args.top, not args.no_profile)
        _profile(f"auto-{kind} outbox delivery (its events)", deliver, n, args.top, not args.no_profile)
        left = Order.objects.filter(pk__in=[o.pk for o in made], state=state).count()
        print(f"    orders left in {state}: {left}")



if __name__ == "__main__":
    main()
