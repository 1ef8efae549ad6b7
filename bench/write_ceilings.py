"""Write endpoints over HTTP beside their ceilings (issue 10): shared machinery of bench/shipments.py (ST01) and
bench/refunds.py (OR28).

Each bench works on a FRESH private database (var/bench/writes-<name>.sqlite3, or PostgreSQL database
comptoir_bench_writes_<name>) whose id sequences start far apart (table k at (k+1)·10,000,000), so that every
primary key, order version and shop id in a statement is a distinctive number. One shop per client, each with a
pool of orders cloned (with their lines, timers, shipments, refunds and ledger entries) from one order driven
there by the real services.

The SQL of one request is captured in-process (the real view through Django's test client, every statement
with its parameters and whether it ran inside the transaction; SAVEPOINT/RELEASE and BEGIN left out) and
compiled into a `Script`: each parameter is either a constant or a slot filled per call from the order at hand
(its pk, order_id, line pks and ids, shop id and key digest, the version read by the locking SELECT, ids
returned by earlier INSERT … RETURNING, fresh UUIDs, timestamps shifted to now). Replaying the script issues
exactly the statements Django issued (same SQL text, hence the same tables, row counts and FOR UPDATE locks on
PG; BEGIN IMMEDIATE on SQLite; statements outside the transaction run in autocommit as Django runs them), and
checks each UPDATE's row count against the capture (a mismatch is counted, never hidden). Values computed
from reads (amounts, balances) are the template's: the cost is the same, the meaning is not checked.

Three figures per (database, clients), each the median of `repeat` runs:
  ours        `comptoir serve --no-worker` (bench.httpbench.Server), driven by bench.bare_http.run_clients;
  bare_http   the script replayed by a WSGI app without Django (bench.bare_http.BareServer, same gunicorn
              configuration), same client driver and requests;
  bare_loop   the script replayed by plain DB connections in threads (no HTTP): one connection on SQLite
              (writers are serialised anyway), min(clients, processes·threads) on PostgreSQL.
ratio = ours / bare_http (target ≥ 0.5).
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import pickle
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _p in (str(ROOT), str(ROOT / "src")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench.common import PG_ADMIN_URL, VAR_BENCH, log  # noqa: E402

SEQ_STEP = 10_000_000
VERSION_BASE = 700_000  # added to every pool order's version: a distinctive number in the statements
SHOP_BASE = 930_000

_TS_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
_SKIP = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN")


# ------------------------------------------------------------------------------------------- the database


def fresh_database(name: str, database: str) -> str:
    """An empty database for bench `name`, migrated, with far-apart id sequences; returns its URL and points
    this process's Django at it (django.setup() done here). Call it in a process whose Django is not set up
    yet (bench/run.py: run the bench in a subprocess, as it does for OR28)."""
    from django.conf import settings

    if settings.configured:
        raise RuntimeError("write benches need a fresh process: Django is already set up on another database")
    if database == "sqlite":
        VAR_BENCH.mkdir(parents=True, exist_ok=True)
        path = VAR_BENCH / f"writes-{name}.sqlite3"
        for suffix in ("", "-wal", "-shm", "-writer.lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        db = f"comptoir_bench_writes_{name}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{db}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db
    os.environ["COMPTOIR_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("COMPTOIR_LOG_LEVEL", "WARNING")
    os.environ.setdefault("COMPTOIR_RATE_LIMITS", "*=1000000000/60")
    import django

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    tables = sorted(m._meta.db_table for m in apps.get_models() if m._meta.pk.get_internal_type().endswith("AutoField"))
    with connection.cursor() as cur:
        for k, table in enumerate(tables):
            start = (k + 1) * SEQ_STEP
            if connection.vendor == "sqlite":
                cur.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cur.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start])
            else:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), %s)", [start])
    return url


def drop_database(name: str, database: str) -> None:
    if database == "sqlite":
        return  # the file stays for inspection; the next run replaces it
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "comptoir_bench_writes_{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------- the pool


@dataclass(slots=True)
class PoolOrder:
    pk: int
    order_id: str
    shop_id: int
    key: str  # the shop's API key (Authorization header)
    line_pks: list[int]
    line_ids: list[str]


def clone_orders(template: Any, n: int, prefix: str) -> list[PoolOrder]:
    """`n` copies of `template` (an Order) with its lines, timers, shipments and their lines, refunds and
    ledger entries, made by INSERT … SELECT (one statement per table); every copy's version (and the
    template's) raised by VERSION_BASE. Order ids are `prefix` + 6 digits + "-A"."""
    from django.db import connection, transaction

    from comptoir.ledger.models import LedgerEntry
    from comptoir.orders.models import Order, OrderLine
    from comptoir.refunds.models import Refund
    from comptoir.shipping.models import Shipment, ShipmentLine
    from comptoir.timers.models import Timer

    pg = connection.vendor == "postgresql"
    num = "lpad(seq.i::text, 6, '0')" if pg else "printf('%%06d', seq.i)"
    tp = template.pk
    like = prefix + "%"

    def cols(model: Any) -> list[str]:
        return [f.column for f in model._meta.concrete_fields if not f.primary_key]

    def insert(model: Any, alias: str, overrides: dict[str, str], source: str, params: list[Any]) -> None:
        names = cols(model)
        exprs = [overrides.get(c, f'{alias}."{c}"') for c in names]
        sql = (f'INSERT INTO "{model._meta.db_table}" ({", ".join(chr(34) + c + chr(34) for c in names)}) '
               f'SELECT {", ".join(exprs)} {source}')
        with connection.cursor() as cur:
            cur.execute(sql, params)

    with transaction.atomic():
        Order.objects.filter(pk=tp).update(version=template.version + VERSION_BASE)
        insert(Order, "t", {"order_id": f"%s || {num} || '-A'", "relay_token": f"%s || {num}"},
               f'FROM "orders_order" t, (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s '
               f'WHERE i < %s) SELECT i FROM s) seq WHERE t."id" = {tp}',
               [prefix, f"{prefix.lower()}{uuid.uuid4().hex[:10]}", n])
        insert(OrderLine, "l", {"order_id": 'o."id"', "line_id": 'o."order_id" || \'-\' || l."index"'},
               f'FROM "orders_orderline" l, "orders_order" o WHERE l."order_id" = {tp} AND o."order_id" LIKE %s',
               [like])
        insert(Timer, "x", {"order_id": 'o."id"'},
               f'FROM "timers_timer" x, "orders_order" o WHERE x."order_id" = {tp} AND o."order_id" LIKE %s', [like])
        insert(Shipment, "x", {"order_id": 'o."id"', "shipment_id": 'o."order_id" || \'-P\' || x."id"'},
               f'FROM "shipping_shipment" x, "orders_order" o WHERE x."order_id" = {tp} AND o."order_id" LIKE %s',
               [like])
        insert(ShipmentLine, "sl", {"shipment_id": 'ns."id"', "order_line_id": 'nl."id"'},
               'FROM "shipping_shipmentline" sl JOIN "shipping_shipment" s ON s."id" = sl."shipment_id" '
               'JOIN "orders_orderline" l ON l."id" = sl."order_line_id", "orders_order" o '
               """JOIN "shipping_shipment" ns ON ns."order_id" = o."id" """
               'JOIN "orders_orderline" nl ON nl."order_id" = o."id" '
               f"""WHERE s."order_id" = {tp} AND o."order_id" LIKE %s AND nl."index" = l."index" """
               'AND ns."shipment_id" = o."order_id" || \'-P\' || s."id"', [like])
        insert(Refund, "x", {"order_id": 'o."id"', "line_id": 'nl."id"'},
               'FROM "refunds_refund" x JOIN "orders_orderline" l ON l."id" = x."line_id", "orders_order" o '
               'JOIN "orders_orderline" nl ON nl."order_id" = o."id" '
               f'WHERE x."order_id" = {tp} AND o."order_id" LIKE %s AND nl."index" = l."index"', [like])
        cut = len(template.order_id) + 1
        insert(LedgerEntry, "x", {"order_id": 'o."order_id"',
                                  "order_line_id": f"""CASE WHEN x."order_line_id" = '' THEN '' ELSE """
                                                   f"""o."order_id" || substr(x."order_line_id", {cut}) END"""},
               'FROM "ledger_ledgerentry" x, "orders_order" o WHERE x."order_id" = %s AND o."order_id" LIKE %s',
               [template.order_id, like])
    lines: dict[int, list[tuple[int, str]]] = {}
    for pk, order_pk, line_id in (OrderLine.objects.filter(order__order_id__startswith=prefix)
                                  .exclude(order_id=tp).order_by("order_id", "index")
                                  .values_list("pk", "order_id", "line_id")):
        lines.setdefault(order_pk, []).append((pk, line_id))
    made = []
    for pk, order_id, shop_id in (Order.objects.filter(order_id__startswith=prefix).exclude(pk=tp).order_by("pk")
                                  .values_list("pk", "order_id", "shop_id")):
        made.append(PoolOrder(pk, order_id, shop_id, "", [x[0] for x in lines[pk]], [x[1] for x in lines[pk]]))
    assert len(made) == n, (len(made), n)
    return made


