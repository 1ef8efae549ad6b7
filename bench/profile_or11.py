"""Profile OR11 in-process: the bench's page (`GET /api/orders?order_state_codes=SHIPPING&max=100`, newest first)
through the whole WSGI stack (middleware, key, view, JSON), on a database filled by bench/load.py.

    .venv/bin/python bench/profile_or11.py --db sqlite --orders 50000       # loads 50 shops of 1,000 orders once
    .venv/bin/python bench/profile_or11.py --db postgres --orders 50000 --http 300   # then over HTTP too
    .venv/bin/python bench/profile_or11.py --src /tmp/before/src --dump /tmp/before.json   # A/B: another copy
    .venv/bin/python bench/profile_or11.py --db postgres --orders 1000000 --bench-db  # on `make bench`'s data

Loads (or reuses) its own database — SQLite under var/bench/profile/, PostgreSQL `comptoir_profile_or11` —
keeping the bench's 1,000 orders per shop, then prints ms per request (wall and this process's CPU, median of
rounds), the statements of a request with their median execute time, and the top of the cProfile. Meant for A/B
comparisons of the code, run back to back on this shared machine; published figures come from `make bench`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_PG_DB", "comptoir_profile_or11")  # read by bench.common at import

from bench import common, load  # noqa: E402
from bench.httpbench import OR11_PATH  # noqa: E402

PROFILE_DIR = common.VAR_BENCH / "profile"


def _sqlite_path(orders: int) -> Path:
    return PROFILE_DIR / f"or11-{orders}.sqlite3"


def database_url(db: str, orders: int) -> str:
    return f"sqlite:///{_sqlite_path(orders)}" if db == "sqlite" else common.PG_URL


def bench_database_url(db: str, orders: int) -> str:
    """`make bench`'s own database (loaded by it, with the same rows), instead of this script's."""
    return common.sqlite_url(orders) if db == "sqlite" else common.PG_URL.rsplit("/", 1)[0] + "/comptoir_bench"


def ensure_loaded(db: str, orders: int, shops: int) -> None:
    """bench/load.py's loader, pointed at this script's own database (the bench's files stay untouched)."""
    load.sqlite_path = _sqlite_path  # type: ignore[assignment]
    load.sqlite_url = lambda n: database_url("sqlite", n)  # type: ignore[assignment]
    columns = load.model_columns()
    if db == "sqlite":
        load.load_sqlite(orders, shops, columns)
    else:
        load.load_postgres(orders, shops, columns)


class Caller:
    """One request through Django's WSGI handler, as gunicorn hands it over (no test client on the way)."""

    def __init__(self, path: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.path, _, self.query = path.partition("?")

    def __call__(self, shop: int) -> bytes:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": self.path, "QUERY_STRING": self.query, "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": f"bench-shop-{shop}", "HTTP_HOST": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        statuses: list[str] = []
        body = b"".join(self.handler(environ, lambda status, headers, exc=None: statuses.append(status)))
        if not statuses[0].startswith("200"):
            raise AssertionError(f"OR11 answered {statuses[0]}: {body[:300]!r}")
        return body


def timed_rounds(call: Caller, shops: int, *, rounds: int, per_round: int) -> list[tuple[float, float]]:
    """(wall, CPU) median ms per request of each round, shops visited round-robin. This process's CPU time is
    steadier than wall time on a shared machine (it leaves out waiting for a core, and PostgreSQL's own work)."""
    medians = []
    for r in range(rounds):
        walls, cpus = [], []
        for i in range(per_round):
            t0, c0 = time.perf_counter(), time.thread_time()
            call(1 + (r * per_round + i) % shops)
            cpus.append((time.thread_time() - c0) * 1000)
            walls.append((time.perf_counter() - t0) * 1000)
        medians.append((statistics.median(walls), statistics.median(cpus)))
    return medians


def statements(call: Caller, shops: int, n: int) -> None:
    """Statements per request and their median time (an execute wrapper: Django resets connection.queries at
    every request start)."""
    from django.db import connection

    seen: list[tuple[str, float]] = []

    def record(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((sql, (time.perf_counter() - t0) * 1000))

    t0 = time.perf_counter()
    with connection.execute_wrapper(record):
        for i in range(n):
            call(1 + i % shops)
    wall = (time.perf_counter() - t0) * 1000 / n
    per = len(seen) // n
    sql_ms = sum(ms for _, ms in seen) / n
    print(f"\n{per} statements/request; SQL execute {sql_ms:.2f} ms of "
          f"{wall:.2f} ms/request ({100 * sql_ms / wall:.0f} %)")
    for k in range(per):
        times = [seen[j * per + k][1] for j in range(n)]
        print(f"  {statistics.median(times):6.2f} ms  {' '.join(seen[k][0].split())[:200]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--shops", type=int, default=0, help="default: orders / 1000 (the bench's shop size)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--per-round", type=int, default=40)
    ap.add_argument("--profile", type=int, default=100, help="requests under cProfile")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    ap.add_argument("--dump", help="write one page's JSON to this file (for A/B diffs)")
    ap.add_argument("--src", default=str(ROOT / "src"), help="the code to profile (A/B: a copy of src/ as it was)")
    ap.add_argument("--bench-db", action="store_true", help="use make bench's databases (already loaded)")
    ap.add_argument("--gc-default", action="store_true", help="keep Python's collector settings (by default, "
                    "those of `comptoir serve`: the warmed heap frozen, young objects collected every 10,000)")
    ap.add_argument("--http", type=int, default=0, help="then N requests over HTTP against `comptoir serve` "
                    "(bench/httpbench.py's OR11 measure)")
    args = ap.parse_args()
    sys.path.insert(0, args.src)
    shops = args.shops or max(1, args.orders // 1000)
    url = bench_database_url(args.db, args.orders) if args.bench_db else database_url(args.db, args.orders)
    os.environ.update(common.comptoir_env(url))
    import django

    django.setup()
    if not args.bench_db:
        ensure_loaded(args.db, args.orders, shops)
    call = Caller(OR11_PATH)
    body = call(1)
    if not args.gc_default:  # as `comptoir serve` before it forks (ops/management/commands/serve.py)
        import gc

        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, *gc.get_threshold()[1:])
    if args.dump:
        Path(args.dump).write_bytes(body)
    import orjson

    page = orjson.loads(body)
    print(f"OR11 on {args.db}, {args.orders:,} orders, {shops} shops: {len(page['orders'])} orders per page, "
          f"{len(body) / 1024:.0f} KiB, total_count {page['total_count']}; load average {os.getloadavg()[0]:.1f}")
    timed_rounds(call, shops, rounds=1, per_round=10)  # warm-up
    medians = timed_rounds(call, shops, rounds=args.rounds, per_round=args.per_round)
    print(f"wall ms/request, median of each round: {' '.join(f'{w:.2f}' for w, _ in medians)} "
          f"→ median {statistics.median(w for w, _ in medians):.2f} ms, best {min(w for w, _ in medians):.2f} ms")
    print(f"CPU ms/request (this process), median of each round: {' '.join(f'{c:.2f}' for _, c in medians)} "
          f"→ median {statistics.median(c for _, c in medians):.2f} ms, best {min(c for _, c in medians):.2f} ms")
    statements(call, shops, 20)
    prof = cProfile.Profile()
    prof.enable()
    for i in range(args.profile):
        call(1 + i % shops)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
    print("\n".join(out.getvalue().splitlines()[: args.top + 10]))
    if args.http:
        over_http(url, args.src, shops, args.http)


def over_http(url: str, src: str, shops: int, requests: int) -> None:
    from bench import httpbench

    os.environ["PYTHONPATH"] = src  # the server runs the same code (comptoir_env copies the environment)
    with httpbench.Server(url, label="profile-or11") as server:
        server.start("bench-shop-1")
        r = httpbench.bench_or11(server.port, shops, requests=requests)
    print(f"\nover HTTP ({requests} requests, one keep-alive connection): p50 {r['p50_ms']:.2f} ms, "
          f"p90 {r['p90_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
