"""WeasyPrint patch: block boxes of the text → placed on the page's line grid (版心网格).

A Chinese book sets every body line on one grid: its pitch is the body's line height, its origin
the top of the type area, so lines back each other through the sheet and facing pages end on the
same baseline. WeasyPrint 70 stacks blocks wherever their heights and margins put them: a heading in
larger type, a table, a figure or a listing leaves everything after it off the grid. `install()`
wraps `block_level_layout` (in `weasyprint.layout.block` and `.page`): before a block of the text
is laid out, the space above it is rounded up so its top lands on the next grid line. The box is
moved down, not given a margin, so margin collapsing, page-top margin truncation and overflow work
as before. The CSS keeps the spaces of the text whole lines (styles/grid.css), so only blocks that
cannot be (display type, tables, images, code) add the rounding after them.

Which blocks: those inside `.content` (a part's text), except inside tables, figures, code,
footnotes and the reference list, which keep their own smaller pitch. The grid's pitch is the root
element's line height; its origin the page's content top. Installed by `book.pdf.weasy.install()`.
"""

from __future__ import annotations

from typing import Any

EPSILON = 0.01  # px: positions this close to a grid line are on it
OWN_PITCH_TAGS = frozenset({"table", "pre", "figure", "img", "svg", "math"})
OWN_PITCH_CLASSES = frozenset({"footnote", "references", "sourceCode", "opener", "toc"})
_installed = False


def snapped(top: float, origin: float, pitch: float) -> float:
    """`top` moved down to the next line of the grid (`origin` + k × `pitch`), if it is not on one."""
    off = (top - origin) % pitch
    if off < EPSILON or pitch - off < EPSILON:
        return top
    return top + pitch - off


def _pitch(style: Any) -> float | None:
    height = style["line_height"]
    if height == "normal":
        return None
    if isinstance(height, (int, float)):
        return float(height) * style["font_size"]
    return float(height.value) if getattr(height, "unit", None) == "px" else None


def _grid_state(box: Any, parent: Any) -> bool:
    """Whether `box` is placed on the grid: inside `.content`, not inside a block with its own pitch."""
    inherited = getattr(parent, "book_grid", False)
    element = getattr(box, "element", None)
    if element is not None and getattr(parent, "element", None) is not element:
        classes = set((element.get("class") or "").split())
        if "content" in classes:
            inherited = True
        if box.element_tag in OWN_PITCH_TAGS or classes & OWN_PITCH_CLASSES:
            inherited = False
    return inherited


def install() -> bool:
    """Patch WeasyPrint once (idempotent); `book.pdf.weasy.install` checks the version first."""
    global _installed
    if _installed:
        return True
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import block, page
    from weasyprint.layout.percent import resolve_percentages

    original = block.block_level_layout

    def block_level_layout(context: Any, box: Any, bottom_space: float, skip_stack: Any, containing_block: Any,
                           page_is_empty: bool = True, absolute_boxes: Any = None, fixed_boxes: Any = None,
                           adjoining_margins: Any = None, *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        if box.is_for_root_element:
            pitch = _pitch(box.style)
            context.book_grid = (box.position_y, pitch) if pitch else None
        else:
            box.book_grid = _grid_state(box, containing_block)
            grid = getattr(context, "book_grid", None)
            # a block continued from the previous page starts at the page top, on the grid already
            if grid and box.book_grid and not page_is_empty and skip_stack is None and isinstance(box, boxes.BlockBox):
                if not isinstance(box, boxes.TableBox):
                    resolve_percentages(box, containing_block)
                margin_top = 0 if box.margin_top == "auto" else box.margin_top
                top = box.position_y + block.collapse_margin([*(adjoining_margins or []), margin_top])
                box.position_y += snapped(top, *grid) - top
        return original(context, box, bottom_space, skip_stack, containing_block, page_is_empty, absolute_boxes,
                        fixed_boxes, adjoining_margins, *args, **kwargs)  # fmt: skip

    block.block_level_layout = block_level_layout
    page.block_level_layout = block_level_layout
    _installed = True
    return True
