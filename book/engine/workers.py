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


def worker_count(n: int, jobs: int | None = None) -> int:
    """Processes for `n` tasks: at most one per core, per task, and `jobs` when given."""
    return max(1, min(cores(), n, jobs or n))


def pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx)
