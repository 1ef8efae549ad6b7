"""OR28 over HTTP (issue 6): refunds per second against `comptoir serve --no-worker`, on a fresh database of its
own (SQLite file, or a PostgreSQL database `comptoir_bench_or28`). One shop per client, each with its own key
and SHIPPED orders (one driven there by the real services, the others cloned with their ledger entries); each
client sends 0.50 € gestures (`PUT /api/orders/refund`, one line per call) round-robin over its shop's orders on
one keep-alive connection. Every answer must be a 200; the figure is the median of the runs' refunds/s.

Run alone: `python bench/refunds.py [--database sqlite|postgresql] [--clients 8] [--seconds 10] [--repeat 3]`
(prints JSON on its last line); bench/run.py calls it in a subprocess for `--only or28`.

With ceilings (issue 10): `python bench/refunds.py --ceilings [--database …] [--clients 16 64] [--repeat 3]
[--seconds 5]`, or `bench.refunds.run(database, clients, repeat, processes, threads)` from bench/run.py: the
same gestures against `comptoir serve`, a bare WSGI endpoint and a bare loop replaying the SQL of one gesture
(bench/write_ceilings.py), on a fresh database var/bench/writes-or28.sqlite3 / comptoir_bench_writes_or28. There
each shop's orders are SQL clones of one SHIPPED order made by the real services that already took one gesture
(so every call is a steady-state one: a pending REFUND_PAYMENT timer to replace, a refund total to read); each
order takes at most 38 more gestures, round-robin.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.common import PG_ADMIN_URL, VAR_BENCH, log, percentile  # noqa: E402

SQLITE_PATH = VAR_BENCH / "or28.sqlite3"
PG_DB = "comptoir_bench_or28"
GESTURE = 0.50


def _database_url(database: str) -> str:
    """A fresh, empty database for the run."""
    if database == "sqlite":
        VAR_BENCH.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DB}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DB


def _setup_shop(shop_id: int, orders: int) -> tuple[str, list[str]]:
    """A shop, its key, and `orders` SHIPPED orders: the first through the real services, the others cloned
    with their lines and ledger entries (the refunds are paid from the pending balance those entries make)."""
    from tests.factories import ShopFactory, make_order, shop_key

    from comptoir.ledger.models import LedgerEntry
    from comptoir.orders.models import Order, OrderLine
    from comptoir.orders.states import OrderState

    shop = ShopFactory(id=shop_id)
    key = shop_key(shop)
    template = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    lines = list(template.lines.order_by("index"))
    entries = list(LedgerEntry.objects.filter(order_id=template.order_id))
    clones = []
    for i in range(1, orders):
        clone = Order.objects.get(pk=template.pk)
        clone.pk = None
        clone.order_id, clone.relay_token = f"R{shop_id}-{i:06d}-A", f"or28relay{shop_id}x{i:06d}"
        clones.append(clone)
    Order.objects.bulk_create(clones, batch_size=500)
    created = list(Order.objects.filter(order_id__startswith=f"R{shop_id}-").order_by("id"))
    new_lines, new_entries = [], []
    for order in created:
        line_ids = {}
        for line in lines:
            copy = OrderLine(**{f.attname: getattr(line, f.attname) for f in OrderLine._meta.concrete_fields})
            copy.pk, copy.order_id, copy.line_id = None, order.pk, f"{order.order_id}-{line.index}"
            line_ids[line.line_id] = copy.line_id
            new_lines.append(copy)
        postings: dict[uuid.UUID, uuid.UUID] = {}
        for entry in entries:
            copy = LedgerEntry(**{f.attname: getattr(entry, f.attname) for f in LedgerEntry._meta.concrete_fields})
            copy.pk, copy.order_id = None, order.order_id
            copy.posting = postings.setdefault(entry.posting, uuid.uuid4())
            copy.order_line_id = line_ids.get(entry.order_line_id, entry.order_line_id)
            new_entries.append(copy)
    OrderLine.objects.bulk_create(new_lines, batch_size=500)
    LedgerEntry.objects.bulk_create(new_entries, batch_size=500)
    # The refunds go to the second line (20.00 €: forty gestures of 0.50 € per order).
    targets = [lines[1].line_id] + [f"{o.order_id}-{lines[1].index}" for o in created]
    return key, targets


def _statements_per_call(key: str, line_id: str) -> dict:
    """One gesture through Django's test client, in-process: the SQL statements it sends (SAVEPOINT and RELEASE
    counted apart), to compare with the figures of the HTTP runs."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    body = json.dumps({"refunds": [{"order_line_id": line_id, "reason_code": "22", "amount": GESTURE}]})
    with CaptureQueriesContext(connection) as captured:
        response = Client().put("/api/orders/refund", body, content_type="application/json", HTTP_AUTHORIZATION=key)
    if response.status_code != 200:
        return {"error": f"{response.status_code} {response.content[:200]!r}"}
    sql = [q["sql"] for q in captured.captured_queries]
    savepoints = sum(q.startswith(("SAVEPOINT", "RELEASE")) for q in sql)
    return {"statements": len(sql), "savepoints": savepoints}


