"""Stage cache: (stage, hash of inputs) → stored result bytes, verified before use.

Every cached result is keyed by a hash of everything that decides it: the source text, the config,
the templates and styles, and the toolchain (this package's files, the pinned tools' versions). An
entry carries an HMAC of its stage, key and bytes, under a key kept outside the output folder
(`book.cachekey`): entries are pickles, and a planted or copied-in entry must never be unpickled. A
corrupt, truncated, foreign or forged entry is discarded and recomputed, never trusted. Entries are
written atomically, so parallel workers and interrupted builds are safe.

Usage from any stage (a font subset, a fetched image, a per-part PDF):

    key = digest("subset", font_path, face_index, sorted(chars), toolchain_fingerprint())
    data = build.cache.memo_bytes("fonts", key, lambda: subset_font(font_path, face_index, chars))

Files outside the book that never change between builds (system fonts) can be keyed by
`stat_key(path)` instead of their content, which avoids reading tens of megabytes per build.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from book.engine import cachekey
from book.engine.atomic import write_bytes

T = TypeVar("T")
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the whole `book` package, not only engine/
MAGIC = b"BOOKCACHE2\n"  # 2: an HMAC instead of a plain checksum
# The distributions whose behaviour decides the outputs (pypandoc-binary pins the Pandoc binary).
TOOL_DISTRIBUTIONS = (
    "weasyprint", "pypandoc-binary", "ebooklib", "lxml", "jinja2", "fonttools", "pydyf", "tinycss2", "uharfbuzz", "pikepdf",
    "ziamath", "ziafont",
)  # fmt: skip


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
            if not x.is_file():
                feed(b"<missing>")
                return
            # Streamed, hashing as feed(x.read_bytes()) would: a 2 GB chapter was read whole here,
            # before the read stage could refuse it by its size.
            with open(x, "rb") as f:
                h.update(b"b%d:" % os.fstat(f.fileno()).st_size)
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        elif isinstance(x, dict):
            h.update(b"d%d:" % len(x))
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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stat_key(path: Path) -> str:
    """A cheap identity of a large file that is not part of the book (path, size, mtime)."""
    try:
        st = Path(path).stat()
    except OSError:
        return f"{path}:missing"
    return f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}"


def tree_files(dirs: Iterable[Path]) -> list[Path]:
    """Every file under the given folders, in a stable order (templates, styles, package data)."""
    found: list[Path] = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            continue
        real = d.resolve()
        for p in sorted(d.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("."):
                # A link out of the folder is never read, not even to hash it (it may be /dev/zero's
                # twin or a 10 GB file): the template loader refuses it when it is used.
                if p.is_symlink() and real not in p.resolve().parents:
                    continue
                found.append(p)
    return found


def tree_digest(dirs: Iterable[Path]) -> str:
    """The hash of every file under the folders, by relative name and content."""
    dirs = [Path(d) for d in dirs]
    entries = []
    for d in dirs:
        for p in tree_files([d]):
            entries.append((str(d), str(p.relative_to(d)), p.read_bytes()))
    return digest(entries)


@lru_cache(maxsize=1)
def toolchain_fingerprint() -> str:
    """Changes whenever this package's files, the Python version or the pinned tools change.

    Read from package metadata, not by importing the tools: WeasyPrint and pypandoc take a second
    to import, and a no-change rebuild must not pay that.
    """
    found = installed_versions()
    versions = [f"{name}=={found.get(_dist_name(name), 'none')}" for name in TOOL_DISTRIBUTIONS]
    return digest(_package_files(), versions, sys.version)


def _package_files() -> list[tuple[str, int, int]]:
    """This package's files by name, size and mtime: an edit, a checkout or an install changes a
    file's mtime. Not by content: reading its 1.7 MB took 27 ms of a 0.3 s no-change rebuild (10 ms now)."""
    files = []
    for p in tree_files([PACKAGE_DIR]):
        st = p.stat()
        files.append((p.relative_to(PACKAGE_DIR).as_posix(), st.st_size, st.st_mtime_ns))
    return files


