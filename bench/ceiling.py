"""The ceiling: the SQL one OR21 accept issues, replayed by a bare loop (no Django, no HTTP).

Statements, in order, as captured from `decide_lines` (see capture.py, whose list run.py prints beside ours):
  auth      SELECT kind, shop_id FROM api key WHERE digest = ? AND revoked_date IS NULL (outside the transaction)
  BEGIN     (IMMEDIATE on SQLite)
  lock      SELECT order.* WHERE order_id = ? AND shop_id = ? [FOR UPDATE]
  lines     SELECT line.* WHERE order_id = ? ORDER BY index [FOR UPDATE]
  timers    UPDATE cancel pending AUTO_REFUSE/ACCEPTANCE_WARNING/RENEW_AUTHORIZATION/DEBIT/DEBIT_GIVE_UP;
            INSERT DEBIT + DEBIT_GIVE_UP (timers.services.replace)
  order     UPDATE order SET ... WHERE id = ? AND version = ?
  lines     UPDATE lines SET ... WHERE id IN (...) (every line moves alike)
  history   INSERT n+1 rows
  outbox    INSERT 1 row (OrderAccepted, CUSTOMER)
  COMMIT
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

from bench.common import PG_URL
from bench.pool import PoolOrder


def outbox_defaults() -> dict:
    """The outbox model's column defaults (needs django.setup(); the bench process has it)."""
    from comptoir.notifications.models import OutboxEvent

    out = {}
    for f in OutboxEvent._meta.concrete_fields:
        default = f.get_default()
        out[f.column] = json.dumps(default) if isinstance(default, (dict, list)) else default
    return out


def _cols(columns: list[str], table: str) -> str:
    return ", ".join(f'"{table}"."{c}"' for c in columns)


