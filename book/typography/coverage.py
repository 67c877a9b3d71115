"""Font coverage: the book's font stacks → the set of characters they can draw (no tofu).

The cmaps of the faces our styles name are read with fontTools from the files fontconfig resolves,
once per font file version, and cached on disk (reading a CJK collection takes seconds).
"""

from __future__ import annotations

import json
import os
import unicodedata
from functools import lru_cache
from pathlib import Path

from lxml import etree

from book.engine.atomic import write_text
from book.engine.cache import digest
from book.errors import Diagnostics
from book.model import Part

# Every face named in styles/*.css (both outputs draw with these).
FAMILIES = (
    "Noto Serif CJK SC",
    "Noto Sans CJK SC",
    "Noto Sans Mono CJK SC",
    "LXGW WenKai",
    "Noto Color Emoji",
    "Noto Sans",
    "Noto Serif",
    "Noto Sans Symbols",
    "Noto Sans Symbols2",
)
# Characters that draw nothing by design: joiners, selectors, soft hyphen.
INVISIBLE = {0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFE0E, 0xFE0F, 0xFEFF}


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "book" / "cmaps"


def font_files() -> list[tuple[str, int]]:
    """(file, face index) fontconfig picks for each family, installed ones only."""
    from book.engine.fontmatch import match

    found: list[tuple[str, int]] = []
    for family in FAMILIES:
        m = match(family)
        if m is None:
            continue
        names, face = ",".join(m.families), (str(m.file), m.index)
        if family.lower() in names.lower() and face not in found:  # not a fallback for a missing family
            found.append(face)
    return found


def _cmap(file: str, index: int) -> frozenset[int]:
    path = Path(file)
    stat = path.stat()
    key = digest(str(path), str(stat.st_size), str(stat.st_mtime_ns), str(index))
    cached = _cache_dir() / f"{key}.json"
    try:
        return frozenset(json.loads(cached.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        codepoints = sorted(font.getBestCmap() or {})
    try:
        write_text(cached, json.dumps(codepoints))
    except OSError:
        pass  # a read-only home only costs speed
    return frozenset(codepoints)


@lru_cache(maxsize=1)
def coverage() -> frozenset[int]:
    """Every code point some book face can draw."""
    covered: set[int] = set()
    for file, index in font_files():
        covered |= _cmap(file, index)
    return frozenset(covered)


def drawable(c: str, covered: frozenset[int]) -> bool:
    cp = ord(c)
    if cp in covered or cp in INVISIBLE or c.isspace():
        return True
    return unicodedata.category(c) in ("Cc", "Cf")


def missing_chars(text: str, covered: frozenset[int] | None = None) -> list[str]:
    covered = coverage() if covered is None else covered
    # each distinct character once, in the order of first appearance: a chapter's 60 000 are 1 500
    return [c for c in dict.fromkeys(text) if not drawable(c, covered)]


def check_coverage(root: etree._Element, part: Part, diag: Diagnostics) -> int:
    """Rule 14: each character no book font can draw is an error naming it and its source line."""
    covered = coverage()
    if not covered:
        return 0  # no fontconfig: nothing to check against (the PDF build will say so)
    text = "".join(root.itertext()) + part.title
    bad = missing_chars(text, covered)
    for c in bad:
        name = unicodedata.name(c, "unnamed")
        diag.error(
            part.source,
            part.line_of(c),
            f"character {c!r} (U+{ord(c):04X} {name}) is in none of the book's fonts",
            "replace it, or add a font that has it to the styles",
        )
    return len(bad)
