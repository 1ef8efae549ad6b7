"""Comptoir reliability runner (issue 10): `make reliability RELIABILITY_ARGS="--only kill,disk"`.

Parts (default: all):
  kill      `comptoir serve` (2 processes) and `comptoir worker` on a fresh database (SQLite and PostgreSQL),
            driven by logging clients, killed -9 at random moments and restarted; then reconciled.
  pgrestart PostgreSQL restarted (pg_ctl restart -m fast) twice during load: a clean 503 meanwhile, then back
            without any manual action; reconciled.
  disk      uploads while the document storage is full, then read-only: clear errors, nothing half-written.
  scaleout  two `comptoir serve` behind a round-robin proxy (reliability/proxy.py) and two workers on one
            PostgreSQL, under load and kills; reconciled.
  fuzz      schemathesis on the OpenAPI document (reliability/fuzz.py), when present.
Prints figures as it goes and a summary; writes reliability/results/faults-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from reliability import disk  # noqa: E402
from reliability.client import Client, Log, Receiver, Workload  # noqa: E402
from reliability.common import (  # noqa: E402  # noqa: E402
    PG_ADMIN_URL,
    RESULTS,
    Chaos,
    Server,
    db_helper,
    drop_database,
    env_for,
    fresh_database,
    log,
    var_dir,
    worker,
)
from reliability.proxy import Proxy  # noqa: E402

PARTS = ("kill", "pgrestart", "disk", "scaleout", "fuzz")
ALL_STEPS = ("accept", "ship", "refund", "message", "incident")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts among {', '.join(PARTS)}")
    ap.add_argument("--engines", default="sqlite,postgresql", help="databases of the kill part")
    ap.add_argument("--orders", type=int, default=60, help="orders driven through their script per run")
    ap.add_argument("--shops", type=int, default=4)
    ap.add_argument("--clients", type=int, default=8, help="client threads")
    ap.add_argument("--kills", type=int, default=8, help="kill -9 per kill run (server or worker, at random)")
    ap.add_argument("--drop-rate", type=float, default=0.05,
                    help="share of writes whose answer the client drops (it hangs up), then retries with its key")
    ap.add_argument("--scaleout-kills", type=int, default=4, help="kill -9 during the scale-out run")
    ap.add_argument("--pg-restarts", type=int, default=2, help="PostgreSQL restarts during the pgrestart run (≤ 2)")
    ap.add_argument("--pg-cluster", choices=("private", "shared"), default="private",
                    help="restart a throwaway cluster of the run's own (default), or the machine's cluster")
    ap.add_argument("--pg-hold-seconds", type=float, default=3.0,
                    help="the second restart stops, waits this long, then starts (private cluster only)")
    ap.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="server of the kill and scaleout databases")
    ap.add_argument("--fuzz-cases", type=int, default=25, help="cases per operation for the fuzz part")
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases for inspection")
    args = ap.parse_args(argv)
    args.parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if unknown := set(args.parts) - set(PARTS):
        ap.error(f"unknown part(s) {sorted(unknown)}")
    args.pg_restarts = max(0, min(args.pg_restarts, 2))
    return args


def wait_drained(env: dict[str, str], timeout: float = 180) -> dict[str, Any]:
    """Until the worker has nothing left: no due timer, outbox row, webhook delivery or unpaid refund."""
    t0 = time.monotonic()
    status: dict[str, Any] = {}
    while time.monotonic() - t0 < timeout:
        status = db_helper(env, "status")
        if not any(status[k] for k in ("timers_due", "outbox_pending", "webhook_events_not_fanned_out",
                                       "deliveries_pending", "refunds_waiting", "later_timers")):
            return {"drained": True, "seconds": round(time.monotonic() - t0, 1), **status}
        time.sleep(1.0)
    return {"drained": False, "seconds": round(time.monotonic() - t0, 1), **status}


def outages(rows: list[dict[str, Any]], restarts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each PostgreSQL restart: the failed answers around it, and the time from the restart's start to the
    first successful write that started after the database was back."""
    out = []
    for k, r in enumerate(restarts):
        start, end = r["at_s"], r["at_s"] + r["restart_s"]
        until = restarts[k + 1]["at_s"] if k + 1 < len(restarts) else end + 30
        window = [x for x in rows if ("try" in x or x.get("read")) and start - 1 <= x["t"] < until]
        failed = [x for x in window if (x["error"] and x["error"] != "AnswerDropped") or (x["status"] or 0) >= 500]
        ok_after = [x for x in window if not x["error"] and (x["status"] or 0) < 500 and x["t"] - x["ms"] / 1000 >= end]
        first_ok = min((x["t"] for x in ok_after), default=None)
        out.append({**r, "failed_answers": len(failed), "failed_reads": sum(1 for x in failed if x.get("read")),
                    "failures": sorted({f"{x['status']} {x['code'] or x['error']}" for x in failed}),
                    "service_back_after_s": round(first_ok - start, 2) if first_ok is not None else None})
    return out


