"""Page audit: a built print PDF → a typesetter's figures on its pages (line grid, common foot,
split boxes, keeps, 孤字, loose Han gaps), for `book check` and the tests.

It reads what is printed, not what the CSS asked for (book.check.printed): every glyph's baseline,
size and advance, and the tinted rectangles that are boxes (callouts, the takeaways, listings).
Everything is inferred from the PDF itself, so any book can be audited:
- body size: the most common glyph size; a body line is a line set in it (no monospace);
- running heads and folios: the highest and lowest baselines most pages share, outside the type area;
- pitch: the most common distance between consecutive body lines; grid origin: the most common
  first body baseline of a page (a page that starts with text);
- a part opens on a page with a display title (≥ 1.7 × body); a full page is a body page that is not
  the last of its part; its foot is its lowest baseline, the common foot the most common of those.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from book.check.printed import Line, Page, read_pages
from book.model import CheckResult
from book.text import HAN

TOLERANCE = 0.5  # pt: a baseline this close to its grid line or to the foot is on it
HAN_GAP_LIMIT = 0.125  # em: clreq's comfortable limit for the tracking of Han text
_HAN = re.compile(f"[{HAN}]")
_LETTER = re.compile(rf"[{HAN}\w]")
_BULLETS = "◦•◆▪■●○-–·"


@dataclass
class Audit:
    """The figures; each list names the 1-based pages (or page pairs) where a rule is broken."""

    pages: int = 0
    body_size: float = 0.0
    pitch: float = 0.0
    origin: float = 0.0
    foot: float = 0.0
    body_lines: int = 0
    on_grid: int = 0
    full_pages: int = 0
    on_foot: int = 0
    spreads: int = 0
    spreads_even: int = 0
    off_foot_pages: list[int] = field(default_factory=list)
    split_boxes: list[str] = field(default_factory=list)
    short_splits: list[str] = field(default_factory=list)
    heading_at_foot: list[int] = field(default_factory=list)
    lead_in_at_foot: list[int] = field(default_factory=list)
    single_char_lines: list[int] = field(default_factory=list)
    widows_at_top: list[int] = field(default_factory=list)
    han_gaps: int = 0
    han_gap_lines: int = 0
    han_gap_max: float = 0.0
    numbered: set[int] = field(default_factory=set)  # 0-based indexes of the pages with an arabic folio

    @property
    def grid_share(self) -> float:
        return self.on_grid / self.body_lines if self.body_lines else 1.0

    @property
    def foot_share(self) -> float:
        return self.on_foot / self.full_pages if self.full_pages else 1.0

    def summary(self) -> str:
        return (
            f"{self.grid_share:.0%} of {self.body_lines} body lines on the {self.pitch:.3f} pt grid, "
            f"{self.foot_share:.0%} of {self.full_pages} full pages on the common foot, "
            f"{self.spreads_even}/{self.spreads} spreads end together, {len(self.split_boxes)} split boxes "
            f"({len(self.short_splits)} with < 3 lines on a side), {len(self.heading_at_foot)} headings and "
            f"{len(self.lead_in_at_foot)} lead-ins at a foot, {len(self.single_char_lines)} 1-character last lines, "
            f"{len(self.widows_at_top)} widows at a page top, {self.han_gaps} Han gaps > {HAN_GAP_LIMIT} em "
            f"on {self.han_gap_lines} lines (max {self.han_gap_max:.3f} em)"
        )


# --- the figures ----------------------------------------------------------------------------------


def _mode(values: Iterable[float], ndigits: int = 1) -> float:
    counts = Counter(round(v, ndigits) for v in values)
    return counts.most_common(1)[0][0] if counts else 0.0


def _letters(text: str) -> str:
    return "".join(_LETTER.findall(text.lstrip(_BULLETS + " ")))


def audit_pages(pages: list[Page], pitch: float | None = None) -> Audit:
    """The figures of `pages` (as `read_pages` gives them); `pitch` overrides the inferred one."""
    a = Audit(pages=len(pages))
    glyph_sizes = Counter(round(g.size, 2) for p in pages for line in p.lines for g in line.glyphs)
    if not glyph_sizes:
        return a
    a.body_size = body = glyph_sizes.most_common(1)[0][0]
    # furniture: the top and bottom baselines most pages share lie outside the type area
    head = _mode(p.lines[0].y for p in pages if p.lines)
    folio = _mode(p.lines[-1].y for p in pages if p.lines)
    # body pages carry an arabic folio (the front matter's are roman or absent)
    a.numbered = numbered = {
        p.index for p in pages if p.lines and abs(p.lines[-1].y - folio) < 1 and p.lines[-1].text.isdigit()
    }
    for p in pages:
        p.lines = [ln for ln in p.lines if folio + 1 < ln.y < head - 1]
    body_pages = [p for p in pages if p.index in numbered and p.lines]

    def is_body(line: Line) -> bool:
        return is_body_line(line, body)

    deltas = []
    for p in body_pages:
        ys = [ln.y for ln in p.lines if is_body(ln)]
        deltas += [u - v for u, v in zip(ys, ys[1:], strict=False) if u - v > 0.5 * body]
    # the body's line pitch is the smallest common distance (lists or spaced blocks may add to it)
    common = Counter(round(d, 1) for d in deltas)
    frequent = [d for d, n in common.items() if n >= 0.1 * len(deltas)]
    near = [d for d in deltas if frequent and abs(d - min(frequent)) <= 0.06]
    a.pitch = pitch or (sum(near) / len(near) if near else _mode(deltas, 2))
    a.origin = _mode(p.lines[0].y for p in body_pages if is_body(p.lines[0]))
    for p in body_pages:
        for ln in p.lines:
            if is_body(ln):
                a.body_lines += 1
                k = (a.origin - ln.y) / a.pitch
                a.on_grid += abs(k - round(k)) * a.pitch <= TOLERANCE
    _feet(a, pages, body_pages, body)
    _keeps(a, body_pages, body, is_body)
    _boxes_split(a, body_pages)
    _gaps(a, body_pages, is_body)
    return a


def _opener(p: Page, body: float) -> bool:
    return any(ln.size >= 1.7 * body for ln in p.lines)


def _full_pages(pages: list[Page], body_pages: list[Page], body: float) -> list[Page]:
    by_index = {p.index: p for p in pages}
    full = []
    for p in body_pages:
        nxt = by_index.get(p.index + 1)
        if nxt is None or not nxt.lines or _opener(nxt, body):
            continue  # the last page of its part
        full.append(p)
    return full


def _feet(a: Audit, pages: list[Page], body_pages: list[Page], body: float) -> None:
    full = _full_pages(pages, body_pages, body)
    a.full_pages = len(full)
    if not full:
        return
    a.foot = _mode(p.lines[-1].y for p in full)
    ends = {p.index: p.lines[-1].y for p in full}
    for p in full:
        if abs(ends[p.index] - a.foot) <= TOLERANCE:
            a.on_foot += 1
        else:
            a.off_foot_pages.append(p.index + 1)
    for i in ends:
        if i % 2 == 1 and i + 1 in ends:  # index 1 is page 2, a verso, facing page 3
            a.spreads += 1
            a.spreads_even += abs(ends[i] - ends[i + 1]) <= TOLERANCE


def _keeps(a: Audit, body_pages: list[Page], body: float, is_body: Any) -> None:
    right = {parity: _mode((ln.x1 for p in body_pages if p.index % 2 == parity for ln in p.lines if is_body(ln)), 0)
             for parity in (0, 1)}  # fmt: skip
    left = {parity: _mode((ln.x0 for p in body_pages if p.index % 2 == parity for ln in p.lines if is_body(ln)), 0)
            for parity in (0, 1)}  # fmt: skip
    previous: Page | None = None
    for p in body_pages:
        # a heading has letters (an image placeholder's ▨ is not one) and nothing set under it
        texts = [ln for ln in p.lines if ln.size > 0.9 * body and _letters(ln.text)]
        last = texts[-1] if texts else None
        if last is not None and last.size >= 1.1 * body and not _followed(p, last, a.pitch):
            a.heading_at_foot.append(p.index + 1)
        elif last is not None and last.text.rstrip().endswith(("：", ":")) and not _followed(p, last, a.pitch):
            a.lead_in_at_foot.append(p.index + 1)
        for ln in p.lines:
            if is_body(ln) and len(_letters(ln.text)) == 1 and _HAN.search(ln.text):
                a.single_char_lines.append(p.index + 1)
        body_lines = [ln for ln in p.lines if is_body(ln)]
        if previous is not None and body_lines and previous.index == p.index - 1:
            before = [ln for ln in previous.lines if is_body(ln)]
            first = body_lines[0]
            # the first line is short (a paragraph's end), is not a paragraph's first line, and
            # the previous page's last line ran to the measure: a paragraph's last line alone
            short = first.x1 < right[p.index % 2] - body
            continued = abs(first.x0 - left[p.index % 2]) < 1
            run_on = bool(before) and before[-1].x1 >= right[previous.index % 2] - 1
            if short and continued and run_on:
                a.widows_at_top.append(p.index + 1)
        previous = p


def _followed(p: Page, line: Line, pitch: float) -> bool:
    """Whether smaller type (a table, a listing) follows `line` closely: what it introduces is on its page."""
    return any(0 < line.y - ln.y <= 2 * pitch for ln in p.lines)


def _boxes_split(a: Audit, body_pages: list[Page]) -> None:
    by_index = {p.index: p for p in body_pages}
    for p in body_pages:
        if not p.boxes or not p.lines:
            continue
        bottom = p.boxes[-1]
        nxt = by_index.get(p.index + 1)
        if nxt is None or not nxt.boxes or not nxt.lines:
            continue
        top = nxt.boxes[0]
        lowest = min(ln.y for ln in p.lines)
        highest = max(ln.y for ln in nxt.lines)
        # the box runs past the last line of this page and starts above the first line of the next
        if bottom.y0 <= lowest + 1 and top.y1 >= highest:
            n_before = sum(bottom.y0 <= ln.y <= bottom.y1 for ln in p.lines)
            n_after = sum(top.y0 <= ln.y <= top.y1 for ln in nxt.lines)
            where = f"pages {p.index + 1}–{nxt.index + 1} ({n_before}+{n_after} lines)"
            a.split_boxes.append(where)
            if min(n_before, n_after) < 3:
                a.short_splits.append(where)


MIN_JUSTIFIED = 5  # glyphs: a shorter line is a display line (第八章, a letter-spaced label), never justified


def han_gaps(line: Line) -> list[float]:
    """The tracking after each Han character followed by Han or a mark, in em, on a justified line
    (one definition for this audit and book.check.line_audit); a display line has none."""
    if len(line.glyphs) < MIN_JUSTIFIED:
        return []
    return [
        g.extra / (g.size or 1.0)
        for g, h in zip(line.glyphs, line.glyphs[1:], strict=False)
        if _HAN.match(g.char) and (_HAN.match(h.char) or not h.char.isascii())
    ]


def _gaps(a: Audit, body_pages: list[Page], is_body: Any) -> None:
    for p in body_pages:
        for ln in p.lines:
            if not is_body(ln):
                continue
            gaps = han_gaps(ln)
            a.han_gap_max = max([a.han_gap_max, *gaps])
            loose = sum(em > HAN_GAP_LIMIT + 0.005 for em in gaps)
            a.han_gaps += loose
            a.han_gap_lines += loose > 0


def is_body_line(line: Line, body: float) -> bool:
    """A line set in the body size, not in the monospace of a listing."""
    return abs(line.size - body) < 0.05 and "Mono" not in line.glyphs[0].font


def audit_pdf(path: Path, pitch: float | None = None) -> Audit:
    """The page audit of a built PDF."""
    return audit_pages(read_pages(path), pitch)


def check_page_audit(path: Path, grid: float = 0.0, foot: float = 0.0, audit: Audit | None = None) -> CheckResult:
    """`book check`'s line: the audit's figures; it fails where the page breaks a keep (a box split
    with fewer than 3 lines on a side, a heading or lead-in at a foot, a 1-character last line) or
    where the grid or foot share is below the given minimum. `audit`: the PDF's, when already made."""
    a = audit or audit_pdf(path)
    problems = [f"split box with < 3 lines on a side: {w}" for w in a.short_splits]
    problems += [f"page {n}: a heading is the last line" for n in a.heading_at_foot]
    problems += [f"page {n}: a lead-in (…：) is the last line" for n in a.lead_in_at_foot]
    problems += [f"page {n}: a 1-character last line" for n in a.single_char_lines]
    if a.grid_share < grid:
        problems.append(f"{a.grid_share:.1%} of body lines on the grid, below {grid:.0%}")
    if a.foot_share < foot:
        problems.append(
            f"{a.foot_share:.1%} of full pages on the common foot, below {foot:.0%}; off: {a.off_foot_pages}"
        )
    return CheckResult("page audit", not problems, a.summary(), problems)
