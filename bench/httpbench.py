"""The server under test (`comptoir serve`) and the two HTTP measurements: OR11 latency, OR21 throughput."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.common import COMPTOIR, ROOT, VAR_BENCH, comptoir_env, log, percentile
from bench.pool import PoolOrder

OR11_PATH = "/api/orders?order_state_codes=SHIPPING&max=100&sort=dateCreated&order=desc"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user+sys) of every live process in a process group (the gunicorn master and workers)."""
    from bench.memory import group_pids

    total = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to `proc`'s process group, SIGKILL after 15 s; a group already gone is fine."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    except ProcessLookupError:
        pass


class Server:
    """`comptoir serve --no-worker` in its own process group; stop() kills the whole group."""

    def __init__(self, database_url: str, *, processes: int = 2, threads: int = 8, label: str = "") -> None:
        self.database_url = database_url
        self.processes = processes
        self.threads = threads
        self.port = free_port()
        self.label = label
        self.proc: subprocess.Popen | None = None
        self.log_path = VAR_BENCH / f"server-{label or 'x'}.log"

    def start(self, probe_key: str, timeout: float = 90) -> None:
        VAR_BENCH.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        cmd = [COMPTOIR, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(self.port),
               "--processes", str(self.processes), "--threads", str(self.threads)]
        log(f"server: {' '.join(cmd[1:])} (COMPTOIR_DATABASE_URL={self.database_url})")
        self.proc = subprocess.Popen(cmd, env=comptoir_env(self.database_url), cwd=ROOT, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + Path(self.log_path).read_text()[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/orders?max=1", headers={"Authorization": probe_key})
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    log(f"server: ready on port {self.port}")
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not ready after {timeout:.0f} s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_group(self.proc)
        self.proc = None
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# The environment of the bench's `comptoir worker` processes. The e-mail backend is a no-op (the messages are still
# built: only the SMTP hop is skipped). The loaded data (a fixed timeline ending 2026-11-01, bench/load.py) holds a
# one-time backlog no steady state has: ~half the orders past the GDPR redaction delay and every order shipped
# without an invoice never flagged (together ~1.8 tasks per loaded order: ~1 h at 1,000,000 orders on this
# machine). Those two sweeps are kept idle (their query still runs, on an empty range); every other sweep (timers,
# outbox, webhooks, scorecards) does its real work.
WORKER_ENV = {"COMPTOIR_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
              "COMPTOIR_REDACT_AFTER_DAYS": "0", "COMPTOIR_INVOICE_MISSING_BUSINESS_DAYS": "36500"}


class Workers:
    """`n` `comptoir worker` processes (each in its own session), with WORKER_ENV."""

    def __init__(self, database_url: str, n: int, *, label: str = "") -> None:
        self.database_url = database_url
        self.n = n
        self.label = label
        self.procs: list[subprocess.Popen] = []
        self._logs: list = []

    def start(self) -> Workers:
        VAR_BENCH.mkdir(parents=True, exist_ok=True)
        env = comptoir_env(self.database_url, **WORKER_ENV)
        for k in range(self.n):
            f = open(VAR_BENCH / f"worker-{self.label or 'x'}-{k + 1}.log", "w")
            self._logs.append(f)
            self.procs.append(subprocess.Popen([COMPTOIR, "worker"], env=env, cwd=ROOT, stdout=f,
                                               stderr=subprocess.STDOUT, start_new_session=True))
        if self.n:
            log(f"workers: {self.n} × comptoir worker (pids {', '.join(str(p.pid) for p in self.procs)})")
        return self

    def cpu_seconds(self) -> float:
        return sum(group_cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> list[int]:
        """SIGTERM (the worker finishes its batch), then SIGKILL after 20 s; returns the exit codes."""
        codes = []
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                codes.append(p.wait(timeout=20))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                codes.append(p.wait(timeout=5))
        for f in self._logs:
            f.close()
        self.procs, self._logs = [], []
        return codes


def _get(conn: http.client.HTTPConnection, path: str, key: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Authorization": key})
    resp = conn.getresponse()
    return resp.status, resp.read()


def _check_or11(body: bytes, shop_id: int) -> int:
    data = json.loads(body)
    orders = data["orders"]
    expected = min(100, data["total_count"])
    assert len(orders) == expected, f"shop {shop_id}: {len(orders)} orders, expected {expected}"
    dates = [o["created_date"] for o in orders]
    assert dates == sorted(dates, reverse=True), "not sorted by dateCreated desc"
    for o in orders:
        assert o["order_state"] == "SHIPPING" and o["shop_id"] == shop_id, o["order_id"]
        assert o["order_lines"], f"{o['order_id']} has no lines"
        assert all(line["order_line_state"] == "SHIPPING" for line in o["order_lines"])
        assert o["customer"]["shipping_address"] is not None  # SHIPPING: the seller sees the address
    return len(orders)


def bench_or11(port: int, shops: int, *, requests: int = 300, warmup: int = 30, seed: int = 7) -> dict:
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(warmup):
        shop = rnd.randint(1, shops)
        status, body = _get(conn, OR11_PATH, f"bench-shop-{shop}")
        assert status == 200, (status, body[:300])
    latencies: list[float] = []
    sizes: list[int] = []
    bytes_total = 0
    checked = 0
    cpu0 = cpu_busy()
    for i in range(requests):
        shop = rnd.randint(1, shops)
        t0 = time.perf_counter()
        status, body = _get(conn, OR11_PATH, f"bench-shop-{shop}")
        latencies.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise AssertionError(f"OR11 answered {status}: {body[:300]!r}")
        bytes_total += len(body)
        if i % 10 == 0:  # a sample: parse and check every tenth page fully
            sizes.append(_check_or11(body, shop))
            checked += 1
    cpu1 = cpu_busy()
    conn.close()
    return {
        "requests": requests, "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2), "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(sum(latencies) / len(latencies), 2), "checked_pages": checked,
        "mean_orders_per_page": round(sum(sizes) / len(sizes), 1), "min_orders_per_page": min(sizes),
        "mean_kb_per_page": round(bytes_total / requests / 1024, 1),
        "machine_cpu_busy": round((cpu1[0] - cpu0[0]) / max(1, cpu1[1] - cpu0[1]), 2),
    }


def bench_or21(server: Server, pool: list[PoolOrder], *, clients: int = 16, duration: float = 15.0,
               port: int | None = None, cpu_seconds=None) -> dict:  # noqa: ANN001
    """`clients` threads, one keep-alive connection each, accepting distinct pool orders for `duration` s
    (bench/bare_http.run_clients: the same client drives the bare endpoint). `port`/`cpu_seconds` default to
    `server`'s."""
    from bench.bare_http import accept_requests, run_clients

    orders = list(pool)
    random.Random(11).shuffle(orders)
    r = run_clients(port or server.port, accept_requests(orders), clients=clients, duration=duration,
                    expect=(204,), cpu_seconds=cpu_seconds or server.cpu_seconds)
    if r["exhausted"]:
        log(f"OR21: the pool of {len(orders):,} orders ran out after {r['seconds']:.1f} s")
    return {
        "clients": clients, "seconds": r["seconds"], "requests": r["requests"], "accepts_per_s": r["per_s"],
        "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "non_204": r["non_ok"], "statuses": r["statuses"],
        "errors_sample": r["errors_sample"], "pool": len(orders), "pool_exhausted": r["exhausted"],
        "client_cpu_core_share": r["client_cpu_core_share"], "server_cpu_cores": r["server_cpu_cores"],
        "machine_cpu_busy": r["machine_cpu_busy"],
    }


def bench_or11_concurrent(port: int, shops: int, *, clients: int, duration: float = 8.0, seed: int = 7,
                          cpu_seconds=None) -> dict:  # noqa: ANN001
    """OR11 under `clients` concurrent keep-alive clients for `duration` s: p50/p99 and requests/s; every
    tenth page is parsed and checked (as bench_or11 does)."""
    from bench.bare_http import Request, run_clients

    rnd = random.Random(seed)
    counter = [0]
    sizes: list[int] = []

    def make(_k: int) -> Request:
        shop = rnd.randint(1, shops)
        return Request("GET", OR11_PATH, b"", {"Authorization": f"bench-shop-{shop}"})

    def check(req: Request, status: int, body: bytes) -> str | None:
        counter[0] += 1
        if counter[0] % 10:
            return None
        try:
            sizes.append(_check_or11(body, int(req.headers["Authorization"].rsplit("-", 1)[1])))
        except AssertionError as exc:
            return f"OR11 check: {exc}"
        return None

    r = run_clients(port, make, clients=clients, duration=duration, expect=(200,), check=check,
                    cpu_seconds=cpu_seconds, warmup=3)
    r["mean_orders_per_page"] = round(sum(sizes) / len(sizes), 1) if sizes else float("nan")
    return r
