"""Worker processes: a number of tasks (and an optional cap) → how many processes, and the pool kind.

Workers are forked on Linux: they inherit the imported modules (Pandoc's wrapper, WeasyPrint and our
patches), so none pays Python's start-up again.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def spare_core() -> bool:
    """Whether the machine has a core the build leaves idle: others' load below the cores.

    EPUBCheck's early JVM and its C2 compiler (book.check.epubcheck) only pay where a core would
    idle. On a machine kept busy by other work (the shared 2-core machine at load 8–15, 4
    interleaved pairs on the sample) the early JVM took its share of the build's cores instead:
    46.9 s wall, 20.8 s CPU, 324 MB against 41.3 s, 19.0 s, 265 MB.

    Others' load is the lower of the 1-minute load and the threads running now besides this one:
    the average lags a minute behind, so right after a build (the bench's next run, `make clean &&
    make`) it still counts the finished build's workers (1.7–2.3 on an idle 2-core machine), and at
    the end of a long build its own; work that keeps the cores busy shows in both.
    """
    try:
        load = os.getloadavg()[0]
    except OSError:
        return False
    others = min(_running() for _ in range(3)) - 1  # a thread that ran for a moment is not load
    return min(load, others if others >= 0 else load) < cores()


def _running() -> int:
    """Threads running or runnable on the machine now, this one included (Linux's /proc/loadavg);
    -1 where that is not known (the 1-minute load alone decides)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return -1


def worker_count(n: int, jobs: int | None = None, over_cores: int = 0) -> int:
    """Processes for `n` tasks: at most one per core (and `over_cores` more), per task, and `jobs`
    when given."""
    return max(1, min(cores() + over_cores, n, jobs or n))


# A part's worker waits on its Pandoc runs (conversion, citeproc) and its cache writes, and two
# workers left the 2-core machine 1.3–1.4 cores busy for much of the 30-chapter book's parts: with
# one worker more than the cores, its parts took 6.48 s (median of 4, interleaved) against 7.09 s.
PART_WORKERS_OVER_CORES = 1


def part_workers(n: int, jobs: int | None = None) -> int:
    """Processes for `n` parts: one more than the cores (see above), at most one per part, and
    `jobs` when given."""
    return worker_count(n, jobs, PART_WORKERS_OVER_CORES)


def pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx)


def process_cpu(pid: int) -> float | None:
    """User + system seconds a process (all its threads, its reaped children) has used so far, from
    /proc; None when it is gone or cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
