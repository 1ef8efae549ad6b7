"""The server under test (`comptoir serve`) and the two HTTP measurements: OR11 latency, OR21 throughput."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import threading
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
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is pgrp (after pid and comm, state is fields[0])
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        self.proc = None
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


def bench_or21(server: Server, pool: list[PoolOrder], *, clients: int = 16, duration: float = 15.0) -> dict:
    """`clients` threads, one keep-alive connection each, accepting distinct pool orders for `duration` s."""
    orders = list(pool)
    random.Random(11).shuffle(orders)
    lock = threading.Lock()
    it = iter(orders)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    stop_at = [0.0]
    start_gate = threading.Barrier(clients + 1)

    def next_order() -> PoolOrder | None:
        with lock:
            return next(it, None)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        start_gate.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                order = next_order()
                if order is None:
                    break
                body = json.dumps({"order_lines": [{"id": lid, "accepted": True} for lid in order.line_ids]})
                t0 = time.perf_counter()
                conn.request("PUT", f"/api/orders/{order.order_id}/accept", body=body,
                             headers={"Authorization": f"bench-shop-{order.shop_id}",
                                      "Content-Type": "application/json"})
                resp = conn.getresponse()
                payload = resp.read()
                mine.append((time.perf_counter() - t0) * 1000)
                codes[resp.status] = codes.get(resp.status, 0) + 1
                if resp.status != 204 and len(errors) < 5:
                    errors.append(f"{order.order_id}: {resp.status} {payload[:200]!r}")
        except Exception as exc:  # noqa: BLE001 - reported, and counted as a failure
            errors.append(f"client error: {exc!r}")
            codes[-1] = codes.get(-1, 0) + 1
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    server_cpu0 = server.cpu_seconds()
    machine0 = cpu_busy()
    client_cpu0 = time.process_time()
    t_start = time.perf_counter()
    stop_at[0] = t_start + duration
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    client_cpu = time.process_time() - client_cpu0
    machine1 = cpu_busy()
    server_cpu = server.cpu_seconds() - server_cpu0
    done = sum(statuses.values())
    non_204 = done - statuses.get(204, 0)
    exhausted = done >= len(orders)
    if exhausted:
        log(f"OR21: the pool of {len(orders):,} orders ran out after {elapsed:.1f} s")
    return {
        "clients": clients, "seconds": round(elapsed, 2), "requests": done,
        "accepts_per_s": round(statuses.get(204, 0) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
        "non_204": non_204, "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors_sample": errors, "pool": len(orders), "pool_exhausted": exhausted,
        "client_cpu_core_share": round(client_cpu / elapsed, 2),
        "server_cpu_cores": round(server_cpu / elapsed, 2),
        "machine_cpu_busy": round((machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]), 2),
    }
