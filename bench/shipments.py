"""ST01 over HTTP (issue 10): shipments per second against `comptoir serve --no-worker`, beside the same SQL
replayed by a bare WSGI endpoint and by a bare loop (bench/write_ceilings.py explains how), on a fresh private
database (var/bench/writes-st01.sqlite3, or PostgreSQL database comptoir_bench_writes_st01).

One call = `POST /api/shipments` with one shipment of every line (one unit each) of a SHIPPING order,
`shipped: true` and a tracking (carrier name, number, https link): the parcel is created and shipped and the
order becomes SHIPPED (the commonest ST01). 16 shops, each with a pool of SHIPPING orders cloned from one made by
the real services (lines, pending timers, ledger entries); client k sends for shop k mod 16, each order once.
Success is a 201 with the shipment in `shipment_success`.

Run alone: `python bench/shipments.py [--database sqlite|postgresql] [--clients 16 64] [--repeat 3]
[--seconds 5]` (JSON on its last line). From bench/run.py: `bench.shipments.run(database, clients, repeat,
processes, threads)`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (str(ROOT), str(ROOT / "src")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench import write_ceilings as wc  # noqa: E402
from bench.common import log  # noqa: E402

SHOPS = 16


def _body(order: wc.PoolOrder) -> str:
    return json.dumps({"shipments": [{
        "order_id": order.order_id, "shipped": True,
        "tracking": {"carrier_name": "Bench Colis", "tracking_number": f"BC{order.pk}",
                     "tracking_url": f"https://suivi.example.com/{order.pk}"},
        "shipment_lines": [{"order_line_id": lid, "quantity": 1} for lid in order.line_ids]}]})


def _check(_req: object, status: int, body: bytes) -> str | None:
    if status == 201 and b'"shipment_errors":[{' in body:
        return f"shipment refused: {body[:200]!r}"
    return None


def setup(orders_per_shop: int) -> tuple[list[list[wc.PoolOrder]], wc.PoolOrder, wc.Script]:
    from django.test import Client
    from tests.factories import ShopFactory, make_order, shop_key

    from comptoir.orders.states import OrderState

    pools = []
    for s in range(SHOPS):
        shop = ShopFactory(id=wc.SHOP_BASE + s)
        key = shop_key(shop)
        template = make_order(OrderState.SHIPPING, shop=shop, lines=2)
        extra = 2 if s == 0 else 0  # shop 0: a warm-up call and the captured one
        pool = wc.clone_orders(template, orders_per_shop + extra, f"S{s:02d}-")
        for o in pool:
            o.key = key
        pools.append(pool)
    warm, template = pools[0][0], pools[0][1]
    pools[0] = pools[0][2:]

    def call(order: wc.PoolOrder) -> object:
        return Client().post("/api/shipments", _body(order), content_type="application/json",
                             HTTP_AUTHORIZATION=order.key)

    call(warm)
    script = wc.capture(lambda: call(template), template, expect_status=201)
    return pools, template, script


def run(database: str, clients: list[int], repeat: int, processes: int, threads: int, *,
        seconds: float = 5.0, orders_per_shop: int | None = None) -> dict:
    """ST01 shipments/s at each client count: ours, bare HTTP, bare loop (medians of `repeat` runs)."""
    if orders_per_shop is None:
        # Enough for every run of every mode at every client count (each order ships once): up to ~1,800
        # calls/s of the three modes' rates summed on this 2-core machine (SQLite's bare loop alone ≈950/s),
        # `seconds` × `repeat` per client count, over the 16 shops (a run that runs out says so: "exhausted").
        orders_per_shop = int(1800 * seconds * repeat * len(clients) / SHOPS) + 100
    url = wc.fresh_database("st01", database)
    t0 = time.perf_counter()
    pools, template, script = setup(orders_per_shop)
    setup_s = round(time.perf_counter() - t0, 1)
    log(f"st01 ({database}): {SHOPS} shops × {orders_per_shop} SHIPPING orders in {setup_s} s; one call: "
        f"{script.statements} statements")
    cursors = [0] * SHOPS

    def next_order(k: int) -> wc.PoolOrder | None:
        s = k % SHOPS
        if cursors[s] >= len(pools[s]):
            return None
        cursors[s] += 1
        return pools[s][cursors[s] - 1]

    bench = wc.WriteBench("st01", ("POST", "/api/shipments"), 201,
                          lambda order, _n: _request(order), next_order, [o for p in pools for o in p],
                          template, script)
    try:
        results = wc.measure(bench, url, clients=clients, repeat=repeat, duration=seconds, processes=processes,
                             threads=threads, check=_check)
    finally:
        wc.drop_database("st01", database)
    return {"endpoint": "ST01", "database": database, "shops": SHOPS, "orders_per_shop": orders_per_shop,
            "setup_s": setup_s, "seconds": seconds, "repeat": repeat, "processes": processes, "threads": threads,
            "statements_per_call": script.statements, "statements": script.summary(), "by_clients": results}


def _request(order: wc.PoolOrder) -> object:
    from bench.bare_http import Request

    return Request("POST", "/api/shipments", _body(order),
                   {"Authorization": order.key, "Content-Type": "application/json"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--orders-per-shop", type=int, default=None)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args(argv)
    result = run(args.database, args.clients, args.repeat, args.processes, args.threads, seconds=args.seconds,
                 orders_per_shop=args.orders_per_shop)
    print(wc.report_line("ST01", args.database, result["by_clients"]), file=sys.stderr)
    print(json.dumps(result))
    return 0 if all(r["non_ok"] == 0 for c, r in result["by_clients"].items() if c.isdigit()) else 1


if __name__ == "__main__":
    sys.exit(main())
