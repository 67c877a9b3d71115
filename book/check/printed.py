"""What is printed: a built print PDF → each page's glyphs (baseline, size, advance, the
adjustment after each) grouped into lines, and its tinted rectangles (boxes), in trim coordinates.

Read from the page content with pikepdf, following the text and graphics state through forms; the
widths and ToUnicode maps as WeasyPrint writes them, parsed by `book.pdf.subset`. Shared by the
page audit and the line audit (book.check.page_audit, book.check.line_audit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Glyph:
    """One glyph as printed: baseline position (pt, y up from the trim's foot), size, advance."""

    x: float
    y: float
    size: float
    font: str
    char: str
    advance: float
    extra: float = 0.0  # pt of adjustment after the glyph (positive: a gap, negative: compressed)


@dataclass
class Line:
    y: float
    glyphs: list[Glyph]

    @property
    def text(self) -> str:
        return "".join(g.char for g in self.glyphs)

    @property
    def size(self) -> float:
        return Counter(round(g.size, 2) for g in self.glyphs).most_common(1)[0][0]

    @property
    def x0(self) -> float:
        return self.glyphs[0].x

    @property
    def x1(self) -> float:
        return max(g.x + g.advance for g in self.glyphs)


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Page:
    index: int
    lines: list[Line]
    boxes: list[Rect] = field(default_factory=list)


def concat(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    """The PDF matrix product m × n (m applied first), as `cm` concatenates onto the current matrix."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


class _Font:
    def __init__(self, font: Any) -> None:
        from book.pdf.subset import to_unicode, widths

        self.name = str(font.get("/BaseFont", ""))
        self.two_byte = str(font.get("/Subtype")) == "/Type0"
        self.widths: dict[int, float] = {}
        self.default = 1000.0
        if self.two_byte:
            desc = font.DescendantFonts[0]
            self.default = float(desc.get("/DW", 1000))
            if "/W" in desc:
                self.widths = {k: float(v) for k, v in widths(desc.W).items()}
        elif "/Widths" in font:
            first = int(font.get("/FirstChar", 0))
            self.widths = {first + i: float(w) for i, w in enumerate(font.Widths)}
            self.default = 0.0
        self.unicode: dict[int, str] = {}
        if "/ToUnicode" in font:
            for cid, hexs in to_unicode(font.ToUnicode.read_bytes()).items():
                try:
                    self.unicode[cid] = bytes.fromhex(hexs.decode()).decode("utf-16-be")
                except ValueError:
                    continue

    def codes(self, data: bytes) -> Iterator[int]:
        if self.two_byte:
            for i in range(0, len(data) - 1, 2):
                yield data[i] << 8 | data[i + 1]
        else:
            yield from data


def _walk(stream: Any, resources: Any, ctm: tuple[float, ...], glyphs: list[Glyph], rects: list[Rect],
          depth: int = 0) -> None:  # fmt: skip
    import pikepdf

    fonts: dict[str, _Font] = {}
    stack: list[tuple[tuple[float, ...], bool]] = []
    tinted = False
    path: list[Rect] = []
    tm = tlm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    font: _Font | None = None
    fs = tc = 0.0
    res_fonts = resources.get("/Font", {}) if resources is not None else {}
    xobjects = resources.get("/XObject", {}) if resources is not None else {}
    for operands, op in pikepdf.parse_content_stream(stream):
        o = str(op)
        if o == "q":
            stack.append((ctm, tinted))
        elif o == "Q" and stack:
            ctm, tinted = stack.pop()
        elif o == "cm":
            ctm = concat(tuple(float(v) for v in operands), ctm)
        elif o in ("sc", "scn", "k", "rg", "g"):
            values = [float(v) for v in operands if not isinstance(v, pikepdf.Name)]
            # a tint: neither white nor full black (K only: 0 0 0 1), i.e. a box's background
            white = (
                all(v == 0 for v in values)
                if o in ("k", "sc", "scn") and len(values) == 4
                else all(v == 1 for v in values)
            )
            black = values[-1:] == [1.0] and not any(values[:-1]) if len(values) == 4 else not any(values)
            tinted = not (white or black)
        elif o == "re":
            x, y, w, h = (float(v) for v in operands)
            (ax, ay), (bx, by) = point(ctm, x, y), point(ctm, x + w, y + h)
            path.append(Rect(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        elif o in ("f", "f*", "F", "B", "b"):
            if tinted:
                rects.extend(path)
            path = []
        elif o in ("n", "S", "s"):
            path = []
        elif o == "BT":
            tm = tlm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        elif o == "Tm":
            tm = tlm = tuple(float(v) for v in operands)
        elif o in ("Td", "TD"):
            tlm = concat((1, 0, 0, 1, float(operands[0]), float(operands[1])), tlm)
            tm = tlm
        elif o == "Tc":
            tc = float(operands[0])
        elif o == "Tf":
            name = str(operands[0])
            if name not in fonts and name in res_fonts:
                fonts[name] = _Font(res_fonts[name])
            font, fs = fonts.get(name), float(operands[1])
        elif o in ("TJ", "Tj") and font is not None:
            items = list(operands[0]) if o == "TJ" else [operands[0]]
            tm = _show(items, font, fs, tc, tm, ctm, glyphs)
        elif o == "Do" and depth < 4:
            xo = xobjects.get(str(operands[0])) if xobjects else None
            if xo is not None and str(xo.get("/Subtype")) == "/Form":
                matrix = tuple(float(v) for v in xo.get("/Matrix", [1, 0, 0, 1, 0, 0]))
                _walk(xo, xo.get("/Resources", resources), concat(matrix, ctm), glyphs, rects, depth + 1)


def point(m: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    """(x, y) through the matrix m."""
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _show(items: list[Any], font: _Font, fs: float, tc: float, tm: tuple[float, ...], ctm: tuple[float, ...],
          glyphs: list[Glyph]) -> tuple[float, ...]:  # fmt: skip
    import pikepdf

    tx = 0.0
    for item in items:
        if isinstance(item, pikepdf.String) or isinstance(item, bytes):
            for code in font.codes(bytes(item)):
                w = font.widths.get(code, font.default) / 1000 * fs
                m = concat(tm, ctm)
                scale = abs(m[3]) or abs(m[2])
                x, y = point(m, tx, 0)
                glyphs.append(Glyph(x, y, fs * scale, font.name, font.unicode.get(code, "\ufffd"), w * abs(m[0])))
                tx += w + tc
        else:
            adjust = -float(item) / 1000 * fs
            tx += adjust
            if glyphs:
                last = glyphs[-1]
                m = concat(tm, ctm)
                glyphs[-1] = Glyph(last.x, last.y, last.size, last.font, last.char, last.advance,
                                   last.extra + adjust * abs(m[0]))  # fmt: skip
    return concat((1, 0, 0, 1, tx, 0), tm)


def _lines(glyphs: Iterable[Glyph]) -> list[Line]:
    rows: dict[float, list[Glyph]] = {}
    for g in glyphs:
        if g.char.strip():
            rows.setdefault(round(g.y, 1), []).append(g)
    merged: list[Line] = []
    for y in sorted(rows, reverse=True):
        if merged and abs(merged[-1].y - y) <= 0.15:
            merged[-1].glyphs += rows[y]
        else:
            merged.append(Line(rows[y][0].y, rows[y]))
    for line in merged:
        line.glyphs.sort(key=lambda g: g.x)
    return merged


def read_pages(path: Path) -> list[Page]:
    """Every page's lines (glyphs grouped by baseline, top to bottom) and tinted boxes, in trim coordinates."""
    import pikepdf

    pages = []
    with pikepdf.open(path) as pdf:
        for i, page in enumerate(pdf.pages):
            glyphs: list[Glyph] = []
            rects: list[Rect] = []
            trim = [float(v) for v in page.obj.get("/TrimBox", page.obj.MediaBox)]
            _walk(page, page.obj.get("/Resources"), (1, 0, 0, 1, -trim[0], -trim[1]), glyphs, rects)
            pages.append(Page(i, _lines(glyphs), _boxes(rects)))
    return pages


def _boxes(rects: list[Rect]) -> list[Rect]:
    """Tinted rectangles wide enough to be a box (not a label chip), one per box (a box's background
    and its border ring are drawn as separate fills of the same outline)."""
    out: list[Rect] = []
    for r in sorted(rects, key=lambda r: (-r.y1, r.x0)):
        if r.x1 - r.x0 < 120 or r.y1 - r.y0 < 6:
            continue
        if any(abs(r.y0 - o.y0) < 1 and abs(r.y1 - o.y1) < 1 and r.x0 < o.x1 and o.x0 < r.x1 for o in out):
            continue
        out.append(r)
    return out
