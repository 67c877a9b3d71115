"""WeasyPrint patch: block boxes of the text → placed on the page's line grid (版心网格).

A Chinese book sets every body line on one grid: its pitch is the body's line height, its origin
the top of the type area, so lines back each other through the sheet and facing pages end on the
same baseline. WeasyPrint 70 stacks blocks wherever their heights and margins put them: a heading in
larger type, a table, a figure or a listing leaves everything after it off the grid. `install()`
wraps `block_level_layout` (in `weasyprint.layout.block` and `.page`): before a block of the text
is laid out, the space above it is rounded up so its top lands on the next grid line (or back
onto the one just above if it is only a fifth of a line past it). The box is
moved down, not given a margin, so margin collapsing, page-top margin truncation and overflow work
as before. The CSS keeps the spaces of the text whole lines (styles/grid.css), so only blocks that
cannot be (display type, tables, images, code) add the rounding after them.

A full page then ends on the common foot (撑版): where keeps (widows, a heading kept with its text,
a box kept whole) leave a page one or two lines short and the text continues on the next page,
`make_page` (also wrapped) gives those lines to the spaces above the page's headings, boxes,
lead-ins or lists, a whole line each, so the lines stay on the grid. Pages with footnotes and the
last page of a part are left as they are.

Which blocks: those inside `.content` (a part's text), except inside tables, figures, code,
footnotes and the reference list, which keep their own smaller pitch. The grid's pitch is the root
element's line height; its origin the page's content top. Installed by `book.pdf.weasy.install()`.
"""

from __future__ import annotations

from typing import Any

EPSILON = 0.01  # px: positions this close to a grid line are on it
BACK = 0.2  # of a line: a block this little past a grid line goes back onto it (into leading only)
OWN_PITCH_TAGS = frozenset({"table", "pre", "figure", "img", "svg", "math"})
OWN_PITCH_CLASSES = frozenset({"footnote", "references", "sourceCode", "opener", "toc"})
FILL_MAX = 4  # lines a page may be short of its foot and be filled (a kept box or lead-in moved over)
# what may take a line of space above it, in order of preference
FILL_TAGS = (("h2", "h3", "h4", "h5", "h6"), ("figure", "table", "pre", "blockquote"), ("p",), ("ul", "ol"))
FILL_CLASSES = frozenset({"callout", "summary-box", "sourceCode", "figure"})
_installed = False


def snapped(top: float, origin: float, pitch: float) -> float:
    """`top` moved to a line of the grid (`origin` + k × `pitch`): down to the next one, or back to
    the one just above when it is only past it by `BACK` of a line (a line a little taller than the
    grid's, e.g. a fallback font's glyph in it, would otherwise cost a whole line)."""
    off = (top - origin) % pitch
    if off < EPSILON or pitch - off < EPSILON:
        return top
    if off <= BACK * pitch:
        return top - off
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


def _rank(box: Any) -> int | None:
    element = getattr(box, "element", None)
    if element is None or not getattr(box, "book_grid", False):
        return None
    classes = set((element.get("class") or "").split())
    if classes & FILL_CLASSES:
        return 1
    for rank, tags in enumerate(FILL_TAGS):
        if box.element_tag in tags and (box.element_tag != "p" or "lead-in" in classes):
            return rank
    return None


def _walk_blocks(box: Any, chain: list[Any], found: list[tuple[int, list[Any]]], bottom: list[float]) -> None:
    from weasyprint.formatting_structure import boxes

    for child in box.children:
        if isinstance(child, boxes.LineBox):
            bottom[0] = max(bottom[0], child.position_y + child.height)
            continue
        if not child.is_in_normal_flow():
            continue
        if not isinstance(child, boxes.BlockBox):  # a table: its rows are not line boxes of ours
            if isinstance(child, boxes.BlockLevelBox):
                bottom[0] = max(bottom[0], child.position_y + child.margin_height())
            continue
        rank = _rank(child)
        if rank is not None and (not found or found[-1][1][-1] is not child):
            found.append((rank, [*chain, child]))
        _walk_blocks(child, [*chain, child], found, bottom)


def _shift_after(chain: list[Any], dy: float) -> None:
    """Move `chain[-1]` and everything after it on the page down by `dy`; its ancestors grow (not
    the page, `chain[0]`: its height is the page's size)."""
    for depth in range(len(chain) - 1, 0, -1):
        parent, node = chain[depth - 1], chain[depth]
        after = False
        for child in parent.children:
            after = after or child is node
            if after and (depth == len(chain) - 1 or child is not node):
                child.translate(dy=dy)
        if depth > 1:
            parent.height += dy


def fill_page(page_box: Any, origin: float, pitch: float) -> int:
    """Give the lines a page is short of its foot to the spaces above its headings and boxes
    (a whole line each); how many lines were given."""
    from weasyprint.formatting_structure import boxes

    if any(isinstance(c, boxes.FootnoteAreaBox) and c.children for c in page_box.children):
        return 0
    root = next((c for c in page_box.children if getattr(c, "is_for_root_element", False)), None)
    if root is None:
        return 0
    found: list[tuple[int, list[Any]]] = []
    bottom = [origin]
    _walk_blocks(root, [root], found, bottom)
    capacity = int((page_box.content_box_y() + page_box.height - origin) / pitch + EPSILON)
    short = capacity - round((bottom[0] - origin) / pitch)
    # a block at the page top already starts the page: no space goes above it
    spaces = [(rank, chain) for rank, chain in found if chain[-1].position_y > origin + 1]
    if not 1 <= short <= FILL_MAX or not spaces:
        return 0
    chosen = sorted(spaces, key=lambda s: s[0])[:short]
    chosen += [chosen[-1]] * (short - len(chosen))
    order = {id(chain[-1]): i for i, (_, chain) in enumerate(spaces)}
    for _, chain in sorted(chosen, key=lambda s: -order[id(s[1][-1])]):
        _shift_after([page_box, *chain], pitch)
    return short


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

    original_make_page = page.make_page

    def make_page(context: Any, root_box: Any, page_type: Any, resume_at: Any, *args: Any, **kwargs: Any) -> Any:
        page_box, resume, next_page = original_make_page(context, root_box, page_type, resume_at, *args, **kwargs)
        grid = getattr(context, "book_grid", None)
        # a full page: the text goes on to the next page without a forced break
        if grid and resume is not None and not page_type.blank and next_page["break"] == "any":
            fill_page(page_box, *grid)
        return page_box, resume, next_page

    block.block_level_layout = block_level_layout
    page.block_level_layout = block_level_layout
    page.make_page = make_page
    _installed = True
    return True
