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

The marker's line itself is laid out once per marker text, style and resolved sizes as well
(`install_layouts`): equal markers get equal lines, so a later one is a copy of the first moved to
its place, with its own element and style. On the sample's chapter 379 markers, 39 of them laid
out and 340 repeated; the part's layout CPU 1.50-1.82 -> 1.29-1.73 s (3 interleaved runs, median of 4 each);
the sample's print and screen PDFs and the 30-chapter book's PDF the same bytes.
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
    install_layouts()
    _installed = True


# What else the line's height and position read: the vertical sizes and edges, alignment.
PLACED = (
    "height", "min_height", "max_height", "margin_top", "margin_bottom", "padding_top", "padding_bottom",
    "border_top_width", "border_bottom_width", "border_top_style", "border_bottom_style", "vertical_align",
    "text_align_all", "text_align_last", "text_decoration_line",
)  # fmt: skip
# A box's own: kept from the marker being laid out, never taken from the one it repeats.
OWN = ("element", "element_tag", "style", "first_letter_style", "first_line_style", "index")


def layout_key(box: Any) -> Any:
    """The key of an outside marker's laid-out line: the marker's text and measuring style, the
    vertical style, and the sizes and edges its width and height were resolved to."""
    key = marker_key(box)
    if key is None:
        return None
    text = box.children[0].children[0]
    sizes = (box.width, box.height, box.margin_top, box.margin_right, box.margin_bottom, box.margin_left,
             box.padding_top, box.padding_right, box.padding_bottom, box.padding_left, box.border_top_width,
             box.border_right_width, box.border_bottom_width, box.border_left_width)  # fmt: skip
    full = (key, sizes, *(box.style[name] for name in PLACED), *(text.style[name] for name in PLACED))
    try:
        hash(full)
    except TypeError:
        return None
    return full


def _template(box: Any) -> Any:
    """A copy of a laid-out box tree, its own objects down to the text (the Pango layout shared)."""
    copied = box.copy()
    for name in OWN:  # repeats take their own; the first marker's element tree is not kept alive
        copied.__dict__.pop(name, None)
    if hasattr(box, "children"):
        copied.children = [_template(child) for child in box.children]
    return copied


def _repeat(template: Any, own: Any) -> Any:
    """The template's layout with `own`'s identity (element, style…), box by box."""
    made = template.copy()
    for name in OWN:
        if name in own.__dict__:
            made.__dict__[name] = own.__dict__[name]
    if hasattr(template, "children"):
        made.children = [_repeat(t, o) for t, o in zip(template.children, own.children, strict=True)]
    return made


def _one_text_line(box: Any) -> bool:
    from weasyprint.formatting_structure import boxes

    line = box.children[0] if len(box.children) == 1 else None
    return (
        type(box) is boxes.BlockBox
        and type(line) is boxes.LineBox
        and len(line.children) == 1
        and type(line.children[0]) is boxes.TextBox
    )


def install_layouts() -> None:
    """An outside marker's line laid out once per `layout_key` (per process) and repeated, moved
    to each later marker's place, with that marker's own element and style: on the sample's
    chapter, 39 of 379 markers laid out. Markers beside a float (whose line the float may
    push), in a box broken across pages, or laid out as anything but one line of one text box go
    through WeasyPrint as before."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import absolute, block

    original = ORIGINALS.setdefault("absolute_block", absolute.absolute_block)
    if absolute.absolute_block is not original:
        return

    def absolute_block(context: Any, box: Any, containing_block: Any, fixed_boxes: Any, bottom_space: float,
                       skip_stack: Any, cb_x: float, cb_y: float, cb_width: float, cb_height: float) -> Any:  # fmt: skip
        if not box.is_outside_marker or skip_stack or type(box) is not boxes.BlockBox or context.excluded_shapes:
            return original(context, box, containing_block, fixed_boxes, bottom_space, skip_stack, cb_x, cb_y,
                            cb_width, cb_height)  # fmt: skip
        # As WeasyPrint's absolute_block, for a block box without a skip stack:
        translate_box_width, translate_x = absolute.absolute_width(box, context, cb_x, cb_y, cb_width, cb_height)
        translate_box_height, translate_y = absolute.absolute_height(box, context, cb_x, cb_y, cb_width, cb_height)
        bottom_space += -box.position_y if translate_box_height else translate_y
        key = layout_key(box)
        layouts = box.style.font_config.__dict__.setdefault("book_marker_layouts", {})
        found = layouts.get(key) if key is not None else None
        resume_at = None
        if found is not None:
            x, y, template = found
            new_box = _repeat(template, box)
            new_box.translate(box.position_x - x, box.position_y - y)
        else:
            x, y = box.position_x, box.position_y
            absolute_boxes: list[Any] = []
            new_box, resume_at, _, _, _, _ = block.block_container_layout(
                context, box, bottom_space, skip_stack, page_is_empty=True, absolute_boxes=absolute_boxes,
                fixed_boxes=fixed_boxes, adjoining_margins=None, first_letter_style=None, first_line_style=None,
                discard=False, max_lines=None)  # fmt: skip
            for child_placeholder in absolute_boxes:
                absolute.absolute_layout(
                    context, child_placeholder, new_box, fixed_boxes, bottom_space, skip_stack=None
                )
            if key is not None and resume_at is None and not absolute_boxes and _one_text_line(new_box):
                layouts[key] = (x, y, _template(new_box))  # before it is moved into place
        if translate_box_width:
            translate_x -= new_box.width
        if translate_box_height:
            translate_y -= new_box.height
        new_box.translate(translate_x, translate_y)
        return new_box, resume_at

    absolute.absolute_block = absolute_block
