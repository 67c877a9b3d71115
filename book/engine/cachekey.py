"""Cache key: the user's cache folder → the secret that authenticates `build/.cache` entries.

The secret lives outside any output folder (`$BOOK_CACHE_KEY_FILE`, else
`$XDG_CACHE_HOME/book/cache-key`, else `~/.cache/book/cache-key`), created 0600 on first use, so a
book folder shipped with a `build/.cache` of its own cannot forge entries. When it cannot be read or
created, or sits inside the output folder, a secret of this process is used: entries from earlier
builds are then misses (slower, never unsafe).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

ENV = "BOOK_CACHE_KEY_FILE"
SIZE = 32


def key_path() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "book" / "cache-key"


@lru_cache(maxsize=1)
def _process_secret() -> bytes:
    return secrets.token_bytes(SIZE)


def _read_or_create(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another build created it meanwhile
            return path.read_bytes()
        data = secrets.token_bytes(SIZE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return data


@lru_cache(maxsize=8)
def _secret_at(path: Path) -> bytes:
    try:
        data = _read_or_create(path)
    except OSError:
        return _process_secret()
    return data if len(data) >= 16 else _process_secret()


def secret(out: Path) -> bytes:
    """The secret for caches under `out`; never one stored inside `out` itself."""
    path = key_path()
    try:
        real, out_real = path.resolve(), Path(out).resolve()
    except (OSError, RuntimeError):
        return _process_secret()
    if real == out_real or out_real in real.parents:
        return _process_secret()
    return _secret_at(real)
