"""Measuring a command: a subprocess → its wall and CPU time and the peak memory of its process tree.

Wall time from the clock, CPU time (user + sys, children included) and the largest single-process
RSS from `wait4`, and the peak RSS and PSS of the whole process tree (our workers, Pandoc,
WeasyPrint, the JVM) by polling /proc.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Run:
    wall: float
    cpu: float
    peak_rss_mb: float  # the process tree's summed RSS, polled
    max_rss_mb: float  # the largest single process's, from wait4
    peak_pss_mb: float = 0.0  # the process tree's summed PSS, polled (shared pages counted once)
    pages: int = 0
    load: float = 0.0  # 1-minute load average when the run started: the machine is shared


@dataclass
class Stats:
    runs: list[Run] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(r, name) for r in self.runs) if self.runs else 0.0

    def summary(self) -> dict[str, Any]:
        wall, cpu = self.median("wall"), self.median("cpu")
        pages = self.runs[-1].pages if self.runs else 0
        return {
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "peak_rss_mb": round(self.median("peak_rss_mb"), 1),
            "peak_pss_mb": round(self.median("peak_pss_mb"), 1),
            "max_rss_mb": round(self.median("max_rss_mb"), 1),
            "pages": pages,
            "pages_per_s": round(pages / wall, 1) if wall and pages else None,
            "pages_per_cpu_s": round(pages / cpu, 1) if cpu and pages else None,
            "load_avg": round(self.median("load"), 1),
            "runs": [asdict(r) for r in self.runs],
        }


# --- measuring one subprocess -----------------------------------------------------------------------


def children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_pids(root: int) -> list[int]:
    """`root` and every process below it, as /proc shows them now."""
    tree = children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) summed over the process tree under `root`, in bytes.

    RSS counts a page shared by several processes once per process: forked workers share the
    interpreter, WeasyPrint and the memory-mapped fonts with their parent, so a summed RSS counts
    those two or three times. PSS (proportional set size) divides each shared page among the
    processes sharing it: the memory the tree really occupies. For one process the two agree
    (up to its shared libraries).
    """
    rss = pss = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                rss += int(f.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            pass
    return rss, pss


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to completion; its wall, CPU (children included) and peak RSS (tree and single)."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    peak = peak_pss = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak, peak_pss
        while not stop.is_set():
            rss, pss = tree_memory(proc.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            stop.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        err = proc.stderr.read() if proc.stderr else b""
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)  # an interrupted bench leaves none of its builds running
        raise
    stop.set()  # before the wait, while the tree still exists the poller has already sampled it
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err.decode(errors='replace')}")
    max_rss = usage.ru_maxrss / 1024  # KiB on Linux
    return Run(wall, usage.ru_utime + usage.ru_stime, max(peak / 2**20, max_rss), max_rss, peak_pss / 2**20, load=load)
