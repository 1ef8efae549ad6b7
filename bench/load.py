"""Bulk loading of N orders straight through the DB driver, in the shape the services produce.

The schema comes from `comptoir migrate`; the rows are generated here as dicts keyed by column name and
checked against the Django models' concrete columns, so a new model column breaks the load loudly instead of
silently producing rows the services would never write.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from operator import itemgetter

from bench.common import PG_ADMIN_URL, PG_DB, PG_URL, log, run_comptoir, sqlite_path, sqlite_url

LOADER_VERSION = "3"
RELAY_DOMAIN_TOKEN_BYTES = 12
SHIPPING_CENTS = 490
OFFERS_PER_SHOP = 20
DAY = 86400.0

ADDRESS = {"street_1": "12 rue des Lilas", "zip_code": "69003", "city": "Lyon", "country": "France",
           "country_iso_code": "FRA", "phone": "0612345678", "firstname": "Jeanne", "lastname": "Martin"}
ADDRESS_JSON = json.dumps(ADDRESS, ensure_ascii=False)
FIRSTNAMES = ["Jeanne", "Paul", "Louise", "Hugo", "Emma", "Lucas", "Chloé", "Nathan", "Léa", "Jules"]
LASTNAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]

# Recent orders (newest RECENT_SHARE of the timeline) are still moving; older ones are finished.
RECENT_SHARE = 0.35
RECENT_STATES = [("SHIPPING", 15.0), ("SHIPPED", 5.0), ("RECEIVED", 4.0), ("WAITING_DEBIT", 1.0),
                 ("WAITING_ACCEPTANCE", 8.0), ("STAGING", 1.0), ("REFUSED", 0.5), ("CANCELED", 0.5)]
OLD_STATES = [("CLOSED", 58.0), ("REFUSED", 4.0), ("CANCELED", 3.0)]
VERSIONS = {"STAGING": 1, "WAITING_ACCEPTANCE": 2, "CANCELED": 2, "WAITING_DEBIT": 3, "REFUSED": 3,
            "SHIPPING": 4, "SHIPPED": 5, "RECEIVED": 6, "CLOSED": 7}
ACCEPTED = {"WAITING_DEBIT", "SHIPPING", "SHIPPED", "RECEIVED", "CLOSED"}
DEBITED = {"SHIPPING", "SHIPPED", "RECEIVED", "CLOSED"}
SHIPPED = {"SHIPPED", "RECEIVED", "CLOSED"}
RECEIVED = {"RECEIVED", "CLOSED"}

TABLES = ["shops_shop", "shops_apikey", "catalog_offer", "orders_commercialorder", "orders_order",
          "orders_orderline", "orders_orderhistory", "payments_payment", "payments_paymentoperation",
          "payments_simulatedcharge", "timers_timer"]


def model_columns() -> dict[str, list[str]]:
    """Every concrete column of the tables we fill, from the models (needs django.setup())."""
    from django.apps import apps

    out: dict[str, list[str]] = {}
    for model in apps.get_models():
        table = model._meta.db_table
        if table in TABLES or table == "notifications_outboxevent":  # the outbox: for the ceiling's insert
            out[table] = [f.column for f in model._meta.concrete_fields]
    missing = set(TABLES) - set(out)
    if missing:
        raise RuntimeError(f"tables not found in the models: {missing}")
    return out


def _pick(weights: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    total = sum(w for _, w in weights)
    acc, cum = 0.0, []
    for _, w in weights:
        acc += w / total
        cum.append(acc)
    return [s for s, _ in weights], cum


class Generator:
    """Deterministic rows; timestamps are strings (naive UTC for SQLite, +00:00 for PostgreSQL)."""

    def __init__(self, orders: int, shops: int, *, postgres: bool, seed: int = 42) -> None:
        self.n_orders = orders
        self.n_shops = shops
        self.pg = postgres
        self.seed = seed
        self.now = datetime(2026, 11, 1, tzinfo=UTC).timestamp()  # fixed: the same rows on every load
        self.start = self.now - 720 * DAY
        self.recent_states = _pick(RECENT_STATES)
        self.old_states = _pick(OLD_STATES)
        self._amounts: dict[tuple[int, int], tuple[int, int, int, int, int]] = {}
        self._days: dict[int, str] = {}
        self._suffix = "+00:00" if postgres else ""

    def ts(self, t: float | None) -> str | None:
        """'YYYY-MM-DD HH:MM:SS.ffffff' (UTC; '+00:00' appended for PostgreSQL). Hand-formatted with a per-day
        cache: datetime.fromtimestamp().isoformat() was half of the generation time."""
        if t is None:
            return None
        us_total = round(t * 1_000_000)
        sec, us = divmod(us_total, 1_000_000)
        day, rem = divmod(sec, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
            self._days[day] = prefix
        h, rem = divmod(rem, 3600)
        m, s = divmod(rem, 60)
        return f"{prefix}{h:02d}:{m:02d}:{s:02d}.{us:06d}{self._suffix}"

    # --- small tables ---
    def shops(self) -> Iterator[dict]:
        now = self.ts(self.start - 30 * DAY)
        for sid in range(1, self.n_shops + 1):
            yield {
                "id": sid, "name": f"Boutique bench {sid}", "state": "OPEN", "suspension_reason": "",
                "suspended_at": None, "commission_rate": "10.0000", "commission_vat_rate": "20.0000",
                "currency_iso_code": "EUR", "is_professional": True, "legal_name": f"Boutique bench {sid} SARL",
                "legal_form": "SARL", "share_capital": "10000", "identification_number": f"{100000000 + sid}",
                "rcs": "RCS Lyon", "vat_number": f"FR00{100000000 + sid}", "head_office_street": "1 rue du Port",
                "head_office_zip_code": "69002", "head_office_city": "Lyon", "head_office_country_iso_code": "FRA",
                "customer_service_email": f"sav{sid}@bench.test", "contact_phone": "0400000000",
                "producer_registration_number": "", "warranty_duration": "2 ans",
                "created_date": now, "last_updated_date": now,
            }

    def api_keys(self) -> Iterator[dict]:
        now = self.ts(self.start - 30 * DAY)
        for sid in range(1, self.n_shops + 1):
            raw = f"bench-shop-{sid}"
            yield {"id": sid, "kind": "SHOP", "shop_id": sid, "digest": hashlib.sha256(raw.encode()).hexdigest(),
                   "prefix": raw[:8], "label": "bench", "created_date": now, "revoked_date": None}

    def offer_price(self, k: int) -> int:
        return 990 + 500 * k

    def offers(self) -> Iterator[dict]:
        now = self.ts(self.start - 30 * DAY)
        for sid in range(1, self.n_shops + 1):
            for k in range(OFFERS_PER_SHOP):
                oid = (sid - 1) * OFFERS_PER_SHOP + k + 1
                yield {"id": oid, "shop_id": sid, "sku": f"S{sid}-SKU-{k}", "product_sku": f"PRD-{k}",
                       "title": f"Produit bench {k} de la boutique {sid}", "category_code": f"CAT{k % 5}",
                       "category_label": f"Catégorie {k % 5}", "price_cents": self.offer_price(k),
                       "tax_rate": "20.0000", "stock": 100, "active": True, "deactivation_reason": "",
                       "last_updated_date": now}

    def amounts(self, unit: int, qty: int) -> tuple[int, int, int, int, int]:
        key = (unit, qty)
        cached = self._amounts.get(key)
        if cached is None:
            from decimal import Decimal

            from comptoir.orders.rules import line_amounts

            a = line_amounts(unit_price_cents=unit, quantity=qty, shipping_price_cents=SHIPPING_CENTS,
                             tax_rate=Decimal("20"), shipping_tax_rate=Decimal("20"),
                             commission_rate=Decimal("10.0000"), commission_vat_rate=Decimal("20.0000"))
            cached = (a.price_cents, a.tax_cents, a.shipping_tax_cents, a.commission_fee_cents,
                      a.commission_vat_cents)
            self._amounts[key] = cached
        return cached

    # --- orders and everything hanging off them, in chunks ---
    def order_chunks(self, chunk: int) -> Iterator[dict[str, list[dict]]]:
        rnd = random.Random(self.seed)
        n = self.n_orders
        span = self.now - self.start
        out: dict[str, list[dict]] = {t: [] for t in TABLES}
        line_pk = hist_pk = timer_pk = pay_pk = op_pk = 0
        ts = self.ts
        recent_names, recent_cum = self.recent_states
        old_names, old_cum = self.old_states
        for i in range(1, n + 1):
            pos = i / n
            t = self.start + pos * span + rnd.random() * 30
            r = rnd.random()
            names, cum = (recent_names, recent_cum) if pos > 1 - RECENT_SHARE else (old_names, old_cum)
            state = names[-1]
            for name, c in zip(names, cum, strict=False):
                if r <= c:
                    state = name
                    break
            shop = rnd.randint(1, self.n_shops)
            cid = f"B{i:09d}"
            order_id = f"{cid}-A"
            n_lines = rnd.choice((1, 1, 2, 2, 2, 3))
            accepted_at = t + 3600 if state in ACCEPTED or state == "REFUSED" else None
            debited_at = t + 3605 if state in DEBITED else None
            shipped_at = t + DAY if state in SHIPPED else None
            received_at = t + 4 * DAY if state in RECEIVED else None
            closed_at = t + 30 * DAY if state == "CLOSED" else None
            updated = max(x for x in (t + 60, accepted_at, debited_at, shipped_at, received_at, closed_at) if x)
            dropped = state in ("REFUSED", "CANCELED")
            reason_code = {"REFUSED": "SELLER_REFUSED", "CANCELED": "FRAUD_REJECTED"}.get(state, "")
            reason_label = {"REFUSED": "Refusée par le vendeur", "CANCELED": "Fraude avérée"}.get(state, "")
            lines = []
            price = ship = commission = 0
            for index in range(1, n_lines + 1):
                k = rnd.randrange(OFFERS_PER_SHOP)
                qty = rnd.choice((1, 1, 1, 2, 3))
                unit = self.offer_price(k)
                p, tax, stax, fee, fee_vat = self.amounts(unit, qty)
                price += p
                ship += SHIPPING_CENTS
                commission += fee + fee_vat
                line_pk += 1
                lines.append({
                    "id": line_pk, "order_id": i, "line_id": f"{order_id}-{index}", "index": index,
                    "state": state, "state_reason_code": reason_code if dropped else "",
                    "state_reason_label": reason_label if dropped else "",
                    "offer_id": (shop - 1) * OFFERS_PER_SHOP + k + 1, "offer_sku": f"S{shop}-SKU-{k}",
                    "product_sku": f"PRD-{k}", "product_title": f"Produit bench {k} de la boutique {shop}",
                    "category_code": f"CAT{k % 5}", "category_label": f"Catégorie {k % 5}", "quantity": qty, "canceled_quantity": 0,
                    "incident_state": "",
                    "unit_price_cents": unit, "price_cents": p, "shipping_price_cents": SHIPPING_CENTS,
                    "tax_code": "TVA20", "tax_rate": "20.0000", "tax_cents": tax, "shipping_tax_code": "TVA20",
                    "shipping_tax_rate": "20.0000", "shipping_tax_cents": stax, "eco_contribution_cents": 0,
                    "commission_rate": "10.0000", "commission_fee_cents": fee, "commission_vat_rate": "20.0000",
                    "commission_vat_cents": fee_vat, "created_date": ts(t), "last_updated_date": ts(updated),
                    "debited_date": ts(debited_at), "shipped_date": ts(shipped_at),
                    "received_date": ts(received_at),
                })
            out["orders_orderline"].extend(lines)
            out["orders_commercialorder"].append({
                "id": i, "commercial_id": cid, "created_date": ts(t), "imported_date": ts(t + 1),
                "payload_digest": f"{i:064x}"})
            first, last = FIRSTNAMES[i % 10], LASTNAMES[(i // 10) % 10]
            out["orders_order"].append({
                "id": i, "order_id": order_id, "commercial_id": i, "shop_id": shop, "state": state,
                "state_reason_code": reason_code, "state_reason_label": reason_label,
                "waiting_customer_documents": False, "version": VERSIONS[state],
                "created_date": ts(t), "last_updated_date": ts(updated),
                "acceptance_decision_date": ts(accepted_at),
                "acceptance_deadline": ts(t + 7 * DAY) if state != "STAGING" and state != "CANCELED" else None,
                "customer_debited_date": ts(debited_at),
                "transaction_number": f"sim_auth_{i:016x}" if debited_at else "",
                "shipping_deadline": ts(t + 3 * DAY) if debited_at else None,
                "shipped_date": ts(shipped_at), "received_date": ts(received_at), "closed_date": ts(closed_at),
                "shipping_late": False, "currency_iso_code": "EUR", "vat_collected_by": "OPERATOR",
                "payment_type": "CB", "payment_workflow": "PAY_ON_ACCEPTANCE", "price_cents": price,
                "shipping_price_cents": ship, "total_price_cents": price + ship,
                "total_commission_cents": commission, "shipping_zone_code": "FR",
                "shipping_zone_label": "France métropolitaine (hors Corse)", "shipping_type_code": "STD",
                "shipping_type_label": "Livraison standard", "leadtime_to_ship": 2, "shipping_pudo_id": "",
                "order_reference_for_customer": f"REF-{i}", "order_reference_for_seller": "",
                "channel_code": "", "customer_id": f"cust-{i % 200000}", "customer_civility": "Mme",
                "customer_firstname": first, "customer_lastname": last,
                "customer_email": f"{first.lower()}.{last.lower()}@example.com", "customer_locale": "fr_FR",
                "billing_address": ADDRESS_JSON, "shipping_address": ADDRESS_JSON,
                "relay_token": rnd.getrandbits(96).to_bytes(RELAY_DOMAIN_TOKEN_BYTES, "big").hex(),
                "has_incident": False, "has_invoice": False, "has_customer_message": False,
                "redacted_date": None,  # bench orders are recent enough to keep their customer data
            })
            if state in ("WAITING_ACCEPTANCE", "WAITING_DEBIT"):
                pay_pk += 1
                auth = f"sim_auth_{i:016x}"
                out["payments_payment"].append({
                    "id": pay_pk, "order_id": i, "provider": "simulated", "authorization_ref": auth,
                    "authorized_cents": price + ship, "captured_cents": 0, "released_cents": 0,
                    "currency_iso_code": "EUR", "status": "AUTHORIZED", "authorized_date": ts(t),
                    "expires_date": ts(t + 7 * DAY), "captured_date": None})
                op_pk += 1
                out["payments_paymentoperation"].append({
                    "id": op_pk, "payment_id": pay_pk, "kind": "AUTHORIZE",
                    "idempotency_key": f"authorize:{order_id}", "amount_cents": price + ship, "succeeded": True,
                    "provider_ref": auth, "failure_reason": "", "created_date": ts(t)})
                out["payments_simulatedcharge"].append({
                    "id": op_pk, "idempotency_key": f"authorize:{order_id}", "kind": "AUTHORIZE",
                    "reference": auth, "amount_cents": price + ship, "succeeded": True, "failure_reason": "",
                    "created_date": ts(t)})
                hist = [("IMPORT", "", "STAGING", "OPERATOR", "", t)]
                hist += [("APPROVE", "STAGING", "WAITING_ACCEPTANCE", "OPERATOR", ln["line_id"], t + 60)
                         for ln in lines]
                hist.append(("APPROVE", "STAGING", "WAITING_ACCEPTANCE", "OPERATOR", "", t + 60))
                if state == "WAITING_DEBIT":
                    hist += [("ACCEPT", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "SELLER", ln["line_id"], accepted_at)
                             for ln in lines]
                    hist.append(("ACCEPT", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "SELLER", "", accepted_at))
                for trigger, src, dst, actor, line_id, when in hist:
                    hist_pk += 1
                    out["orders_orderhistory"].append({
                        "id": hist_pk, "order_id": i, "line_id": line_id, "created_date": ts(when),
                        "actor": actor, "actor_name": "bench", "trigger": trigger, "from_state": src,
                        "to_state": dst, "reason_code": "", "reason_label": "", "details": "{}"})
                if state == "WAITING_ACCEPTANCE":
                    timers = [("AUTO_REFUSE", t + 7 * DAY), ("ACCEPTANCE_WARNING", t + 6 * DAY),
                              ("RENEW_AUTHORIZATION", t + 6 * DAY)]
                else:
                    timers = [("DEBIT", accepted_at + 5), ("DEBIT_GIVE_UP", accepted_at + DAY)]
                for kind, due in timers:
                    timer_pk += 1
                    out["timers_timer"].append({
                        "id": timer_pk, "kind": kind, "order_id": i, "due_at": ts(due), "state": "PENDING",
                        "claimed_by": "", "claimed_until": None, "attempts": 0, "last_error": "",
                        "created_date": ts(t + 60), "done_date": None})
            elif state == "SHIPPING":
                timer_pk += 1
                out["timers_timer"].append({
                    "id": timer_pk, "kind": "SHIPPING_DEADLINE", "order_id": i, "due_at": ts(t + 3 * DAY),
                    "state": "PENDING", "claimed_by": "", "claimed_until": None, "attempts": 0, "last_error": "",
                    "created_date": ts(debited_at), "done_date": None})
            if i % chunk == 0 or i == n:
                yield out
                out = {t_: [] for t_ in TABLES}


def _rows(columns: list[str], dicts: list[dict]) -> list[tuple]:
    if not dicts:
        return []
    keys = set(dicts[0])
    if keys != set(columns):
        raise RuntimeError(f"generated columns differ from the model: missing {set(columns) - keys}, "
                           f"extra {keys - set(columns)}")
    getter = itemgetter(*columns)
    return [getter(d) for d in dicts]


# --- meta (what is loaded) ---
def _meta_signature(orders: int, shops: int) -> str:
    return f"v{LOADER_VERSION}:orders={orders}:shops={shops}"


# --------------------------------------------------------------------------- SQLite
def _sqlite_loaded(path, orders: int, shops: int) -> bool:
    if not path.exists():
        return False
    try:
        con = sqlite3.connect(path)
        sig = con.execute("SELECT value FROM bench_meta WHERE key='signature'").fetchone()
        count = con.execute("SELECT count(*) FROM orders_order").fetchone()[0]
        con.close()
    except sqlite3.Error:
        return False
    return bool(sig) and sig[0] == _meta_signature(orders, shops) and count == orders


def load_sqlite(orders: int, shops: int, columns: dict[str, list[str]]) -> dict:
    path = sqlite_path(orders)
    if _sqlite_loaded(path, orders, shops):
        log(f"SQLite: reusing {path} ({orders:,} orders already loaded); applying any new migrations")
        run_comptoir(sqlite_url(orders), "migrate", "--verbosity", "0")
        return {"reused": True, "seconds": 0.0, "path": str(path)}
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            p.unlink()
    log(f"SQLite: migrate {path}")
    run_comptoir(sqlite_url(orders), "migrate", "--verbosity", "0")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("PRAGMA temp_store=MEMORY")
    # Secondary indexes are dropped during the load and recreated from their own DDL afterwards.
    index_ddl = [r for r in con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ({})".format(",".join("?" * len(TABLES))), TABLES)]
    for name, _ in index_ddl:
        con.execute(f'DROP INDEX "{name}"')
    gen = Generator(orders, shops, postgres=False)

    def insert(table: str, dicts: list[dict]) -> None:
        cols = columns[table]
        rows = _rows(cols, dicts)
        if rows:
            con.executemany(f'INSERT INTO "{table}" ({",".join(chr(34) + c + chr(34) for c in cols)}) '
                            f'VALUES ({",".join("?" * len(cols))})', rows)

    con.execute("BEGIN")
    insert("shops_shop", list(gen.shops()))
    insert("shops_apikey", list(gen.api_keys()))
    insert("catalog_offer", list(gen.offers()))
    con.execute("COMMIT")
    done = 0
    for chunk in gen.order_chunks(50_000):
        con.execute("BEGIN")
        for table in TABLES[3:]:
            insert(table, chunk[table])
        con.execute("COMMIT")
        done += len(chunk["orders_order"])
        if done % 200_000 == 0 or done == orders:
            log(f"SQLite: {done:,} orders inserted ({time.perf_counter() - started:.0f} s)")
    log(f"SQLite: rebuilding {len(index_ddl)} indexes")
    for _name, sql in index_ddl:
        con.execute(sql)
    con.execute("ANALYZE")
    con.execute("CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT OR REPLACE INTO bench_meta VALUES ('signature', ?)", (_meta_signature(orders, shops),))
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    seconds = time.perf_counter() - started
    log(f"SQLite: loaded {orders:,} orders in {seconds:.0f} s")
    return {"reused": False, "seconds": round(seconds, 1), "path": str(path)}


# --------------------------------------------------------------------------- PostgreSQL
def _pg_loaded(orders: int, shops: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_URL, connect_timeout=5) as con:
            sig = con.execute("SELECT value FROM bench_meta WHERE key='signature'").fetchone()
            count = con.execute("SELECT count(*) FROM orders_order").fetchone()[0]
    except psycopg.Error:
        return False
    return bool(sig) and sig[0] == _meta_signature(orders, shops) and count == orders


def load_postgres(orders: int, shops: int, columns: dict[str, list[str]]) -> dict:
    import psycopg

    if _pg_loaded(orders, shops):
        log(f"PostgreSQL: reusing database {PG_DB} ({orders:,} orders already loaded); applying any new migrations")
        run_comptoir(PG_URL, "migrate", "--verbosity", "0")
        return {"reused": True, "seconds": 0.0, "database": PG_DB}
    started = time.perf_counter()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DB}"')
    log(f"PostgreSQL: migrate {PG_DB}")
    run_comptoir(PG_URL, "migrate", "--verbosity", "0")
    gen = Generator(orders, shops, postgres=True)
    with psycopg.connect(PG_URL) as con:
        con.execute("SET synchronous_commit = off")
        con.execute("SET maintenance_work_mem = '512MB'")
        # Drop the secondary indexes and constraints, reload, and recreate them from their own DDL.
        cons = con.execute("""
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = ANY(%s) AND c.contype IN ('u', 'f')""", (TABLES,)).fetchall()
        for table, name, _d, _t in sorted(cons, key=lambda c: c[3] != "f"):  # FKs first
            con.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        idx = con.execute("""
            SELECT indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' AND tablename = ANY(%s) AND indexname NOT LIKE '%%_pkey'""",
                          (TABLES,)).fetchall()
        for name, _ in idx:
            con.execute(f'DROP INDEX "{name}"')
        con.commit()

        def copy(table: str, dicts: list[dict]) -> None:
            cols = columns[table]
            rows = _rows(cols, dicts)
            if not rows:
                return
            with con.cursor().copy(
                f'COPY "{table}" ({",".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN'
            ) as cp:
                for row in rows:
                    cp.write_row(row)

        copy("shops_shop", list(gen.shops()))
        copy("shops_apikey", list(gen.api_keys()))
        copy("catalog_offer", list(gen.offers()))
        con.commit()
        done = 0
        for chunk in gen.order_chunks(50_000):
            for table in TABLES[3:]:
                copy(table, chunk[table])
            con.commit()
            done += len(chunk["orders_order"])
            if done % 200_000 == 0 or done == orders:
                log(f"PostgreSQL: {done:,} orders copied ({time.perf_counter() - started:.0f} s)")
        log(f"PostgreSQL: rebuilding {len(idx)} indexes and {len(cons)} constraints")
        for _name, ddl in idx:
            con.execute(ddl)
        for table, name, definition, _t in sorted(cons, key=lambda c: c[3] != "u"):  # unique before FKs
            con.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for table in TABLES:
            con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        con.execute("CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT)")
        con.execute("INSERT INTO bench_meta VALUES ('signature', %s) ON CONFLICT (key) DO UPDATE "
                    "SET value = EXCLUDED.value", (_meta_signature(orders, shops),))
        con.commit()
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    log(f"PostgreSQL: loaded {orders:,} orders in {seconds:.0f} s")
    return {"reused": False, "seconds": round(seconds, 1), "database": PG_DB}
