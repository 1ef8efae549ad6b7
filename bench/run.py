"""Comptoir benchmark: load N orders, then over HTTP against `comptoir serve --no-worker` (with `comptoir worker`
processes running beside it: their timers and outbox work is real load), at each client concurrency of --clients:
OR11 latency and requests/s, the seller order list, OR21 accepts/s beside a bare HTTP endpoint issuing the same SQL
(bench/bare_http.py, no Django) and a bare SQL loop (bench/ceiling.py); the sweeps; ST01 and OR28 beside their own
bare HTTP endpoint and bare loop (bench/write_ceilings.py); the import; the peak
memory (VmHWM) of every server and worker process (bench/memory.py).
`make bench` (1,000,000 orders, every part), `make bench BENCH_ARGS="--quick"` (20,000 orders, short runs: a few
minutes), `BENCH_PG_DB=comptoir_bench_5m make bench BENCH_ARGS="--orders 5000000 --skip-sqlite"`.

Prints figures as it goes, a summary table at the end, and writes everything to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench import bare_http, ceiling, httpbench, load, memory, pool, sellerlist, sweeps  # noqa: E402
from bench.common import COMPTOIR, PG_URL, PYTHON, RESULTS, comptoir_env, log, sqlite_path, sqlite_url  # noqa: E402

TARGETS = {"or11_p50_ms": 12.0, "or11_p99_ms": 30.0, "or11_p99_ms_5m_pg": 40.0, "or21_accepts_per_s": 500.0,
           "seller_list_first_page_ms": sellerlist.TARGET_MS, "sweep_orders_per_s": 1000.0,
           "write_ratio_to_bare_http": 0.5, "peak_memory_mb": memory.TARGET_MB}
QUICK = {"orders": 20_000, "repeat": 1, "or11_requests": 60, "or21_seconds": 3.0, "ceiling_seconds": 3.0,
         "conc_seconds": 3.0, "list_requests": 20, "sweep_orders": 1000, "import_rows": 1000, "or28_seconds": 3.0}
PARTS = ("or11", "or21", "list", "sweeps", "imports", "st01", "or28")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--shops", type=int, default=None,
                    help="default 1,000 (fewer when --orders < 1,000,000: one shop per 1,000 orders, so every "
                         "shop has a full OR11 page of SHIPPING orders at any size)")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--processes", type=int, default=2, help="comptoir serve --processes")
    ap.add_argument("--threads", type=int, default=8, help="comptoir serve --threads")
    ap.add_argument("--or11-requests", type=int, default=300)
    ap.add_argument("--clients", default="16,64",
                    help="client concurrencies, comma-separated: OR11, the seller list, OR21 and its bare HTTP "
                         "endpoint are measured at each (single-client OR11 and list latency are kept too)")
    ap.add_argument("--conc-seconds", type=float, default=8.0,
                    help="duration of each concurrent OR11 / seller list run")
    ap.add_argument("--sqlite-workers", type=int, default=1,
                    help="`comptoir worker` processes on SQLite: during the HTTP phase, and sharing the sweeps")
    ap.add_argument("--pg-workers", type=int, default=2,
                    help="`comptoir worker` processes on PostgreSQL: during the HTTP phase, and sharing the sweeps")
    ap.add_argument("--skip-bare", action="store_true", help="no bare HTTP endpoint (bench/bare_http.py)")
    ap.add_argument("--or28-seconds", type=float, default=5.0,
                    help="duration of each ST01 / OR28 run (ours, bare HTTP, bare loop; each client count)")
    ap.add_argument("--quick", action="store_true",
                    help=f"every part at small size and short runs (a few minutes): defaults {QUICK}")
    ap.add_argument("--or21-seconds", type=float, default=15.0)
    ap.add_argument("--ceiling-seconds", type=float, default=10.0)
    ap.add_argument("--pg-ceiling-connections", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3,
                    help="measure OR11 / OR21 / ceiling this many times each; the summary quotes medians")
    ap.add_argument("--only", default=",".join(PARTS),
                    help="comma-separated parts to run, of: or11 (API order list latency), or21 (API accepts/s and "
                         "its ceiling), list (seller back-office order list page), sweeps (worker auto-refusal and "
                         "reception orders/s, and their ceiling), imports (10,000-row shipment import on a fresh SQLite "
                         "database, bench/imports.py), st01 (API shipments/s beside bare HTTP and a bare loop, on a fresh "
                         "database per engine, bench/shipments.py), or28 (API refunds/s likewise, "
                         "bench/refunds.py); default: all")
    ap.add_argument("--list-requests", type=int, default=120, help="timed GETs of each seller list page per run")
    ap.add_argument("--list-sellers", type=int, default=3, help="seller users (one shop each) logged in for 'list'")
    ap.add_argument("--sweep-orders", type=int, default=2000, help="orders past their deadline per sweep run")
    ap.add_argument("--sweep-repeat", type=int, default=1,
                    help="sweep runs per kind (each writes and sweeps --sweep-orders orders; 45-100 s at 2,000 on this "
                         "machine)")
    ap.add_argument("--import-rows", type=int, default=10_000, help="rows of the 'imports' part's CSV file")
    ap.add_argument("--load-only", action="store_true")
    ap.add_argument("--skip-or11", action="store_true", help="(for quick A/B runs of OR21)")
    ap.add_argument("--skip-ceiling", action="store_true", help="(for quick A/B runs of OR21)")
    if "--quick" in (sys.argv[1:] if argv is None else argv):
        ap.set_defaults(**QUICK)
    args = ap.parse_args(argv)
    args.clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    args.parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        ap.error(f"--only: unknown part(s) {sorted(unknown)}; choose among {', '.join(PARTS)}")
    if args.skip_or11 and "or11" in args.parts:
        args.parts.remove("or11")
    if args.shops is None:
        args.shops = max(10, min(1000, args.orders // 1000))
    return args


def capture_statements(database_url: str) -> dict:
    proc = subprocess.run([PYTHON, str(ROOT / "bench" / "capture.py")], env=comptoir_env(database_url),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout)


def machine_calibration() -> dict:
    """How fast this (shared, noisy) machine runs Python right now, and how loaded it is: figures measured on
    a loaded machine are slower; quote them with this."""
    import timeit

    per_loop = min(timeit.repeat("d = {'a': 1, 'b': 2}; sum(range(20))", number=100_000, repeat=5)) / 100_000
    return {"python_loop_us": round(per_loop * 1e6, 3), "loadavg_1m": os.getloadavg()[0],
            "note": "python_loop_us is ~0.4 on an idle modern core; higher means a busy or slow machine"}


def median_of(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def median_run(runs: list[dict], keys: tuple[str, ...]) -> dict:
    """The median of each key over runs (NaN-free), plus the run count."""
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys if runs}
    out["runs"] = len(runs)
    return out


CONC_KEYS = ("per_s", "p50_ms", "p90_ms", "p99_ms", "server_cpu_cores", "client_cpu_core_share", "machine_cpu_busy")


def http_phase(name: str, args: argparse.Namespace, out: dict, url: str, sqlite: str | None, reset, orders_pool: list
               ) -> None:  # noqa: ANN001
    """Server + workers up, memory sampled; OR11 / seller list (1 client, then each concurrency), OR21 and its bare
    HTTP endpoint at each concurrency, their runs alternating. Fills out["or11_runs"], ["list_runs"],
    ["or21_runs"], ["concurrency"], ["memory"], ["topology"]."""
    parts = args.parts
    n_workers = args.sqlite_workers if name == "sqlite" else args.pg_workers
    mails: list[str] = []
    if "list" in parts:
        shop_ids = list(range(1, min(args.list_sellers, args.shops) + 1))
        mails = sellerlist.ensure_sellers(name, sqlite if sqlite else url, shop_ids)
        log(f"{name}: seller users {', '.join(mails)} (one shop each), password hashed by make_password")
    out["topology"] = {"serve": f"comptoir serve --no-worker --processes {args.processes} --threads {args.threads}",
                       "workers": n_workers, "clients": args.clients}
    conc: dict = {str(c): {} for c in args.clients}
    out["concurrency"] = conc
    parked = pool.park_timers(sqlite) if n_workers else 0
    if parked:
        log(f"{name}: {parked:,} loaded PENDING timers parked 1,000 years ahead while the workers run "
            "(bench/pool.py: the fixed 2026-11-01 timeline is all past due)")
    server = httpbench.Server(url, processes=args.processes, threads=args.threads, label=name)
    workers = httpbench.Workers(url, n_workers, label=name)
    sampler = memory.MemorySampler()
    bare = None
    try:
        workers.start()
        server.start(probe_key="bench-shop-1")
        sampler.watch_group("serve", server.proc.pid)
        for k, proc in enumerate(workers.procs):
            sampler.watch_pid(f"comptoir worker {k + 1}", proc.pid)
        sampler.start()
        for k in range(args.repeat if "or11" in parts else 0):
            r = httpbench.bench_or11(server.port, args.shops, requests=args.or11_requests, seed=7 + k)
            out["or11_runs"].append(r)
            log(f"{name}: OR11 run {k + 1} (1 client): p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms over "
                f"{r['requests']} requests ({r['mean_orders_per_page']:.0f} orders/page, "
                f"{r['mean_kb_per_page']:.0f} KiB/page)")
        for c in args.clients if "or11" in parts else []:
            runs = []
            for k in range(args.repeat):
                r = httpbench.bench_or11_concurrent(server.port, args.shops, clients=c, duration=args.conc_seconds,
                                                    seed=70 + k, cpu_seconds=server.cpu_seconds)
                runs.append(r)
                log(f"{name}: OR11 {c} clients run {k + 1}: {r['per_s']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
                    f"p99 {r['p99_ms']:.1f} ms, non-200 {r['non_ok']} (server {r['server_cpu_cores']:.2f} cores)")
                if r["errors_sample"]:
                    log(f"{name}: OR11 errors: {r['errors_sample']}")
            conc[str(c)]["or11"] = {**median_run(runs, CONC_KEYS), "non_ok": sum(r["non_ok"] for r in runs),
                                    "all": runs}
        for k in range(args.repeat if "list" in parts else 0):
            r = sellerlist.bench_seller_list(server.port, mails, requests=args.list_requests)
            out["list_runs"].append(r)
            f, g = r["first_page"], r["filtered"]
            log(f"{name}: seller list run {k + 1} (1 client): first page p50 {f['p50_ms']:.1f} ms, p99 "
                f"{f['p99_ms']:.1f} ms ({f['rows_per_page']:.0f} rows, {f['mean_kb_per_page']:.0f} KiB); filtered by "
                f"status p50 {g['p50_ms']:.1f} ms, p99 {g['p99_ms']:.1f} ms ({g['rows_per_page']:.0f} rows)")
        for c in args.clients if "list" in parts else []:
            runs = []
            for k in range(args.repeat):
                r = sellerlist.bench_seller_list_concurrent(server.port, mails, clients=c, duration=args.conc_seconds,
                                                            cpu_seconds=server.cpu_seconds)
                runs.append(r)
                f, g = r["first_page"], r["filtered"]
                log(f"{name}: seller list {c} clients run {k + 1}: first page {f['per_s']:.0f} req/s p50 "
                    f"{f['p50_ms']:.1f} ms p99 {f['p99_ms']:.1f} ms; filtered {g['per_s']:.0f} req/s p50 "
                    f"{g['p50_ms']:.1f} ms p99 {g['p99_ms']:.1f} ms; non-200 {f['non_ok'] + g['non_ok']}")
            conc[str(c)]["list"] = {
                page: {**median_run([r[page] for r in runs], ("per_s", "p50_ms", "p90_ms", "p99_ms")),
                       "non_ok": sum(r[page]["non_ok"] for r in runs)} for page in ("first_page", "filtered")}
        if "or21" in parts and not args.skip_bare:
            bare = bare_http.BareServer("bench.bare_http:or21_app", {"database_url": url}, processes=args.processes,
                                        threads=args.threads, label=f"or21-{name}")
            bare.start()
        pool_ = {"first": orders_pool}

        def fresh_pool() -> list:
            return pool_.pop("first", None) or reset()

        for c in args.clients if "or21" in parts else []:
            # Ours and the bare endpoint alternate run by run (as ST01 and OR28 do): on a shared machine whose
            # speed drifts over minutes, their ratio compares runs made at the same moment.
            runs, bare_runs = [], []
            for k in range(args.repeat):
                r = httpbench.bench_or21(server, fresh_pool(), clients=c, duration=args.or21_seconds)
                runs.append(r)
                out["or21_runs"].append(r)
                log(f"{name}: OR21 {c} clients run {k + 1}: {r['accepts_per_s']:.0f} accepts/s, p50 {r['p50_ms']:.1f} "
                    f"ms, p99 {r['p99_ms']:.1f} ms, non-204: {r['non_204']} (server {r['server_cpu_cores']:.2f} "
                    f"cores, client {r['client_cpu_core_share']:.2f} core, machine busy {r['machine_cpu_busy']:.0%})")
                if r["errors_sample"]:
                    log(f"{name}: OR21 errors: {r['errors_sample']}")
                if bare is not None:
                    bare_runs.append(bare_or21_run(name, bare, fresh_pool(), c, k, args))
            conc[str(c)]["or21"] = {**median_run(runs, ("accepts_per_s", "p50_ms", "p99_ms", "server_cpu_cores",
                                                        "client_cpu_core_share")),
                                    "non_204": sum(r["non_204"] for r in runs),
                                    "pool_exhausted": any(r["pool_exhausted"] for r in runs)}
            if bare_runs:
                cell = conc[str(c)]
                cell["bare_or21"] = {**median_run(bare_runs, ("per_s", "p50_ms", "p99_ms", "server_cpu_cores")),
                                     "non_ok": sum(r["non_ok"] for r in bare_runs),
                                     "pool_exhausted": any(r["exhausted"] for r in bare_runs)}
                if cell["bare_or21"]["per_s"]:
                    cell["or21_ratio_to_bare"] = round(cell["or21"]["accepts_per_s"] / cell["bare_or21"]["per_s"], 3)
    finally:
        if bare is not None:
            bare.stop()
        server.stop()
        out["memory"] = sampler.stop()
        out["workers_exit"] = workers.stop()
        if parked:
            log(f"{name}: {pool.unpark_timers(sqlite):,} timers put back")
        log(f"{name}: server and workers stopped")
    mem = out["memory"]
    log(f"{name}: peak memory (VmHWM): " + ", ".join(f"{role} {mb:.0f} MB" for role, mb in mem["max_mb"].items())
        + f" (target ≤ {mem['target_mb']:.0f} MB each); own memory (peak RssAnon): "
        + ", ".join(f"{role} {mb:.0f} MB" for role, mb in mem.get("max_anon_mb", {}).items()))


def settle(name: str, url: str, sqlite: str | None) -> dict:
    """One `comptoir worker --once` (httpbench.WORKER_ENV) with the loaded timers parked: whatever the periodic
    sweeps find to do on freshly loaded data (scorecards...) is done here, not during the measured runs. On a
    settled database it costs one empty worker round. The outbox events it leaves are deleted by the reset."""
    parked = pool.park_timers(sqlite)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([COMPTOIR, "worker", "--once"], cwd=ROOT, capture_output=True, text=True,
                              env=comptoir_env(url, **httpbench.WORKER_ENV))
    finally:
        pool.unpark_timers(sqlite)
    seconds = round(time.perf_counter() - t0, 1)
    if proc.returncode != 0:
        raise RuntimeError(f"settle: comptoir worker --once failed: {proc.stderr[-1500:]}")
    log(f"{name}: settled: `comptoir worker --once` with {parked:,} loaded timers parked: "
        f"{proc.stdout.strip()} in {seconds} s")
    return {"seconds": seconds, "output": proc.stdout.strip(), "parked": parked}


def bare_or21_run(name: str, bare: bare_http.BareServer, pool_orders: list, clients: int, k: int,
                  args: argparse.Namespace) -> dict:
    """One run of the bare HTTP endpoint (bench/bare_http.py: same gunicorn configuration, same SQL as one
    accept, same client) on a fresh acceptance pool, the workers still running."""
    import random

    orders = list(pool_orders)
    random.Random(11).shuffle(orders)
    r = bare_http.run_clients(bare.port, bare_http.accept_requests(orders), clients=clients,
                              duration=args.or21_seconds, expect=(204,), cpu_seconds=bare.cpu_seconds)
    log(f"{name}: bare HTTP accept {clients} clients run {k + 1}: {r['per_s']:.0f} accepts/s, p50 "
        f"{r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, non-204 {r['non_ok']} (server "
        f"{r['server_cpu_cores']:.2f} cores){' POOL EXHAUSTED' if r['exhausted'] else ''}")
    if r["errors_sample"]:
        log(f"{name}: bare errors: {r['errors_sample']}")
    return r


def bench_database(name: str, args: argparse.Namespace, columns: dict) -> dict:
    out: dict = {"database": name}
    if name == "sqlite":
        out["load"] = load.load_sqlite(args.orders, args.shops, columns)
        url = sqlite_url(args.orders)
        path = str(sqlite_path(args.orders))

        def reset() -> list:
            changed, p = pool.reset_sqlite(path)
            if changed:
                log(f"{name}: pool reset ({changed:,} orders put back in WAITING_ACCEPTANCE)")
            return p
    else:
        out["load"] = load.load_postgres(args.orders, args.shops, columns)
        url = PG_URL

        def reset() -> list:
            changed, p = pool.reset_postgres()
            if changed:
                log(f"{name}: pool reset ({changed:,} orders put back in WAITING_ACCEPTANCE)")
            return p

    if not out["load"]["reused"]:
        print(f"  load time ({name}): {out['load']['seconds']:.0f} s for {args.orders:,} orders")
    if args.load_only:
        return out
    parts = args.parts
    out["settle"] = settle(name, url, path if name == "sqlite" else None)
    orders_pool = reset()
    log(f"{name}: acceptance pool of {len(orders_pool):,} orders in WAITING_ACCEPTANCE")
    out["pool"] = len(orders_pool)
    out["calibration_before"] = machine_calibration()
    log(f"{name}: machine: python loop {out['calibration_before']['python_loop_us']} µs (≈0.4 idle), "
        f"load average {out['calibration_before']['loadavg_1m']:.1f} on {os.cpu_count()} CPUs")
    if "or21" in parts:
        out["captured"] = capture_statements(url)
    out["or11_runs"], out["or21_runs"], out["list_runs"], out["ceiling_runs"] = [], [], [], []

    if {"or11", "or21", "list"} & set(parts):
        http_phase(name, args, out, url, path if name == "sqlite" else None, reset, orders_pool)

    for k in range(0 if args.skip_ceiling or "or21" not in parts else args.repeat):
        p = reset()
        if name == "sqlite":
            r = ceiling.ceiling_sqlite(path, columns, p, duration=args.ceiling_seconds)
        else:
            r = ceiling.ceiling_postgres(columns, p, connections=args.pg_ceiling_connections,
                                         duration=args.ceiling_seconds)
        out["ceiling_runs"].append(r)
        log(f"{name}: ceiling run {k + 1}: {r['tx_per_s']:.0f} accept transactions/s "
            f"({r['engine']}, {r['connections']} connection(s))")
    reset()

    if "sweeps" in parts:
        out["sweeps"] = sweeps.bench_sweeps(name, url, path if name == "sqlite" else None, columns,
                                            orders=args.sweep_orders, repeat=args.sweep_repeat,
                                            workers=args.sqlite_workers if name == "sqlite" else args.pg_workers)
        reset()

    out["calibration_after"] = machine_calibration()
    nan = float("nan")
    out["or11"] = {"p50_ms": median_of(out["or11_runs"], "p50_ms"), "p99_ms": median_of(out["or11_runs"], "p99_ms"),
                   "orders_per_page": median_of(out["or11_runs"], "mean_orders_per_page")} if out["or11_runs"] else \
        {"p50_ms": nan, "p99_ms": nan, "orders_per_page": nan}
    first = [r for r in out["or21_runs"] if r["clients"] == args.clients[0]]  # the main table: the first concurrency
    if first:
        out["or21"] = {"accepts_per_s": median_of(first, "accepts_per_s"),
                       "p50_ms": median_of(first, "p50_ms"), "p99_ms": median_of(first, "p99_ms"),
                       "non_204": sum(r["non_204"] for r in out["or21_runs"]),
                       "client_cpu_core_share": median_of(first, "client_cpu_core_share"),
                       "server_cpu_cores": median_of(first, "server_cpu_cores"), "clients": args.clients[0]}
    else:
        out["or21"] = {"accepts_per_s": nan, "p50_ms": nan, "p99_ms": nan, "non_204": 0,
                       "client_cpu_core_share": nan, "server_cpu_cores": nan}
    out["ceiling"] = {"tx_per_s": median_of(out["ceiling_runs"], "tx_per_s") if out["ceiling_runs"] else nan}
    out["ratio_or21_to_ceiling"] = round(out["or21"]["accepts_per_s"] / out["ceiling"]["tx_per_s"], 3)
    if out["list_runs"]:
        out["seller_list"] = {
            part: {"p50_ms": round(statistics.median(r[part]["p50_ms"] for r in out["list_runs"]), 2),
                   "p99_ms": round(statistics.median(r[part]["p99_ms"] for r in out["list_runs"]), 2),
                   "rows_per_page": out["list_runs"][0][part]["rows_per_page"],
                   "path": out["list_runs"][0][part]["path"]}
            for part in ("first_page", "filtered")}
    return out


def print_statements(results: dict) -> None:
    for db in results["databases"]:
        cap = db.get("captured") or {}
        if "statements" in cap:
            print(f"\n  SQL of one accept on {db['database']} ({cap['lines']} line(s)), captured from decide_lines "
                  f"+ key lookup: {len(cap['statements'])} statements; the ceiling loop issues the same sequence "
                  "(bench/ceiling.py) minus the sandbox-clock read (cached 0.5 s per process).")
            for s in cap["statements"]:
                print(f"    {s[:110]}")
        elif cap:
            print(f"\n  capture failed on {db['database']}: {cap.get('error')}")
        for kind in ("refusal", "reception"):
            cap = (db.get("sweeps") or {}).get(f"{kind}_captured") or {}
            if "statements" in cap:
                print(f"\n  SQL of one auto-{kind} timer run on {db['database']} ({cap['lines']} line(s)), captured from "
                      f"worker.run_timer: {len(cap['statements'])} statements (the first stands for the batch claim); "
                      "the sweep's batch path writes the same rows set-based, and so does its ceiling "
                      "(bench/sweeps.py); outbox delivery comes on top.")
                for st in cap["statements"]:
                    print(f"    {st[:110]}")
            elif cap:
                print(f"\n  sweep capture failed on {db['database']}: {cap.get('error')}")


def bench_imports(rows: int, postgres: bool = False) -> dict:
    """Issue 5: a {rows}-row shipment import, previewed then applied, in a subprocess on its own fresh database
    (a SQLite file, or a PostgreSQL database of its own)."""
    where = "PostgreSQL" if postgres else "SQLite"
    log(f"imports: {rows:,}-row shipment import on a fresh {where} database (bench/imports.py)")
    proc = subprocess.run([PYTHON, str(ROOT / "bench" / "imports.py"), "--rows", str(rows),
                           *(["--postgres"] if postgres else [])], cwd=ROOT,
                          env={**os.environ, "COMPTOIR_HOME": str(ROOT)}, capture_output=True, text=True)
    if proc.stderr.strip():
        log(f"imports: {proc.stderr.strip().splitlines()[-1]}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": proc.stderr[-1500:]}


def bench_writes(endpoint: str, database: str, args: argparse.Namespace) -> dict:
    """Issue 10: ST01 shipments/s or OR28 refunds/s over HTTP at each client count of --clients, beside a bare HTTP
    endpoint issuing the same SQL writes and a bare SQL loop (bench/write_ceilings.py), in a subprocess on a fresh
    database of its own (bench/shipments.py, bench/refunds.py --ceilings)."""
    script = {"ST01": ["shipments.py", "--clients"], "OR28": ["refunds.py", "--ceilings", "--clients-list"]}[endpoint]
    seconds = args.or28_seconds
    log(f"{endpoint.lower()}: over HTTP on a fresh {database} database, clients {args.clients}, beside bare HTTP and "
        f"bare loop (bench/{script[0]})")
    proc = subprocess.run([PYTHON, str(ROOT / "bench" / script[0]), *script[1:-1], "--database", database,
                           script[-1], *map(str, args.clients), "--repeat", str(args.repeat),
                           "--processes", str(args.processes), "--threads", str(args.threads),
                           "--seconds", str(seconds)], cwd=ROOT,
                          env={**os.environ, "COMPTOIR_HOME": str(ROOT)}, capture_output=True, text=True)
    for line in proc.stderr.strip().splitlines()[-4:]:
        log(f"{endpoint.lower()}: {line}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"endpoint": endpoint, "database": database, "error": proc.stderr[-1500:]}


def print_concurrency(results: dict) -> None:
    """The table by client concurrency: OR11 and the seller list (p50/p99, req/s), OR21 beside its bare HTTP
    endpoint (same SQL, same gunicorn configuration, no Django) and the ratio (target ≥ 50%); then peak memory."""
    for db in results["databases"]:
        conc = db.get("concurrency") or {}
        if not conc:
            continue
        topo = db.get("topology", {})
        print(f"\n{db['database']}: {topo.get('serve')} + {topo.get('workers')} × comptoir worker; by client concurrency "
              f"(medians of {results['args']['repeat']} run(s))")
        print(f"  {'clients':>7}  {'OR11 req/s':>10} {'p50':>9} {'p99':>9}   {'list req/s':>10} {'p50':>9} {'p99':>9}   "
              f"{'OR21 acc/s':>10} {'p99':>9}  {'bare acc/s':>10} {'ratio':>6}")
        print(f"  {'target':>7}  {'':>10} {'':>9} {'≤30ms':>9}   {'':>10} {'≤150ms':>9} {'':>9}   "
              f"{'':>10} {'':>9}  {'':>10} {'≥0.50':>6}")
        for c, cell in conc.items():
            o = cell.get("or11") or {}
            lst = (cell.get("list") or {}).get("first_page") or {}
            a = cell.get("or21") or {}
            b = cell.get("bare_or21") or {}
            ratio = cell.get("or21_ratio_to_bare")

            def f(d: dict, k: str, unit: str = "") -> str:
                v = d.get(k)
                return "-" if v is None else f"{v:.0f}{unit}" if not unit else f"{v:.1f}{unit}"

            print(f"  {c:>7}  {f(o, 'per_s'):>10} {f(o, 'p50_ms', 'ms'):>9} {f(o, 'p99_ms', 'ms'):>9}   "
                  f"{f(lst, 'per_s'):>10} {f(lst, 'p50_ms', 'ms'):>9} {f(lst, 'p99_ms', 'ms'):>9}   "
                  f"{f(a, 'accepts_per_s'):>10} {f(a, 'p99_ms', 'ms'):>9}  {f(b, 'per_s'):>10} "
                  f"{'-' if ratio is None else f'{ratio:.2f}':>6}"
                  + ("  (pool ran out)" if a.get("pool_exhausted") or b.get("pool_exhausted") else ""))
        mem = db.get("memory")
        if mem:
            roles = ", ".join(f"{role} {mb:.0f}" for role, mb in mem["max_mb"].items())
            anon = ", ".join(f"{role} {mb:.0f}" for role, mb in mem.get("max_anon_mb", {}).items())
            print(f"  peak memory (VmHWM, MB): {roles}; target ≤ {mem['target_mb']:.0f} MB each: "
                  f"{'OK' if mem['ok'] else 'MISSED'}; own memory (peak RssAnon, MB): {anon}")


def print_summary(results: dict) -> None:
    a = results["args"]
    parts = a["parts"]
    print("\n" + "=" * 104)
    print(f"SUMMARY  {a['orders']:,} orders / {a['shops']:,} shops; server: comptoir serve --no-worker "
          f"--processes {a['processes']} --threads {a['threads']}; medians of {a['repeat']} run(s); "
          f"parts: {','.join(parts)}")
    print("=" * 104)
    if {"or11", "or21"} & set(parts):
        print(f"{'':<11}{'load':>8}  {'OR11 p50':>9} {'OR11 p99':>9}  {'OR21 acc/s':>10} {'p50':>7} {'p99':>7} "
              f"{'non-204':>7}  {'ceiling tx/s':>12} {'ours/ceil':>9}")
        print(f"{'target':<11}{'≤300 s':>8}  {'≤12 ms':>9} {'≤30 ms':>9}  {'≥500':>10} {'':>7} {'':>7} {'0':>7}")
        for db in results["databases"]:
            if "or11" not in db:
                continue
            load_txt = "reused" if db["load"]["reused"] else f"{db['load']['seconds']:.0f} s"
            o11, o21, c = db["or11"], db["or21"], db["ceiling"]
            print(f"{db['database']:<11}{load_txt:>8}  {o11['p50_ms']:>7.1f}ms {o11['p99_ms']:>7.1f}ms  "
                  f"{o21['accepts_per_s']:>10.0f} {o21['p50_ms']:>5.1f}ms {o21['p99_ms']:>5.1f}ms {o21['non_204']:>7}  "
                  f"{c['tx_per_s']:>12.0f} {db['ratio_or21_to_ceiling']:>9.2f}")
    print_concurrency(results)
    if "list" in parts:
        print(f"\n{'seller list':<11}  {'1st page p50':>12} {'p99':>8}  {'by status p50':>13} {'p99':>8}  "
              f"{'rows':>4}   (/vendeur/commandes/, logged in, keep-alive; target p50 ≤{sellerlist.TARGET_MS:.0f} ms)")
        for db in results["databases"]:
            sl = db.get("seller_list")
            if sl:
                f, g = sl["first_page"], sl["filtered"]
                print(f"{db['database']:<11}  {f['p50_ms']:>10.1f}ms {f['p99_ms']:>6.1f}ms  {g['p50_ms']:>11.1f}ms "
                      f"{g['p99_ms']:>6.1f}ms  {f['rows_per_page']:>4.0f}")
    if "sweeps" in parts:
        print(f"\n{'sweeps':<11}  {'refusal/s':>9} {'+deliv.':>8} {'ceiling':>8} {'verified':>8}   {'reception/s':>11} "
              f"{'+deliv.':>8} {'ceiling':>8} {'verified':>8}   (comptoir worker --once --only timers, then --only "
              "outbox for +deliv.; batch 200; target ≥1,000 orders/s)")
        for db in results["databases"]:
            sw = db.get("sweeps")
            if sw and "refusal" in sw and "reception" in sw:
                r, v = sw["refusal"], sw["reception"]
                print(f"{db['database']:<11}  {r['orders_per_s']:>9.0f} {r.get('with_delivery_orders_per_s', 0):>8.0f} "
                      f"{r['ceiling_orders_per_s']:>8.0f} {'OK' if r['verified'] else 'FAILED':>8}   "
                      f"{v['orders_per_s']:>11.0f} {v.get('with_delivery_orders_per_s', 0):>8.0f} "
                      f"{v['ceiling_orders_per_s']:>8.0f} {'OK' if v['verified'] else 'FAILED':>8}   "
                      f"({sw['orders']:,} orders each, {sw.get('workers', 1)} worker(s), start-up {sw['startup_s']:.2f} s "
                      "subtracted; ceiling: one connection)")
    for key, where in (("imports", "SQLite"), ("imports_postgresql", "PostgreSQL")):
        imp = results.get(key)
        if imp and "total_s" in imp:
            print(f"\n{'import':<11}  {imp['rows']:,} rows / {imp['parcels']:,} parcels on {where}: preview "
                  f"{imp['preview_s']:.2f} s, apply {imp['apply_s']:.2f} s, total {imp['total_s']:.2f} s "
                  f"({imp['rows_per_s']:.0f} rows/s; target < {imp['target_s']:.0f} s: "
                  f"{'OK' if imp['total_s'] < imp['target_s'] else 'MISSED'})")
        elif imp:
            print(f"\nimport bench failed on {where}: {imp.get('error')}")
    for r in results.get("writes", []):
        name = f"{r.get('endpoint')} {r.get('database')}"
        if "by_clients" not in r:
            err = (r.get("error") or "").strip().splitlines()
            print(f"\n{name} bench failed: {err[-1] if err else '?'} (full error in the JSON)")
            continue
        for c, cell in r["by_clients"].items():
            if not c.isdigit():
                continue
            ratio = cell.get("ratio_ours_bare_http") or 0
            print(f"{name:<16} {c:>3} clients: {cell['ours_per_s']:.0f}/s, bare HTTP {cell['bare_http_per_s']:.0f}/s, "
                  f"bare loop {cell['bare_loop_per_s']:.0f}/s, ratio {100 * ratio:.0f}% (target ≥ "
                  f"{100 * TARGETS['write_ratio_to_bare_http']:.0f}%: "
                  f"{'OK' if ratio >= TARGETS['write_ratio_to_bare_http'] else 'MISSED'}), non-OK {cell.get('non_ok')}")
    print()
    for db in results["databases"]:
        if "or11" not in db:
            continue
        o11, o21 = db["or11"], db["or21"]
        verdict = []
        big_pg = db["database"] == "postgresql" and a["orders"] >= 5_000_000
        p99_target = TARGETS["or11_p99_ms_5m_pg" if big_pg else "or11_p99_ms"]
        if "or11" in parts:
            if not big_pg:  # at 5,000,000 orders the issue sets a p99 only
                verdict.append("OR11 p50 " + ("OK" if o11["p50_ms"] <= TARGETS["or11_p50_ms"] else "MISSED"))
            verdict.append("OR11 p99 " + ("OK" if o11["p99_ms"] <= p99_target else "MISSED"))
        if "or21" in parts:
            verdict.append("OR21 " + ("OK" if o21["accepts_per_s"] >= TARGETS["or21_accepts_per_s"] else "MISSED"))
            verdict.append("non-204 " + ("OK" if o21["non_204"] == 0 else f"{o21['non_204']} FAILED"))
        if db.get("seller_list"):
            ok = db["seller_list"]["first_page"]["p50_ms"] <= TARGETS["seller_list_first_page_ms"]
            verdict.append("seller list " + ("OK" if ok else "MISSED"))
        sw = db.get("sweeps") or {}
        for kind in ("refusal", "reception"):
            if kind in sw:
                verdict.append(f"sweep {kind} " + ("OK" if sw[kind]["orders_per_s"] >= TARGETS["sweep_orders_per_s"]
                                                   else "MISSED"))
        for c, cell in (db.get("concurrency") or {}).items():
            if cell.get("or21_ratio_to_bare") is not None:
                verdict.append(f"OR21/bare@{c} " + ("OK" if cell["or21_ratio_to_bare"] >= TARGETS["write_ratio_to_bare_http"]
                                                    else "MISSED"))
        if db.get("memory"):
            verdict.append("memory " + ("OK" if db["memory"]["ok"] else "MISSED"))
        cal = db.get("calibration_before", {})
        print(f"  {db['database']}: machine during the run: python loop {cal.get('python_loop_us')} µs (≈0.4 idle), "
              f"load average {cal.get('loadavg_1m', 0):.1f}")
        extra = (f"; {o11['orders_per_page']:.0f} orders per OR11 page" if "or11" in parts else "") + \
            (f"; OR21 server CPU {o21['server_cpu_cores']:.2f} cores, client CPU {o21['client_cpu_core_share']:.2f} core"
             if "or21" in parts else "")
        print(f"  {db['database']}: {', '.join(verdict)}{extra}")
    print("=" * 104)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("COMPTOIR_DATABASE_URL", sqlite_url(args.orders))
    import django

    django.setup()  # only for the models' column lists: the bench process itself never queries via Django
    columns = load.model_columns()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results: dict = {"started": stamp, "args": vars(args), "host": {"cpus": os.cpu_count(),
                     "python": platform.python_version()}, "targets": TARGETS, "databases": []}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = RESULTS / f"{stamp}.json"
    status = 0
    names = [n for n, skip in (("sqlite", args.skip_sqlite), ("postgresql", args.skip_postgres)) if not skip]
    if set(args.parts) <= {"imports", "st01", "or28"}:
        names = []  # these benches use their own small databases: no need to load the big one
    log(f"bench: {args.orders:,} orders, {args.shops:,} shops, databases: {', '.join(names)}")
    t0 = time.perf_counter()
    for name in names:
        try:
            results["databases"].append(bench_database(name, args, columns))
        except Exception as exc:  # noqa: BLE001 - reported; the other database still runs
            traceback.print_exc()
            results["databases"].append({"database": name, "error": repr(exc)})
            status = 1
        out_path.write_text(json.dumps(results, indent=2, default=str))
    if "imports" in args.parts and not args.load_only:
        results["imports"] = bench_imports(args.import_rows)
        out_path.write_text(json.dumps(results, indent=2, default=str))
        if not args.skip_postgres:
            results["imports_postgresql"] = bench_imports(args.import_rows, postgres=True)
            out_path.write_text(json.dumps(results, indent=2, default=str))
    engines = [n for n, skip in (("sqlite", args.skip_sqlite), ("postgresql", args.skip_postgres)) if not skip]
    for part, endpoint in (("st01", "ST01"), ("or28", "OR28")):
        if part in args.parts and not args.load_only:
            for engine in engines:
                results.setdefault("writes", []).append(bench_writes(endpoint, engine, args))
                out_path.write_text(json.dumps(results, indent=2, default=str))
    results["seconds"] = round(time.perf_counter() - t0, 1)
    out_path.write_text(json.dumps(results, indent=2, default=str))
    if not args.load_only:
        print_statements(results)
        print_summary(results)
    print(f"results: {out_path.relative_to(ROOT)} (total {results['seconds']:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
