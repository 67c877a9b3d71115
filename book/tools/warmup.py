"""EPUBCheck's warm-up book: `book init`'s two chapters built by this toolchain, once per machine
(`make tools`, `python -m book.tools.warmup`) → the EPUB a first build's own JVM warms up on
(book.check.cds.warmup_epub, book.check.early).

Why a book of ours and not a hand-written EPUB: the JVM's warm-up is there so that the book's own
check, which comes at the end of the build, finds its schemas compiled and its code compiled by C1.
An EPUB of this toolchain has what the books' EPUBs have (an NCX, a page list, a cover image, font
subsets, the templates' markup), so the book's check meets nothing for the first time. It is built
with `--no-check` (its verdict is never read: it only warms) into a temporary folder, and moved
into the user's cache whole.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from book.check.cds import warmup_path
from book.tools.init import init

TIMEOUT = 600  # s for the build on a loaded machine (~2 s on an idle one)


def make_warmup(force: bool = False) -> Path | None:
    """The warm-up EPUB in the user's cache, built unless it is there (or with `force`); None when
    the build failed (the early JVM then warms up on book.check.cds.small_epub, as before)."""
    target = warmup_path()
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folder = Path(tmp) / "book"
        init(folder)
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "book", "build", "--format", "epub", "--no-check",
               "--config", str(folder / "book.yaml"), "--out", str(out)]  # fmt: skip
        env = {**os.environ, "BOOK_PROGRESS": "0", "SOURCE_DATE_EPOCH": "0"}
        try:
            done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            return None
        made = sorted(out.glob("*.epub"))
        if done.returncode != 0 or not made:
            return None
        os.replace(made[0], target)  # atomic: an early JVM never reads a half-written book
    return target


def main() -> int:
    made = make_warmup(force="--force" in sys.argv[1:])
    print(f"EPUBCheck's warm-up book: {made or 'not made (its build failed)'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
