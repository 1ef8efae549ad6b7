"""Profile one API write over the whole Django stack in-process (WSGI handler, middleware, ninja, service):
OR21 accepts through django.test.Client, timed without then with cProfile.

    COMPTOIR_DATABASE_URL=sqlite:////tmp/prof.sqlite3 .venv/bin/python bench/profile_http.py --orders 300

Meant for A/B comparisons of the code (no gunicorn, no network), not for published figures.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--top", type=int, default=50)
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--callers", default="", help="also print the callers of functions matching this pattern")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("COMPTOIR_HOME", str(ROOT))
    os.environ.setdefault("COMPTOIR_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from tests.factories import ShopFactory, make_order, shop_key

    from comptoir.core import clock
    from comptoir.timers import worker
    from comptoir.timers.models import Timer

    shop = ShopFactory()
    key = shop_key(shop)
    orders = [make_order("WAITING_ACCEPTANCE", shop=shop) for _ in range(2 * args.orders)]
    Timer.objects.filter(state="PENDING").update(due_at=clock.now() + timedelta(days=3650))
    while worker.notification_services.sweep_outbox("profile"):
        pass
    plan = [(o.order_id, list(o.lines.order_by("index").values_list("line_id", flat=True))) for o in orders]
    client = Client(HTTP_AUTHORIZATION=key)
    import orjson

    def accept(chunk: list) -> None:
        for order_id, line_ids in chunk:
            body = orjson.dumps({"order_lines": [{"id": lid, "accepted": True} for lid in line_ids]})
            r = client.put(f"/api/orders/{order_id}/accept", body, content_type="application/json")
            assert r.status_code == 204, (r.status_code, r.content[:300])

    n = args.orders
    t0, c0 = time.perf_counter(), time.process_time()
    accept(plan[:n])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU time is the steadier figure on a shared machine (wall time counts the waits for a core).
    print(f"OR21 over the Django stack: {wall * 1000 / n:.2f} ms/request unprofiled, {cpu * 1000 / n:.2f} ms CPU "
          f"({n} requests, load {os.getloadavg()[0]:.2f})")
    prof = cProfile.Profile()
    prof.enable()
    accept(plan[n:])
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
    print("\n".join(out.getvalue().splitlines()[: args.top + 12]))
    if args.callers:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_callers(args.callers)
        print(out.getvalue())


if __name__ == "__main__":
    main()
