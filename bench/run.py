"""Comptoir benchmark: load N orders, then OR11 latency and OR21 accepts/s over HTTP against `comptoir serve`,
beside the ceiling of the same SQL issued by a bare loop. `make bench BENCH_ARGS="--orders 100000"`.

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

from bench import ceiling, httpbench, load, pool, sellerlist, sweeps  # noqa: E402
from bench.common import PG_URL, PYTHON, RESULTS, comptoir_env, log, sqlite_path, sqlite_url  # noqa: E402

TARGETS = {"or11_p50_ms": 12.0, "or11_p99_ms": 30.0, "or21_accepts_per_s": 500.0,
           "seller_list_first_page_ms": sellerlist.TARGET_MS, "sweep_orders_per_s": 1000.0}
PARTS = ("or11", "or21", "list", "sweeps", "imports", "or28")


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
    ap.add_argument("--or21-clients", type=int, default=16)
    ap.add_argument("--or21-seconds", type=float, default=15.0)
    ap.add_argument("--ceiling-seconds", type=float, default=10.0)
    ap.add_argument("--pg-ceiling-connections", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3,
                    help="measure OR11 / OR21 / ceiling this many times each; the summary quotes medians")
    ap.add_argument("--only", default=",".join(PARTS),
                    help="comma-separated parts to run, of: or11 (API order list latency), or21 (API accepts/s and "
                         "its ceiling), list (seller back-office order list page), sweeps (worker auto-refusal and "
                         "reception orders/s, and their ceiling), imports (10,000-row shipment import on a fresh SQLite "
                         "database, bench/imports.py), or28 (API refunds/s on a fresh database per engine, "
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
    args = ap.parse_args(argv)
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
        if "list" in parts:
            shop_ids = list(range(1, min(args.list_sellers, args.shops) + 1))
            mails = sellerlist.ensure_sellers(name, path if name == "sqlite" else url, shop_ids)
            log(f"{name}: seller users {', '.join(mails)} (one shop each), password hashed by make_password")
        server = httpbench.Server(url, processes=args.processes, threads=args.threads, label=name)
        try:
            server.start(probe_key="bench-shop-1")
            for k in range(args.repeat if "or11" in parts else 0):
                r = httpbench.bench_or11(server.port, args.shops, requests=args.or11_requests, seed=7 + k)
                out["or11_runs"].append(r)
                log(f"{name}: OR11 run {k + 1}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms over "
                    f"{r['requests']} requests ({r['mean_orders_per_page']:.0f} orders/page, "
                    f"{r['mean_kb_per_page']:.0f} KiB/page)")
            for k in range(args.repeat if "list" in parts else 0):
                r = sellerlist.bench_seller_list(server.port, mails, requests=args.list_requests)
                out["list_runs"].append(r)
                f, g = r["first_page"], r["filtered"]
                log(f"{name}: seller list run {k + 1}: first page p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms "
                    f"({f['rows_per_page']:.0f} rows, {f['mean_kb_per_page']:.0f} KiB); filtered by status "
                    f"p50 {g['p50_ms']:.1f} ms, p99 {g['p99_ms']:.1f} ms ({g['rows_per_page']:.0f} rows); "
                    f"{r['requests']} requests each over {r['sellers']} seller sessions")
            for k in range(args.repeat if "or21" in parts else 0):
                p = orders_pool if k == 0 else reset()
                r = httpbench.bench_or21(server, p, clients=args.or21_clients, duration=args.or21_seconds)
                out["or21_runs"].append(r)
                log(f"{name}: OR21 run {k + 1}: {r['accepts_per_s']:.0f} accepts/s, p50 {r['p50_ms']:.1f} ms, "
                    f"p99 {r['p99_ms']:.1f} ms, non-204: {r['non_204']} (server {r['server_cpu_cores']:.2f} cores, "
                    f"client {r['client_cpu_core_share']:.2f} core, machine busy {r['machine_cpu_busy']:.0%})")
                if r["errors_sample"]:
                    log(f"{name}: OR21 errors: {r['errors_sample']}")
        finally:
            server.stop()
            log(f"{name}: server stopped")

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
                                            orders=args.sweep_orders, repeat=args.sweep_repeat)
        reset()

    out["calibration_after"] = machine_calibration()
    nan = float("nan")
    out["or11"] = {"p50_ms": median_of(out["or11_runs"], "p50_ms"), "p99_ms": median_of(out["or11_runs"], "p99_ms"),
                   "orders_per_page": median_of(out["or11_runs"], "mean_orders_per_page")} if out["or11_runs"] else \
        {"p50_ms": nan, "p99_ms": nan, "orders_per_page": nan}
    if out["or21_runs"]:
        out["or21"] = {"accepts_per_s": median_of(out["or21_runs"], "accepts_per_s"),
                       "p50_ms": median_of(out["or21_runs"], "p50_ms"), "p99_ms": median_of(out["or21_runs"], "p99_ms"),
                       "non_204": sum(r["non_204"] for r in out["or21_runs"]),
                       "client_cpu_core_share": median_of(out["or21_runs"], "client_cpu_core_share"),
                       "server_cpu_cores": median_of(out["or21_runs"], "server_cpu_cores")}
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
                      "the sweep ceiling (bench/sweeps.py) issues the same per order; outbox delivery comes on top.")
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


def bench_or28(database: str, args: argparse.Namespace) -> dict:
    """Issue 6: OR28 refunds/s over HTTP, in a subprocess on a fresh database of its own (bench/refunds.py)."""
    log(f"or28: refunds/s over HTTP on a fresh {database} database (bench/refunds.py)")
    proc = subprocess.run([PYTHON, str(ROOT / "bench" / "refunds.py"), "--database", database,
                           "--repeat", str(args.repeat), "--processes", str(args.processes),
                           "--threads", str(args.threads)], cwd=ROOT,
                          env={**os.environ, "COMPTOIR_HOME": str(ROOT)}, capture_output=True, text=True)
    for line in proc.stderr.strip().splitlines()[-4:]:
        log(f"or28: {line}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"database": database, "error": proc.stderr[-1500:]}


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
        print(f"\n{'sweeps':<11}  {'refusal/s':>9} {'ceiling':>8} {'verified':>8}   {'reception/s':>11} {'ceiling':>8} "
              f"{'verified':>8}   (comptoir worker --once, batch 200; target ≥1,000 orders/s)")
        for db in results["databases"]:
            sw = db.get("sweeps")
            if sw and "refusal" in sw and "reception" in sw:
                r, v = sw["refusal"], sw["reception"]
                print(f"{db['database']:<11}  {r['orders_per_s']:>9.0f} {r['ceiling_orders_per_s']:>8.0f} "
                      f"{'OK' if r['verified'] else 'FAILED':>8}   {v['orders_per_s']:>11.0f} "
                      f"{v['ceiling_orders_per_s']:>8.0f} {'OK' if v['verified'] else 'FAILED':>8}   "
                      f"({sw['orders']:,} orders each, start-up {sw['startup_s']:.2f} s subtracted)")
    for key, where in (("imports", "SQLite"), ("imports_postgresql", "PostgreSQL")):
        imp = results.get(key)
        if imp and "total_s" in imp:
            print(f"\n{'import':<11}  {imp['rows']:,} rows / {imp['parcels']:,} parcels on {where}: preview "
                  f"{imp['preview_s']:.2f} s, apply {imp['apply_s']:.2f} s, total {imp['total_s']:.2f} s "
                  f"({imp['rows_per_s']:.0f} rows/s; target < {imp['target_s']:.0f} s: "
                  f"{'OK' if imp['total_s'] < imp['target_s'] else 'MISSED'})")
        elif imp:
            print(f"\nimport bench failed on {where}: {imp.get('error')}")
    for r in results.get("or28", []):
        if "refunds_per_s_median" in r:
            print(f"{'OR28':<11}  {r['database']}: median {r['refunds_per_s_median']:.0f} refunds/s, p50 "
                  f"{r['p50_ms_median']:.1f} ms ({r['clients']} clients, {len(r['runs'])} runs), non-200: {r['non_200']}")
        else:
            print(f"\nOR28 bench failed on {r.get('database')}: {r.get('error')}")
    print()
    for db in results["databases"]:
        if "or11" not in db:
            continue
        o11, o21 = db["or11"], db["or21"]
        verdict = []
        if "or11" in parts:
            verdict.append("OR11 p50 " + ("OK" if o11["p50_ms"] <= TARGETS["or11_p50_ms"] else "MISSED"))
            verdict.append("OR11 p99 " + ("OK" if o11["p99_ms"] <= TARGETS["or11_p99_ms"] else "MISSED"))
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
    if set(args.parts) <= {"imports", "or28"}:
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
    if "or28" in args.parts and not args.load_only:
        engines = [n for n, skip in (("sqlite", args.skip_sqlite), ("postgresql", args.skip_postgres)) if not skip]
        results["or28"] = [bench_or28(engine, args) for engine in engines]
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
