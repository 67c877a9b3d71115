"""WeasyPrint patch: justified lines with Chinese text → extra space spread between the characters.

WeasyPrint 70 justifies only at U+0020/U+00A0, so a line of Han characters is left ragged and a
mixed line puts all its slack into the few Han–Latin spaces. clreq §3.8 (line adjustment) expands
between characters instead. `install()` replaces `justify_line` in `weasyprint.layout.inline`:
for a line with CJK characters, every gap after a CJK character and every space becomes an
expansion opportunity of the same width; the spacing that makes the text boxes
grow by exactly the line's slack is solved for with Pango's own measurements (so Pango's
letter-spacing rules at run edges are accounted for exactly). Drawing applies it as Pango letter-spacing
over each text box that holds CJK (`Layout.set_text`, also patched). Lines without CJK keep WeasyPrint's algorithm.
clreq's order of adjustment caps the Han expansion: past `HAN_GAP_LIMIT` (⅛ em) between characters,
a line that has spaces (around Latin words) keeps its Han gaps at the cap and puts the rest of its
slack into those spaces; a line without spaces has no other break and expands its Han gaps further.

Installed by `book.pdf.weasy.install()`, which checks the pinned WeasyPrint version first.
"""

from __future__ import annotations

import re
from typing import Any

from book.text import FULLWIDTH_PUNCT, HAN

CJK_RUN = re.compile(f"[{HAN}{re.escape(FULLWIDTH_PUNCT)}\u3000-\u303f\uff00-\uffef]+".encode())
CJK_CHAR = re.compile(f"[{HAN}{re.escape(FULLWIDTH_PUNCT)}\u3000-\u303f\uff00-\uffef]")
_PROBE = 0.3137  # px; not a whole px: Pango rounds half letter-spacings of whole px (hinting)
HAN_GAP_LIMIT = 0.125  # em: the most a gap between Han characters grows while spaces can take the rest
SPACE_LIMIT = 0.5  # em: the most a space grows; past it the Han gaps take the rest after all
_installed = False


class Spacing(float):
    """Word spacing for justification that also carries the CJK inter-character spacing."""

    cjk: float

    def __new__(cls, value: float, cjk: float) -> Spacing:
        obj = super().__new__(cls, value)
        obj.cjk = cjk
        return obj


def has_cjk(text: str) -> bool:
    return CJK_CHAR.search(text) is not None


def cjk_byte_ranges(text: str) -> list[tuple[int, int]]:
    """UTF-8 byte ranges of the CJK runs of `text` (where letter-spacing is added)."""
    return [(m.start(), m.end()) for m in CJK_RUN.finditer(text.encode("utf-8"))]