def _run_clients(port: int, shops: list[tuple[str, list[str]]], seconds: float, offset: int) -> dict:
    """One thread and one keep-alive connection per shop, for `seconds`."""
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    gate = threading.Barrier(len(shops) + 1)
    stop_at = [0.0]

    def client(key: str, targets: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        n = offset
        gate.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                line_id = targets[n % len(targets)]
                n += 1
                body = json.dumps({"refunds": [{"order_line_id": line_id, "reason_code": "22", "amount": GESTURE}]})
                t0 = time.perf_counter()
                conn.request("PUT", "/api/orders/refund", body=body,
                             headers={"Authorization": key, "Content-Type": "application/json"})
                resp = conn.getresponse()
                payload = resp.read()
                mine.append((time.perf_counter() - t0) * 1000)
                codes[resp.status] = codes.get(resp.status, 0) + 1
                if resp.status != 200 and len(errors) < 5:
                    errors.append(f"{line_id}: {resp.status} {payload[:200]!r}")
        except Exception as exc:  # noqa: BLE001 - reported, and counted as a failure
            errors.append(f"client error: {exc!r}")
            codes[-1] = codes.get(-1, 0) + 1
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=shop, daemon=True) for shop in shops]
    for t in threads:
        t.start()
    t_start = time.perf_counter()
    stop_at[0] = t_start + seconds
    gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    ok = statuses.get(200, 0)
    return {"refunds_per_s": round(ok / elapsed, 1), "requests": sum(statuses.values()), "ok": ok,
            "non_200": sum(v for k, v in statuses.items() if k != 200), "seconds": round(elapsed, 2),
            "p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
            "errors_sample": errors}


