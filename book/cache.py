"""Stage cache: (stage, hash of inputs) → stored result bytes, verified before use.

Every cached result is keyed by a hash of everything that decides it: the source text, the config,
the templates and styles, and the toolchain (this package's code, Pandoc's and WeasyPrint's
versions). An entry carries its own checksum; a corrupt or truncated entry is discarded and
recomputed, never trusted. Entries are written atomically.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from book.atomic import write_bytes

T = TypeVar("T")
PACKAGE_DIR = Path(__file__).resolve().parent
MAGIC = b"BOOKCACHE1\n"


def digest(*parts: bytes | str | Path | Iterable[Any] | None) -> str:
    """A stable hash of strings, bytes, files (by content) and nested iterables of them."""
    h = hashlib.sha256()

    def feed(x: Any) -> None:
        if x is None:
            h.update(b"\x00none")
        elif isinstance(x, bytes):
            h.update(b"b%d:" % len(x) + x)
        elif isinstance(x, str):
            data = x.encode("utf-8")
            h.update(b"s%d:" % len(data) + data)
        elif isinstance(x, Path):
            h.update(b"p" + str(x.name).encode() + b":")
            feed(x.read_bytes() if x.is_file() else b"<missing>")
        elif isinstance(x, dict):
            for k in sorted(x, key=str):
                feed(str(k))
                feed(x[k])
        elif isinstance(x, (list, tuple, set, frozenset)):
            items = sorted(x, key=repr) if isinstance(x, (set, frozenset)) else x
            h.update(b"l%d:" % len(items))
            for item in items:
                feed(item)
        else:
            feed(repr(x))

    for p in parts:
        feed(p)
    return h.hexdigest()


@lru_cache(maxsize=1)
def toolchain_fingerprint() -> str:
    """Changes whenever this package's code or the pinned tools change."""
    import pypandoc
    import weasyprint

    code = sorted(PACKAGE_DIR.glob("*.py"))
    return digest([p for p in code], weasyprint.__version__, pypandoc.__version__)


class Cache:
    """A folder of verified entries, `<root>/<stage>/<key>`."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _path(self, stage: str, key: str) -> Path:
        return self.root / stage / key[:2] / key

    def get(self, stage: str, key: str) -> bytes | None:
        if not self.enabled:
            return None
        path = self._path(stage, key)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        if blob.startswith(MAGIC):
            check, _, data = blob[len(MAGIC) :].partition(b"\n")
            if check.decode("ascii", "replace") == hashlib.sha256(data).hexdigest():
                return data
        path.unlink(missing_ok=True)  # corrupt: recompute, never trust
        return None

    def put(self, stage: str, key: str, data: bytes) -> None:
        if not self.enabled:
            return
        check = hashlib.sha256(data).hexdigest().encode("ascii")
        write_bytes(self._path(stage, key), MAGIC + check + b"\n" + data)

    def memo(self, stage: str, key: str, compute: Callable[[], T]) -> T:
        """The cached value for (stage, key), computing and storing it on a miss (pickled)."""
        data = self.get(stage, key)
        if data is not None:
            try:
                value = pickle.loads(data)
                self.hits += 1
                return value
            except Exception:  # noqa: BLE001 - an unreadable entry is a miss
                pass
        self.misses += 1
        value = compute()
        self.put(stage, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return value
