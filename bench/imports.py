"""Bulk shipment import benchmark (issue 5): 10,000 CSV rows (5,000 SHIPPING orders of 2 lines, one parcel
each) previewed then applied through shipping.imports on a fresh SQLite database; target < 20 s.

Run alone: `python bench/imports.py [--rows 10000] [--postgres]` (prints JSON on its last line); bench/run.py
calls it in a subprocess for `--only imports` (and with `--postgres` unless `--skip-postgres`). `--postgres`
runs it on a fresh PostgreSQL database, BENCH_PG_DB + "_imports" (bench/common.py's server).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

TARGET_S = 20.0
DB_PATH = ROOT / "var" / "bench" / "imports.sqlite3"


def _setup_orders(n_orders: int) -> tuple[int, list[tuple[str, list[str]]]]:
    """One order driven to SHIPPING by the real services, then cloned (rows only) n_orders - 1 times."""
    from tests.factories import ShopFactory, ensure_carriers, make_order

    from comptoir.orders.models import Order, OrderLine
    from comptoir.orders.states import OrderState

    ensure_carriers()
    shop = ShopFactory(id=9001)
    template = make_order(OrderState.SHIPPING, shop=shop, lines=2)
    lines = list(template.lines.order_by("index"))
    orders = []
    for i in range(1, n_orders):
        clone = Order.objects.get(pk=template.pk)
        clone.pk = None
        clone.order_id, clone.relay_token = f"BENCH-{i:06d}-A", f"benchrelay{i:06d}"
        orders.append(clone)
    Order.objects.bulk_create(orders, batch_size=500)
    created = list(Order.objects.filter(order_id__startswith="BENCH-").order_by("id"))
    new_lines = []
    for order in created:
        for line in lines:
            copy = OrderLine(**{
                f.attname: getattr(line, f.attname) for f in OrderLine._meta.concrete_fields})
            copy.pk, copy.order_id, copy.line_id = None, order.pk, f"{order.order_id}-{line.index}"
            new_lines.append(copy)
    OrderLine.objects.bulk_create(new_lines, batch_size=500)
    out = [(template.order_id, [ln.line_id for ln in lines])]
    by_order: dict[int, list[str]] = {}
    for ln in new_lines:
        by_order.setdefault(ln.order_id, []).append(ln.line_id)
    out += [(o.order_id, by_order[o.pk]) for o in created]
    return shop.id, out


def _fresh_database(postgres: bool) -> str:
    if not postgres:
        DB_PATH.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DB_PATH}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{DB_PATH}"
    import psycopg

    from bench.common import PG_ADMIN_URL, PG_DB

    name = f"{PG_DB}_imports"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def run(rows: int, postgres: bool = False) -> dict:
    os.environ["COMPTOIR_DATABASE_URL"] = _fresh_database(postgres)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("COMPTOIR_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.factories import SELLER

    from comptoir.orders.models import Order
    from comptoir.shipping import imports
    from comptoir.shipping.models import Shipment

    t0 = time.perf_counter()
    shop_id, orders = _setup_orders(max(1, rows // 2))
    setup_s = time.perf_counter() - t0
    lines = ["commande;ligne;quantité;transporteur;numéro de suivi;lien de suivi;date d'expédition"]
    for k, (order_id, line_ids) in enumerate(orders):
        carrier = "Colissimo" if k % 3 else "Coursier Lyon"
        url = "" if k % 3 else f"https://coursier.example/suivi/CL{k:06d}"
        for line_id in line_ids:
            lines.append(f"{order_id};{line_id};1;{carrier};6A{k:08d};{url};")
    data = ("\r\n".join(lines[: rows + 1]) + "\r\n").encode("utf-8")

    t1 = time.perf_counter()
    job = imports.preview(shop_id=shop_id, data=data, filename="bench.csv", created_by="bench")
    preview_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    job = imports.apply_all(job_id=job.pk, shop_id=shop_id, who=SELLER, parcels=100)
    apply_s = time.perf_counter() - t2
    tally = imports.counts(job.rows)
    shipped = Order.objects.filter(state="SHIPPED").count()
    return {"database": "postgresql" if postgres else "sqlite", "rows": rows, "bytes": len(data),
            "parcels": len(job.parcels), "setup_s": round(setup_s, 2),
            "preview_s": round(preview_s, 2), "apply_s": round(apply_s, 2),
            "total_s": round(preview_s + apply_s, 2), "rows_per_s": round(rows / (preview_s + apply_s), 1),
            "rows_done": tally["done"], "rows_error": tally["error"], "shipments": Shipment.objects.count(),
            "orders_shipped": shipped, "target_s": TARGET_S,
            "first_error": next((r["error"] for r in job.rows if r["error"]), "")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--postgres", action="store_true", help="on a fresh PostgreSQL database instead of SQLite")
    args = ap.parse_args(argv)
    result = run(args.rows, args.postgres)
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(f"import of {result['rows']:,} rows ({result['parcels']:,} parcels) on {where}: preview "
          f"{result['preview_s']:.2f} s + apply {result['apply_s']:.2f} s = {result['total_s']:.2f} s "
          f"(target < {TARGET_S:.0f} s: {'OK' if result['total_s'] < TARGET_S else 'MISSED'}); "
          f"{result['rows_done']:,} rows shipped, {result['rows_error']} in error", file=sys.stderr)
    print(json.dumps(result))
    return 0 if result["rows_error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
