"""Sweeps: auto-refusal and auto-reception throughput of the real worker (`comptoir worker --once`).

N orders past their deadline are written into the bench database, in shops of their own (ids from
SWEEP_SHOP_BASE, so the bench shops the API phases use are never suspended), as the services leave them:

  refusal    WAITING_ACCEPTANCE (version 2), lines, an AUTHORIZED payments row with its AUTHORIZE operation
             and the simulated provider's charge; timers: AUTO_REFUSE PENDING due in 2019, RENEW_AUTHORIZATION
             PENDING due in 5 days (the refusal cancels it), ACCEPTANCE_WARNING DONE (it fired earlier).
  reception  SHIPPED (version 5), lines SHIPPED with debit and ship dates, the order's debit ledger entries
             (ledger.rules.debit_postings, as lifecycle._post_ledger writes them at CONFIRM_DEBIT: SHOP_PENDING
             and OPERATOR_COMMISSION_PENDING legs) and AUTO_RECEIVE PENDING due in 2019.

Every other pending timer and outbox event of the bench database is parked for the run (a lease until 9999,
claimed_by 'bench-parked') and given back afterwards, so the worker sees only the sweep's orders. The sweep's
orders, shops and everything hanging off them are deleted afterwards (children first, found from the models).
On PostgreSQL the setup ANALYZEs the tables it filled and each clean-up VACUUMs them: what autovacuum does in
production, and this machine's server runs with autovacuum = off (see `analyze`).
Not written: the IMPORT/APPROVE history rows of these orders (nothing on the timer path reads them).

The worker runs as `workers` subprocesses started together (bench/run.py: --pg-workers on PostgreSQL, 2 by
default; --sqlite-workers on SQLite, 1), sharing the due timers through their leases, with
COMPTOIR_WORKER_BATCH_SIZE=200 and the locmem e-mail backend (the outbox sweep renders and "sends" each event's
mail without a network), twice: `worker --once --only timers` (the sweep) then `worker --once --only outbox` (the
delivery of the events it wrote). Each wall time minus that of the same command with nothing due (process
start-up, Django set-up, the empty claims) gives `orders_per_s` (the sweep alone) and `with_delivery_orders_per_s`
(sweep + delivery: what one `worker --once` run measured before).
The ceiling (`ceiling`) replays the sweep's own SQL writes, set-based as the sweep's batch path issues them, from
a bare loop: it compares with `orders_per_s`.

`--sweep-orders 100000` works: the worker's time-out grows with the orders, `worker --once` runs until idle
(its round guard is 100,000 rounds), and the ceiling's bare loop runs on at most CEILING_ORDERS orders.
Verification also checks the provider's books (one RELEASE charge per hold) and, for receptions, that each
order's payable is what the customer paid minus the commission, posted once.
"""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import COMPTOIR, PG_URL, PYTHON, ROOT, comptoir_env, log
from bench.load import ADDRESS_JSON, OFFERS_PER_SHOP, SHIPPING_CENTS, Generator, _rows

SWEEP_SHOP_BASE = 9_000_000
PREFIX = {"refusal": "SWR", "reception": "SWV"}
SHOP_OFFSET = {"refusal": 1, "reception": 500_001}
PARKED = "bench-parked"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
T0 = datetime(2019, 12, 16, 9, 0, tzinfo=UTC).timestamp()  # orders created then; deadlines long past
DAY = 86400.0
LINES_PATTERN = (1, 2, 2, 3, 1, 2)
CEILING_ORDERS = 5000


class Db:
    """sqlite3 or psycopg behind one tiny interface; SQL is written with '?' placeholders."""

    def __init__(self, database: str, sqlite_path: str | None = None) -> None:
        self.pg = database == "postgresql"
        if self.pg:
            import psycopg

            self.con = psycopg.connect(PG_URL)
        else:
            self.con = sqlite3.connect(sqlite_path, timeout=60, isolation_level=None)
            self.con.execute("PRAGMA foreign_keys=OFF")
            self.con.execute("PRAGMA busy_timeout=60000")
            self.con.execute("PRAGMA synchronous=NORMAL")  # as the app's settings (WAL)
            self.con.execute("BEGIN")

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        cur = self.con.execute(self.q(sql), params)
        try:
            return list(cur.fetchall())
        except Exception:  # noqa: BLE001 - no result set (psycopg raises, sqlite3 returns [])
            return []

    def executemany(self, sql: str, rows: list) -> None:
        if rows:
            self.con.cursor().executemany(self.q(sql), rows)

    def commit(self) -> None:
        if self.pg:
            self.con.commit()
        else:
            self.con.execute("COMMIT")
            self.con.execute("BEGIN")

    def close(self) -> None:
        self.commit()
        self.con.close()

    def insert(self, table: str, cols: list[str], dicts: list[dict]) -> None:
        rows = _rows(cols, dicts)
        quoted = ",".join(f'"{c}"' for c in cols)
        self.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({",".join("?" * len(cols))})', rows)

    def next_id(self, table: str) -> int:
        return (self.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')[0][0] or 0) + 1

    def fix_sequences(self, tables: list[str]) -> None:
        if self.pg:
            for table in tables:
                self.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")


# --------------------------------------------------------------------------- clean-up and parking
def _delete_tree(db: Db, model, where: str, params: tuple, depth: int = 0) -> None:  # noqa: ANN001
    """DELETE the rows of `model` matching `where`, children first (reverse FKs from the models)."""
    table = model._meta.db_table
    # include_hidden: a relation with related_name="+" (documents.InvoiceMissingFlag.order) is a child too.
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)) or depth > 6:
            continue
        child = rel.related_model
        sub = (f'"{rel.field.column}" IN (SELECT "{rel.field.target_field.column}" FROM "{table}" '
               f"WHERE {where})")
        _delete_tree(db, child, sub, params * 1, depth + 1)
    db.execute(f'DELETE FROM "{table}" WHERE {where}', params)