class Statements:
    def __init__(self, columns: dict[str, list[str]], *, pg: bool) -> None:
        p = "%s" if pg else "?"
        self.pg = pg
        self.p = p
        lock = " FOR UPDATE" if pg else ""
        # shops.services.key_owner: two columns of the key, no join.
        self.auth = (f'SELECT "kind", "shop_id" FROM "shops_apikey" WHERE "digest" = {p} AND "revoked_date" IS NULL '
                     'ORDER BY "id" LIMIT 1')
        self.lock_order = (f'SELECT {_cols(columns["orders_order"], "orders_order")} FROM "orders_order" '
                           f'WHERE ("orders_order"."order_id" = {p} AND "orders_order"."shop_id" = {p}) '
                           f'ORDER BY "orders_order"."id" ASC LIMIT 1{lock}')
        self.lock_lines = (f'SELECT {_cols(columns["orders_orderline"], "orders_orderline")} FROM "orders_orderline" '
                           f'WHERE "orders_orderline"."order_id" = {p} ORDER BY "orders_orderline"."index" ASC{lock}')
        self.cancel_kind = (f'UPDATE "timers_timer" SET "state" = {p}, "done_date" = {p} WHERE '
                            f'("timers_timer"."kind" = {p} AND "timers_timer"."order_id" = {p} '
                            f'AND "timers_timer"."state" = {p})')
        self.insert_timer = ('INSERT INTO "timers_timer" ("kind", "order_id", "due_at", "state", "claimed_by", '
                             '"claimed_until", "attempts", "last_error", "created_date", "done_date") VALUES '
                             f'({", ".join([p] * 10)}) RETURNING "timers_timer"."id"')
        self.cancel_kinds = (f'UPDATE "timers_timer" SET "state" = {p}, "done_date" = {p} WHERE '
                             f'("timers_timer"."kind" IN ({p}, {p}, {p}, {p}, {p}) AND "timers_timer"."order_id" = {p} '
                             f'AND "timers_timer"."state" = {p})')
        timer_row = f'({", ".join([p] * 10)})'
        self.insert_timers = ('INSERT INTO "timers_timer" ("kind", "order_id", "due_at", "state", "claimed_by", '
                              '"claimed_until", "attempts", "last_error", "created_date", "done_date") VALUES '
                              f'{timer_row}, {timer_row} RETURNING "timers_timer"."id"')
        self.update_order = (f'UPDATE "orders_order" SET "state" = {p}, "version" = {p}, "last_updated_date" = {p}, '
                             f'"state_reason_code" = {p}, "state_reason_label" = {p}, "acceptance_deadline" = {p}, '
                             f'"shipping_deadline" = {p}, "acceptance_decision_date" = {p}, '
                             f'"customer_debited_date" = {p}, "transaction_number" = {p}, "shipped_date" = {p}, '
                             f'"received_date" = {p}, "closed_date" = {p}, "shipping_late" = {p}, '
                             f'"waiting_customer_documents" = {p} WHERE ("orders_order"."id" = {p} '
                             f'AND "orders_order"."version" = {p})')
        self.history_cols = ('"order_id", "line_id", "created_date", "actor", "actor_name", "trigger", '
                             '"from_state", "to_state", "reason_code", "reason_label", "details"')
        # Every column of the outbox model (it grows): ours set below, the rest take the model's defaults.
        self.outbox_cols = [c for c in columns["notifications_outboxevent"] if c != "id"]
        self.outbox_defaults = outbox_defaults()
        self.outbox = (f'INSERT INTO "notifications_outboxevent" ({", ".join(chr(34) + c + chr(34) for c in self.outbox_cols)}) '
                       f'VALUES ({", ".join([p] * len(self.outbox_cols))}) RETURNING "notifications_outboxevent"."id"')
        self._line_updates: dict[int, str] = {}
        self._history: dict[int, str] = {}

    def update_lines(self, n: int) -> str:
        sql = self._line_updates.get(n)
        if sql is None:
            p = self.p
            fields = ["state", "state_reason_code", "state_reason_label", "last_updated_date", "debited_date",
                      "shipped_date", "received_date"]
            sets = []
            for f in fields:
                # Django's bulk_update casts each THEN value on PostgreSQL (a CASE of bare NULLs is text).
                cast = ("::timestamp with time zone" if f.endswith("date") else "::varchar") if self.pg else ""
                cases = " ".join(f'WHEN ("orders_orderline"."id" = {p}) THEN {p}{cast}' for _ in range(n))
                sets.append(f'"{f}" = CASE {cases} ELSE NULL END')
            sql = (f'UPDATE "orders_orderline" SET {", ".join(sets)} WHERE "orders_orderline"."id" IN '
                   f'({", ".join([p] * n)})')
            self._line_updates[n] = sql
        return sql

    def update_lines_alike(self, n: int) -> str:
        """lifecycle.apply_transition's UPDATE when every line moves alike (an accept of every line)."""
        p = self.p
        return ('UPDATE "orders_orderline" SET "state" = {p}, "state_reason_code" = {p}, "state_reason_label" = {p}, '
                '"last_updated_date" = {p}, "debited_date" = {p}, "shipped_date" = {p}, "received_date" = {p} '
                'WHERE "orders_orderline"."id" IN ({ids})').format(p=p, ids=", ".join([p] * n))

    def insert_history(self, n: int) -> str:
        sql = self._history.get(n)
        if sql is None:
            row = "(" + ", ".join([self.p] * 11) + ")"
            sql = f'INSERT INTO "orders_orderhistory" ({self.history_cols}) VALUES {", ".join([row] * n)}'
            if self.pg:
                sql += ' RETURNING "orders_orderhistory"."id"'
            self._history[n] = sql
        return sql


