"""Shared bits of the fault runs: paths, fresh databases, the environment of `comptoir serve` / `comptoir worker`
processes started in their own process group (so a kill -9 takes the gunicorn master and its workers at once),
and the Django-side helper (reliability/db.py) run in a child process against a given database."""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
COMPTOIR = str(VENV_BIN / "comptoir")
SCRATCH = ROOT / "var" / "reliability" / "faults"
RESULTS = ROOT / "reliability" / "results"
PG_ADMIN_URL = os.environ.get("RELIABILITY_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# The settings of every process of a run. Short leases and delays keep a run to a minute; they change when
# things happen, never what happens (README « Reliability »).
RUN_SETTINGS = {
    "COMPTOIR_DEBIT_DELAY_SECONDS": "1",  # the capture comes a second after the accept
    "COMPTOIR_WORKER_LEASE_SECONDS": "6",  # a killed worker's claims lapse after 6 s (120 s by default)
    "COMPTOIR_WORKER_IDLE_SECONDS": "0.3",
    "COMPTOIR_WEBHOOK_ALLOW_LOCAL_HTTP": "1",  # the receiver is http://127.0.0.1
    "COMPTOIR_WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS": "1",
    "COMPTOIR_WEBHOOK_TIMEOUT_SECONDS": "3",
    "COMPTOIR_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    "COMPTOIR_RATE_LIMITS": "*=1000000000/60",
    "COMPTOIR_LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "comptoir.settings",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(engine: str, name: str, *, admin_url: str = PG_ADMIN_URL) -> str:
    """An empty database of the run's own: var/reliability/faults/<name>.sqlite3, or <name> on the server."""
    if engine == "sqlite":
        SCRATCH.mkdir(parents=True, exist_ok=True)
        path = SCRATCH / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str, *, admin_url: str = PG_ADMIN_URL) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as exc:
        log(f"could not drop {name}: {exc}")


def var_dir(label: str) -> Path:
    path = SCRATCH / f"var-{label}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def env_for(database_url: str, var: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(RUN_SETTINGS)
    env.update({"COMPTOIR_DATABASE_URL": database_url, "COMPTOIR_HOME": str(ROOT), "COMPTOIR_VAR_DIR": str(var)})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def db_helper(env: dict[str, str], *args: str, timeout: float = 600) -> Any:
    """Run reliability/db.py in a child process (Django set up on the run's database); its last line is JSON."""
    proc = subprocess.run([PYTHON, "-m", "reliability.db", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"reliability.db {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Process:
    """One `comptoir` command in its own session; kill9() is the crash, start() the restart (same port)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log_path, "ab") as out:
            out.write(f"\n--- start {self.starts} at {time.strftime('%H:%M:%S')} ---\n".encode())
            out.flush()
            self.proc = subprocess.Popen([COMPTOIR, *self.args], env=self.env, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole process group: no handler runs, no transaction commits, nothing is flushed."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.kills += 1
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.proc = None


class Server(Process):
    def __init__(self, name: str, env: dict[str, str], log_dir: Path, *, port: int | None = None,
                 processes: int = 2, threads: int = 4) -> None:
        self.port = port or free_port()
        super().__init__(name, ["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(self.port),
                                "--processes", str(processes), "--threads", str(threads)], env, log_dir)

    def wait_ready(self, timeout: float = 90) -> float:
        """Seconds until /api/version answers 200 (the app is loaded in the gunicorn workers)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/version")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s; see {self.log_path}")


def worker(name: str, env: dict[str, str], log_dir: Path) -> Process:
    return Process(name, ["worker"], env, log_dir)


class Chaos:
    """kill -9 of the given processes in turn, at random moments (seeded) while writes are in flight, each
    restarted after a short random pause; the moments and downtimes are kept for the report."""

    def __init__(self, targets: list[Process], *, kills: int, seed: int, spacing: tuple[float, float] = (1.5, 4.0),
                 pause: tuple[float, float] = (0.2, 1.5), busy: Any = None) -> None:
        self.targets, self.kills, self.rnd = targets, kills, random.Random(seed)
        self.spacing, self.pause, self.busy = spacing, pause, busy
        self.events: list[dict[str, Any]] = []

    def run(self, stop: Any, t0: float) -> None:
        for _ in range(self.kills):
            if stop.wait(self.rnd.uniform(*self.spacing)):
                return
            # A kill while writes are in flight (within 2 s): a kill between two requests proves little.
            waited = time.monotonic()
            while self.busy is not None and not self.busy() and time.monotonic() - waited < 2.0:
                time.sleep(0.005)
            target = self.targets[len(self.events) % len(self.targets)]  # servers and workers in turn
            at = time.monotonic() - t0
            target.kill9()
            time.sleep(self.rnd.uniform(*self.pause))
            target.start()
            ready = target.wait_ready() if isinstance(target, Server) else 0.0
            self.events.append({"target": target.name, "at_s": round(at, 2),
                                "down_s": round(time.monotonic() - t0 - at, 2), "ready_after_start_s": round(ready, 2)})
            log(f"chaos: kill -9 {target.name} at {at:.1f} s, back after {self.events[-1]['down_s']:.1f} s")