def pool_order(order: Any, key: str) -> PoolOrder:
    lines = list(order.lines.order_by("index"))
    return PoolOrder(order.pk, order.order_id, order.shop_id, key, [ln.pk for ln in lines], [ln.line_id for ln in lines])


# ------------------------------------------------------------------------------------- capture and script


@dataclass(slots=True)
class Step:
    sql: str  # with %s placeholders (converted to ? for sqlite3 at replay)
    params: list[Any]  # compiled: constants and slots (tuples ("@", kind, arg))
    many: bool
    in_tx: bool
    returning_table: str | None
    rowcount: int | None  # an UPDATE's/DELETE's row count in the capture
    version_col: int | None = None  # a locking SELECT of orders_order: where its version column sits


@dataclass(slots=True)
class Script:
    steps: list[Step]
    pg: bool
    replacements: list[str] = field(default_factory=list)  # slot names replaced inside strings

    @property
    def statements(self) -> int:
        return len(self.steps)

    def summary(self) -> list[str]:
        return [("  tx " if s.in_tx else "auto ") + s.sql[:110] for s in self.steps]


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if type(value).__name__ in ("Jsonb", "Json"):  # psycopg's JSON wrappers: the JSON text, as Django sends it
        return json.dumps(value.obj)
    return value


def capture(call: Callable[[], Any], template: PoolOrder, *, expect_status: int) -> Script:
    """Run `call()` (one real request through Django's test client, against `template`) and compile its SQL.
    The template's writes stay (it is not part of the pool)."""
    from django.apps import apps
    from django.db import connection

    pg = connection.vendor == "postgresql"
    tables = {m._meta.db_table for m in apps.get_models()}
    from comptoir.orders.models import Order

    version = Order.objects.values_list("version", flat=True).get(pk=template.pk)
    before = {}
    with connection.cursor() as cur:
        for t in sorted(tables):
            if _has_id(t):
                cur.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{t}"')
                before[t] = cur.fetchone()[0]
    raw: list[tuple[str, Any, bool, bool, int | None]] = []

    def wrapper(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        in_tx = context["connection"].in_atomic_block
        result = execute(sql, params, many, context)
        rc = context["cursor"].rowcount if sql.lstrip().upper().startswith(("UPDATE", "DELETE")) else None
        raw.append((sql, params, many, in_tx, rc))
        return result

    started = datetime.now(UTC)
    with connection.execute_wrapper(wrapper):
        response = call()
    if response.status_code != expect_status:
        raise RuntimeError(f"capture: {response.status_code} {response.content[:300]!r}")
    returned: dict[str, list[int]] = {}
    with connection.cursor() as cur:
        for t, top in before.items():
            cur.execute(f'SELECT "id" FROM "{t}" WHERE "id" > %s ORDER BY "id"', [top])
            returned[t] = [r[0] for r in cur.fetchall()]
    return _compile(raw, template, returned, pg, version, started)


def _has_id(table: str) -> bool:
    from django.apps import apps

    for m in apps.get_models():
        if m._meta.db_table == table:
            return m._meta.pk.column == "id" and m._meta.pk.get_internal_type().endswith("AutoField")
    return False


def _compile(raw: list, t: PoolOrder, returned: dict[str, list[int]], pg: bool, version: int,
             now: datetime) -> Script:
    exact: dict[Any, tuple] = {t.pk: ("@", "order_pk", 0), t.order_id: ("@", "order_id", 0),
                               t.shop_id: ("@", "shop_id", 0),
                               hashlib.sha256(t.key.encode()).hexdigest(): ("@", "digest", 0)}
    for i, (pk, lid) in enumerate(zip(t.line_pks, t.line_ids, strict=True)):
        exact[pk] = ("@", "line_pk", i)
        exact[lid] = ("@", "line_id", i)
    for k in range(20):  # the version the lock reads, and what the writes make of it
        exact[version + k] = ("@", "version", k)
    ret_cursor: dict[str, int] = {}
    steps: list[Step] = []
    for sql, params, many, in_tx, rc in raw:
        if sql.lstrip().upper().startswith(_SKIP):
            continue
        table = None
        if " RETURNING " in sql and sql.startswith("INSERT INTO"):
            table = sql.split('"', 2)[1]
        version_col = None
        if sql.startswith('SELECT "orders_order"."id"') and '"orders_order"."version"' in sql:
            cols = sql[len("SELECT "):sql.index(" FROM ")].split(", ")
            version_col = cols.index('"orders_order"."version"')
        rows = params if many else [params]
        compiled_rows = []
        for row in rows:
            out = []
            for v in (row or []):
                v = _plain(v)
                out.append(_slot(v, exact, now, pg))
            compiled_rows.append(out)
        steps.append(Step(sql, compiled_rows if many else compiled_rows[0], many, in_tx, table,
                          rc, version_col))
        if table:
            ncols = sql[sql.index("(") + 1:sql.index(")")].count(",") + 1
            nrows = sum(len(r or []) for r in rows) // ncols
            start = ret_cursor.get(table, 0)
            for k, value in enumerate(returned.get(table, [])[start:start + nrows]):
                exact[value] = ("@", "ret", (table, start + k))
            ret_cursor[table] = start + nrows
    subs = []
    for s in steps:
        for v in _flat(s.params, s.many):
            if isinstance(v, tuple) and v[:2] == ("@", "sub"):
                subs.extend(v[2][1])
    return Script(steps, pg, sorted(set(subs)))


def _flat(params: Any, many: bool) -> list[Any]:
    if not params:
        return []
    if many:
        return [v for row in params for v in row]
    return list(params)


def _as_ts(v: Any, pg: bool) -> datetime | None:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if isinstance(v, str) and _TS_RE.match(v):
        return datetime.fromisoformat(v).replace(tzinfo=UTC)
    return None


def _slot(v: Any, exact: dict[Any, tuple], now: datetime, pg: bool) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, str)) and v in exact:
        return exact[v]
    ts = _as_ts(v, pg)
    if ts is not None:
        return ("@", "ts", (ts - now, isinstance(v, str)))
    if isinstance(v, str):
        if _UUID_RE.match(v):
            return ("@", "uuid", (v, "-" in v))
        keys = sorted((k for k in exact if isinstance(k, str) and len(k) >= 6 and k in v), key=len, reverse=True)
        keys += re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", v)
        shop = next(str(k) for k, s in exact.items() if s[1] == "shop_id")
        if shop in v:
            keys.append(shop)
        if keys:
            return ("@", "sub", (v, keys))
    return v


