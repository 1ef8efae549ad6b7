"""Profile OR21 over the whole Django stack in-process as a server runs it: Django's WSGI handler called directly
(request_started and its connection health check included, which django.test.Client leaves out), timed without
then with cProfile; prints CPU ms, Python function calls, statements and connection health checks per request.

    COMPTOIR_DATABASE_URL=sqlite:////tmp/prof.sqlite3 .venv/bin/python bench/profile_stack.py --orders 300

Meant for A/B comparisons of the request stack (no gunicorn, no network), not for published figures; needs a fresh
database each run. bench/profile_http.py profiles through django.test.Client instead.
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
    from bench.profiling import print_profile, setup_django

    setup_django()
    from datetime import timedelta

    from tests.factories import ShopFactory, make_order, shop_key

    from comptoir.core import clock
    from comptoir.timers import worker
    from comptoir.timers.models import Timer

    shop = ShopFactory()
    key = shop_key(shop)
    orders = [make_order("WAITING_ACCEPTANCE", shop=shop) for _ in range(2 * args.orders + 1)]
    Timer.objects.filter(state="PENDING").update(due_at=clock.now() + timedelta(days=3650))
    while worker.notification_services.sweep_outbox("profile"):
        pass
    plan = [(o.order_id, list(o.lines.order_by("index").values_list("line_id", flat=True))) for o in orders]
    import orjson
    from django.core.handlers.wsgi import WSGIHandler

    # Django's WSGI handler as gunicorn calls it: unlike django.test.Client, it sends request_started with its
    # close_old_connections (the per-request connection health check) and runs no test instrumentation.
    handler = WSGIHandler()

    def put(path: str, body: bytes) -> str:
        environ = {
            "REQUEST_METHOD": "PUT", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": key, "HTTP_HOST": "127.0.0.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        statuses: list[str] = []
        content = b"".join(handler(environ, lambda status, headers, exc=None: statuses.append(status)))
        assert statuses[0].startswith("204"), (statuses[0], content[:300])
        return statuses[0]

    def accept(chunk: list) -> None:
        for order_id, line_ids in chunk:
            put(f"/api/orders/{order_id}/accept",
                orjson.dumps({"order_lines": [{"id": lid, "accepted": True} for lid in line_ids]}))

    n = args.orders
    t0, c0 = time.perf_counter(), time.process_time()
    accept(plan[:n])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU time is the steadier figure on a shared machine (wall time counts the waits for a core).
    print(f"OR21 over the Django stack: {wall * 1000 / n:.2f} ms/request unprofiled, {cpu * 1000 / n:.2f} ms CPU "
          f"({n} requests, load {os.getloadavg()[0]:.2f})")
    prof = cProfile.Profile()
    prof.enable()
    accept(plan[n : 2 * n])
    prof.disable()
    stats = pstats.Stats(prof)
    # Function calls and statements per request: the noise-free figures on a shared machine.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    checks = sum(nc for (_, _, name), (_, nc, *_) in stats.stats.items()  # type: ignore[attr-defined]
                 if name == "is_usable")
    with CaptureQueriesContext(connection) as queries:
        accept(plan[2 * n :])  # the one order neither run accepted
    print(f"{stats.total_calls / n:.0f} Python function calls per request (cProfile), "  # type: ignore[attr-defined]
          f"{len(queries.captured_queries)} statements per request + {checks / n:.2f} connection health checks "
          "(SELECT 1 on PostgreSQL)")
    print_profile(prof, sort=args.sort, top=args.top, callers=args.callers)


if __name__ == "__main__":
    main()
