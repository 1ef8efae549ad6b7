"""Shared bits of the benchmark: paths, database URLs, running `comptoir` commands, small statistics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
COMPTOIR = str(VENV_BIN / "comptoir")
VAR_BENCH = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "comptoir_bench")
PG_URL = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DB


def sqlite_path(orders: int) -> Path:
    return VAR_BENCH / f"bench-{orders}.sqlite3"


def sqlite_url(orders: int) -> str:
    return f"sqlite:///{sqlite_path(orders)}"


def comptoir_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["COMPTOIR_DATABASE_URL"] = database_url
    env["COMPTOIR_HOME"] = str(ROOT)
    env["DJANGO_SETTINGS_MODULE"] = "comptoir.settings"
    env.setdefault("COMPTOIR_LOG_LEVEL", "WARNING")
    # The rate limiter runs (its cost is part of the figures) but never throttles the benchmark's few keys.
    env.setdefault("COMPTOIR_RATE_LIMITS", "*=1000000000/60")
    env.update(extra)
    return env


def run_comptoir(database_url: str, *args: str) -> None:
    proc = subprocess.run([COMPTOIR, *args], env=comptoir_env(database_url), cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"comptoir {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)