# -------------------------------------------------------------------------------------------------- replay


class Mismatch(Exception):
    pass


def _fill(v: Any, ctx: dict) -> Any:
    if not (isinstance(v, tuple) and v and v[0] == "@"):
        return v
    kind, arg = v[1], v[2]
    if kind == "order_pk":
        return ctx["order"].pk
    if kind == "order_id":
        return ctx["order"].order_id
    if kind == "shop_id":
        return ctx["order"].shop_id
    if kind == "digest":
        return ctx["digest"]
    if kind == "line_pk":
        return ctx["order"].line_pks[arg]
    if kind == "line_id":
        return ctx["order"].line_ids[arg]
    if kind == "ret":
        return ctx["ret"][arg[0]][arg[1]]
    if kind == "version":
        return ctx["version"] + arg
    if kind == "ts":
        value = ctx["now"] + arg[0]
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if arg[1] else value
    if kind == "uuid":
        return _fresh_uuid(arg[0], arg[1], ctx)
    if kind == "sub":
        text, keys = arg
        for k in keys:
            text = text.replace(k, str(_fill(ctx["exact"][k], ctx)) if k in ctx["exact"] else _fresh_uuid(k, True, ctx))
        return text
    raise ValueError(kind)


def _fresh_uuid(old: str, dashed: bool, ctx: dict) -> str:
    new = ctx["uuids"].get(old)
    if new is None:
        u = uuid.uuid4()
        new = ctx["uuids"][old] = str(u) if dashed else u.hex
    return new


