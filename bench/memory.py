"""Peak memory of the processes under test: VmHWM (peak resident set) from /proc/<pid>/status, sampled in a
background thread during the run (a process that exits keeps its last reading) and read once more at the end.
Beside it, the highest RssAnon seen (the process's own memory: heap, stacks) and RssFile at that moment: SQLite's
memory-mapped database file counts in the resident set once per connection that maps it, although the pages are
the operating system's file cache, shared and given back under pressure. The target judges VmHWM, the stricter.

  sampler = MemorySampler(interval=0.5); sampler.watch_group("server", pgid); sampler.watch_pid("worker-1", pid)
  sampler.start(); ...; report = sampler.stop()
  -> {"target_mb": 300, "processes": [{"role", "pid", "cmd", "peak_mb", "rss_mb", "anon_peak_mb"}],
      "max_mb": {role: MB}, "max_anon_mb": {role: MB}, "ok": bool}

Roles: a process group is watched as a whole (the gunicorn master and every worker it forks, named
"<role> master" and "<role> worker <pid>"); a single pid (a `comptoir worker`) under its own role.
"""

from __future__ import annotations

import os
import threading

TARGET_MB = 300.0


def group_pids(pgid: int) -> list[int]:
    """Every live process of the process group `pgid` (its leader first)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            out.append(int(entry))
    return sorted(out, key=lambda p: (p != pgid, p))


def status_kb(pid: int) -> dict[str, int]:
    """VmHWM, VmRSS, RssAnon and RssFile (kB) of `pid`; {} when it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:", "RssAnon:", "RssFile:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        return {}
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return ""


class MemorySampler:
    def __init__(self, interval: float = 0.5, target_mb: float = TARGET_MB) -> None:
        self.interval = interval
        self.target_mb = target_mb
        self.groups: dict[str, int] = {}
        self.pids: dict[str, int] = {}
        self.seen: dict[int, dict] = {}  # pid -> {"role", "pid", "cmd", "hwm_kb", "rss_kb"}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch_group(self, role: str, pgid: int) -> None:
        self.groups[role] = pgid

    def watch_pid(self, role: str, pid: int) -> None:
        self.pids[role] = pid

    def sample(self) -> None:
        targets: list[tuple[str, int]] = []
        for role, pgid in self.groups.items():
            for pid in group_pids(pgid):
                targets.append((f"{role} master" if pid == pgid else f"{role} worker", pid))
        targets += [(role, pid) for role, pid in self.pids.items()]
        for role, pid in targets:
            st = status_kb(pid)
            if not st:
                continue
            rec = self.seen.get(pid)
            if rec is None:
                rec = self.seen[pid] = {"role": role, "pid": pid, "cmd": cmdline(pid), "hwm_kb": 0, "rss_kb": 0,
                                        "anon_kb": 0}
            rec["hwm_kb"] = max(rec["hwm_kb"], st.get("VmHWM", 0))
            rec["anon_kb"] = max(rec["anon_kb"], st.get("RssAnon", 0))
            rec["rss_kb"] = st.get("VmRSS", 0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> MemorySampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()
        return self.report()

    def report(self) -> dict:
        procs = [{"role": r["role"], "pid": r["pid"], "cmd": r["cmd"], "peak_mb": round(r["hwm_kb"] / 1024, 1),
                  "rss_mb": round(r["rss_kb"] / 1024, 1), "anon_peak_mb": round(r["anon_kb"] / 1024, 1)}
                 for r in self.seen.values()]
        by_role: dict[str, float] = {}
        anon_by_role: dict[str, float] = {}
        for p in procs:
            kind = p["role"]
            by_role[kind] = max(by_role.get(kind, 0.0), p["peak_mb"])
            anon_by_role[kind] = max(anon_by_role.get(kind, 0.0), p["anon_peak_mb"])
        peak = max((p["peak_mb"] for p in procs), default=0.0)
        return {"target_mb": self.target_mb, "processes": procs, "max_mb": by_role, "max_anon_mb": anon_by_role,
                "peak_mb": peak,
                "ok": bool(procs) and peak <= self.target_mb}