def run_http(database: str, *, clients: int, orders_per_shop: int, seconds: float, repeat: int, processes: int,
             threads: int) -> dict:
    url = _database_url(database)
    os.environ["COMPTOIR_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("COMPTOIR_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.httpbench import Server
    from comptoir.refunds.services import ensure_default_reasons

    ensure_default_reasons()
    t0 = time.perf_counter()
    shops = [_setup_shop(9300 + s, orders_per_shop) for s in range(clients)]
    setup_s = round(time.perf_counter() - t0, 1)
    log(f"or28 ({database}): {clients} shops × {orders_per_shop} SHIPPED orders in {setup_s} s")
    statements = _statements_per_call(shops[0][0], shops[0][1][0])
    log(f"or28 ({database}): one gesture sends {statements} SQL statement(s)")
    from django.db import connections

    connections.close_all()  # the server is another process: leave the database to it
    server = Server(url, processes=processes, threads=threads, label=f"or28-{database}")
    runs = []
    try:
        server.start(probe_key=shops[0][0])
        _run_clients(server.port, shops, 1.0, offset=0)  # warm-up: every worker thread opens its connection
        for k in range(repeat):
            r = _run_clients(server.port, shops, seconds, offset=(k + 1) * 7)
            runs.append(r)
            log(f"or28 ({database}) run {k + 1}: {r['refunds_per_s']:.0f} refunds/s, p50 {r['p50_ms']:.1f} ms, "
                f"p99 {r['p99_ms']:.1f} ms, non-200: {r['non_200']}")
            if r["errors_sample"]:
                log(f"or28 ({database}) errors: {r['errors_sample']}")
    finally:
        server.stop()
    return {"database": database, "clients": clients, "orders_per_shop": orders_per_shop, "setup_s": setup_s,
            "statements_per_call": statements, "runs": runs,
            "refunds_per_s_median": round(statistics.median(r["refunds_per_s"] for r in runs), 1),
            "p50_ms_median": round(statistics.median(r["p50_ms"] for r in runs), 2),
            "non_200": sum(r["non_200"] for r in runs)}


# --- issue 10: beside the ceilings -------------------------------------------------------------------------

MAX_GESTURES = 38  # per order (20.00 € line, one gesture taken before the clones): a margin under the 40


def _gesture_body(line_id: str) -> str:
    return json.dumps({"refunds": [{"order_line_id": line_id, "reason_code": "22", "amount": GESTURE}]})


def _float(shop_id: int) -> None:
    """A pending balance of 1,000,000 € for the shop (one balanced posting): the bare endpoint and the bare loop
    replay a gesture's writes without the balance check, and would otherwise drain the pending balance the
    orders bring, so that the server's later runs were rightly refused (400, balance insufficient)."""
    from comptoir.core import clock
    from comptoir.ledger.models import LedgerEntry
    from comptoir.ledger.rules import Account, TransactionType

    posting, now, cents = uuid.uuid4(), clock.now(), 100_000_000
    LedgerEntry.objects.bulk_create([
        LedgerEntry(posting=posting, shop_id=shop_id, account=account, amount_cents=amount, created_date=now,
                    transaction_type=TransactionType.ORDER_AMOUNT, order_id="BENCH-FLOAT")
        for account, amount in ((Account.CUSTOMER_FUNDS, -cents), (Account.SHOP_PENDING, cents))])


def _setup_ceilings(shops: int, orders_per_shop: int) -> tuple:
    from django.test import Client
    from tests.factories import ShopFactory, make_order, shop_key

    from bench import write_ceilings as wc
    from comptoir.orders.states import OrderState

    def call(order: wc.PoolOrder) -> object:
        return Client().put("/api/orders/refund", _gesture_body(order.line_ids[1]), content_type="application/json",
                            HTTP_AUTHORIZATION=order.key)

    pools = []
    for s in range(shops):
        shop = ShopFactory(id=wc.SHOP_BASE + s)
        key = shop_key(shop)
        template = make_order(OrderState.SHIPPED, shop=shop, lines=2)
        _float(shop.pk)
        first = call(wc.pool_order(template, key))  # the clones start in the steady state (see the module doc)
        assert first.status_code == 200, first.content[:300]
        template.refresh_from_db()
        pool = wc.clone_orders(template, orders_per_shop + (2 if s == 0 else 0), f"R{s:02d}-")
        for o in pool:
            o.key = key
        pools.append(pool)
    warm, captured = pools[0][0], pools[0][1]
    pools[0] = pools[0][2:]
    call(warm)
    script = wc.capture(lambda: call(captured), captured, expect_status=200)
    return pools, captured, script


def run(database: str, clients: list[int], repeat: int, processes: int, threads: int, *, seconds: float = 5.0,
        orders_per_shop: int | None = None) -> dict:
    """OR28 refunds/s at each client count: ours, bare HTTP, bare loop (medians of `repeat` runs); one shop
    per client (max(clients) shops)."""
    from bench import write_ceilings as wc
    from bench.bare_http import Request

    shops = max(clients)
    if orders_per_shop is None:
        # Up to ~1,800 calls/s of the three modes' rates summed, `seconds` × `repeat` per client count; the
        # fewest clients use the fewest shops, MAX_GESTURES per order.
        orders_per_shop = int(1800 * seconds * repeat * len(clients) / min(clients) / MAX_GESTURES) + 10
    url = wc.fresh_database("or28", database)
    t0 = time.perf_counter()
    pools, template, script = _setup_ceilings(shops, orders_per_shop)
    setup_s = round(time.perf_counter() - t0, 1)
    log(f"or28 ({database}): {shops} shops × {orders_per_shop} SHIPPED orders in {setup_s} s; one gesture: "
        f"{script.statements} statements")
    used = [0] * shops

    def next_order(k: int) -> wc.PoolOrder | None:
        s = k % shops
        if used[s] >= MAX_GESTURES * len(pools[s]):
            return None
        used[s] += 1
        return pools[s][(used[s] - 1) % len(pools[s])]

    def make_request(order: wc.PoolOrder, _n: int) -> Request:
        return Request("PUT", "/api/orders/refund", _gesture_body(order.line_ids[1]),
                       {"Authorization": order.key, "Content-Type": "application/json"})

    bench = wc.WriteBench("or28", ("PUT", "/api/orders/refund"), 200, make_request, next_order,
                          [o for p in pools for o in p], template, script)
    try:
        results = wc.measure(bench, url, clients=clients, repeat=repeat, duration=seconds, processes=processes,
                             threads=threads)
    finally:
        wc.drop_database("or28", database)
    return {"endpoint": "OR28", "database": database, "shops": shops, "orders_per_shop": orders_per_shop,
            "setup_s": setup_s, "seconds": seconds, "repeat": repeat, "processes": processes, "threads": threads,
            "statements_per_call": script.statements, "statements": script.summary(), "by_clients": results}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients, one shop each")
    ap.add_argument("--orders-per-shop", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--ceilings", action="store_true", help="issue 10: beside the bare HTTP and bare loop ceilings")
    ap.add_argument("--clients-list", type=int, nargs="+", help="with --ceilings: the client counts (16 64)")
    args = ap.parse_args(argv)
    if args.ceilings:
        from bench import write_ceilings as wc

        clients = args.clients_list or [16, 64]
        result = run(args.database, clients, args.repeat, args.processes, args.threads, seconds=args.seconds)
        print(wc.report_line("OR28", args.database, result["by_clients"]), file=sys.stderr)
        print(json.dumps(result))
        return 0 if all(r["non_ok"] == 0 for c, r in result["by_clients"].items() if c.isdigit()) else 1
    result = run_http(args.database, clients=args.clients, orders_per_shop=args.orders_per_shop,
                      seconds=args.seconds, repeat=args.repeat, processes=args.processes, threads=args.threads)
    print(f"OR28 on {args.database}: median {result['refunds_per_s_median']:.0f} refunds/s over {args.repeat} run(s) "
          f"of {args.seconds:.0f} s ({args.clients} clients, p50 {result['p50_ms_median']:.1f} ms), "
          f"non-200: {result['non_200']}; SQL per call: {result['statements_per_call']}", file=sys.stderr)
    print(json.dumps(result))
    return 0 if result["non_200"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