class Replayer:
    """Replays a Script on one DB-API connection (sqlite3 or psycopg), for the order at hand."""

    def __init__(self, script: Script, template: PoolOrder) -> None:
        self.script = script
        self.pg = script.pg
        self.sql = [s.sql if self.pg else s.sql.replace("%s", "?") for s in script.steps]
        # Keys substituted inside strings, to their slots (the template's values).
        self.exact = {template.order_id: ("@", "order_id", 0), str(template.shop_id): ("@", "shop_id", 0)}
        for i, lid in enumerate(template.line_ids):
            self.exact[lid] = ("@", "line_id", i)
        self.mismatches = 0

    def run(self, con: Any, order: PoolOrder, digest: str) -> None:
        """One call: autocommit statements as they come, the transaction's in one BEGIN (IMMEDIATE) … COMMIT."""
        ctx = {"order": order, "digest": digest, "now": datetime.now(UTC), "ret": {}, "uuids": {},
               "version": None, "exact": self.exact}
        cur = con.cursor()
        in_tx = False
        try:
            for step, sql in zip(self.script.steps, self.sql, strict=True):
                if step.in_tx and not in_tx:
                    if not self.pg:
                        cur.execute("BEGIN IMMEDIATE")
                    in_tx = True
                elif not step.in_tx and in_tx:
                    self._commit(con, cur)
                    in_tx = False
                if step.many:
                    cur.executemany(sql, [[_fill(v, ctx) for v in row] for row in step.params])
                else:
                    cur.execute(sql, [_fill(v, ctx) for v in step.params])
                if step.returning_table:
                    ctx["ret"].setdefault(step.returning_table, []).extend(r[0] for r in cur.fetchall())
                elif step.version_col is not None:
                    row = cur.fetchone()
                    if row is None:
                        raise Mismatch(f"order {order.order_id} not found")
                    ctx["version"] = row[step.version_col]
                    cur.fetchall()
                elif step.rowcount is not None:
                    if cur.rowcount != step.rowcount:
                        self.mismatches += 1
                elif cur.description is not None:
                    cur.fetchall()
                if not step.in_tx and self.pg:
                    con.commit()  # autocommit, as Django runs statements outside atomic blocks
            if in_tx:
                self._commit(con, cur)
        except BaseException:
            if self.pg:
                con.rollback()
            elif in_tx:
                cur.execute("ROLLBACK")
            raise

    def _commit(self, con: Any, cur: Any) -> None:
        if self.pg:
            con.commit()
        else:
            cur.execute("COMMIT")


