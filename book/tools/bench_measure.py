"""Measuring a command: a subprocess → its wall and CPU time and the peak memory of its process tree.

Wall time from the clock, CPU time (user + sys, children included) and the largest single-process
RSS from `wait4`, and the peak RSS and PSS of the whole process tree (our workers, Pandoc,
WeasyPrint, the JVM) by polling /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from book.engine import workers

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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


def servers(under: Path | None = None) -> list[int]:
    """EPUBCheck's servers (book.check.daemon): a build starts one and leaves it running after it
    exits, outside its process tree, so a build's figures must count it by name. With `under`, only
    those whose socket is in that folder."""
    mark = b"EpubCheckServer"
    place = os.fsencode(under) if under is not None else None
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read()
            if mark in cmdline and (place is None or place in cmdline):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def process_cpu(pid: int) -> float:
    """User + system seconds of one process so far, its reaped children included (0 when gone)."""
    used = workers.process_cpu(pid)
    return 0.0 if used is None else used


def stop_servers() -> None:
    """End the user's shared EPUBCheck servers (those under this user's cache, book.check.daemon),
    so that a clean build meets none, as on a machine that just booted. Not every server on the
    machine: another's, or one a test started under its own cache, is not ours to stop."""
    from book.check.cds import cache_dir

    pids = servers(under=cache_dir().parent)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if os.path.exists(f"/proc/{p}") and _alive(p)]
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def tree_memory(
    root: int, extra: Iterable[int] = (), with_pss: bool = True, pids: Iterable[int] | None = None
) -> tuple[int, int]:
    """(RSS, PSS) summed over the process tree under `root`, in bytes.

    RSS counts a page shared by several processes once per process: forked workers share the
    interpreter, WeasyPrint and the memory-mapped fonts with their parent, so a summed RSS counts
    those two or three times. PSS (proportional set size) divides each shared page among the
    processes sharing it: the memory the tree really occupies. For one process the two agree
    (up to its shared libraries). `extra`: processes outside the tree to count as well.
    `with_pss=False`: RSS only (PSS 0), without the kernel's walk of every page table; `pids`: the
    tree as found before, instead of a scan of /proc.
    """
    rss = pss = 0
    for pid in {*(tree_pids(root) if pids is None else pids), *extra}:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                rss += int(f.read().split()[1]) * PAGE
            if not with_pss:
                continue
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            pass
    return rss, pss


TREE_EVERY, PSS_EVERY = 5, 10  # samples: RSS every 0.05 s, the tree every 0.25 s, PSS every 0.5 s


class MemorySampler:
    """The peak RSS and PSS of the process tree under `root` (and `extra`), sampled in a thread
    from now until `stop()`.

    The sampler's own cost is taken from the build it measures, on a 2-core machine: a process's
    smaps_rollup is a walk of its page tables (~5 ms of kernel time for a layout worker), and a scan
    of /proc reads every process's stat (~3 ms). Both at every 0.05 s sample were 21% of a core
    during the sample's build, and 12 s of the 30-chapter book's 91 s; so the tree is scanned every
    TREE_EVERY-th sample and PSS read every PSS_EVERY-th (5% of a core).
    """

    def __init__(self, root: int, extra: Iterable[int] = ()) -> None:
        self.root, self.extra = root, list(extra)
        self.rss = self.pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        n, pids = 0, [self.root]
        while not self._stop.is_set():
            if n % TREE_EVERY == 0:
                pids = tree_pids(self.root)
            rss, pss = tree_memory(self.root, self.extra, with_pss=n % PSS_EVERY == 0, pids=pids)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            n += 1
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()

    def peaks(self) -> tuple[int, int]:
        """(peak RSS, peak PSS) in bytes, once the sampling thread has ended."""
        self._thread.join()
        return self.rss, self.pss


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to completion; its wall, CPU (children included) and peak RSS (tree and single)."""
    load = os.getloadavg()[0]
    before = {pid: process_cpu(pid) for pid in servers()}  # EPUBCheck's server, if one runs, works for this build
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    # One the build starts is its child, in the tree: a server that appears elsewhere during the
    # build is another user's (a shared machine), not this build's.
    sampler = MemorySampler(proc.pid, list(before))

    try:
        err = proc.stderr.read() if proc.stderr else b""
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)  # an interrupted bench leaves none of its builds running
        raise
    sampler.stop()  # before the wait, while the tree still exists the sampler has already sampled it
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    peak, peak_pss = sampler.peaks()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err.decode(errors='replace')}")
    max_rss = usage.ru_maxrss / 1024  # KiB on Linux
    # a server's CPU during the build is the build's, though wait4 never sees it (never reaped)
    server_cpu = sum(process_cpu(pid) - before.get(pid, 0.0) for pid in servers())
    cpu = usage.ru_utime + usage.ru_stime + max(0.0, server_cpu)
    return Run(wall, cpu, max(peak / 2**20, max_rss), max_rss, peak_pss / 2**20, load=load)