def install() -> bool:
    """Patch WeasyPrint once (idempotent); `book.pdf.weasy.install` checks the version first."""
    global _installed
    if _installed:
        return True
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import inline
    from weasyprint.text import line_break
    from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, pango

    original_set_text = line_break.Layout.set_text
    original_justify_line = inline.justify_line

    def set_text(self: Any, text: str, justify: bool = False) -> None:
        original_set_text(self, text, justify)
        cjk = getattr(self.justification_spacing, "cjk", 0)
        if not (justify and cjk and self.text):
            return
        letter_spacing = self.style["letter_spacing"]
        base = 0 if letter_spacing == "normal" else letter_spacing
        units = int((cjk + base) * TO_UNITS)
        if units % int(TO_UNITS) == 0:
            units += 1  # whole px get their halves rounded by Pango's hinting: stay linear
        attr_list = pango.pango_layout_get_attributes(self.layout)
        if attr_list == ffi.NULL:
            attr_list = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
        # Only the CJK runs are letter-spaced: clreq expands between Han characters and after
        # punctuation, never inside a Latin word. The spaces keep WeasyPrint's own attribute.
        for start, end in cjk_byte_ranges(self.text):
            attr = pango.pango_attr_letter_spacing_new(units)
            attr.start_index, attr.end_index = start, end
            pango.pango_attr_list_insert(attr_list, attr)
        pango.pango_layout_set_attributes(self.layout, attr_list)

    def text_boxes(box: Any) -> list[Any]:
        if isinstance(box, boxes.TextBox):
            return [box]
        if isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            return [b for child in box.children if child.is_in_normal_flow() for b in text_boxes(child)]
        return []

    def measured_width(box: Any, spacing: float, cjk: float | None = None) -> float:
        layout = line_break.Layout(box.style, Spacing(spacing, spacing if cjk is None else cjk), None)
        layout.set_text(box.text, justify=True)
        line, _ = layout.get_first_line()
        # the sum of glyph advances, exactly what the text drawer moves by (Pango's logical
        # extents trim the letter-spacing at the line's edges, the drawer does not)
        width = 0
        run = line.runs
        while run != ffi.NULL:
            glyphs = run.data.glyphs
            width += sum(glyphs.glyphs[i].geometry.width for i in range(glyphs.num_glyphs))
            run = run.next
        return width * FROM_UNITS

    def eligible(box: Any) -> bool:
        return bool(box.text) and (has_cjk(box.text) or " " in box.text or "\u00a0" in box.text)

    def add_spacing(context: Any, box: Any, spacing: Spacing, x_advance: float, grown: dict[int, float]) -> float:
        if isinstance(box, boxes.TextBox):
            box.justification_spacing = spacing
            box.position_x += x_advance
            extra = grown.get(id(box), 0.0)
            if extra:
                layout = line_break.create_layout(
                    box.text, box.style, context, max_width=None, justification_spacing=box.justification_spacing
                )
                layout.deactivate()
                x_advance += extra
                box.width += extra
                box.pango_layout = layout
        elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            box.position_x += x_advance
            before = x_advance
            children = box.children[::-1] if box.style["direction"] == "rtl" else box.children
            for child in children:
                if child.is_in_normal_flow():
                    x_advance = add_spacing(context, child, spacing, x_advance, grown)
            box.width += x_advance - before
        else:
            box.translate(x_advance, 0)
        return x_advance

    def justify_line(context: Any, line: Any, extra_width: float) -> None:
        texts = [b for b in text_boxes(line) if eligible(b)]
        if not any(has_cjk(b.text) for b in texts):
            return original_justify_line(context, line, extra_width)
        base = {id(b): measured_width(b, 0.0) for b in texts}

        def growth(spacing: float) -> dict[int, float]:
            return {id(b): measured_width(b, spacing) - base[id(b)] for b in texts}

        # Pango's letter-spacing is not exactly linear (rounding at run edges): solve by secant
        # from a probe, then keep the widths actually measured at the chosen spacing
        spacing, grown = _PROBE, growth(_PROBE)
        for _ in range(3):
            total = sum(grown.values())
            if total == 0 or extra_width == 0:
                return None
            if abs(total - extra_width) < 0.01:
                break
            # a negative slack (a closing mark kept on the line by kinsoku overflows it) is
            # taken back from the same gaps: clreq's adjustment compresses before it expands
            spacing = spacing * extra_width / total
            grown = growth(spacing)
        cap = HAN_GAP_LIMIT * line.style["font_size"]
        if spacing > cap and any(" " in b.text or "\u00a0" in b.text for b in texts):
            word, grown = solve(texts, base, extra_width, spacing, lambda w: (w, cap))
            limit = SPACE_LIMIT * line.style["font_size"]
            if word <= limit:
                add_spacing(context, line, Spacing(word, cap), 0, grown)
                return None
            # few spaces: they stop at their limit and the Han gaps take what is left
            cjk, grown = solve(texts, base, extra_width, spacing, lambda c: (limit, c))
            add_spacing(context, line, Spacing(limit, cjk), 0, grown)
            return None
        add_spacing(context, line, Spacing(spacing, spacing), 0, grown)
        return None

    def solve(texts: list[Any], base: dict[int, float], extra_width: float, start: float, spacings: Any) -> Any:
        """The value `x` for which the spacings `spacings(x)` (word, Han) grow the line by its slack:
        solved as a line through two measures, then once more (the growth is near linear in x)."""

        def growth(x: float) -> dict[int, float]:
            word, cjk = spacings(x)
            return {id(b): measured_width(b, word, cjk) - base[id(b)] for b in texts}

        at_zero = sum(growth(0.0).values())
        x, grown = start, growth(start)
        for _ in range(2):
            total = sum(grown.values())
            if abs(total - extra_width) < 0.01 or total == at_zero:
                break
            x = x * (extra_width - at_zero) / (total - at_zero)
            grown = growth(x)
        return x, grown

    line_break.Layout.set_text = set_text
    inline.justify_line = justify_line
    _installed = True
    return True
