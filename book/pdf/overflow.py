"""Overflow from the layout: a laid-out WeasyPrint page → what it sets beyond the type area or the trim.

The build's own layout check (book.check.layout measures the written PDF with pdftotext for `book
check`): the same rules, measured on the box tree the worker has just laid out, so a part's
findings are cached with its layout and a clean build does not read its PDF again. A word is beyond
the type area when it reaches past its left or right edge (only the trim bounds text vertically), a
raster image when any side passes the type area; words are cut at spaces and joined across touching
text boxes, and a glyph that starts off the media box is dropped, as pdftotext does. Findings are plain tuples `(kind, beyond, by, text)` per page, in
PDF points; the page number is the assembler's to give.
"""

from __future__ import annotations

from typing import Any

SCALE = 0.75  # PDF points per CSS pixel
TOLERANCE = 1.0  # pt, as book.check.layout: rounding in the layout and a glyph's side bearing
GAP = 0.5  # pt: fragments closer than this are one word (pdftotext joins touching glyphs)

Finding = tuple[str, str, float, str]  # (kind "text" | "image", beyond "type area" | "trim", by pt, text)
# width, height, top, bottom, inner, outer, type width, bleed (pt)
Area = tuple[float, float, float, float, float, float, float, float]
MM = 72 / 25.4


def area_of(geo: Any) -> Area:
    """The page geometry (book.pdf.furniture.Geometry) as the plain tuple the workers take."""
    return (geo.width, geo.height, geo.top, geo.bottom, geo.inner, geo.outer, geo.type_width, geo.bleed_mm * MM)


def page_findings(page: Any, area: Area, index: int) -> list[Finding]:
    """What page `index` (0-based within a document that starts on a recto) sets beyond its type
    area or the trim."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.images import RasterImage

    width, height, top, bottom, inner, outer, type_width, bleed = area
    x0 = inner if index % 2 == 0 else outer
    bounds = (x0, x0 + type_width, top, height - bottom, width, height, bleed)
    found: list[Finding] = []
    for box in page._page_box.descendants():
        if isinstance(box, boxes.LineBox):
            _line(box, bounds, found)
        elif isinstance(box, boxes.ReplacedBox) and isinstance(box.replacement, RasterImage):
            _image(box, bounds, found)
    return found


def _image(box: Any, bounds: tuple[float, ...], found: list[Finding]) -> None:
    from weasyprint.layout.replaced import replacedbox_layout

    if box.style["visibility"] != "visible" or not box.width or not box.height:
        return
    w, h, x, y = replacedbox_layout(box)  # where WeasyPrint draws it (object-fit applied)
    if w <= 0 or h <= 0:
        return
    a0, a1, t0, t1, width, height, _bleed = bounds
    x0, x1, y0, y1 = x * SCALE, (x + w) * SCALE, y * SCALE, (y + h) * SCALE
    past_trim = max(-x0, x1 - width, -y0, y1 - height)
    past = max(a0 - x0, x1 - a1, t0 - y0, y1 - t1)
    if past_trim > TOLERANCE:
        found.append(("image", "trim", past_trim, ""))
    elif past > TOLERANCE:
        found.append(("image", "type area", past, ""))


def _texts(box: Any) -> list[Any]:
    """The text boxes of one line, in order (an inline-block's lines are lines of their own)."""
    from weasyprint.formatting_structure import boxes

    out = []
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.TextBox):
            if child.style["visibility"] == "visible" and child.text:
                out.append(child)
        elif isinstance(child, boxes.InlineBox):
            out.extend(_texts(child))
    return out


def _line(line: Any, bounds: tuple[float, ...], found: list[Finding]) -> None:
    texts = _texts(line)
    if not texts:
        return
    a0, a1, _t0, _t1, width, height, bleed = bounds
    left = min(t.position_x for t in texts) * SCALE
    right = max(t.position_x + t.width for t in texts) * SCALE
    high = min(t.position_y for t in texts) * SCALE
    low = max(t.position_y + t.height for t in texts) * SCALE
    if left >= a0 - TOLERANCE and right <= a1 + TOLERANCE and high >= -TOLERANCE and low <= height + TOLERANCE:
        return  # the common case: the whole line inside
    for x0, x1, y0, y1, word in _words(texts, (-bleed, width + bleed, -bleed, height + bleed)):
        past_trim = max(-x0, x1 - width, -y0, y1 - height)
        if past_trim > TOLERANCE:
            found.append(("text", "trim", past_trim, word))
            continue
        past = max(a0 - x0, x1 - a1)
        if past > TOLERANCE:
            found.append(("text", "type area", past, word))


def _words(texts: list[Any], media: tuple[float, float, float, float]) -> list[tuple[float, float, float, float, str]]:
    """A line's words (x0, x1, y0, y1 in points, text): cut at spaces, joined across touching boxes,
    without the glyphs that start past the media box or end before it (pdftotext drops them)."""
    words: list[list[Any]] = []
    m0, m1, n0, n1 = media
    for box in texts:
        y0, y1 = box.position_y * SCALE, (box.position_y + box.height) * SCALE
        if y0 > n1 or y1 < n0:
            continue
        text = box.text
        i = 0
        while i < len(text):
            if text[i].isspace():
                i += 1
                continue
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            x0 = (box.position_x + _advance(box, text[:i])) * SCALE
            x1 = (box.position_x + _advance(box, text[:j])) * SCALE
            start, end = i, j
            if x1 > m1 or x0 < m0:
                start, end = _on_media(box, i, j, m0, m1)
                if start >= end:
                    i = j
                    continue
                x0 = (box.position_x + _advance(box, text[:start])) * SCALE
                x1 = (box.position_x + _advance(box, text[:end])) * SCALE
            last = words[-1] if words else None
            if start == 0 and last is not None and abs(x0 - last[1]) < GAP and not last[5]:
                last[1], last[2], last[3], last[4] = x1, min(last[2], y0), max(last[3], y1), last[4] + text[start:end]
            else:
                words.append([x0, x1, y0, y1, text[start:end], False])
            words[-1][5] = j < len(text)  # ends at a space: the next box starts a new word
            i = j
        if words and text and text[-1].isspace():
            words[-1][5] = True
    return [(w[0], w[1], w[2], w[3], w[4]) for w in words]


def _on_media(box: Any, i: int, j: int, m0: float, m1: float) -> tuple[int, int]:
    """The characters of text[i:j] on the media box: from the first that ends after its left edge
    to the last that starts before its right edge (found by bisection: a layout per probe)."""

    def at(k: int) -> float:
        return (box.position_x + _advance(box, box.text[:k])) * SCALE

    lo, hi = i, j  # the first k whose glyph ends past m0: at(k + 1) >= m0
    while lo < hi:
        mid = (lo + hi) // 2
        if at(mid + 1) >= m0:
            hi = mid
        else:
            lo = mid + 1
    start = lo
    lo, hi = start, j  # the first k whose glyph starts past m1: at(k) > m1
    while lo < hi:
        mid = (lo + hi) // 2
        if at(mid) > m1:
            hi = mid
        else:
            lo = mid + 1
    return start, lo


def _advance(box: Any, prefix: str) -> float:
    """How far `prefix` (the start of a text box's text) reaches, in CSS pixels, set as the box sets it."""
    if not prefix:
        return 0.0
    if prefix == box.text:
        return box.width
    from weasyprint.text.line_break import create_layout, line_size

    layout = create_layout(prefix, box.style, None, None, box.justification_spacing)
    line, _ = layout.get_first_line()
    return line_size(line, box.style)[0]