def _accept(cur, st: Statements, order: PoolOrder, ts) -> None:  # noqa: ANN001
    """One accept's statements on a cursor already inside BEGIN. `ts` makes a timestamp parameter."""
    now = datetime.now(UTC)
    n_now = ts(now)
    cur.execute(st.lock_order, (order.order_id, order.shop_id))
    row = cur.fetchone()
    cur.execute(st.lock_lines, (order.pk,))
    lines = cur.fetchall()
    assert row is not None and len(lines) == len(order.line_pks)
    cur.execute(st.cancel_kinds, ("CANCELED", n_now, "AUTO_REFUSE", "ACCEPTANCE_WARNING", "RENEW_AUTHORIZATION",
                                  "DEBIT", "DEBIT_GIVE_UP", order.pk, "PENDING"))
    cur.execute(st.insert_timers, ("DEBIT", order.pk, ts(now + timedelta(seconds=5)), "PENDING", "", None, 0, "",
                                   n_now, None,
                                   "DEBIT_GIVE_UP", order.pk, ts(now + timedelta(days=1)), "PENDING", "", None, 0, "",
                                   n_now, None))
    cur.fetchall()
    cur.execute(st.update_order, ("WAITING_DEBIT", 3, n_now, "", "", n_now, None, n_now, None, "", None, None, None,
                                  False, False, order.pk, 2))
    assert cur.rowcount == 1, "version check failed"
    n = len(order.line_pks)
    cur.execute(st.update_lines_alike(n), ["WAITING_DEBIT", "", "", n_now, None, None, None, *order.line_pks])
    hist: list = []
    for line_id in order.line_ids:
        hist += [order.pk, line_id, n_now, "SELLER", f"API boutique {order.shop_id}", "ACCEPT",
                 "WAITING_ACCEPTANCE", "WAITING_DEBIT", "", "", "{}"]
    hist += [order.pk, "", n_now, "SELLER", f"API boutique {order.shop_id}", "ACCEPT", "WAITING_ACCEPTANCE",
             "WAITING_DEBIT", "", "", json.dumps({"accepted": sorted(order.line_ids), "refused": []})]
    cur.execute(st.insert_history(n + 1), hist)
    if st.pg:
        cur.fetchall()
    payload = json.dumps({"order_id": order.order_id, "shop_id": order.shop_id, "refused_lines": []})
    values = dict(st.outbox_defaults, event_type="OrderAccepted", order_id=order.order_id, shop_id=order.shop_id,
                  audience="CUSTOMER", payload=payload, next_attempt_at=n_now, created_date=n_now)
    cur.execute(st.outbox, [values[c] for c in st.outbox_cols])
    cur.fetchone()


def _digest(shop_id: int) -> str:
    return hashlib.sha256(f"bench-shop-{shop_id}".encode()).hexdigest()


def ceiling_sqlite(path: str, columns: dict[str, list[str]], pool: list[PoolOrder], duration: float = 10.0) -> dict:
    st = Statements(columns, pg=False)
    con = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000",
                   "cache_size=-65536", "temp_store=MEMORY", "mmap_size=268435456"):
        con.execute(f"PRAGMA {pragma}")

    def ts(value: datetime) -> str:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    cur = con.cursor()
    done = 0
    latencies = []
    start = time.perf_counter()
    stop = start + duration
    for order in pool:
        if time.perf_counter() >= stop:
            break
        t0 = time.perf_counter()
        cur.execute(st.auth, (_digest(order.shop_id),))
        cur.fetchone()
        cur.execute("BEGIN IMMEDIATE")
        try:
            _accept(cur, st, order, ts)
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        latencies.append(time.perf_counter() - t0)
        done += 1
    elapsed = time.perf_counter() - start
    con.close()
    return {"engine": "sqlite3", "connections": 1, "transactions": done, "seconds": round(elapsed, 2),
            "tx_per_s": round(done / elapsed, 1), "pool_exhausted": done >= len(pool)}


def ceiling_postgres(columns: dict[str, list[str]], pool: list[PoolOrder], *, connections: int = 4,
                     duration: float = 10.0) -> dict:
    import psycopg

    st = Statements(columns, pg=True)
    lock = threading.Lock()
    it = iter(pool)
    counts = [0] * connections
    errors: list[str] = []
    barrier = threading.Barrier(connections + 1)
    stop_at = [0.0]

    def ts(value: datetime) -> datetime:
        return value

    def worker(k: int) -> None:
        con = psycopg.connect(PG_URL)
        cur = con.cursor()
        barrier.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                with lock:
                    order = next(it, None)
                if order is None:
                    break
                cur.execute(st.auth, (_digest(order.shop_id),))
                cur.fetchone()
                con.commit()  # Django runs the auth query in autocommit, outside the accept's transaction
                _accept(cur, st, order, ts)
                con.commit()
                counts[k] += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
            con.rollback()
        finally:
            con.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(connections)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    stop_at[0] = start + duration
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"PostgreSQL ceiling failed: {errors[:3]}")
    done = sum(counts)
    return {"engine": "psycopg", "connections": connections, "transactions": done, "seconds": round(elapsed, 2),
            "tx_per_s": round(done / elapsed, 1), "pool_exhausted": done >= len(pool)}
