"""Worker processes: a number of tasks (and an optional cap) → how many processes, and the pool kind.

Workers are forked on Linux: they inherit the imported modules (Pandoc's wrapper, WeasyPrint and our
patches), so none pays Python's start-up again.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_mark() -> tuple[float, float]:
    """(now, CPU seconds of this process and its reaped children): a build's start, for spare_core."""
    t = os.times()
    return time.monotonic(), t.user + t.system + t.children_user + t.children_system


def spare_core(since: tuple[float, float] | None = None) -> bool:
    """Whether the machine has a core the build leaves idle: the 1-minute load below the cores.

    EPUBCheck's early JVM and its C2 compiler (book.check.epubcheck) only pay where a core would
    idle. On a machine kept busy by other work (the shared 2-core machine at load 8–15, 4
    interleaved pairs on the sample) the early JVM took its share of the build's cores instead:
    46.9 s wall, 20.8 s CPU, 324 MB against 41.3 s, 19.0 s, 265 MB. With `since` (a cpu_mark() of
    the build's start) the build's own average load is taken off first: once its layout workers are
    gone, the 1-minute load still counts them (1.7–2.2 at the end of the 30-chapter book's build on
    an otherwise idle machine).
    """
    try:
        load = os.getloadavg()[0]
    except OSError:
        return False
    if since is not None:
        now, cpu = cpu_mark()
        if now > since[0]:
            load -= (cpu - since[1]) / (now - since[0])
    return load < cores()


def worker_count(n: int, jobs: int | None = None) -> int:
    """Processes for `n` tasks: at most one per core, per task, and `jobs` when given."""
    return max(1, min(cores(), n, jobs or n))


def pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx)
