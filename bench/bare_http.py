"""The bare HTTP ceiling: a minimal WSGI app WITHOUT Django on its request path, served by gunicorn with the
same configuration as `comptoir serve` (gthread, --processes P, --threads T, timeout 60, keepalive 30), whose
requests issue the same SQL writes as one API call; driven by the same client (`run_clients`) at the same
concurrency as the real endpoint. The figure that counts is ours / bare (target ≥ 50%).

Public API (for bench/run.py, and for other write benches, e.g. bench/shipments.py, bench/refunds.py):

  Request(method, path, body=b"", headers={})          one HTTP request (body: bytes or str).

  run_clients(port, make_request, *, clients, duration, expect=(200, 204), check=None, cpu_seconds=None,
              warmup=0) -> dict
      `clients` threads, one keep-alive http.client connection each, on 127.0.0.1:port, for `duration` s.
      make_request(client_index) -> Request | None is called (under a lock) for each request; None stops that
      client (pool exhausted). check(request, status, body) -> str | None may validate an answer (a returned
      string is an error, counted as non-OK). cpu_seconds: a callable (e.g. server.cpu_seconds) to report the
      server's CPU. Returns {clients, seconds, requests, ok, per_s (OK answers per second), p50_ms, p90_ms,
      p99_ms, mean_ms, non_ok, statuses, errors_sample, exhausted, client_cpu_core_share, server_cpu_cores,
      machine_cpu_busy}. Latencies are per request, as seen by the client.

  BareServer(app_factory, config, *, processes=2, threads=8, label="")   (context manager)
      app_factory: "module:function" importable from the repository root (e.g. "bench.bare_http:or21_app");
      it is called ONCE in the gunicorn master, before the fork, as app_factory(config) and must return a WSGI
      callable. config: a JSON-serialisable dict (database URL, whatever the app needs). The factory may import
      Django for column lists (django.setup() is fine) but the returned app must not use it per request.
      .start(probe_path="/ping") waits until GET probe_path answers 200 (the app must answer it);
      .port, .cpu_seconds(), .pids() (master + workers), .stop().

  Helpers for apps:
      db_connection(database_url)   a per-thread DB connection, opened lazily in the worker thread, with the
                                    same PRAGMAs as comptoir's settings on SQLite (psycopg on PostgreSQL).
      transaction(con, pg)          context manager: BEGIN IMMEDIATE ... COMMIT on SQLite, commit on PG,
                                    rollback on exception.
      wsgi(handler)                 turns handler(environ, body: bytes) -> (status: int, body: bytes) into a
                                    WSGI app; "/ping" answers 200; exceptions answer 500 with the repr.

  Example (a bare ST01): def st01_app(config): con_url = config["database_url"]; st = ...;
      def handle(environ, body): ...; with transaction(db_connection(con_url), pg) as cur: ...; return 204, b""
      return wsgi(handle)
  then: with BareServer("bench.shipments:st01_app", {"database_url": url}, processes=2, threads=8) as s:
            s.start(); r = run_clients(s.port, make_request, clients=16, duration=10, cpu_seconds=s.cpu_seconds)

Run by BareServer as: python bench/bare_http.py --factory MOD:FN --config FILE --bind HOST:PORT
                      --processes P --threads T
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import importlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000",
                  "cache_size=-65536", "temp_store=MEMORY", "mmap_size=268435456")


# --------------------------------------------------------------------------------------------------- client


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)


def _cpu_busy() -> tuple[int, int]:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def _percentile(values: list[float], p: float) -> float:
    from bench.common import percentile

    return percentile(values, p)


def run_clients(port: int, make_request: Callable[[int], Request | None], *, clients: int, duration: float,
                expect: tuple[int, ...] = (200, 204), check: Callable[[Request, int, bytes], str | None] | None = None,
                cpu_seconds: Callable[[], float] | None = None, warmup: int = 0) -> dict:
    """See the module doc. `warmup` requests per client are sent (and not timed) before the timed phase."""
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    ok_total = [0]
    exhausted = [False]
    stop_at = [0.0]
    gate = threading.Barrier(clients + 1)  # every client warmed up and connected
    go = threading.Barrier(clients + 1)  # stop_at set: the timed phase starts

    def next_request(k: int) -> Request | None:
        with lock:
            return make_request(k)

    def send(conn: http.client.HTTPConnection, req: Request) -> tuple[int, bytes]:
        conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
        resp = conn.getresponse()
        return resp.status, resp.read()

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        ok = 0
        try:
            for _ in range(warmup):
                req = next_request(k)
                if req is not None:
                    send(conn, req)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"warm-up error: {exc!r}")
        gate.wait()
        go.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                req = next_request(k)
                if req is None:
                    exhausted[0] = True
                    break
                t0 = time.perf_counter()
                status, payload = send(conn, req)
                mine.append((time.perf_counter() - t0) * 1000)
                codes[status] = codes.get(status, 0) + 1
                problem = None if status in expect else f"{req.method} {req.path}: {status} {payload[:200]!r}"
                if problem is None and check is not None:
                    problem = check(req, status, payload)
                if problem is None:
                    ok += 1
                elif len(errors) < 5:
                    errors.append(problem)
        except Exception as exc:  # noqa: BLE001 - reported, and counted as a failure
            errors.append(f"client error: {exc!r}")
            codes[-1] = codes.get(-1, 0) + 1
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            ok_total[0] += ok
            for c, v in codes.items():
                statuses[c] = statuses.get(c, 0) + v

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    server0 = cpu_seconds() if cpu_seconds else 0.0
    machine0 = _cpu_busy()
    client0 = time.process_time()
    t_start = time.perf_counter()
    stop_at[0] = t_start + duration
    go.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    client_cpu = time.process_time() - client0
    machine1 = _cpu_busy()
    server_cpu = (cpu_seconds() - server0) if cpu_seconds else float("nan")
    done = sum(statuses.values())
    return {
        "clients": clients, "seconds": round(elapsed, 2), "requests": done, "ok": ok_total[0],
        "per_s": round(ok_total[0] / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 50), 2), "p90_ms": round(_percentile(latencies, 90), 2),
        "p99_ms": round(_percentile(latencies, 99), 2),
        "mean_ms": round(sum(latencies) / len(latencies), 2) if latencies else float("nan"),
        "non_ok": done - ok_total[0], "statuses": {str(c): v for c, v in sorted(statuses.items())},
        "errors_sample": errors[:5], "exhausted": exhausted[0],
        "client_cpu_core_share": round(client_cpu / elapsed, 2),
        "server_cpu_cores": round(server_cpu / elapsed, 2),
        "machine_cpu_busy": round((machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]), 2),
    }


# --------------------------------------------------------------------------------------------------- server


class BareServer:
    """`python bench/bare_http.py` (gunicorn, comptoir serve's configuration) in its own process group."""

    def __init__(self, app_factory: str, config: dict, *, processes: int = 2, threads: int = 8,
                 label: str = "") -> None:
        from bench.common import VAR_BENCH
        from bench.httpbench import free_port

        self.app_factory = app_factory
        self.config = config
        self.processes = processes
        self.threads = threads
        self.label = label or app_factory.rsplit(":", 1)[-1]
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        VAR_BENCH.mkdir(parents=True, exist_ok=True)
        self.log_path = VAR_BENCH / f"bare-{self.label}.log"
        self._config_file: str | None = None

    def start(self, probe_path: str = "/ping", timeout: float = 120) -> BareServer:
        from bench.common import PYTHON, log

        fd, self._config_file = tempfile.mkstemp(prefix="bare-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(self.config, f)
        self._log = open(self.log_path, "w")
        cmd = [PYTHON, str(Path(__file__).resolve()), "--factory", self.app_factory, "--config", self._config_file,
               "--bind", f"127.0.0.1:{self.port}", "--processes", str(self.processes), "--threads", str(self.threads)]
        log(f"bare server: {self.app_factory} --processes {self.processes} --threads {self.threads} "
            f"on port {self.port}")
        env = dict(os.environ, COMPTOIR_HOME=str(ROOT), DJANGO_SETTINGS_MODULE="comptoir.settings")
        if "database_url" in self.config:
            env["COMPTOIR_DATABASE_URL"] = self.config["database_url"]
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bare server exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + Path(self.log_path).read_text()[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", probe_path)
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200 and len(self.pids()) > self.processes:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"bare server not ready after {timeout:.0f} s; see {self.log_path}")

    def pids(self) -> list[int]:
        from bench.memory import group_pids

        return group_pids(self.proc.pid) if self.proc else []

    def cpu_seconds(self) -> float:
        from bench.httpbench import group_cpu_seconds

        return group_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        if self.proc is not None:
            from bench.httpbench import stop_group

            stop_group(self.proc)
            self.proc = None
            self._log.close()
        if self._config_file:
            with contextlib.suppress(OSError):
                os.unlink(self._config_file)
            self._config_file = None

    def __enter__(self) -> BareServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------- app helpers

_local = threading.local()


def db_connection(database_url: str):  # noqa: ANN201 - sqlite3.Connection | psycopg.Connection
    """This thread's connection (opened on first use, kept for the thread's life, like CONN_MAX_AGE)."""
    con = getattr(_local, "con", None)
    if con is None:
        if database_url.startswith("sqlite"):
            path = database_url.split("sqlite:///", 1)[1]
            con = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                con.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            con = psycopg.connect(database_url)
        _local.con = con
    return con


@contextlib.contextmanager
def transaction(con, pg: bool) -> Iterator:  # noqa: ANN001
    """A cursor inside one transaction: BEGIN IMMEDIATE on SQLite (as comptoir does), implicit BEGIN on PG."""
    cur = con.cursor()
    if not pg:
        cur.execute("BEGIN IMMEDIATE")
    try:
        yield cur
    except BaseException:
        if pg:
            con.rollback()
        else:
            cur.execute("ROLLBACK")
        raise
    if pg:
        con.commit()
    else:
        cur.execute("COMMIT")


def wsgi(handler: Callable[[dict, bytes], tuple[int, bytes]]) -> Callable:
    reasons = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
               500: "Internal Server Error"}

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO") == "/ping":
            status, body = 200, b"pong"
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body_in = environ["wsgi.input"].read(length) if length else b""
            try:
                status, body = handler(environ, body_in)
            except Exception as exc:  # noqa: BLE001 - the client counts it as a failure
                status, body = 500, repr(exc).encode()
        headers = [("Content-Length", str(len(body)))]
        if body:
            headers.append(("Content-Type", "application/json"))
        start_response(f"{status} {reasons.get(status, 'Status')}", headers)
        return [body] if body else []

    return app


# ----------------------------------------------------------------------------------------- the OR21 accept

ACCEPT_PATH = re.compile(r"^/api/orders/([^/]+)/accept$")


def or21_app(config: dict) -> Callable:
    """PUT /api/orders/<order_id>/accept with the API key in Authorization and the lines in the JSON body:
    the SQL of one OR21 accept (bench/ceiling.py's Statements and _accept: auth outside the transaction, then
    lock, timers, order, lines, history, outbox in one transaction). The pool (order_id -> PoolOrder) is read
    once here, before the fork; the request checks the key's shop and the lines against it."""
    import django

    django.setup()  # for the models' column lists only; the request path below never touches Django
    from bench import ceiling, load, pool

    url = config["database_url"]
    pg = not url.startswith("sqlite")
    columns = load.model_columns()
    st = ceiling.Statements(columns, pg=pg)
    if pg:
        import psycopg

        with psycopg.connect(url) as con:
            orders = pool._group(con.execute(pool.POOL).fetchall())
    else:
        con = sqlite3.connect(url.split("sqlite:///", 1)[1])
        orders = pool._group(con.execute(pool.POOL).fetchall())
        con.close()
    by_id = {o.order_id: o for o in orders}
    from datetime import UTC, datetime

    def ts_sqlite(value: datetime) -> str:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def ts_pg(value: datetime) -> datetime:
        return value

    ts = ts_pg if pg else ts_sqlite

    def handle(environ: dict, body: bytes) -> tuple[int, bytes]:
        m = ACCEPT_PATH.match(environ.get("PATH_INFO", ""))
        if environ["REQUEST_METHOD"] != "PUT" or not m:
            return 404, b'{"message": "not found"}'
        key = environ.get("HTTP_AUTHORIZATION", "")
        con = db_connection(url)
        cur = con.cursor()
        cur.execute(st.auth, (hashlib.sha256(key.encode()).hexdigest(),))
        row = cur.fetchone()
        if pg:
            con.commit()  # Django runs the auth query in autocommit, outside the accept's transaction
        if row is None:
            return 401, b'{"message": "bad key"}'
        shop_id = row[[d[0] for d in cur.description].index("shop_id")]  # whatever columns Statements.auth reads
        order = by_id.get(m.group(1))
        if order is None or order.shop_id != shop_id:
            return 404, b'{"message": "no such order"}'
        lines = json.loads(body)["order_lines"]
        if sorted(line["id"] for line in lines) != sorted(order.line_ids) or not all(x["accepted"] for x in lines):
            return 400, b'{"message": "lines"}'
        with transaction(con, pg) as tx:
            ceiling._accept(tx, st, order, ts)
        return 204, b""

    return wsgi(handle)


def accept_requests(orders: list) -> Callable[[int], Request | None]:
    """make_request for run_clients: one PUT accept per pool order (the same requests bench_or21 sends)."""
    it = iter(orders)

    def make(_k: int) -> Request | None:
        order = next(it, None)
        if order is None:
            return None
        body = json.dumps({"order_lines": [{"id": lid, "accepted": True} for lid in order.line_ids]})
        return Request("PUT", f"/api/orders/{order.order_id}/accept", body,
                       {"Authorization": f"bench-shop-{order.shop_id}", "Content-Type": "application/json"})

    return make


# ------------------------------------------------------------------------------------------- the process


def serve(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--factory", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args(argv)
    with open(args.config) as f:
        config = json.load(f)
    module, _, name = args.factory.partition(":")
    application = getattr(importlib.import_module(module), name)(config)
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:  # the same settings as `comptoir serve` (src/.../commands/serve.py)
            self.cfg.set("bind", args.bind)
            self.cfg.set("workers", args.processes)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 60)
            self.cfg.set("keepalive", 30)
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Callable:
            return application

    sys.argv = sys.argv[:1]
    Server().run()


if __name__ == "__main__":
    serve()
