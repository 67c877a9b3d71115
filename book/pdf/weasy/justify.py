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
Before any of it, clreq's order compresses: where a line's gaps would open more than
`COMPRESS_ABOVE` and the next character (with the marks bound to it) is
too wide for the line by no more than half an em for each of up to `MAX_COMPRESSED` marks, the
line takes it in and those marks are set half-width with the face's `halt` feature, the mark at the
line's end first (its blank half is at the margin), then the marks inside the line from its end
(、，；：！？ and the brackets; not 。, whose space ends a sentence). `split_text_box` is wrapped for
it; the marks travel with the text box (`halts`) into the justification and the drawing.

Installed by `book.pdf.weasy.install()`, which checks the pinned WeasyPrint version first.
"""

from __future__ import annotations

import math
import re
from typing import Any

from book.text import CLOSING, FULLWIDTH_PUNCT, HAN, OPENING, STOPS, WJ

CJK_RUN = re.compile(f"[{HAN}{re.escape(FULLWIDTH_PUNCT)}\u3000-\u303f\uff00-\uffef]+".encode())
CJK_CHAR = re.compile(f"[{HAN}{re.escape(FULLWIDTH_PUNCT)}\u3000-\u303f\uff00-\uffef]")
_PROBE = 0.3137  # px; not a whole px: Pango rounds half letter-spacings of whole px (hinting)
HAN_GAP_LIMIT = 0.125  # em: the most a gap between Han characters grows while spaces can take the rest
SPACE_LIMIT = 0.5  # em: the most a space grows; past it the Han gaps take the rest after all
# em: compress only where the line as Pango broke it would open its gaps wider than this. Compressing
# wherever it fits (clreq's order taken literally) set 139 marks half-width on the sample, but the
# breaks it moved left as many loose lines as it saved (sample 3 → 5 lines over ⅛ em, a Latin-heavy
# book 12 → 10): a moved break is as likely to end a later line before an unbreakable Latin word.
# Past 1/16 em: sample 3 → 3 (62 marks), the Latin-heavy book 12 → 11; past ⅛ em: 3 and 12.
COMPRESS_ABOVE = 1 / 16
MAX_COMPRESSED = 3  # marks a line may compress (each by half an em) to take in one more character
COMPRESS_END = CLOSING + STOPS  # a mark at a line's end gives up the blank half at the margin
COMPRESS_MID = CLOSING + OPENING + STOPS.replace("。", "")  # inside a line; a full stop keeps its space
_NON_STARTER = CLOSING + STOPS + WJ + "—…·～%‰℃"  # what the next character takes along (kinsoku)
_installed = False


class Spacing(float):
    """Word spacing for justification that also carries the CJK inter-character spacing."""

    cjk: float
    halts: tuple[int, ...]  # UTF-8 byte offsets (in the box's text) of the marks set half-width

    def __new__(cls, value: float, cjk: float, halts: tuple[int, ...] = ()) -> Spacing:
        obj = super().__new__(cls, value)
        obj.cjk = cjk
        obj.halts = halts
        return obj


def next_unit(text: str, start: int) -> int:
    """The end (a character index) of what the line would take in after `text[:start]`: one character
    with the marks that may not start a line after it, or a whole Latin word."""
    if start >= len(text):
        return start
    end = start + 1
    if text[start].isascii() and text[start].isalnum():
        while end < len(text) and text[end].isascii() and (text[end].isalnum() or text[end] in "-_.'"):
            end += 1
    while end < len(text) and text[end] in _NON_STARTER:
        end += 1
    return end


def compressible(text: str, count: int) -> list[int]:
    """Character indexes of up to `count` marks of `text` (a line) to set half-width, in clreq's order:
    the mark at the line's end, then the marks inside the line from its end. A mark next to another
    mark is left alone (the typography stage halts those already)."""
    chosen: list[int] = []
    stripped = text.rstrip(" " + WJ)
    last = len(stripped) - 1
    if last >= 0 and stripped[last] in COMPRESS_END:
        chosen.append(last)
    for i in range(last - 1, -1, -1):
        if len(chosen) >= count:
            break
        c = text[i]
        if c in COMPRESS_MID and text[i - 1 : i] not in FULLWIDTH_PUNCT and text[i + 1 : i + 2] not in FULLWIDTH_PUNCT:
            chosen.append(i)
    return chosen[:count]


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
        halts = getattr(self.justification_spacing, "halts", ())
        if halts and self.text:
            set_halts(self, halts)
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

    def set_halts(self: Any, halts: tuple[int, ...]) -> None:
        attr_list = pango.pango_layout_get_attributes(self.layout)
        if attr_list == ffi.NULL:
            attr_list = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
        size = len(self.text.encode("utf-8"))
        for start in halts:
            if start < size:
                attr = pango.pango_attr_font_features_new(b"halt")
                attr.start_index, attr.end_index = start, start + 3  # a full-width mark is 3 bytes
                pango.pango_attr_list_insert(attr_list, attr)
        pango.pango_layout_set_attributes(self.layout, attr_list)

    def text_boxes(box: Any) -> list[Any]:
        if isinstance(box, boxes.TextBox):
            return [box]
        if isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            return [b for child in box.children if child.is_in_normal_flow() for b in text_boxes(child)]
        return []

    def measured_width(box: Any, spacing: float, cjk: float | None = None) -> float:
        halts = getattr(box, "halts", ())
        layout = line_break.Layout(box.style, Spacing(spacing, spacing if cjk is None else cjk, halts), None)
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
            halts = getattr(box, "halts", ())
            box.justification_spacing = Spacing(spacing, spacing.cjk, halts) if halts else spacing
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
            # WeasyPrint justifies only lines with room to spare: compression is decided when the
            # line is broken (split_text_box below), never here
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

    original_split_text_box = inline.split_text_box
    halt_gain: dict[tuple[Any, ...], float] = {}  # per face and size: what `halt` takes off a comma

    def gain(style: Any) -> float:
        key = (tuple(style["font_family"]), style["font_size"], style["font_weight"], style["font_style"])
        if key not in halt_gain:
            widths = []
            for halts in ((), (0,)):
                layout = line_break.Layout(style, Spacing(0.0, 0.0, halts), None)
                layout.set_text("，")
                widths.append(line_break.line_size(layout.get_first_line()[0], style)[0])
            halt_gain[key] = widths[0] - widths[1]
        return halt_gain[key]

    def split_text_box(context: Any, box: Any, available_width: float, skip: int, is_line_start: bool = True) -> Any:
        result = original_split_text_box(context, box, available_width, skip, is_line_start)
        new_box, resume, preserved = result
        style = box.style
        if (
            new_box is None
            or resume is None
            or preserved
            or style["text_align_all"] != "justify"
            or style["white_space"] != "normal"
            or not has_cjk(new_box.text)
        ):
            return result
        text = box.text.encode()[skip:].decode()
        start = len(new_box.text)
        end = next_unit(text, start)
        half = gain(style)
        if half < 0.4 * style["font_size"]:
            return result  # the face has no `halt` (the Kai): nothing to compress with
        unit = text[start:end]
        # a line whose gaps would stay within COMPRESS_ABOVE is left as Pango broke it: taking a
        # character in would only move the breaks of the lines after it (and loosen one of those)
        slack = available_width - new_box.width
        gaps = max(1, len(CJK_CHAR.findall(new_box.text)) - 1 + new_box.text.count(" "))
        if slack <= COMPRESS_ABOVE * style["font_size"] * gaps:
            return result
        over = new_box.width - available_width + (len(unit) - sum(c in "⁠" for c in unit)) * style["font_size"]
        if unit[:1].isascii() or not 0 < over <= MAX_COMPRESSED * half:
            return result  # a Latin word, or more than the marks can give
        marks = compressible(text[:end], MAX_COMPRESSED)
        need = max(1, math.ceil(over / half - 0.02))
        if len(marks) < need:
            return result
        chosen = marks[:need]
        halts = tuple(sorted(len(text[:i].encode()) for i in chosen))
        # split again with those marks half-width: Pango then fits the next character itself
        trial = box.copy_with_text(text)
        trial.justification_spacing = Spacing(float(box.justification_spacing), 0.0, halts)
        taken, resume2, preserved2 = original_split_text_box(context, trial, available_width, 0, is_line_start)
        if taken is None or preserved2 or len(taken.text) < end or any(h >= len(taken.text.encode()) for h in halts):
            return result
        taken.halts = halts
        taken.justification_spacing = box.justification_spacing
        return taken, None if resume2 is None else resume2 + skip, preserved2

    line_break.Layout.set_text = set_text
    inline.justify_line = justify_line
    inline.split_text_box = split_text_box
    _installed = True
    return True
