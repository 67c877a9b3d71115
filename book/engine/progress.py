"""Progress display: pipeline stages and parts → a rich progress bar on the terminal.

Shown only when stderr is a terminal (never in logs, CI or tests) and the build is long enough to
need it; `BOOK_PROGRESS=0` turns it off, `BOOK_PROGRESS=1` forces it. rich is imported only when a
bar is actually drawn.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

MIN_PARTS = 3  # below this a build is quick and a bar only flickers


def enabled(n_parts: int) -> bool:
    flag = os.environ.get("BOOK_PROGRESS", "")
    if flag in ("0", "1"):
        return flag == "1"
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and n_parts >= MIN_PARTS


class Quiet:
    """The no-op progress: the same interface, draws nothing."""

    def __enter__(self) -> Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def stage(self, name: str, total: int | None) -> Callable[..., None]:
        return lambda n=1, label="": None


class Bar(Quiet):
    """One rich task per stage; parts advance their stage's task as they finish."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._stream = sys.stderr
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            # BOOK_PROGRESS=1 draws even into a pipe (a terminal emulator in an IDE, a test).
            console=Console(file=self._stream, force_terminal=os.environ.get("BOOK_PROGRESS") == "1" or None),
            transient=True,
        )

    def __enter__(self) -> Bar:
        # A build that records its output (book.pipeline) must not record the bar's drawing.
        if hasattr(self._stream, "paused"):
            self._stream.paused = True
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
        if hasattr(self._stream, "paused"):
            self._stream.paused = False

    def stage(self, name: str, total: int | None) -> Callable[..., None]:
        task = self._progress.add_task(name, total=total)

        def advance(n: int = 1, label: str = "") -> None:
            self._progress.update(task, advance=n, description=f"{name} {label}".strip())

        return advance


def progress_for(n_parts: int) -> Any:
    """A live bar for a build of `n_parts` parts when one is wanted, else a silent stand-in."""
    return Bar() if enabled(n_parts) else Quiet()