def connect(url: str) -> Any:
    from bench.bare_http import SQLITE_PRAGMAS

    if url.startswith("sqlite"):
        import sqlite3

        con = sqlite3.connect(url.split("sqlite:///", 1)[1], isolation_level=None, timeout=30,
                              check_same_thread=False)
        for pragma in SQLITE_PRAGMAS:
            con.execute(f"PRAGMA {pragma}")
        return con
    import psycopg

    return psycopg.connect(url)


# ---------------------------------------------------------------------------------------------- bare loop


def bare_loop(url: str, script: Script, template: PoolOrder, next_order: Callable[[int], PoolOrder | None], *,
              connections: int, duration: float, clients: int) -> dict:
    """The script replayed by `connections` threads, one connection each, for `duration` s (no HTTP); the
    calls go round-robin over the `clients` clients' orders (next_order(k))."""
    replayer = Replayer(script, template)
    lock = threading.Lock()
    counts = [0] * connections
    errors: list[str] = []
    gate = threading.Barrier(connections + 1)
    stop_at = [0.0]
    exhausted = [False]
    digests: dict[str, str] = {}
    turn = [0]

    def worker(k: int) -> None:
        con = connect(url)
        gate.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                with lock:
                    order = next_order(turn[0] % clients)
                    turn[0] += 1
                if order is None:
                    exhausted[0] = True
                    break
                digest = digests.get(order.key) or digests.setdefault(order.key,
                                                                       hashlib.sha256(order.key.encode()).hexdigest())
                replayer.run(con, order, digest)
                counts[k] += 1
        except Exception as exc:  # noqa: BLE001 - reported
            errors.append(repr(exc))
        finally:
            con.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(connections)]
    for th in threads:
        th.start()
    start = time.perf_counter()
    stop_at[0] = start + duration
    gate.wait()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    done = sum(counts)
    return {"connections": connections, "calls": done, "seconds": round(elapsed, 2),
            "per_s": round(done / elapsed, 1), "errors": errors[:3], "rowcount_mismatches": replayer.mismatches,
            "exhausted": exhausted[0]}