def fault_run(label: str, args: argparse.Namespace, *, engine: str, admin_url: str, servers_n: int = 1,
              workers_n: int = 1, proxy: bool = False, kills: int = 0, pg: Any = None,
              steps: tuple[str, ...] = ALL_STEPS) -> dict[str, Any]:
    url = fresh_database(engine, f"comptoir_rel_{label}".replace("-", "_"), admin_url=admin_url)
    var = var_dir(label)
    env = env_for(url, var)
    receiver = Receiver(var / "receiver.jsonl")
    receiver.start()
    servers = [Server(f"server{i + 1}", env, var, processes=2, threads=4) for i in range(servers_n)]
    workers = [worker(f"worker{i + 1}", env, var) for i in range(workers_n)]
    front: Proxy | None = None
    result: dict[str, Any] = {"database": engine, "servers": servers_n, "workers": workers_n, "orders": args.orders}
    try:
        data = db_helper(env, "setup", "--shops", str(args.shops), "--orders", str(args.orders),
                         "--receiver", receiver.url)
        for p in [*servers, *workers]:
            p.start()
        for s in servers:
            s.wait_ready()
        if proxy:
            front = Proxy([("127.0.0.1", s.port) for s in servers])
            front.start()
        port = front.port if front else servers[0].port
        t0 = time.monotonic()
        client_log = Log(var / "client.jsonl", t0)
        stop = threading.Event()
        client = Client(port, client_log, drop_rate=args.drop_rate, seed=args.seed)
        chaos = Chaos([*servers, *workers], kills=kills, seed=args.seed, busy=lambda: client.in_flight > 0)
        restarts: list[dict[str, Any]] = []

        def restart_pg() -> None:
            for k in range(args.pg_restarts):
                if stop.wait(4.0 if k == 0 else 9.0):
                    return
                at = time.monotonic() - t0
                hold = args.pg_hold_seconds if k == 1 else 0.0  # the second one stays down a few seconds
                took = pg.restart(hold)
                restarts.append({"at_s": round(at, 2), "restart_s": round(took, 2), "held_down_s": hold})
                log(f"pg: restarted at {at:.1f} s in {took:.1f} s")

        helpers = [threading.Thread(target=chaos.run, args=(stop, t0), daemon=True)]
        if pg is not None:
            helpers.append(threading.Thread(target=restart_pg, daemon=True))
        for h in helpers:
            h.start()
        log(f"{label}: {args.orders} orders, {args.clients} clients, steps {','.join(steps)}")
        Workload(client, data["orders"], data["operator_key"], threads=args.clients, steps=steps).run()
        result["load_s"] = round(time.monotonic() - t0, 1)
        stop.set()
        for h in helpers:
            h.join()
        result["workers_survived"] = all(w.alive() for w in workers) if not kills else None
        for p in [*servers, *workers]:
            if not p.alive():
                p.start()
        result["drain"] = wait_drained(env)
        for p in [*servers, *workers]:
            p.stop()
        client_log.close()
        receiver.stop()
        rec = db_helper(env, "reconcile", "--client-log", str(var / "client.jsonl"), "--receiver-log",
                        str(var / "receiver.jsonl"), "--mail-dir", str(var / "mail"))
        rec["client"].update(reads=client.reads, read_failures=client.read_failures)
        result.update(kills=chaos.events, reconciliation=rec["checks"], client=rec["client"],
                      ok=rec["ok"] and result["drain"]["drained"])
        if pg is not None:
            rows = [json.loads(line) for line in (var / "client.jsonl").read_text().splitlines()]
            result["pg_restarts"] = outages(rows, restarts)
        if front:
            result["proxy"] = front.figures()
    finally:
        for p in [*servers, *workers]:
            p.stop()
        if front:
            front.stop()
        if not args.keep:
            drop_database(url, admin_url=admin_url)
    _print_run(label, result)
    return result


