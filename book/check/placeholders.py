"""Placeholder check: rendered parts (or the built EPUB) → where a `status: final` part would print a
placeholder for a missing, refused or unfetched image.

The images stage marks each placeholder with the line the author wrote the image on
(`data-source="chapters/03.md:41"`) and, in a final part, `data-final`. Draft and review parts keep
their placeholders, visibly marked; a final part must not reach the printer with one: the print
profile stops (book.pipeline) and `book check` fails, each with the list of lines.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from book.errors import Diagnostics
from book.model import Build, CheckResult

PLACEHOLDER = re.compile(r"<(?:figure|span)\b[^>]*\bimage-placeholder\b[^>]*>")
SOURCE = re.compile(r'\sdata-source="([^"]*)"')


def final_placeholders(bodies: Iterable[str]) -> list[str]:
    """`path:line` of every placeholder in a final part, in book order."""
    found = []
    for body in bodies:
        for m in PLACEHOLDER.finditer(body):
            if 'data-final="true"' in m.group(0):
                where = SOURCE.search(m.group(0))
                found.append(where.group(1) if where else "?")
    return found


def check_epub_placeholders(epub: Path) -> CheckResult:
    """`book check`: the built EPUB's final parts carry no image placeholder."""
    with zipfile.ZipFile(epub) as z:
        bodies = [z.read(n).decode("utf-8", "replace") for n in sorted(z.namelist()) if n.endswith(".xhtml")]
    found = final_placeholders(bodies)
    if not found:
        return CheckResult("final images", True, "no placeholder or missing image in a final part")
    details = [f"{w}: image placeholder in a final part — embed the image or set the part's status to review"
               for w in found]  # fmt: skip
    return CheckResult("final images", False, f"{len(found)} placeholder(s) in final parts", details)


def stop_on_final_placeholders(build: Build, diag: Diagnostics) -> None:
    """The print profile stops on a final part that would print an image placeholder, naming each."""
    for where in final_placeholders(p.body for p in build.parts):
        path, _, line = where.rpartition(":")
        if not line.isdigit():
            path, line = where, ""
        diag.error(build.config.root / path, int(line) if line else None,
                   "a final part would print an image placeholder (missing, refused or unfetched image)",
                   "embed the image, or set the part's status to review")  # fmt: skip
    diag.raise_if_errors()