def cleanup(db: Db) -> None:
    """Delete every row of the sweep's shops and orders; give back the parked timers and events."""
    from comptoir.orders.models import CommercialOrder
    from comptoir.shops.models import Shop

    _delete_tree(db, Shop, "id >= ?", (SWEEP_SHOP_BASE,))
    _delete_tree(db, CommercialOrder, "commercial_id LIKE ?", ("SW%",))
    db.execute("DELETE FROM notifications_outboxevent WHERE order_id LIKE ?", ("SW%",))
    db.execute("DELETE FROM ledger_ledgerentry WHERE order_id LIKE ?", ("SW%",))
    db.execute("DELETE FROM payments_simulatedcharge WHERE idempotency_key LIKE ?", ("%:SW%",))
    db.execute("UPDATE timers_timer SET claimed_by = '', claimed_until = NULL WHERE claimed_by = ?", (PARKED,))
    db.execute("UPDATE notifications_outboxevent SET claimed_by = '', claimed_until = NULL WHERE claimed_by = ?",
               (PARKED,))
    db.commit()
    vacuum(db)


# The tables a sweep run fills, moves and empties.
SWEPT_TABLES = ("timers_timer", "ledger_ledgerentry", "orders_order", "orders_orderline", "orders_orderhistory",
                "notifications_outboxevent", "payments_payment", "payments_paymentoperation",
                "payments_simulatedcharge", "catalog_offer", "shops_shop")


def vacuum(db: Db) -> None:
    """On PostgreSQL, what autovacuum (off on this machine) would do after a run deleted its rows: the next run
    starts without the last one's dead rows in its tables and indexes."""
    if db.pg:
        db.con.autocommit = True
        try:
            db.execute(f"VACUUM (ANALYZE) {', '.join(SWEPT_TABLES)}")
        finally:
            db.con.autocommit = False


def park(db: Db) -> dict:
    far = "9999-12-31 00:00:00" + ("+00:00" if db.pg else "")
    timers = db.execute("UPDATE timers_timer SET claimed_by = ?, claimed_until = ? WHERE state = 'PENDING' "
                        "AND claimed_until IS NULL RETURNING id", (PARKED, far))
    events = db.execute("UPDATE notifications_outboxevent SET claimed_by = ?, claimed_until = ? "
                        "WHERE state = 'PENDING' AND claimed_until IS NULL RETURNING id", (PARKED, far))
    db.commit()
    return {"timers": len(timers), "outbox_events": len(events)}


