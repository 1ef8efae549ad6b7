"""The acceptance pool: orders loaded in WAITING_ACCEPTANCE (those with an AUTO_REFUSE timer row). Before each
write phase, orders a previous phase accepted are put back exactly as loaded, so every run starts alike."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bench.common import PG_URL


@dataclass(frozen=True, slots=True)
class PoolOrder:
    pk: int
    order_id: str
    shop_id: int
    line_pks: tuple[int, ...]
    line_ids: tuple[str, ...]


LOADED_KINDS = "('AUTO_REFUSE', 'ACCEPTANCE_WARNING', 'RENEW_AUTHORIZATION')"  # a pool order's timers as loaded
RESET_STATEMENTS = [
    # {changed}: the pool orders some phase moved on (accepted; debited by a running `comptoir worker`).
    "UPDATE orders_order SET state = 'WAITING_ACCEPTANCE', version = 2, acceptance_decision_date = NULL, "
    "state_reason_code = '', state_reason_label = '', customer_debited_date = NULL, transaction_number = '', "
    "shipping_deadline = NULL, shipping_late = FALSE WHERE id IN (SELECT id FROM bench_changed)",
    "UPDATE orders_orderline SET state = 'WAITING_ACCEPTANCE', state_reason_code = '', state_reason_label = '', "
    "debited_date = NULL WHERE order_id IN (SELECT id FROM bench_changed)",
    "DELETE FROM orders_orderhistory WHERE order_id IN (SELECT id FROM bench_changed) "
    "AND \"trigger\" NOT IN ('IMPORT', 'APPROVE')",
    f"DELETE FROM timers_timer WHERE order_id IN (SELECT id FROM bench_changed) AND kind NOT IN {LOADED_KINDS}",
    "UPDATE timers_timer SET state = 'PENDING', done_date = NULL, claimed_by = '', claimed_until = NULL, "
    f"attempts = 0, last_error = '' WHERE order_id IN (SELECT id FROM bench_changed) AND kind IN {LOADED_KINDS}",
    # What a worker's DEBIT did: the capture on the payment, its operation and the simulated provider's row.
    "UPDATE payments_payment SET status = 'AUTHORIZED', captured_cents = 0, released_cents = 0, captured_date = NULL "
    "WHERE order_id IN (SELECT id FROM bench_changed)",
    "DELETE FROM payments_paymentoperation WHERE kind <> 'AUTHORIZE' AND payment_id IN "
    "(SELECT id FROM payments_payment WHERE order_id IN (SELECT id FROM bench_changed))",
    "DELETE FROM payments_simulatedcharge WHERE kind <> 'AUTHORIZE' AND idempotency_key IN "
    "(SELECT 'capture:' || order_id FROM orders_order WHERE id IN (SELECT id FROM bench_changed))",
    "DELETE FROM notifications_outboxevent",
]
CHANGED = ("SELECT DISTINCT t.order_id FROM timers_timer t JOIN orders_order o ON o.id = t.order_id "
           "WHERE t.kind = 'AUTO_REFUSE' AND o.state <> 'WAITING_ACCEPTANCE'")
POOL = ("SELECT o.id, o.order_id, o.shop_id, l.id, l.line_id FROM orders_order o "
        "JOIN orders_orderline l ON l.order_id = o.id "
        "WHERE o.state = 'WAITING_ACCEPTANCE' ORDER BY o.id, l.\"index\"")


def _group(rows: list[tuple]) -> list[PoolOrder]:
    out: list[PoolOrder] = []
    cur: list | None = None
    for pk, order_id, shop_id, line_pk, line_id in rows:
        if cur is None or cur[0] != pk:
            if cur is not None:
                out.append(PoolOrder(cur[0], cur[1], cur[2], tuple(cur[3]), tuple(cur[4])))
            cur = [pk, order_id, shop_id, [], []]
        cur[3].append(line_pk)
        cur[4].append(line_id)
    if cur is not None:
        out.append(PoolOrder(cur[0], cur[1], cur[2], tuple(cur[3]), tuple(cur[4])))
    return out


def reset_sqlite(path: str) -> tuple[int, list[PoolOrder]]:
    con = sqlite3.connect(path, isolation_level=None, timeout=60)
    con.execute("BEGIN IMMEDIATE")
    con.execute("CREATE TEMP TABLE IF NOT EXISTS bench_changed (id INTEGER PRIMARY KEY)")
    con.execute("DELETE FROM bench_changed")
    con.execute(f"INSERT INTO bench_changed {CHANGED}")
    changed = con.execute("SELECT count(*) FROM bench_changed").fetchone()[0]
    for sql in RESET_STATEMENTS:
        con.execute(sql)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pool = _group(con.execute(POOL).fetchall())
    con.close()
    return changed, pool


def reset_postgres() -> tuple[int, list[PoolOrder]]:
    import psycopg

    with psycopg.connect(PG_URL) as con:
        con.execute("CREATE TEMP TABLE IF NOT EXISTS bench_changed (id bigint PRIMARY KEY)")
        con.execute("DELETE FROM bench_changed")
        con.execute(f"INSERT INTO bench_changed {CHANGED}")
        changed = con.execute("SELECT count(*) FROM bench_changed").fetchone()[0]
        for sql in RESET_STATEMENTS:
            con.execute(sql)
        con.commit()
        pool = _group(con.execute(POOL).fetchall())
    if changed:
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute("VACUUM ANALYZE timers_timer, orders_order, orders_orderline, orders_orderhistory, "
                        "notifications_outboxevent")
    return changed, pool


# Parking. The loaded timeline ends on 2026-11-01 (fixed, bench/load.py): every PENDING timer it holds is past
# due, so a live `comptoir worker` would first fire that backlog (auto-refuse the whole acceptance pool, mark
# every SHIPPING order late...). While workers run during the HTTP phase, the loaded PENDING timers are moved
# 1,000 years ahead (exactly reversible: the year's first digit on SQLite's text dates, compared with a full date, not '3000' which
# NUMERIC affinity would turn into a number, an interval on PG);
# the workers then only do the work the run creates (DEBIT 5 s after each accept, outbox delivery). unpark()
# puts them back (also after a crashed run: park() then unpark() is idempotent).
PARK_SQLITE = ["UPDATE timers_timer SET due_at = '3' || substr(due_at, 2) WHERE state = 'PENDING' AND due_at < '3000-01-01 00:00:00'"]
UNPARK_SQLITE = ["UPDATE timers_timer SET due_at = '2' || substr(due_at, 2) WHERE due_at >= '3000-01-01 00:00:00'"]
PARK_PG = ["UPDATE timers_timer SET due_at = due_at + interval '1000 years' "
           "WHERE state = 'PENDING' AND due_at < '3000-01-01'"]
UNPARK_PG = ["UPDATE timers_timer SET due_at = due_at - interval '1000 years' WHERE due_at >= '3000-01-01'"]


def _run_sqlite(path: str, statements: list[str]) -> int:
    con = sqlite3.connect(path, isolation_level=None, timeout=60)
    con.execute("BEGIN IMMEDIATE")
    before = con.total_changes
    for sql in statements:
        con.execute(sql)
    n = con.total_changes - before
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return n


def _run_pg(url: str, statements: list[str]) -> int:
    import psycopg

    with psycopg.connect(url) as con:
        n = sum(con.execute(sql).rowcount for sql in statements)
        con.commit()
    return n


def park_timers(sqlite: str | None) -> int:
    """Park the loaded PENDING timers (SQLite file path, or None for PostgreSQL at PG_URL); returns the count."""
    return _run_sqlite(sqlite, PARK_SQLITE) if sqlite else _run_pg(PG_URL, PARK_PG)


def unpark_timers(sqlite: str | None) -> int:
    return _run_sqlite(sqlite, UNPARK_SQLITE) if sqlite else _run_pg(PG_URL, UNPARK_PG)
