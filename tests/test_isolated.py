"""A call in a forked child (book.engine.isolated): its result, its errors, its memory gone with it."""

from __future__ import annotations

import os
import sys

import pytest

from book.engine.isolated import run_isolated

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


def _pid_and(x: int) -> tuple[int, int]:
    return os.getpid(), x * 2


def _fail(message: str) -> None:
    raise ValueError(message)


def _grow(mb: int) -> int:
    """Leaves `mb` MB allocated in the process that runs it (as a layout's caches would)."""
    _grow.kept = bytearray(mb << 20)  # type: ignore[attr-defined]
    return len(_grow.kept)  # type: ignore[attr-defined]


def _rss_mb() -> float:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@linux
def test_the_call_runs_in_another_process_and_returns_its_result() -> None:
    pid, doubled = run_isolated(_pid_and, 21)
    assert doubled == 42 and pid != os.getpid()


def test_an_exception_in_the_child_is_raised_here() -> None:
    with pytest.raises(ValueError, match="no cover"):
        run_isolated(_fail, "no cover")


@linux
def test_what_the_child_keeps_is_not_kept_here() -> None:
    before = _rss_mb()
    assert run_isolated(_grow, 64) == 64 << 20
    assert not hasattr(_grow, "kept")
    assert _rss_mb() - before < 32