def _print_run(label: str, r: dict[str, Any]) -> None:
    c = r["client"]
    log(f"{label}: {c['requests'] + c['reads']} requests ({c['logical_writes']} writes, {c['retries']} retries, "
        f"{c['answers_lost']} answers lost, {c['replayed_answers']} replayed) in {r['load_s']} s; "
        f"{len(r['kills'])} kill -9; statuses {c['statuses']}; orders complete {c['orders_complete']}, "
        f"incomplete {c['orders_incomplete']}; drained in {r['drain']['seconds']} s")
    for name, check in r["reconciliation"].items():
        detail = {k: v for k, v in check.items() if k != "ok" and v not in ([], {}, 0, None)}
        log(f"  {'ok  ' if check['ok'] else 'FAIL'} {name}: {json.dumps(detail, default=str)[:300]}")
    if r.get("workers_survived") is not None:
        log(f"  worker process(es) alive throughout, never restarted: {r['workers_survived']}")
    for o in r.get("pg_restarts", []):
        log(f"  pg restart at {o['at_s']} s took {o['restart_s']} s (held down {o['held_down_s']} s): "
            f"{o['failed_answers']} failed answers ({o['failed_reads']} of them OR11 reads) "
            f"{o['failures']}, service back after {o['service_back_after_s']} s")


def part_fuzz(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from reliability import fuzz
    except ImportError as exc:
        return {"skipped": f"reliability/fuzz.py not importable: {exc}"}
    url = fresh_database("sqlite", "fuzz-runner")
    return dict(fuzz.run(cases=args.fuzz_cases, database_url=url, seed=args.seed))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "args": vars(args), "parts": {}}
    parts = results["parts"]
    t0 = time.monotonic()

    def attempt(name: str, fn: Any) -> None:
        try:
            parts[name] = fn()
        except Exception as exc:  # noqa: BLE001 - one part failing must not hide the others' figures
            traceback.print_exc()
            parts[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}

    if "kill" in args.parts:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            attempt(f"kill-{engine}", lambda engine=engine: fault_run(
                f"kill-{engine}", args, engine=engine, admin_url=args.pg_admin_url, kills=args.kills))
    if "pgrestart" in args.parts:
        attempt("pgrestart", lambda: _pgrestart(args))
    if "disk" in args.parts:
        attempt("disk", disk.run)
    if "scaleout" in args.parts:
        attempt("scaleout", lambda: fault_run("scaleout", args, engine="postgresql", admin_url=args.pg_admin_url,
                                              servers_n=2, workers_n=2, proxy=True, kills=args.scaleout_kills))
    if "fuzz" in args.parts:
        attempt("fuzz", lambda: part_fuzz(args))
    results["seconds"] = round(time.monotonic() - t0, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"faults-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print("\n== Reliability summary ==")
    failed = False
    for name, r in parts.items():
        ok = r.get("ok", "skipped" in r or not r.get("failure_count", 0))
        failed |= ok is False
        state = "skipped" if "skipped" in r else ("OK" if ok else "FAILED")
        print(f"  {name:<18} {state}  {r.get('error') or r.get('skipped') or ''}")
    print(f"written to {out.relative_to(ROOT)} ({results['seconds']} s)")
    return 1 if failed else 0


def _pgrestart(args: argparse.Namespace) -> dict[str, Any]:
    from reliability.pg import PrivateCluster, SharedCluster

    cluster = PrivateCluster() if args.pg_cluster == "private" else SharedCluster(args.pg_admin_url)
    cluster.start()
    try:
        result = fault_run("pgrestart", args, engine="postgresql", admin_url=cluster.admin_url, pg=cluster,
                           steps=("accept", "ship", "refund"))
        result["cluster"] = cluster.label
        return result
    finally:
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main())

