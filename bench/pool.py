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


RESET_STATEMENTS = [
    # {changed}: the pool orders some phase moved on.
    "UPDATE orders_order SET state = 'WAITING_ACCEPTANCE', version = 2, acceptance_decision_date = NULL, "
    "state_reason_code = '', state_reason_label = '' WHERE id IN (SELECT id FROM bench_changed)",
    "UPDATE orders_orderline SET state = 'WAITING_ACCEPTANCE', state_reason_code = '', state_reason_label = '' "
    "WHERE order_id IN (SELECT id FROM bench_changed)",
    "DELETE FROM orders_orderhistory WHERE order_id IN (SELECT id FROM bench_changed) "
    "AND \"trigger\" NOT IN ('IMPORT', 'APPROVE')",
    "DELETE FROM timers_timer WHERE order_id IN (SELECT id FROM bench_changed) AND kind IN ('DEBIT', 'DEBIT_GIVE_UP')",
    "UPDATE timers_timer SET state = 'PENDING', done_date = NULL WHERE order_id IN (SELECT id FROM bench_changed) "
    "AND kind IN ('AUTO_REFUSE', 'ACCEPTANCE_WARNING', 'RENEW_AUTHORIZATION')",
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