def _dist_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def installed_versions() -> dict[str, str]:
    """Each installed distribution's version, from its `.dist-info` folder's name (the first on
    sys.path, as importlib.metadata finds it), by normalized name.

    Why not importlib.metadata: importing it and parsing twelve METADATA files cost 38–55 ms of a
    0.37 s no-change rebuild. A distribution found only as a legacy `.egg-info` is asked of it.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if folder.endswith(".dist-info") and "-" in folder:
                dist, _, version = folder[: -len(".dist-info")].partition("-")
                found.setdefault(_dist_name(dist), version)
    for name in TOOL_DISTRIBUTIONS:
        if _dist_name(name) not in found:
            from importlib import metadata

            with contextlib.suppress(metadata.PackageNotFoundError):
                found[_dist_name(name)] = metadata.version(name)
    return found


class Cache:
    """A folder of verified entries, `<root>/<stage>/<key[:2]>/<key>`."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.log: list[tuple[str, str, bool]] = []  # (stage, key, hit) in call order, for tests and bench
        self._secret: bytes | None = None

    def _mac(self, stage: str, key: str, data: bytes) -> bytes:
        if self._secret is None:
            self._secret = cachekey.secret(self.root.parent)
        mac = hmac.new(self._secret, f"{stage}\0{key}\0".encode(), hashlib.sha256)
        mac.update(data)
        return mac.hexdigest().encode("ascii")

    def _path(self, stage: str, key: str) -> Path:
        return self.root / stage / key[:2] / key

    def get(self, stage: str, key: str) -> bytes | None:
        """The stored bytes, or None when absent, disabled, or failing their HMAC (then deleted)."""
        if not self.enabled:
            return None
        path = self._path(stage, key)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        if blob.startswith(MAGIC):
            check, _, data = blob[len(MAGIC) :].partition(b"\n")
            if hmac.compare_digest(check, self._mac(stage, key, data)):
                with contextlib.suppress(OSError):
                    os.utime(path)  # most recently used: `trim` keeps it
                return data
        path.unlink(missing_ok=True)  # corrupt: recompute, never trust
        return None

    def put(self, stage: str, key: str, data: bytes) -> None:
        if not self.enabled:
            return
        check = self._mac(stage, key, data)
        # Not synced: an entry a crash tears fails its HMAC and is recomputed. The syncs were 20-40 ms
        # of each one-chapter preview rebuild on a shared disk (six entries a rebuild).
        write_bytes(self._path(stage, key), MAGIC + check + b"\n" + data, durable=False)

    def note(self, stage: str, key: str, hit: bool) -> None:
        """Count a lookup made outside `memo` (a caller that checks hits itself, e.g. in parallel)."""
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        self.log.append((stage, key, hit))

    def load(self, stage: str, key: str) -> Any | None:
        """The unpickled entry, or None on a miss (an entry that does not unpickle is a miss)."""
        data = self.get(stage, key)
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # noqa: BLE001 - an unreadable entry is a miss
            self._path(stage, key).unlink(missing_ok=True)
            return None

    def store(self, stage: str, key: str, value: Any) -> None:
        self.put(stage, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def memo(self, stage: str, key: str, compute: Callable[[], T]) -> T:
        """The cached value for (stage, key), computing and storing it on a miss (pickled)."""
        value = self.load(stage, key)
        if value is not None:
            self.note(stage, key, True)
            return value
        self.note(stage, key, False)
        value = compute()
        self.store(stage, key, value)
        return value

    def memo_bytes(self, stage: str, key: str, compute: Callable[[], bytes]) -> bytes:
        """Like `memo` for raw bytes (font subsets, PDFs): stored as they are, no pickling."""
        data = self.get(stage, key)
        if data is not None:
            self.note(stage, key, True)
            return data
        self.note(stage, key, False)
        data = compute()
        self.put(stage, key, data)
        return data

    def trim(self, stage: str, keep: int) -> int:
        """Delete all but a stage's `keep` most recently used entries; returns how many went."""
        folder = self.root / stage
        if not self.enabled or not folder.is_dir():
            return 0
        entries = []
        for p in folder.glob("*/*"):
            try:
                entries.append((p.stat().st_mtime_ns, p))
            except OSError:
                continue
        entries.sort(reverse=True)
        for _, p in entries[keep:]:
            p.unlink(missing_ok=True)
        return max(0, len(entries) - keep)

    def prune(self, stage: str, keep: Iterable[str]) -> int:
        """Delete a stage's entries not in `keep` (old versions of edited parts); returns how many."""
        keep = set(keep)
        removed = 0
        folder = self.root / stage
        if not self.enabled or not folder.is_dir():
            return 0
        for p in folder.glob("*/*"):
            if p.name not in keep and not p.name.startswith("."):
                p.unlink(missing_ok=True)
                removed += 1
        return removed


def disabled() -> Cache:
    """A cache that never stores nor returns anything (`--no-cache`, library use)."""
    return Cache(Path(os.devnull), enabled=False)
