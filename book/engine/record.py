"""The whole-build record: a build's input fingerprint and output hashes → a no-change rebuild does nothing.

`fresh()` needs only a fingerprint of the inputs (the caller's `inputs` function: the config, the
sources, the templates, the styles) and the hashes of the outputs the last build wrote, so a rebuild
with nothing changed costs a few hashes and imports no heavy module (Pandoc, WeasyPrint, ebooklib).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from book.engine import cachekey
from book.engine.atomic import write_text
from book.engine.cache import digest, file_sha256, toolchain_fingerprint
from book.engine.memo import plain

CACHE_DIR = ".cache"


class _Tee(io.TextIOBase):
    """Passes text through to a stream and keeps a copy (the lines a replayed build prints again)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.copy = io.StringIO()
        self.paused = False  # the progress bar pauses the copy while it draws

    def write(self, s: str) -> int:
        if not self.paused:
            self.copy.write(s)
        return self.stream.write(s)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


class BuildRecord:
    """The fingerprint of a whole build's inputs and the hashes of the outputs it wrote.

    `inputs()` returns what decides the build (files are hashed by content), or None when the
    inputs cannot be read (the full build then reports why).
    """

    def __init__(self, out: str | Path, options: dict[str, Any], inputs: Callable[[], list[Any] | None]) -> None:
        self.out = Path(out)
        self.options = plain(options)
        self.inputs = inputs
        self.path = self.out / CACHE_DIR / "builds" / f"{digest(self.options)[:24]}.json"
        self.key: str | None = None
        self.lines = ""
        self.started = time.time_ns()

    def inputs_key(self) -> str | None:
        quiet = io.StringIO()
        # The full build reports the config's warnings (and the replay repeats them): not twice.
        with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
            inputs = self.inputs()
        if inputs is None:
            return None
        # Keyed like the cache's entries (book.engine.cachekey): a record planted in a shipped build
        # folder cannot name the inputs, so cannot pass its own outputs off as up to date.
        fingerprint = digest("build", toolchain_fingerprint(), self.options, inputs)
        return hmac.new(cachekey.secret(self.out), fingerprint.encode("ascii"), hashlib.sha256).hexdigest()

    def fresh(self) -> dict[str, Any] | None:
        """The stored record when the inputs match it and every output it names is unmodified."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        self.key = self.inputs_key()
        if not isinstance(record, dict) or self.key is None or record.get("key") != self.key:
            return None
        try:
            for path, sha in {**record["outputs"], **record["deps"]}.items():
                if file_sha256(Path(path)) != sha:
                    return None
        except (OSError, KeyError, TypeError, AttributeError):
            return None
        return record

    def replay(self, started: float | None = None) -> bool:
        """Print what the recorded build printed and return True when nothing needs doing; the last
        line says how long that took since `started` (a `time.perf_counter()`, default: now)."""
        started = time.perf_counter() if started is None else started
        record = self.fresh()
        if record is None:
            return False
        sys.stderr.write(record.get("lines", ""))
        shown = ", ".join(Path(p).name for p in record["outputs"])
        print(f"up to date, {time.perf_counter() - started:.1f} s ({shown})", file=sys.stderr)
        return True

    @contextlib.contextmanager
    def capture(self) -> Iterator[None]:
        """Keep what the build prints; the inputs are fingerprinted before it starts, so a source
        edited during the build makes the next build run again rather than trust stale outputs."""
        if self.key is None:
            self.key = self.inputs_key()
        tee = _Tee(sys.stderr)
        sys.stderr = tee
        try:
            yield
        finally:
            sys.stderr = tee.stream
            self.lines = tee.copy.getvalue()

    def save(self, outputs: Iterable[Path], deps: dict[str, str]) -> None:
        """Record the outputs of a successful build: the files it named, and any it wrote in `out`."""
        if self.key is None:
            return
        found = {Path(p) for p in outputs}
        if self.out.is_dir():
            for p in self.out.iterdir():
                if p.is_file() and not p.name.startswith(".") and p.stat().st_mtime_ns >= self.started:
                    found.add(p)
        record = {
            "key": self.key,
            "outputs": {str(p.resolve()): file_sha256(p) for p in sorted(found) if p.is_file()},
            "deps": dict(deps),
            "lines": self.lines,
        }
        write_text(self.path, json.dumps(record, ensure_ascii=False, indent=1))
