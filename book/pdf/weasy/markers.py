"""WeasyPrint speed patch: an outside list marker's shrink-to-fit width → measured once per marker text and style.

WeasyPrint 70 lays an outside `::marker` out as an absolutely positioned block whose width is its
shrink-to-fit width, so every list item, each time its page is laid out, measures its "1." or "•"
with Pango twice (min-content and max-content width). On the sample's chapter (392 items, 746
marker layouts) that was 0.42 s of a 4.1 s layout, and list markers were ~12% of the 30-chapter
book's. Equal markers have equal widths: the patch keeps both widths per (text, the style values
that measure text) for a marker made of one line of one text box, and computes `shrink_to_fit`'s
`min(max(min_content, available), max_content)` from them. Any other box, or a style value that
cannot be hashed, is measured by WeasyPrint as before, so every box gets the width it got, and the
PDF is the same bytes. Installed by `book.pdf.weasy.install()`. Idempotent.
"""

from __future__ import annotations

from typing import Any

_installed = False
ORIGINALS: dict[str, Any] = {}  # WeasyPrint's own function, for the tests' comparison

# What the content widths of a line of text read, besides the text (weasyprint.layout.preferred and
# weasyprint.text, 70.0): the font, the spacing and breaking rules, the box's own sizes and edges.
MEASURED = (
    "font_family", "font_style", "font_stretch", "font_weight", "font_size", "font_variant_ligatures",
    "font_variant_position", "font_variant_caps", "font_variant_numeric", "font_variant_alternates",
    "font_variant_east_asian", "font_feature_settings", "font_variation_settings", "font_language_override",
    "font_kerning", "lang", "direction", "unicode_bidi", "letter_spacing", "word_spacing", "text_transform",
    "white_space", "tab_size", "hyphens", "hyphenate_character", "hyphenate_limit_chars", "hyphenate_limit_zone",
    "overflow_wrap", "word_break", "text_indent", "line_height", "width", "min_width", "max_width",
    "margin_left", "margin_right", "padding_left", "padding_right", "border_left_width", "border_right_width",
    "border_left_style", "border_right_style", "box_sizing",
)  # fmt: skip


def marker_key(box: Any) -> Any:
    """The key of an outside marker made of one line of one text box; None for anything else."""
    from weasyprint.formatting_structure import boxes

    if not box.is_outside_marker or len(box.children) != 1:
        return None
    line = box.children[0]
    if type(line) is not boxes.LineBox or len(line.children) != 1 or type(line.children[0]) is not boxes.TextBox:
        return None
    text = line.children[0]
    key = (text.text, *(box.style[name] for name in MEASURED), *(text.style[name] for name in MEASURED))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def install() -> None:
    global _installed
    if _installed:
        return
    from weasyprint.layout import absolute, preferred

    original = ORIGINALS.setdefault("shrink_to_fit", preferred.shrink_to_fit)

    def shrink_to_fit(context: Any, box: Any, available_content_width: float) -> float:
        key = marker_key(box) if box.is_outside_marker else None
        if key is None:
            return original(context, box, available_content_width)
        widths = box.style.font_config.__dict__.setdefault("book_markers", {})
        found = widths.get(key)
        if found is None:
            found = widths[key] = (
                preferred.min_content_width(context, box, outer=False),
                preferred.max_content_width(context, box, outer=False),
            )
        return min(max(found[0], available_content_width), found[1])

    absolute.shrink_to_fit = shrink_to_fit  # the marker's width: absolute_width, by this name
    _installed = True