# ---------------------------------------------------------------------------------------------- bare HTTP


def bare_app(config: dict) -> Callable:
    """WSGI app for BareServer: config = {database_url, state: pickle file of (script, template, pool,
    endpoint)}. The request's key is checked by the script's own auth statement (its row must name the shop
    of the order at hand); the order is found in the pool by the body's order_id (ST01) or order_line_id
    (OR28), then the script is replayed."""
    from bench.bare_http import db_connection, wsgi

    url = config["database_url"]
    with open(config["state"], "rb") as f:
        script, template, pool, endpoint = pickle.load(f)
    by_order = {o.order_id: o for o in pool}
    by_line = {lid: o for o in pool for lid in o.line_ids}
    replayer = Replayer(script, template)
    method, path = endpoint

    def handle(environ: dict, body: bytes) -> tuple[int, bytes]:
        if environ["REQUEST_METHOD"] != method or environ.get("PATH_INFO") != path:
            return 404, b'{"message": "not found"}'
        data = json.loads(body)
        if "shipments" in data:
            order = by_order.get(data["shipments"][0]["order_id"])
        else:
            order = by_line.get(data["refunds"][0]["order_line_id"])
        key = environ.get("HTTP_AUTHORIZATION", "")
        if order is None or order.key != key:
            return 404, b'{"message": "no such order"}'
        replayer.run(db_connection(url), order, hashlib.sha256(key.encode()).hexdigest())
        return (201 if method == "POST" else 200), b'{"ok": true}'

    return wsgi(handle)


# ------------------------------------------------------------------------------------------ orchestration


@dataclass
class WriteBench:
    """What a write bench provides to `measure`."""

    name: str  # "st01" / "or28"
    endpoint: tuple[str, str]  # method, path
    expect: int  # the status of a success
    make_request: Callable[[PoolOrder, int], Any]  # (order, n-th use) -> bench.bare_http.Request
    next_order: Callable[[int], PoolOrder | None]  # client index -> the order its next call is about
    pool: list[PoolOrder]
    template: PoolOrder
    script: Script


