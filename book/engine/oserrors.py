"""OS errors: an OSError from the machine or the folders the user chose → one line naming the file.

A full disk, a quota, a read-only or failing disk, or a folder without permission is not a bug: the
CLI prints `FILE: error: No space left on device — what to do` and exits 1, and the staged build
leaves the previous outputs in place. Many writers raise such errors without a file name (a
`write()` on a full disk, a zip or pikepdf save, which names its own temporary file object), so
every atomic write wraps itself in `naming(target)`, which gives the error the name of the output
being written. Staged outputs are shown under their final names (`errors.display_path`).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from book.errors import Problem, display_path

HINTS = {
    errno.ENOSPC: "free some space and build again; the previous outputs are kept",
    errno.EDQUOT: "over the disk quota: free some space and build again; the previous outputs are kept",
    errno.EFBIG: "the file is over the file system's size limit: choose another --out",
    errno.EROFS: "the folder is on a read-only file system: choose another --out",
    errno.EIO: "the disk reported an input/output error: check the disk, or choose another --out",
    errno.EACCES: "check the folder and its permissions",
    errno.EPERM: "check the folder and its permissions",
    errno.ENOTDIR: "a file stands where a folder is needed: check the path",
    errno.EISDIR: "a folder stands where a file is needed: check the path",
}
USER_OS_ERRORS = frozenset(HINTS)


def _named(filename: object) -> bool:
    return isinstance(filename, (str, bytes, os.PathLike)) and bool(os.fspath(filename))


@contextlib.contextmanager
def naming(target: str | Path) -> Iterator[None]:
    """Give an OSError raised while writing `target` that file's name, unless it already names
    another file (an input read meanwhile, say) rather than a temporary beside the target."""
    try:
        yield
    except OSError as exc:
        if exc.errno in USER_OS_ERRORS:
            name = os.fsdecode(exc.filename) if _named(exc.filename) else ""
            # pikepdf names the repr of its temporary file object, `<_io.BufferedRandom name=…>`.
            if not name or name.startswith("<") or Path(name).parent == Path(target).parent:
                exc.filename = str(target)
        raise


def problem(exc: OSError, fallback: str | Path | None = None) -> Problem | None:
    """The one-line problem for a user-fixable OSError, or None when it is a bug (keep its traceback).

    `fallback` names the file when the error names none (the build's output folder, say).
    """
    if exc.errno not in USER_OS_ERRORS:
        return None
    filename = exc.filename if _named(exc.filename) else fallback
    if filename is None:
        return None
    strerror = exc.strerror or os.strerror(exc.errno)
    return Problem(display_path(os.fsdecode(filename)), None, strerror, HINTS[exc.errno])
