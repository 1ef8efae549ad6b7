"""PostgreSQL for the `pgrestart` part: by default a private throwaway cluster (initdb in /tmp, its own port),
so restarting it disturbs nobody else on the machine; or, with `--pg-cluster shared`, the machine's own
cluster restarted with `pg_ctlcluster <version> <name> restart -m fast` (always started again in a finally)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from reliability.common import free_port, log

PG_BIN_ROOT = Path("/usr/lib/postgresql")


def _bin(name: str) -> str:
    for version in sorted((p for p in PG_BIN_ROOT.glob("*") if (p / "bin" / name).exists()), reverse=True):
        return str(version / "bin" / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found (PostgreSQL server binaries)")
    return found


def _as_postgres(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root. No pipe on
    stdout: a postmaster started by pg_ctl would inherit it and keep it open (its output goes to `-l`)."""
    cmd = list(args)
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout,
                          check=False)


class PrivateCluster:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="comptoir-reliability-pg-"))
        self.data = self.dir / "data"
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.label = f"private cluster on port {self.port}"

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        done = _as_postgres(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")
        done = _as_postgres(*self._ctl(), "start")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr[-2000:]}")
        log(f"pg: {self.label} started")

    def _ctl(self) -> list[str]:
        """pg_ctl with this cluster's options on every call (a plain `start` would pick the default port)."""
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=60 -c shared_buffers=32MB")
        return [_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"), "-o", opts, "-m", "fast",
                "-w"]

    def restart(self, hold_s: float = 0.0) -> float:
        """`pg_ctl restart -m fast`; with `hold_s`, stop -m fast, stay down that long, then start (a slow
        restart: a crash recovery, a failover)."""
        t0 = time.monotonic()
        ctl = self._ctl()
        if hold_s <= 0:
            done = _as_postgres(*ctl, "restart")
        else:
            done = _as_postgres(*ctl, "stop")
            time.sleep(hold_s)
            done = _as_postgres(*ctl, "start") if done.returncode == 0 else done
        if done.returncode != 0:
            self.ensure_running()
            raise RuntimeError(f"pg_ctl restart failed: {done.stderr[-2000:]}")
        return time.monotonic() - t0

    def ensure_running(self) -> None:
        if _as_postgres(_bin("pg_ctl"), "-D", str(self.data), "status").returncode != 0:
            _as_postgres(*self._ctl(), "start")

    def destroy(self) -> None:
        _as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class SharedCluster:
    """The machine's cluster (`pg_lsclusters`): restarted in place; start() and destroy() do nothing."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        line = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                              check=True).stdout.split("\n")[0].split()
        self.version, self.name = line[0], line[1]
        self.label = f"shared cluster {self.version}/{self.name}"

    def start(self) -> None:
        return

    def restart(self, hold_s: float = 0.0) -> float:
        """Never held down: other people use this cluster (`hold_s` is ignored)."""
        t0 = time.monotonic()
        try:
            done = subprocess.run(["pg_ctlcluster", "--mode", "fast", self.version, self.name, "restart"],
                                  capture_output=True, text=True, timeout=120, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"pg_ctlcluster restart failed: {done.stderr[-2000:]}")
        finally:
            self.ensure_running()
        return time.monotonic() - t0

    def ensure_running(self) -> None:
        status = subprocess.run(["pg_ctlcluster", self.version, self.name, "status"], capture_output=True, check=False)
        if status.returncode != 0:
            subprocess.run(["pg_ctlcluster", self.version, self.name, "start"], capture_output=True, check=False)

    def destroy(self) -> None:
        self.ensure_running()
