"""Print pages for `book preview --pdf`: the book just built and the part being edited → that part's
print pages as one PDF, laid out in a background thread and served when ready.

The reader's reload never waits for it: the EPUB is rebuilt first, then the edited part (the first
whose rendered body changed since the last build) is laid out alone, with the print edition's page
and type area, by the same WeasyPrint document code as the book (the screen profile: no bleed, RGB,
for the browser to show). Laid out alone, its folios count from 1. A newer build arriving during a layout
is laid out next, and only the newest finished one is shown.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from book.errors import BookError, Diagnostics
from book.model import Build


def edited_part(build: Build, before: dict[str, str], current: str = "") -> tuple[str, dict[str, str]]:
    """(the part to show, the bodies' hashes now): the first body part whose text changed, else `current`,
    else the first chapter."""
    now = {p.id: hashlib.sha256(p.body.encode("utf-8")).hexdigest() for p in build.parts if p.kind != "front"}
    changed = [pid for pid, h in now.items() if before and before.get(pid) != h]
    if changed:
        return changed[0], now
    if current in now:
        return current, now
    return next(iter(now), ""), now


def part_pdf(build: Build, part_id: str) -> tuple[bytes, int]:
    """The print pages of one part (its PDF bytes and page count)."""
    from book.pdf.single import write_one_document

    part = next(p for p in build.parts if p.id == part_id)
    alone = dataclasses.replace(build, parts=[part], diag=Diagnostics(echo=False))
    with tempfile.TemporaryDirectory(prefix=".print-pages-", dir=build.out) as tmp:
        result = write_one_document(alone, Path(tmp) / f"{part_id}.pdf", profile="screen")
        return result.path.read_bytes(), result.page_count


@dataclasses.dataclass
class PrintPages:
    """The newest part PDF and the background thread that makes the next one."""

    on_ready: Callable[[], None] = lambda: None
    log: Callable[[str], None] = print
    pdf: bytes | None = None
    part: str = ""
    pages: int = 0
    version: int = 0
    error: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: tuple[Build, str] | None = None
        self._thread: threading.Thread | None = None

    def request(self, build: Build, part_id: str) -> None:
        """Lay `part_id` of `build` out soon (replacing a request not yet started)."""
        with self._lock:
            self._pending = (build, part_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._pending is None:
                    return
                build, part_id = self._pending
                self._pending = None
            try:
                data, pages = part_pdf(build, part_id)
            except BookError as exc:
                self.error = "\n".join(str(p) for p in exc.problems)
                continue
            except Exception:  # a bug: say so, keep the last pages
                self.error = traceback.format_exc()
                self.log(f"preview: print pages failed:\n{self.error}")
                continue
            with self._lock:
                self.pdf, self.part, self.pages, self.error = data, part_id, pages, ""
                self.version += 1
            self.log(f"preview: print pages of {part_id} ready ({pages} pages)")
            self.on_ready()

    def wait(self, timeout: float) -> bool:
        """For tests: wait until no layout is running or pending."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def status(self) -> dict | None:
        if self.pdf is None:
            return None
        return {"version": self.version, "part": self.part, "pages": self.pages}
