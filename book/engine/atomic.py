"""Atomic file output: write to a temporary file beside the target, then rename over it.

A failed or interrupted build therefore never leaves a half-written file where a good one was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from book.engine.oserrors import naming


@contextlib.contextmanager
def atomic_path(target: str | Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it over the target on success.

    `durable=False` skips the sync before the rename, for files a crash may lose or tear without
    harm (cache entries, which are verified on every read)."""
    target = Path(target)
    # A full disk then names this output, not a temporary file object or nothing (book.engine.oserrors).
    with naming(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            # Data on disk before the rename: after a crash the target is the old file or the new one.
            if durable:
                with open(tmp_path, "rb") as f:
                    os.fsync(f.fileno())
            os.chmod(tmp_path, 0o644)
            os.replace(tmp_path, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()


def write_bytes(target: str | Path, data: bytes, *, durable: bool = True) -> None:
    with atomic_path(target, durable=durable) as tmp:  # which syncs the data before the rename (if durable)
        with open(tmp, "wb") as f:
            f.write(data)


def write_text(target: str | Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


class Staging:
    """A build's outputs, written into a private folder inside `out` and moved into place together.

    A build that fails after writing its EPUB (EPUBCheck errors, a PDF error, --strict warnings, a
    Ctrl-C) therefore leaves every previous output untouched: nothing reaches `out` before `commit`.
    The folder is on the same file system as `out`, so each move is an atomic rename.
    """

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out))
        self.committed: list[Path] = []

    def path(self, final: str | Path) -> Path:
        """Where to write the output that will end up at `final` (a file directly in `out`)."""
        final = Path(final)
        if final.resolve().parent != self.out.resolve():
            raise ValueError(f"{final} is not directly in {self.out}")
        return self.dir / final.name

    def commit(self) -> list[Path]:
        """Move every staged file over its final path; return the final paths."""
        for staged in sorted(self.dir.iterdir()):
            if staged.is_file():
                target = self.out / staged.name
                os.replace(staged, target)
                self.committed.append(target)
        return self.committed

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
