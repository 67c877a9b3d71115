"""Build lock: an output folder → exclusive use of it by one build at a time.

Two builds started at once into the same folder (a save-triggered rebuild and a `make`, say) would
otherwise interleave their outputs: the EPUB of one with the PDF of the other. The lock is an
advisory `flock` on `<out>/.lock`, released by the kernel when the process ends however it ends
(SIGKILL included), so a killed build never leaves a stale lock behind. While it holds the lock a
build also removes what a killed predecessor left: temporary files and staging folders.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from book.errors import BookError, Problem, display_path

LOCK_NAME = ".lock"


@contextlib.contextmanager
def build_lock(out: str | Path, *, wait: bool = True) -> Iterator[Path]:
    """Hold the output folder's lock for the duration of the block; yield the folder."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BookError(
            Problem(display_path(out), None, f"cannot use the output folder: {exc.strerror}", "choose another --out")
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise BookError(
                    Problem(display_path(out), None, "another build is writing to this folder", "wait for it to end")
                ) from None
            print(f"waiting for another build writing to {display_path(out)} …", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        remove_leftovers(out)
        yield out
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def remove_leftovers(out: Path) -> list[Path]:
    """Temporary files and staging folders of builds that were killed; call only under the lock."""
    removed = []
    for p in out.iterdir():
        if p.name.startswith(".staging-") and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
        elif p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
            removed.append(p)
    return removed
