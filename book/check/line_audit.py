"""Line audit: a built print PDF → the line-breaking figures of its body lines (loose Han gaps and
whether the line had another break, Han–Latin gaps, compressed punctuation, hyphenated words and
the names broken by a hyphen), for `book check`'s page audit line, the tests and the measurements
in issue 18.

It reads the pages as `book.check.page_audit` does (what is printed: glyph positions, advances and
the adjustments after them) and lets that audit strip the running heads and folios first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from book.check.page_audit import HAN_GAP_LIMIT, MIN_JUSTIFIED, Audit, audit_pages, han_gaps, is_body_line
from book.check.printed import Line, Page, read_pages
from book.model import CheckResult
from book.text import CLOSING, HAN, OPENING, STOPS

_HAN = re.compile(f"[{HAN}]")
_PUNCT = set(OPENING + CLOSING + STOPS)
_HYPHENS = ("\u2010", "-")
_NAME = re.compile(r"[A-Za-z]*(?:[a-z][A-Z]|[A-Z]{2}|\d)|^[A-Z]")  # inner capital, acronym, digit, capitalised


@dataclass
class LineAudit:
    body_lines: int = 0
    body_pages: int = 0
    loose_lines: int = 0  # lines with a Han gap > HAN_GAP_LIMIT
    loose_without_space: int = 0  # of those, lines with no space (no other break to take the slack)
    han_gap_max: float = 0.0  # em, after a Han character before another Han character or a mark
    han_latin_max: float = 0.0  # em, between a Han character and a Latin letter or digit (either order)
    compressed: int = 0  # punctuation marks set in half their em (halt, by the stage or by the line's fit)
    hyphenated: list[str] = field(default_factory=list)  # the broken words, as "Datab-ricks"
    name_breaks: list[str] = field(default_factory=list)  # of those, names (capitals inside, digits, capitalised)

    @property
    def loose_per_page(self) -> float:
        return self.loose_lines / self.body_pages if self.body_pages else 0.0

    def summary(self) -> str:
        return (
            f"{self.loose_lines} of {self.body_lines} lines with Han gaps > {HAN_GAP_LIMIT} em "
            f"({self.loose_per_page:.2f} a page; {self.loose_without_space} without a space), max Han gap "
            f"{self.han_gap_max:.3f} em, max Han–Latin gap {self.han_latin_max:.3f} em, "
            f"{self.compressed} marks compressed, {len(self.hyphenated)} hyphenated words "
            f"({len(self.name_breaks)} names: {', '.join(self.name_breaks[:5]) or 'none'})"
        )


def _latin(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _line_figures(a: LineAudit, line: Line) -> None:
    glyphs = line.glyphs
    gaps = han_gaps(line)
    a.han_gap_max = max([a.han_gap_max, *gaps])
    loose = any(em > HAN_GAP_LIMIT + 0.005 for em in gaps)
    for g, h in zip(glyphs, glyphs[1:], strict=False):
        size = g.size or 1.0
        han_latin = (_HAN.match(g.char) and _latin(h.char)) or (_latin(g.char) and _HAN.match(h.char))
        if han_latin:
            a.han_latin_max = max(a.han_latin_max, (h.x - g.x - g.advance) / size)
    for g in glyphs:
        # a halted mark keeps its full width in the font and is drawn with a negative adjustment
        if g.char in _PUNCT and g.size and (g.advance + g.extra) / g.size < 0.75:
            a.compressed += 1
    a.loose_lines += loose
    # the page audit drops the space glyphs: a space shows as a wide step beside a Latin glyph
    spaced = any(h.x - g.x - g.advance > 0.15 * (g.size or 1) and (g.char.isascii() or h.char.isascii())
                 for g, h in zip(glyphs, glyphs[1:], strict=False))  # fmt: skip
    a.loose_without_space += loose and not spaced


def _edge_word(line: Line, end: bool) -> str:
    """The Latin letters and digits at the end (or start) of `line`, up to a space or another glyph."""
    glyphs = line.glyphs[::-1] if end else line.glyphs
    word: list[str] = []
    for i, g in enumerate(glyphs):
        if not (g.char.isascii() and g.char.isalnum()):
            break
        if i:
            a, b = (g, glyphs[i - 1]) if end else (glyphs[i - 1], g)
            if b.x - a.x - a.advance > 0.15 * (a.size or 1):
                break
        word.append(g.char)
    return "".join(word[::-1] if end else word)


def audit_lines_pdf(path: Path) -> LineAudit:
    """The line audit of a built PDF."""
    pages = read_pages(path)
    return audit_lines(pages, audit_pages(pages))


def audit_lines(pages: list[Page], page_audit: Audit) -> LineAudit:
    """The body lines of the pages that carry an arabic folio, as the page audit found them (it has
    stripped the running heads and folios from `pages`)."""
    body = page_audit.body_size
    a = LineAudit()
    previous: Line | None = None
    for p in pages:
        lines = [ln for ln in p.lines if is_body_line(ln, body)]
        if p.index not in page_audit.numbered or not lines:
            continue
        a.body_pages += 1
        for ln in lines:
            if len(ln.glyphs) < MIN_JUSTIFIED:
                continue  # a display line (第八章, a letter-spaced label), never a justified one
            a.body_lines += 1
            _line_figures(a, ln)
            if previous is not None and previous.text.endswith(_HYPHENS) and len(previous.glyphs) > 1:
                head = _edge_word(Line(previous.y, previous.glyphs[:-1]), end=True)
                tail = _edge_word(ln, end=False)
                if head and tail:
                    word = f"{head}-{tail}"
                    a.hyphenated.append(word)
                    if _NAME.search(head + tail):
                        a.name_breaks.append(word)
            previous = ln
    return a


def check_line_audit(path: Path, audit: LineAudit | None = None) -> CheckResult:
    """`book check`'s line: the audit's figures; it fails where a name is broken by a hyphen."""
    a = audit or audit_lines_pdf(path)
    problems = [f"a name hyphenated: {w}" for w in a.name_breaks]
    return CheckResult("line audit", not problems, a.summary(), problems)