# --------------------------------------------------------------------------- the orders past their deadline
def setup(db: Db, columns: dict[str, list[str]], kind: str, n: int, n_shops: int) -> dict:
    """Write `n` orders of `kind` ('refusal' or 'reception') past their deadline, in `n_shops` new shops."""
    from comptoir.ledger.rules import LineMoney, debit_postings

    gen = Generator(n, n_shops, postgres=db.pg)
    ts = gen.ts
    now = time.time()
    prefix = PREFIX[kind]
    shop_ids = [SWEEP_SHOP_BASE + SHOP_OFFSET[kind] + k for k in range(n_shops)]
    shops, offers = [], []
    offer0 = db.next_id("catalog_offer")
    for k, shop in enumerate(gen.shops()):
        sid = shop_ids[k]
        shops.append({**shop, "id": sid, "name": f"Boutique sweep {kind} {k + 1}",
                      "customer_service_email": f"sav-sweep{sid}@bench.test"})
    for k, offer in enumerate(gen.offers()):
        offers.append({**offer, "id": offer0 + k, "shop_id": shop_ids[k // OFFERS_PER_SHOP],
                       "sku": f"SW{kind[:3]}-{k}"})
    ids = {t: db.next_id(t) for t in ("orders_order", "orders_commercialorder", "orders_orderline",
                                     "payments_payment", "payments_paymentoperation", "payments_simulatedcharge",
                                     "timers_timer", "ledger_ledgerentry")}
    rows: dict[str, list[dict]] = {t: [] for t in ids}
    waiting = kind == "refusal"
    state = "WAITING_ACCEPTANCE" if waiting else "SHIPPED"
    for k in range(n):
        t = T0 + k * 0.01
        pk = ids["orders_order"] + k
        cpk = ids["orders_commercialorder"] + k
        order_id = f"{prefix}{k:07d}-A"
        sidx = k % n_shops
        shop = shop_ids[sidx]
        accepted, debited, shipped = (None, None, None) if waiting else (t + 3600, t + 3605, t + DAY)
        price = ship = commission = 0
        money = []
        for index in range(1, LINES_PATTERN[k % len(LINES_PATTERN)] + 1):
            o = (k * 7 + index) % OFFERS_PER_SHOP
            qty = 1 + (k + index) % 3
            unit = gen.offer_price(o)
            p, tax, stax, fee, fee_vat = gen.amounts(unit, qty)
            price += p
            ship += SHIPPING_CENTS
            commission += fee + fee_vat
            line_id = f"{order_id}-{index}"
            money.append(LineMoney(line_id, p, SHIPPING_CENTS, fee, fee_vat))
            rows["orders_orderline"].append({
                "id": ids["orders_orderline"] + len(rows["orders_orderline"]), "order_id": pk, "line_id": line_id,
                "index": index, "state": state, "state_reason_code": "", "state_reason_label": "", "incident_state": "",
                "offer_id": offer0 + sidx * OFFERS_PER_SHOP + o, "offer_sku": f"SW{kind[:3]}-{sidx * OFFERS_PER_SHOP + o}",
                "product_sku": f"PRD-{o}", "product_title": f"Produit sweep {o}", "category_code": f"CAT{o % 5}",
                "category_label": f"Catégorie {o % 5}", "quantity": qty, "canceled_quantity": 0, "unit_price_cents": unit,
                "price_cents": p, "shipping_price_cents": SHIPPING_CENTS, "tax_code": "TVA20",
                "tax_rate": "20.0000", "tax_cents": tax, "shipping_tax_code": "TVA20",
                "shipping_tax_rate": "20.0000", "shipping_tax_cents": stax, "eco_contribution_cents": 0,
                "commission_rate": "10.0000", "commission_fee_cents": fee, "commission_vat_rate": "20.0000",
                "commission_vat_cents": fee_vat, "created_date": ts(t), "last_updated_date": ts(shipped or t + 60),
                "debited_date": ts(debited), "shipped_date": ts(shipped), "received_date": None,
            })
        rows["orders_commercialorder"].append({"id": cpk, "commercial_id": f"{prefix}{k:07d}", "created_date": ts(t),
                                               "imported_date": ts(t + 1), "payload_digest": f"{pk:064x}"})
        rows["orders_order"].append({
            "id": pk, "order_id": order_id, "commercial_id": cpk, "shop_id": shop, "state": state,
            "state_reason_code": "", "state_reason_label": "", "waiting_customer_documents": False,
            "version": 2 if waiting else 5, "created_date": ts(t), "last_updated_date": ts(shipped or t + 60),
            "acceptance_decision_date": ts(accepted), "acceptance_deadline": ts(t + 7 * DAY),
            "customer_debited_date": ts(debited), "transaction_number": "" if waiting else f"sim_auth_sw{k:012x}",
            "shipping_deadline": None if waiting else ts(t + 3 * DAY), "shipped_date": ts(shipped),
            "received_date": None, "closed_date": None, "shipping_late": False, "currency_iso_code": "EUR",
            "vat_collected_by": "OPERATOR", "payment_type": "CB", "payment_workflow": "PAY_ON_ACCEPTANCE",
            "price_cents": price, "shipping_price_cents": ship, "total_price_cents": price + ship,
            "total_commission_cents": commission, "shipping_zone_code": "FR",
            "shipping_zone_label": "France métropolitaine (hors Corse)", "shipping_type_code": "STD",
            "shipping_type_label": "Livraison standard", "leadtime_to_ship": 2, "shipping_pudo_id": "",
            "order_reference_for_customer": f"REF-SW-{k}", "order_reference_for_seller": "", "channel_code": "",
            "customer_id": f"cust-sw-{k}", "customer_civility": "Mme", "customer_firstname": "Jeanne",
            "customer_lastname": "Martin", "customer_email": f"client.sweep{k}@example.com",
            "customer_locale": "fr_FR", "billing_address": ADDRESS_JSON, "shipping_address": ADDRESS_JSON,
            "relay_token": f"{pk:024x}", "has_incident": False, "has_invoice": False,
            "has_customer_message": False, "redacted_date": None,
        })

        def timer(kind_: str, due: float, tstate: str = "PENDING", pk: int = pk, t: float = t) -> None:
            rows["timers_timer"].append({
                "id": ids["timers_timer"] + len(rows["timers_timer"]), "kind": kind_, "order_id": pk,
                "due_at": ts(due), "state": tstate, "claimed_by": "", "claimed_until": None, "attempts": 0,
                "last_error": "", "created_date": ts(t + 60), "done_date": ts(due) if tstate != "PENDING" else None})

        if waiting:
            auth = f"sim_auth_sw{k:012x}"
            pay = ids["payments_payment"] + k
            rows["payments_payment"].append({
                "id": pay, "order_id": pk, "provider": "simulated", "authorization_ref": auth,
                "authorized_cents": price + ship, "captured_cents": 0, "released_cents": 0,
                "currency_iso_code": "EUR", "status": "AUTHORIZED", "authorized_date": ts(t),
                "expires_date": ts(now + 6 * DAY), "captured_date": None})
            rows["payments_paymentoperation"].append({
                "id": ids["payments_paymentoperation"] + k, "payment_id": pay, "kind": "AUTHORIZE",
                "idempotency_key": f"authorize:{order_id}", "amount_cents": price + ship, "succeeded": True,
                "provider_ref": auth, "failure_reason": "", "created_date": ts(t)})
            rows["payments_simulatedcharge"].append({
                "id": ids["payments_simulatedcharge"] + k, "idempotency_key": f"authorize:{order_id}",
                "kind": "AUTHORIZE", "reference": auth, "amount_cents": price + ship, "succeeded": True,
                "failure_reason": "", "created_date": ts(t)})
            timer("AUTO_REFUSE", t + 7 * DAY)
            timer("ACCEPTANCE_WARNING", t + 6 * DAY, "DONE")
            timer("RENEW_AUTHORIZATION", now + 5 * DAY)
        else:
            posting = str(uuid.uuid4())
            for leg in debit_postings(money):
                rows["ledger_ledgerentry"].append({
                    "id": ids["ledger_ledgerentry"] + len(rows["ledger_ledgerentry"]), "posting": posting,
                    "shop_id": shop, "account": str(leg.account), "transaction_type": str(leg.transaction_type),
                    "amount_cents": leg.amount_cents, "currency_iso_code": "EUR", "order_id": order_id,
                    "order_line_id": leg.order_line_id, "payout_id": None, "created_date": ts(debited)})
            timer("AUTO_RECEIVE", t + 10 * DAY)
    ledger_cols = _ledger_columns()
    db.insert("shops_shop", columns["shops_shop"], shops)
    db.insert("catalog_offer", columns["catalog_offer"], offers)
    for table in ("orders_commercialorder", "orders_order", "orders_orderline", "payments_payment",
                  "payments_paymentoperation", "payments_simulatedcharge", "timers_timer"):
        db.insert(table, columns[table], rows[table])
    db.insert("ledger_ledgerentry", ledger_cols, rows["ledger_ledgerentry"])
    db.fix_sequences(["catalog_offer", *ids])
    db.commit()
    analyze(db, ["shops_shop", "catalog_offer", *ids])
    return {"orders": n, "shops": n_shops, "lines": len(rows["orders_orderline"]),
            "ledger_entries": len(rows["ledger_ledgerentry"])}


def analyze(db: Db, tables: list[str]) -> None:
    """Fresh planner statistics for the tables the setup just filled, as production's autovacuum gives them
    (it analyzes a table once a tenth of it changed, within its one-minute naptime). This machine's PostgreSQL
    runs with autovacuum = off (a CI setting), and the loaded bench data has no ledger: without this, the
    statistics still say the ledger is empty, and the reception sweep's read of its batch's pending entries
    (200 order ids) is planned as a scan of every pending entry: 1 s a batch once the plan is generic."""
    if db.pg:
        db.execute(f"ANALYZE {', '.join(tables)}")
        db.commit()


def _ledger_columns() -> list[str]:
    from comptoir.ledger.models import LedgerEntry

    return [f.column for f in LedgerEntry._meta.concrete_fields]


# --------------------------------------------------------------------------- the real worker
PARTS = ("timers", "outbox")  # `worker --once --only PART`: the sweep, then the delivery of its events


def run_worker(url: str, orders: int = 0, only: str | None = None, workers: int = 1) -> tuple[float, int]:
    """`workers` processes of `comptoir worker --once [--only PART]` started together (they share the due timers
    through their leases, as production workers do); the wall time until the last one is done, and the tasks of
    all of them."""
    # The loaded data's one-time redaction / missing-invoice backlog stays idle (bench/httpbench.py WORKER_ENV).
    env = comptoir_env(url, COMPTOIR_WORKER_BATCH_SIZE="200", COMPTOIR_EMAIL_BACKEND=LOCMEM,
                       COMPTOIR_REDACT_AFTER_DAYS="0", COMPTOIR_INVOICE_MISSING_BUSINESS_DAYS="36500")
    t0 = time.perf_counter()
    procs = [subprocess.Popen([COMPTOIR, "worker", "--once", *(["--only", only] if only else [])], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
    tasks: list[int] = []
    try:
        for proc in procs:
            # 100,000 orders: up to 10,000 s on a loaded machine
            stdout, stderr = proc.communicate(timeout=max(1800, orders // 10))
            if proc.returncode != 0:
                raise RuntimeError(f"comptoir worker --once failed:\n{stdout[-1000:]}\n{stderr[-3000:]}")
            if stderr.strip():
                log(f"worker stderr: {stderr.strip()[-800:]}")
            m = re.search(r"(\d+) tâches", stdout)
            tasks.append(int(m.group(1)) if m else -1)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return time.perf_counter() - t0, (-1 if -1 in tasks else sum(tasks))


def startup_seconds(url: str, runs: int = 2, only: str | None = None, workers: int = 1) -> float:
    """Wall time of `worker --once [--only PART]` with nothing due (start-up, set-up, one empty round), median."""
    walls = []
    for _ in range(runs):
        wall, done = run_worker(url, only=only, workers=workers)
        if done != 0:
            raise RuntimeError(f"the empty worker run did {done} tasks: something else is due")
        walls.append(wall)
    return statistics.median(walls)


# --------------------------------------------------------------------------- verification (SQL)
def verify(db: Db, kind: str, n: int, lines: int) -> dict:
    """The rows a person's action writes, for every sweep order; returns {check: (got, expected)} and ok."""
    like = (PREFIX[kind] + "%",)
    sub = "SELECT id FROM orders_order WHERE order_id LIKE ?"

    def one(sql: str, params: tuple = like) -> int:
        return db.execute(sql, params)[0][0]

    c: dict[str, tuple[int, int]] = {}
    if kind == "refusal":
        c["orders REFUSED v3 (AUTO_REFUSED)"] = (one(
            "SELECT count(*) FROM orders_order WHERE order_id LIKE ? AND state = 'REFUSED' AND version = 3 "
            "AND state_reason_code = 'AUTO_REFUSED'"), n)
        c["lines REFUSED"] = (one(f"SELECT count(*) FROM orders_orderline WHERE order_id IN ({sub}) "
                                  "AND state = 'REFUSED' AND state_reason_code = 'AUTO_REFUSED'"), lines)
        trig = "AUTO_REFUSE"
        c["history order rows (AUTO_REFUSE, SYSTEM)"] = (one(
            f"SELECT count(*) FROM orders_orderhistory WHERE order_id IN ({sub}) AND line_id = '' "
            "AND \"trigger\" = 'AUTO_REFUSE' AND actor = 'SYSTEM' AND to_state = 'REFUSED'"), n)
        c["offers deactivated"] = (one(
            "SELECT count(DISTINCT l.offer_id) FROM orders_orderline l JOIN catalog_offer f ON f.id = l.offer_id "
            f"WHERE l.order_id IN ({sub}) AND f.active = ?", (*like, False)), one(
            f"SELECT count(DISTINCT offer_id) FROM orders_orderline WHERE order_id IN ({sub})"))
        shops = one("SELECT count(DISTINCT shop_id) FROM orders_order WHERE order_id LIKE ?")
        c["shops SUSPENDED"] = (one("SELECT count(*) FROM shops_shop WHERE id IN (SELECT shop_id FROM orders_order "
                                    "WHERE order_id LIKE ?) AND state = 'SUSPENDED'"), shops)
        c["payments RELEASED"] = (one(f"SELECT count(*) FROM payments_payment WHERE order_id IN ({sub}) "
                                      "AND status = 'RELEASED' AND released_cents = authorized_cents"), n)
        c["provider RELEASE charges (one per hold)"] = (one(
            "SELECT count(*) FROM payments_simulatedcharge WHERE kind = 'RELEASE' AND idempotency_key LIKE ?",
            (f"release:{PREFIX[kind]}%",)), n)
        c["RELEASE operations"] = (one("SELECT count(*) FROM payments_paymentoperation WHERE kind = 'RELEASE' "
                                       "AND idempotency_key LIKE ?", (f"release:{PREFIX[kind]}%",)), n)
        c["timers AUTO_REFUSE DONE"] = (one(f"SELECT count(*) FROM timers_timer WHERE order_id IN ({sub}) "
                                            "AND kind = 'AUTO_REFUSE' AND state = 'DONE'"), n)
        c["timers RENEW_AUTHORIZATION CANCELED"] = (one(
            f"SELECT count(*) FROM timers_timer WHERE order_id IN ({sub}) AND kind = 'RENEW_AUTHORIZATION' "
            "AND state = 'CANCELED'"), n)
        c["timers left PENDING"] = (one(f"SELECT count(*) FROM timers_timer WHERE order_id IN ({sub}) "
                                        "AND state = 'PENDING'"), 0)
        c["outbox OrderAutoRefused (SELLER+CUSTOMER)"] = (one(
            "SELECT count(*) FROM notifications_outboxevent WHERE order_id LIKE ? "
            "AND event_type = 'OrderAutoRefused'"), 2 * n)
        c["outbox ShopSuspended (SELLER+OPERATOR)"] = (one(
            "SELECT count(*) FROM notifications_outboxevent WHERE order_id LIKE ? "
            "AND event_type = 'ShopSuspended'"), 2 * shops)
    else:
        c["orders RECEIVED v6"] = (one(
            "SELECT count(*) FROM orders_order WHERE order_id LIKE ? AND state = 'RECEIVED' AND version = 6 "
            "AND received_date IS NOT NULL"), n)
        c["lines RECEIVED (received_date set)"] = (one(
            f"SELECT count(*) FROM orders_orderline WHERE order_id IN ({sub}) AND state = 'RECEIVED' "
            "AND received_date IS NOT NULL"), lines)
        trig = "RECEIVE"
        c["history order rows (RECEIVE, SYSTEM)"] = (one(
            f"SELECT count(*) FROM orders_orderhistory WHERE order_id IN ({sub}) AND line_id = '' "
            "AND \"trigger\" = 'RECEIVE' AND actor = 'SYSTEM' AND to_state = 'RECEIVED'"), n)
        c["timers AUTO_RECEIVE DONE"] = (one(f"SELECT count(*) FROM timers_timer WHERE order_id IN ({sub}) "
                                             "AND kind = 'AUTO_RECEIVE' AND state = 'DONE'"), n)
        c["timers AUTO_CLOSE PENDING"] = (one(f"SELECT count(*) FROM timers_timer WHERE order_id IN ({sub}) "
                                              "AND kind = 'AUTO_CLOSE' AND state = 'PENDING'"), n)
        c["orders with SHOP_PAYABLE entries"] = (one(
            "SELECT count(DISTINCT order_id) FROM ledger_ledgerentry WHERE order_id LIKE ? "
            "AND account = 'SHOP_PAYABLE'"), n)
        c["orders with OPERATOR_COMMISSION entries"] = (one(
            "SELECT count(DISTINCT order_id) FROM ledger_ledgerentry WHERE order_id LIKE ? "
            "AND account = 'OPERATOR_COMMISSION'"), n)
        c["orders with pending left (sum of SHOP_PENDING <> 0)"] = (one(
            "SELECT count(*) FROM (SELECT order_id FROM ledger_ledgerentry WHERE order_id LIKE ? "
            "AND account = 'SHOP_PENDING' GROUP BY order_id HAVING sum(amount_cents) <> 0) x"), 0)
        c["orders with commission pending left"] = (one(
            "SELECT count(*) FROM (SELECT order_id FROM ledger_ledgerentry WHERE order_id LIKE ? "
            "AND account = 'OPERATOR_COMMISSION_PENDING' GROUP BY order_id HAVING sum(amount_cents) <> 0) x"), 0)
        # payable = what the customer paid minus the commission; the commission earned = what was pending
        c["orders whose payable or commission is wrong"] = (one(
            "SELECT count(*) FROM (SELECT order_id FROM ledger_ledgerentry WHERE order_id LIKE ? GROUP BY order_id "
            "HAVING sum(CASE WHEN account = 'SHOP_PAYABLE' THEN amount_cents ELSE 0 END) <> "
            "- sum(CASE WHEN account = 'CUSTOMER_FUNDS' THEN amount_cents ELSE 0 END) "
            "- sum(CASE WHEN account = 'OPERATOR_COMMISSION_PENDING' AND amount_cents > 0 THEN amount_cents ELSE 0 END) "
            "OR sum(CASE WHEN account = 'OPERATOR_COMMISSION' THEN amount_cents ELSE 0 END) <> "
            "sum(CASE WHEN account = 'OPERATOR_COMMISSION_PENDING' AND amount_cents > 0 THEN amount_cents ELSE 0 END)"
            ") x"), 0)
        c["orders with one reception posting"] = (one(
            "SELECT count(*) FROM (SELECT order_id FROM ledger_ledgerentry WHERE order_id LIKE ? "
            "AND account = 'SHOP_PAYABLE' GROUP BY order_id HAVING count(DISTINCT posting) = 1) x"), n)
        c["outbox OrderReceived (SELLER)"] = (one(
            "SELECT count(*) FROM notifications_outboxevent WHERE order_id LIKE ? "
            "AND event_type = 'OrderReceived'"), n)
    c[f"history line rows ({trig})"] = (one(
        f"SELECT count(*) FROM orders_orderhistory WHERE order_id IN ({sub}) AND line_id <> '' "
        f"AND \"trigger\" = '{trig}'"), lines)
    c["orders with exactly lines+1 history rows"] = (one(
        "SELECT count(*) FROM (SELECT h.order_id, count(*) AS c FROM orders_orderhistory h "
        f"WHERE h.order_id IN ({sub}) AND h.\"trigger\" = '{trig}' GROUP BY h.order_id) x "
        "JOIN (SELECT order_id, count(*) + 1 AS c FROM orders_orderline GROUP BY order_id) y "
        "ON y.order_id = x.order_id AND y.c = x.c"), n)
    c["outbox events delivered (SENT)"] = (one(
        "SELECT count(*) FROM notifications_outboxevent WHERE order_id LIKE ? AND state = 'SENT'"), one(
        "SELECT count(*) FROM notifications_outboxevent WHERE order_id LIKE ?"))
    ok = all(got == want for got, want in c.values())
    return {"ok": ok, "checks": {k: {"got": g, "expected": w} for k, (g, w) in c.items()}}


# --------------------------------------------------------------------------- one database
def bench_sweeps(database: str, url: str, sqlite_path: str | None, columns: dict[str, list[str]], *, orders: int,
                 repeat: int, workers: int = 1) -> dict:
    """For each kind: set up N orders, run the worker(s), verify, clean up; `repeat` times; plus the ceiling."""
    db = Db(database, sqlite_path)
    out: dict = {"orders": orders, "batch_size": 200, "workers": workers}
    try:
        cleanup(db)
        out["parked"] = park(db)
        log(f"{database}: sweeps: parked {out['parked']['timers']:,} pending timers and "
            f"{out['parked']['outbox_events']:,} outbox events of the bench data for the run")
        startup = {part: round(startup_seconds(url, only=part, workers=workers), 3) for part in PARTS}
        out["startup_s"] = startup["timers"]
        out["delivery_startup_s"] = startup["outbox"]
        log(f"{database}: sweeps: {workers} × `worker --once --only timers|outbox` with nothing due: "
            f"{startup['timers']:.2f} s | {startup['outbox']:.2f} s (subtracted)")
        n_shops = max(1, orders // 20)
        for kind in ("refusal", "reception"):
            runs = []
            for k in range(repeat):
                shape = setup(db, columns, kind, orders, n_shops)
                if k == 0:
                    out[f"{kind}_captured"] = capture(url, PREFIX[kind])
                wall, done = run_worker(url, orders, only="timers", workers=workers)
                net = max(1e-3, wall - startup["timers"])
                d_wall, delivered = run_worker(url, orders, only="outbox", workers=workers)
                d_net = max(1e-3, d_wall - startup["outbox"])
                check = verify(db, kind, orders, shape["lines"])
                runs.append({"wall_s": round(wall, 3), "net_s": round(net, 3), "tasks": done,
                             "orders_per_s": round(orders / net, 1), "delivery_wall_s": round(d_wall, 3),
                             "delivery_net_s": round(d_net, 3), "delivered": delivered,
                             "with_delivery_orders_per_s": round(orders / (net + d_net), 1),
                             "verified": check["ok"], **shape})
                log(f"{database}: sweep {kind} run {k + 1}: {orders:,} orders ({shape['lines']:,} lines, "
                    f"{n_shops} shops): sweep {wall:.2f} s wall, {net:.2f} s net → {orders / net:.0f} orders/s "
                    f"({done:,} timers); delivery {d_net:.2f} s net ({delivered:,} events) → "
                    f"{orders / (net + d_net):.0f} orders/s with delivery; verification "
                    f"{'OK' if check['ok'] else 'FAILED'}")
                if not check["ok"] or k == 0:
                    out[f"{kind}_verification"] = check
                if not check["ok"]:
                    for name, v in check["checks"].items():
                        if v["got"] != v["expected"]:
                            log(f"{database}: sweep {kind}: {name}: {v['got']} (expected {v['expected']})")
                cleanup_orders_only(db)
            out[f"{kind}_runs"] = runs
            # The ceiling's bare loop on at most CEILING_ORDERS orders (a rate: more orders add nothing but time).
            shape = setup(db, columns, kind, min(orders, CEILING_ORDERS), max(1, min(orders, CEILING_ORDERS) // 20))
            out[f"{kind}_ceiling"] = ceiling(db, columns, kind)
            cleanup_orders_only(db)
            log(f"{database}: sweep {kind} ceiling: {out[f'{kind}_ceiling']['orders_per_s']:.0f} orders/s "
                "(the sweep's set-based statements from a bare loop, one connection, outbox delivery excluded)")
            out[kind] = {"orders_per_s": round(statistics.median(r["orders_per_s"] for r in runs), 1),
                         "with_delivery_orders_per_s": round(statistics.median(
                             r["with_delivery_orders_per_s"] for r in runs), 1),
                         "net_s": round(statistics.median(r["net_s"] for r in runs), 3),
                         "verified": all(r["verified"] for r in runs),
                         "ceiling_orders_per_s": out[f"{kind}_ceiling"]["orders_per_s"]}
    finally:
        cleanup(db)
        db.close()
    return out


def capture(url: str, prefix: str) -> dict:
    proc = subprocess.run([PYTHON, str(ROOT / "bench" / "capture.py"), prefix], env=comptoir_env(url), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout)


def cleanup_orders_only(db: Db) -> None:
    """Between runs: remove the sweep's shops and orders (parked rows stay parked)."""
    from comptoir.orders.models import CommercialOrder
    from comptoir.shops.models import Shop

    _delete_tree(db, Shop, "id >= ?", (SWEEP_SHOP_BASE,))
    _delete_tree(db, CommercialOrder, "commercial_id LIKE ?", ("SW%",))
    db.execute("DELETE FROM notifications_outboxevent WHERE order_id LIKE ?", ("SW%",))
    db.execute("DELETE FROM ledger_ledgerentry WHERE order_id LIKE ?", ("SW%",))
    db.execute("DELETE FROM payments_simulatedcharge WHERE idempotency_key LIKE ?", ("%:SW%",))
    db.commit()
    vacuum(db)


def dumps(obj: object) -> str:
    return json.dumps(obj, default=str)


# --------------------------------------------------------------------------- the ceiling (bare SQL)
def _sel(columns: dict[str, list[str]], table: str, where: str, lock: str) -> str:
    cols = ", ".join(f'"{table}"."{c}"' for c in columns[table])
    return f'SELECT {cols} FROM "{table}" WHERE {where}{lock}'


def ceiling(db: Db, columns: dict[str, list[str]], kind: str) -> dict:
    """The SQL writes of the worker's sweep, set-based as its batch path issues them (orders.timers.handle_batch
    → lifecycle.apply_transitions), from a bare loop on one connection: per batch of 200 timers, the claim (one
    transaction), then one transaction that locks the batch's orders and lines, takes its timers, and writes every
    row a person's action writes with one statement per table and set of values: UPDATE … WHERE id IN (≤100 keys)
    for orders (under their version), lines, payments, offers (the reason by CASE) and timers, one UPDATE …
    RETURNING for the shops it suspends, multi-row INSERTs for history, outbox, provider charges and payment
    operations, new timers, and ledger entries (≤100 rows a statement; on PostgreSQL as one array per column,
    `unnest`, as the sweep's insert_prepared writes them there). Outbox delivery (render and send the
    mails, mark SENT) is not replayed: the figure is the ceiling of the sweep alone (`orders_per_s`)."""
    pg = db.pg
    lock = " FOR UPDATE" if pg else ""
    ts = (lambda d: d) if pg else (lambda d: d.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"))
    total = db.execute("SELECT count(*) FROM orders_order WHERE order_id LIKE ?", (PREFIX[kind] + "%",))[0][0]
    db.commit()
    out_cols = [c for c in columns["notifications_outboxevent"] if c != "id"]
    hist_cols = ["order_id", "line_id", "created_date", "actor", "actor_name", "trigger", "from_state", "to_state",
                 "reason_code", "reason_label", "details"]
    ledger_cols = ["posting", "shop_id", "account", "transaction_type", "amount_cents", "currency_iso_code",
                   "order_id", "order_line_id", "payout_id", "created_date"]
    timer_cols = ["kind", "order_id", "due_at", "state", "claimed_by", "claimed_until", "attempts", "last_error",
                  "created_date", "done_date"]
    lcol = columns["orders_orderline"]
    ocol = columns["orders_order"]
    pcol = columns["payments_payment"]

    def marks(n: int) -> str:
        return ", ".join(["?"] * n)

    def chunks(seq: list, size: int = 100) -> list[list]:
        return [seq[k:k + size] for k in range(0, len(seq), size)]

    pg_types: dict[str, dict[str, str]] = {}

    def insert(table: str, cols: list[str], rows: list, tail: str = "") -> None:
        """Multi-row VALUES on SQLite; on PostgreSQL one array per column (`unnest`), as the sweep writes there
        (notifications.services.insert_prepared)."""
        if not rows:
            return
        quoted = ", ".join(f'"{c}"' for c in cols)
        if pg and len(rows) > 1:
            if table not in pg_types:
                cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                            "WHERE attrelid = %s::regclass AND attnum > 0", (table,))
                pg_types[table] = dict(cur.fetchall())
            arrays = ", ".join(f"%s::{pg_types[table][c]}[]" for c in cols)
            cur.execute(f'INSERT INTO "{table}" ({quoted}) SELECT * FROM unnest({arrays}){tail}',
                        [list(column) for column in zip(*rows, strict=True)])
            return
        cur.execute(db.q(f'INSERT INTO "{table}" ({quoted}) VALUES '
                         + ", ".join([f"({marks(len(cols))})"] * len(rows)) + tail),
                    [v for row in rows for v in row])

    def update_in(table: str, sets: str, values: list, ids: list, extra: str = "", extra_values: tuple = ()) -> None:
        for chunk in chunks(ids):
            cur.execute(db.q(f'UPDATE "{table}" SET {sets} WHERE id IN ({marks(len(chunk))}){extra}'),
                        [*values, *chunk, *extra_values])

    con = db.con
    if not pg:
        con.execute("COMMIT")
    cur = con.cursor()
    begin = (lambda: None) if pg else (lambda: con.execute("BEGIN IMMEDIATE"))
    commit = con.commit if pg else (lambda: con.execute("COMMIT"))
    done_orders = 0
    start = time.perf_counter()
    while True:
        now_dt = datetime.now(UTC)
        now = ts(now_dt)
        begin()
        cur.execute(db.q("SELECT id, kind, order_id FROM timers_timer WHERE state = ? AND due_at <= ? AND "
                         "(claimed_until IS NULL OR claimed_until < ?) ORDER BY due_at LIMIT 200"
                         + (" FOR UPDATE SKIP LOCKED" if pg else "")), ("PENDING", now, now))
        claimed = cur.fetchall()
        if not claimed:
            commit()
            break
        timer_ids = [r[0] for r in claimed]
        cur.execute(db.q(f"UPDATE timers_timer SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 "
                         f"WHERE id IN ({marks(len(timer_ids))})"), ["ceiling", ts(now_dt + timedelta(minutes=5)), *timer_ids])
        commit()
        begin()
        pks = sorted({r[2] for r in claimed})
        cur.execute(db.q(_sel(columns, "orders_order", f"id IN ({marks(len(pks))}) ORDER BY id", lock)), pks)
        orders = cur.fetchall()
        cur.execute(db.q(f"UPDATE timers_timer SET state = ?, done_date = ? WHERE id IN ({marks(len(timer_ids))}) "
                         "AND state = ? AND claimed_by = ? RETURNING id"), ["DONE", now, *timer_ids, "PENDING", "ceiling"])
        cur.fetchall()
        cur.execute(db.q(_sel(columns, "orders_orderline", f'order_id IN ({marks(len(pks))}) ORDER BY order_id, "index"',
                              lock)), pks)
        lines = cur.fetchall()
        by_order: dict[int, list] = {}
        for ln in lines:
            by_order.setdefault(ln[lcol.index("order_id")], []).append(ln)
        info = [(o[ocol.index("id")], o[ocol.index("order_id")], o[ocol.index("shop_id")]) for o in orders]
        line_pks = [ln[lcol.index("id")] for ln in lines]
        if kind == "refusal":
            shops = sorted({shop for _, _, shop in info})
            cur.execute(db.q(f"UPDATE shops_shop SET state = ?, suspension_reason = ?, suspended_at = ?, "
                             f"last_updated_date = ? WHERE id IN ({marks(len(shops))}) AND state = ? RETURNING id"),
                        ["SUSPENDED", "Délai d'acceptation de 5 jours ouvrés dépassé", now, now, *shops, "OPEN"])
            suspended = {r[0] for r in cur.fetchall()}
            cur.execute(db.q(_sel(columns, "payments_payment", f"order_id IN ({marks(len(pks))}) AND status IN (?, ?) "
                                  "ORDER BY id", lock)), [*pks, "AUTHORIZED", "FAILED"])
            pays = cur.fetchall()
            order_id_of = {pk: oid for pk, oid, _ in info}
            keys = [f"release:{order_id_of[p[pcol.index('order_id')]]}" for p in pays]
            insert("payments_simulatedcharge", ["idempotency_key", "kind", "reference", "amount_cents", "succeeded",
                                                "failure_reason", "created_date"],
                   [(key, "RELEASE", p[pcol.index("authorization_ref")], p[pcol.index("authorized_cents")], True, "", now)
                    for key, p in zip(keys, pays, strict=True)], " ON CONFLICT DO NOTHING")
            cur.execute(db.q(f"SELECT idempotency_key, succeeded, reference, failure_reason FROM payments_simulatedcharge "
                             f"WHERE idempotency_key IN ({marks(len(keys))})"), keys)
            cur.fetchall()
            insert("payments_paymentoperation", ["payment_id", "kind", "idempotency_key", "amount_cents", "succeeded",
                                                 "provider_ref", "failure_reason", "created_date"],
                   [(p[0], "RELEASE", key, p[pcol.index("authorized_cents")], True, p[pcol.index("authorization_ref")],
                     "", now) for key, p in zip(keys, pays, strict=True)], " ON CONFLICT DO NOTHING")
            update_in("payments_payment", "status = ?, released_cents = authorized_cents", ["RELEASED"],
                      [p[0] for p in pays])
            reasons: dict[int, str] = {}
            for pk, order_id, _ in info:
                for ln in by_order.get(pk, []):
                    reasons.setdefault(ln[lcol.index("offer_id")], f"Commande {order_id} refusée automatiquement")
            for chunk in chunks(sorted(reasons)):
                cur.execute(db.q(f"UPDATE catalog_offer SET active = ?, deactivation_reason = CASE id"
                                 f"{' WHEN ? THEN ?' * len(chunk)} END, last_updated_date = ? "
                                 f"WHERE id IN ({marks(len(chunk))}) AND active = ?"),
                            [False, *(v for o in chunk for v in (o, reasons[o])), now, *chunk, True])
            kinds = ("AUTO_REFUSE", "ACCEPTANCE_WARNING", "RENEW_AUTHORIZATION")
            cur.execute(db.q(f"UPDATE timers_timer SET state = ?, done_date = ? WHERE order_id IN ({marks(len(pks))}) "
                             f"AND kind IN ({marks(len(kinds))}) AND state = ?"), ["CANCELED", now, *pks, *kinds, "PENDING"])
            target, trig, src, code, label = ("REFUSED", "AUTO_REFUSE", "WAITING_ACCEPTANCE", "AUTO_REFUSED",
                                              "refus automatique")
            update_in("orders_order", "state = ?, version = ?, last_updated_date = ?, state_reason_code = ?, "
                      "state_reason_label = ?", [target, 3, now, code, label], pks, " AND version = ?", (2,))
            update_in("orders_orderline", "state = ?, state_reason_code = ?, state_reason_label = ?, last_updated_date = ?",
                      [target, code, label, now], line_pks)
        else:
            order_ids = [oid for _, oid, _ in info]
            cur.execute(db.q(f"SELECT order_id, account, transaction_type, order_line_id, amount_cents FROM "
                             f"ledger_ledgerentry WHERE order_id IN ({marks(len(order_ids))}) AND account IN (?, ?) "
                             f"ORDER BY id"), [*order_ids, "SHOP_PENDING", "OPERATOR_COMMISSION_PENDING"])
            legs: dict[str, list] = {}
            for row in cur.fetchall():
                legs.setdefault(row[0], []).append(row[1:])
            entries = []
            for _, order_id, shop in info:
                posting = str(uuid.uuid4())
                for a, t, lid, c in legs.get(order_id, []):
                    entries.append((posting, shop, "SHOP_PAYABLE" if a == "SHOP_PENDING" else "OPERATOR_COMMISSION",
                                    t, c, "EUR", order_id, lid, None, now))
                    entries.append((posting, shop, a, t, -c, "EUR", order_id, lid, None, now))
            for chunk in chunks(entries):
                insert("ledger_ledgerentry", ledger_cols, chunk)
            kinds = ("AUTO_RECEIVE", "AUTO_CLOSE")
            cur.execute(db.q(f"UPDATE timers_timer SET state = ?, done_date = ? WHERE order_id IN ({marks(len(pks))}) "
                             f"AND kind IN ({marks(len(kinds))}) AND state = ?"), ["CANCELED", now, *pks, *kinds, "PENDING"])
            insert("timers_timer", timer_cols, [("AUTO_CLOSE", pk, ts(now_dt + timedelta(days=30)), "PENDING", "", None,
                                                 0, "", now, None) for pk in pks])
            target, trig, src, code, label = "RECEIVED", "RECEIVE", "SHIPPED", "", ""
            suspended = set()
            update_in("orders_order", "state = ?, version = ?, last_updated_date = ?, received_date = ?",
                      [target, 6, now, now], pks, " AND version = ?", (5,))
            update_in("orders_orderline", "state = ?, last_updated_date = ?, received_date = ?", [target, now, now],
                      line_pks)
        hist = []
        events = []
        announced: set[int] = set()
        for pk, order_id, shop in info:
            hist += [(pk, ln[lcol.index("line_id")], now, "SYSTEM", "Comptoir", trig, src, target, code, label, "{}")
                     for ln in by_order.get(pk, [])]
            hist.append((pk, "", now, "SYSTEM", "Comptoir", trig, src, target, code, label, "{}"))
            names = [("OrderAutoRefused", "SELLER"), ("OrderAutoRefused", "CUSTOMER")] if kind == "refusal" else [
                ("OrderReceived", "SELLER")]
            if shop in suspended and shop not in announced:
                announced.add(shop)
                names += [("ShopSuspended", "SELLER"), ("ShopSuspended", "OPERATOR")]
            for event, audience in names:
                v = {"event_type": event, "order_id": order_id, "shop_id": shop, "audience": audience,
                     "payload": json.dumps({"order_id": order_id, "shop_id": shop}), "state": "PENDING", "attempts": 0,
                     "next_attempt_at": now, "last_error": "", "claimed_by": "", "claimed_until": None,
                     "created_date": now, "sent_date": None, "recipients": "", "subject": "", "request_id": ""}
                events.append([v[c] for c in out_cols])
        insert("orders_orderhistory", hist_cols, hist)
        insert("notifications_outboxevent", out_cols, events)
        commit()
        done_orders += len(info)
    elapsed = time.perf_counter() - start
    if not pg:
        con.execute("BEGIN")
    return {"orders": done_orders, "expected": total, "seconds": round(elapsed, 3),
            "orders_per_s": round(done_orders / elapsed, 1)}
