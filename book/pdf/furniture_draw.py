"""Drawn furniture: the body's sheets and one small laid-out template → each page's heads and folios.

Laying the furniture out with WeasyPrint one sheet per book page doubled the pages laid out (the
margin boxes of a page cost about as much as a short page of text). On the body's pages the
furniture varies only by its folio: the running head, its rule and the folio's style are the same
on every verso and on every recto of a part. So WeasyPrint lays out a template (book.pdf.furniture's
furniture document) with one page per distinct (kind, side, head) and one right-hand page per
character of the folios, plus one with a character twice; every page's furniture is then its
template page's content stream with the folio's glyphs and position replaced — each character's
glyph and TJ adjustment as WeasyPrint wrote them, a right-aligned folio starting at the right edge
less the string's advance (each character's, in Pango's 1/1024 units).

The template's own pages check the composition: where it does not reproduce them (a font that kerns
digits, a folio drawn in two fonts), `compose` returns None and the caller lays the sheets out one
per page as before.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from book.pdf.furniture import Sheet

# One line of text as WeasyPrint writes it (weasyprint.draw.text): its matrix, one font, one TJ.
TEXT = re.compile(rb"BT\n1 0 0 -1 (-?[0-9.]+) (-?[0-9.]+) Tm\n(/\S+ [0-9.]+ Tf)\n\[([^\]]*)\] TJ\nET")
GLYPH = re.compile(rb"<([0-9a-f]{4})>(-?[0-9]+)?")
UNITS = 1024  # Pango units per CSS pixel: a glyph's advance is a whole number of them
TOLERANCE = 2e-6  # px: the six decimals WeasyPrint writes a position with, twice


@dataclass(frozen=True)
class Template:
    """The template document's sheets and where each piece is: `pages[(kind, side, head)]` is the
    page of that variant (side 0: recto), `chars[c]` the right-hand page whose folio is `c` alone,
    `double` the page whose folio is the first character twice."""

    sheets: list[Sheet]
    pages: dict[tuple[str, int, str], int]
    chars: dict[str, int]
    double: int


@dataclass
class DrawnFurniture:
    """A stamp for book.pdf.stitch: the template's layout and, per sheet, (template page, content)."""

    pdf: bytes
    fonts: dict[str, tuple[str, int]]
    drawn: list[tuple[int, bytes] | None]
    overflows: list[list[Any]] = field(default_factory=list)


def variant(sheet: Sheet, index: int) -> tuple[str, int, str]:
    """What a sheet's furniture looks like apart from its folio; `index` is its page in a run of
    sheets that starts on a recto."""
    return sheet.kind, index % 2, sheet.head


def template(sheets: list[Sheet]) -> Template:
    """The template document for a run of sheets that starts on a recto."""
    out: list[Sheet] = []
    pages: dict[tuple[str, int, str], int] = {}

    def put(sheet: Sheet, side: int) -> int:
        if len(out) % 2 != side:
            out.append(Sheet("none"))
        out.append(sheet)
        return len(out) - 1

    for i, sheet in enumerate(sheets):
        key = variant(sheet, i)
        if sheet.kind != "none" and key not in pages:
            pages[key] = put(sheet, key[1])
    chars = sorted({c for s in sheets if s.kind != "none" for c in s.folio})
    found = {c: put(Sheet("opener", folio=c), 0) for c in chars}
    double = put(Sheet("opener", folio=chars[0] * 2), 0) if chars else -1
    return Template(out, pages, found, double)


def _folio_text(stream: bytes, folio: str) -> re.Match[bytes] | None:
    """The folio's line in a template page's content stream: the lowest line, of one glyph per
    character."""
    lines = list(TEXT.finditer(stream))
    if not lines:
        return None
    low = max(lines, key=lambda m: float(m.group(2)))
    glyphs = GLYPH.findall(low.group(4))
    if b"".join(m.group(0) for m in GLYPH.finditer(low.group(4))) != low.group(4) or len(glyphs) != len(folio):
        return None
    return low


def _number(x: float) -> bytes:
    """A coordinate as pydyf writes it."""
    return str(int(x)).encode() if x.is_integer() else f"{x:f}".rstrip("0").encode()


def _contents(page: Any) -> bytes:
    import pikepdf

    contents = page.obj.Contents
    if isinstance(contents, pikepdf.Array):
        return b"\n".join(part.read_bytes() for part in contents)
    return contents.read_bytes()


def compose(pdf: bytes, sheets: list[Sheet]) -> list[tuple[int, bytes] | None] | None:
    """Each sheet's (template page, content stream) from the laid-out template `pdf`, None for a
    sheet without furniture; None altogether when the template's own pages are not reproduced."""
    import pikepdf

    plan = template(sheets)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        if len(doc.pages) != len(plan.sheets):
            return None
        wanted = {*plan.pages.values(), *plan.chars.values(), plan.double} - {-1}
        streams = {i: _contents(doc.pages[i]) for i in wanted}
    lines = {i: _folio_text(streams[i], plan.sheets[i].folio) for i in wanted}
    if any(m is None for m in lines.values()) or len({m.group(3) for m in lines.values()}) > 1:  # type: ignore[union-attr]
        return None  # a folio missing, or in two fonts or sizes
    token = {c: lines[i].group(4) for c, i in plan.chars.items()}  # type: ignore[union-attr]
    if not token:
        return [None] * len(sheets)
    x = {i: float(m.group(1)) for i, m in lines.items()}  # type: ignore[union-attr]
    first = next(iter(plan.chars))
    advance = {first: round((x[plan.chars[first]] - x[plan.double]) * UNITS)}
    right = x[plan.chars[first]] + advance[first] / UNITS  # where a right-aligned folio ends
    for c, i in plan.chars.items():
        advance[c] = round((right - x[i]) * UNITS)
    # Each right-hand page's folio was written rounded to six decimals: the edge lies within half a
    # unit of the sixth decimal of every one of them, and the middle of that span makes the sixth
    # decimal of the folios drawn from it come out as WeasyPrint's.
    ends = [x[i] + sum(advance[c] for c in plan.sheets[i].folio) / UNITS for i in wanted if i % 2 == 0]
    low, high = max(ends) - 5e-7, min(ends) + 5e-7
    if low <= high:
        right = (low + high) / 2

    def start(page: int, folio: str) -> float:
        """Where `folio` starts on a page like template page `page`: a verso's is set flush left
        (where the template's starts), a recto's flush right."""
        return x[page] if page % 2 else right - sum(advance[c] for c in folio) / UNITS

    for page in wanted:  # the template reproduces itself, positions to the written precision
        m = lines[page]
        folio = plan.sheets[page].folio
        if b"".join(token[c] for c in folio) != m.group(4) or abs(start(page, folio) - x[page]) > TOLERANCE:  # type: ignore[union-attr]
            return None
    out: list[tuple[int, bytes] | None] = []
    for i, sheet in enumerate(sheets):
        if sheet.kind == "none":
            out.append(None)
            continue
        page = plan.pages[variant(sheet, i)]
        m = lines[page]
        if sheet.folio == plan.sheets[page].folio:
            out.append((page, streams[page]))
            continue
        at, tj = _number(start(page, sheet.folio)), b"".join(token[c] for c in sheet.folio)
        line = b"BT\n1 0 0 -1 %s %s Tm\n%s\n[%s] TJ\nET" % (at, m.group(2), m.group(3), tj)  # type: ignore[union-attr]
        stream = streams[page]
        out.append((page, stream[: m.start()] + line + stream[m.end() :]))  # type: ignore[union-attr]
    return out