def measure(bench: WriteBench, url: str, *, clients: list[int], repeat: int, duration: float, processes: int,
            threads: int, check: Callable | None = None, loop_seconds: float = 2.0) -> dict:
    """ours, bare_http and bare_loop at each client count, `repeat` runs each (interleaved), medians."""
    from django.db import connections as dj_connections

    from bench.bare_http import BareServer, run_clients
    from bench.httpbench import Server

    dj_connections.close_all()
    fd, state = tempfile.mkstemp(prefix=f"writes-{bench.name}-", suffix=".pickle")
    with os.fdopen(fd, "wb") as f:
        pickle.dump((bench.script, bench.template, bench.pool, bench.endpoint), f)
    database = "sqlite" if url.startswith("sqlite") else "postgresql"
    uses: dict[str, int] = {}

    def make(k: int) -> Any:
        order = bench.next_order(k)
        if order is None:
            return None
        n = uses[order.order_id] = uses.get(order.order_id, 0) + 1
        return bench.make_request(order, n)

    results: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    ours = Server(url, processes=processes, threads=threads, label=f"writes-{bench.name}-{database}")
    bare = BareServer("bench.write_ceilings:bare_app", {"database_url": url, "state": state},
                      processes=processes, threads=threads, label=f"writes-{bench.name}-{database}")
    try:
        ours.start(probe_key=bench.template.key)
        bare.start()
        for c in clients:
            runs: dict[str, list[dict]] = {"ours": [], "bare_http": [], "bare_loop": []}
            loop_conns = 1 if database == "sqlite" else min(c, processes * threads)
            for r in range(repeat):
                for label, server in (("ours", ours), ("bare_http", bare)):
                    out = run_clients(server.port, make, clients=c, duration=duration,
                                      expect=(bench.expect,), check=check if label == "ours" else None,
                                      cpu_seconds=server.cpu_seconds,
                                      warmup=1 if r == 0 else 0)
                    runs[label].append(out)
                    log(f"{bench.name} {database} c={c} {label} run {r + 1}: {out['per_s']:.0f}/s "
                        f"p50 {out['p50_ms']:.1f} ms non-ok {out['non_ok']} {out['errors_sample'][:1]}")
                out = bare_loop(url, bench.script, bench.template, bench.next_order, connections=loop_conns,
                                duration=loop_seconds, clients=c)
                runs["bare_loop"].append(out)
                log(f"{bench.name} {database} c={c} bare_loop run {r + 1}: {out['per_s']:.0f}/s "
                    f"mismatches {out['rowcount_mismatches']} {out['errors'][:1]}")
            med = {k: statistics.median(x["per_s"] for x in v) for k, v in runs.items()}
            results[str(c)] = {
                "ours_per_s": med["ours"], "bare_http_per_s": med["bare_http"], "bare_loop_per_s": med["bare_loop"],
                "ratio_ours_bare_http": round(med["ours"] / med["bare_http"], 3) if med["bare_http"] else None,
                "ratio_ours_bare_loop": round(med["ours"] / med["bare_loop"], 3) if med["bare_loop"] else None,
                "ours_p50_ms": statistics.median(x["p50_ms"] for x in runs["ours"]),
                "bare_http_p50_ms": statistics.median(x["p50_ms"] for x in runs["bare_http"]),
                "ours_server_cpu_cores": statistics.median(x["server_cpu_cores"] for x in runs["ours"]),
                "bare_http_server_cpu_cores": statistics.median(x["server_cpu_cores"] for x in runs["bare_http"]),
                # Server CPU per answered call: the robust figure on a shared, saturated machine.
                "ours_cpu_ms_per_call": _cpu_ms(runs["ours"]), "bare_http_cpu_ms_per_call": _cpu_ms(runs["bare_http"]),
                "non_ok": sum(x["non_ok"] for k in ("ours", "bare_http") for x in runs[k]),
                "bare_loop_errors": [e for x in runs["bare_loop"] for e in x["errors"]][:3],
                "rowcount_mismatches": sum(x["rowcount_mismatches"] for x in runs["bare_loop"]),
                "exhausted": any(x.get("exhausted") for v in runs.values() for x in v),
                "bare_loop_connections": loop_conns,
                "runs": runs,
            }
    finally:
        ours.stop()
        bare.stop()
        os.unlink(state)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return results


def _cpu_ms(runs: list[dict]) -> float:
    return round(statistics.median(1000 * x["server_cpu_cores"] * x["seconds"] / max(1, x["ok"]) for x in runs), 2)


def report_line(name: str, database: str, results: dict) -> str:
    parts = []
    for c, r in results.items():
        if not c.isdigit():
            continue
        parts.append(f"c={c}: ours {r['ours_per_s']:.0f}/s, bare HTTP {r['bare_http_per_s']:.0f}/s, bare loop "
                     f"{r['bare_loop_per_s']:.0f}/s, ours/bare-HTTP {100 * (r['ratio_ours_bare_http'] or 0):.0f}% (server CPU "
                     f"{r['ours_cpu_ms_per_call']} vs {r['bare_http_cpu_ms_per_call']} ms/call)")
    return f"{name} on {database}: " + "; ".join(parts)
