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
OWN_PITCH_CLASSES = frozenset({"footnote", "sourceCode", "opener", "toc"})
ALIGNED_TAGS = frozenset({"table", "figure", "pre"})
ALIGNED_CLASSES = frozenset({"sourceCode"})
NUDGE = 0.1  # of a line: a baseline this close to the grid's is set on it (smaller type in a grid line)
FILL_MAX = 4  # lines a page may be short of its foot and be filled (a kept box or lead-in moved over)
# what may take a line of space above it, in order of preference
FILL_TAGS = (("h2", "h3", "h4", "h5", "h6"), ("figure", "table", "pre", "blockquote"), ("p",), ("ul", "ol"))
FILL_CLASSES = frozenset({"callout", "summary-box", "sourceCode", "figure", "references"})
HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
PARAGRAPH_RANK = len(FILL_TAGS)  # last: the space between two paragraphs of the running text
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


def _rank(box: Any, parent: Any) -> int | None:
    """The preference of the space above `box` for the page's slack (lower first), or None: only a
    block whose top is in the text's flow, and not an anonymous block inside its element (the line
    of a heading before its English subtitle: space there opens inside the heading, below its
    bookmark and anchor)."""
    element = getattr(box, "element", None)
    if element is None or not getattr(box, "book_flow", False) or element is getattr(parent, "element", None):
        return None
    classes = set((element.get("class") or "").split())
    if classes & FILL_CLASSES:
        return 1
    for rank, tags in enumerate(FILL_TAGS):
        if box.element_tag in tags and (box.element_tag != "p" or "lead-in" in classes):
            return rank
    parent_classes = set((getattr(parent, "element", None) is not None and parent.element.get("class") or "").split())
    if box.element_tag == "p" and (
        "content" in parent_classes or parent.element_tag == "section" and not parent_classes & FILL_CLASSES
    ):
        return PARAGRAPH_RANK
    return None


def last_baseline(box: Any) -> float | None:
    """The lowest baseline of the lines in `box` (its rows', cells' and captions' too), or None."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.LineBox):
        return box.position_y + box.baseline
    lowest = None
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.Box) and (child.is_in_normal_flow() or isinstance(child, boxes.LineBox)):
            base = last_baseline(child)
            if base is not None and (lowest is None or base > lowest):
                lowest = base
    return lowest


def _walk_blocks(box: Any, chain: list[Any], found: list[tuple[int, list[Any]]], bottom: list[float],
                 kept: bool = False) -> None:  # fmt: skip
    """The candidates for the page's slack under `box` into `found`, its last baseline into `bottom`.
    `kept`: `box`'s top is bound to what is above it. A block kept with the one before it (after a
    heading, a lead-in, a box's title) takes no space above it, nor does the first block inside a
    box with a top padding or border (the space would open inside the box)."""
    from weasyprint.formatting_structure import boxes

    previous = None
    for child in box.children:
        if isinstance(child, boxes.LineBox):
            bottom[0] = max(bottom[0], child.position_y + child.baseline)
            previous = child
            continue
        if not child.is_in_normal_flow():
            continue
        if previous is None:
            bound = kept or bool(box.padding_top or box.border_top_width) and box is not chain[0]
        else:
            bound = _keeps_with_next(previous)
        previous = child
        if not isinstance(child, boxes.BlockBox):  # a table: its rows are not line boxes of ours
            if isinstance(child, boxes.BlockLevelBox):
                base = last_baseline(child)
                bottom[0] = max(bottom[0], base if base is not None else child.border_box_y() + child.border_height())
            continue
        rank = None if bound else _rank(child, box)
        if rank is not None and (not found or found[-1][1][-1] is not child):
            found.append((rank, [*chain, child]))
        _walk_blocks(child, [*chain, child], found, bottom, bound)


def _keeps_with_next(box: Any) -> bool:
    """Whether `box` is kept with the block after it (a heading, a lead-in, a box's title)."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.LineBox):
        return False
    if box.style["break_after"] in ("avoid", "avoid-page"):
        return True
    last = next((c for c in reversed(getattr(box, "children", ())) if c.is_in_normal_flow()), None)
    return last is not None and not isinstance(last, boxes.LineBox) and _keeps_with_next(last)


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


def spread(spaces: list[tuple[int, list[Any]]], lines: int) -> list[tuple[int, list[Any]]]:
    """Which spaces take the `lines` (one each, in rank order): of the last rank needed, ones spread
    evenly over the page; with fewer spaces than lines, the last again."""
    chosen: list[tuple[int, list[Any]]] = []
    for rank in sorted({r for r, _ in spaces}):
        same = [s for s in spaces if s[0] == rank]
        need = lines - len(chosen)
        if need <= 0:
            break
        if len(same) > need:
            same = [same[(2 * i + 1) * len(same) // (2 * need)] for i in range(need)]
        chosen += same
    chosen += [chosen[-1]] * (lines - len(chosen))
    return chosen


def fill_page(page_box: Any, origin: float, pitch: float, baseline: float) -> int:
    """Give the lines a page is short of its foot to the spaces above its headings and boxes
    (a whole line each); how many lines were given. `baseline`: where the body's baseline lies in
    its line, so the page's last baseline (a table row's, a caption's too) counts the lines."""
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
    short = capacity - 1 - round((bottom[0] - origin - baseline) / pitch)
    # a block at the page top already starts the page: no space goes above it
    spaces = [(rank, chain) for rank, chain in found if chain[-1].position_y > origin + 1]
    if not 1 <= short <= FILL_MAX or not spaces:
        return 0
    chosen = spread(spaces, short)
    order = {id(chain[-1]): i for i, (_, chain) in enumerate(spaces)}
    for _, chain in sorted(chosen, key=lambda s: -order[id(s[1][-1])]):
        _shift_after([page_box, *chain], pitch)
    return short


def _heading_line(box: Any, parent: Any) -> bool:
    """Whether `box` is the anonymous block of a heading's own line (before its block subtitle): it
    stays centred in the heading's slot, half a line below its top, as on a heading without one
    (moved onto the grid, it stood half a line lower, 1.75 lines under its bookmark instead of 1.3)."""
    element = getattr(box, "element", None)
    return element is not None and element is getattr(parent, "element", None) and parent.element_tag in HEADINGS


def _is_content(box: Any) -> bool:
    element = getattr(box, "element", None)
    return element is not None and "content" in (element.get("class") or "").split()


def _aligned(box: Any) -> bool:
    """Whether `box` is a block of the text with its own pitch (a table, figure or listing): its
    last baseline is put on the grid, so at a page foot it ends on the common foot."""
    if not getattr(box, "book_flow", False) or getattr(box, "book_grid", False):
        return False
    element = getattr(box, "element", None)
    if element is None or not box.is_in_normal_flow():
        return False
    return box.element_tag in ALIGNED_TAGS or bool(set((element.get("class") or "").split()) & ALIGNED_CLASSES)


def baseline_shift(box: Any, first: float, pitch: float, back: float = BACK) -> float:
    """How far to move `box` so its last baseline lands on a baseline of the grid (`first` + k ×
    `pitch`): back into its own top margin when that is at most `back` of a line, else down. (A
    block split at the foot has no room below: it may go back as far as its margin.)"""
    base = last_baseline(box)
    if base is None:
        return 0.0
    off = (base - first) % pitch
    if off < EPSILON or pitch - off < EPSILON:
        return 0.0
    margin = box.margin_top if isinstance(box.margin_top, (int, float)) else 0.0
    if off <= min(back * pitch, margin):
        return -off
    return pitch - off


def _last_line(box: Any) -> Any:
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.LineBox):
        return box
    for child in reversed(getattr(box, "children", ())):
        if isinstance(child, boxes.LineBox) or (isinstance(child, boxes.Box) and child.is_in_normal_flow()):
            found = _last_line(child)
            if found is not None:
                return found
    return None


def split_to_foot(box: Any, first: float, pitch: float, limit: float) -> float:
    """Move a block split at the page foot (a listing: its own pitch) so its last line sits on the
    page's last grid baseline that line fits above `limit` (the page's bottom), down into the room its
    widows left or back into its top margin; the box, stretched to the page bottom as a split box
    is, keeps its bottom there. How far it moved."""
    line = _last_line(box)
    if line is None:
        return 0.0
    base, below = line.position_y + line.baseline, line.height - line.baseline
    foot = first + ((limit - below - first) // pitch) * pitch
    dy = foot - base
    margin = box.margin_top if isinstance(box.margin_top, (int, float)) else 0.0
    if abs(dy) < EPSILON or dy < -margin or dy > pitch * FILL_MAX:
        return 0.0
    box.translate(dy=dy)
    node = box
    while node is not None:  # the box and its last descendants end at the page bottom, not past it
        excess = node.border_box_y() + node.border_height() - limit
        if excess > 0 and isinstance(node.height, (int, float)):
            node.height = max(0.0, node.height - excess)
        node = next((c for c in reversed(getattr(node, "children", ())) if c.is_in_normal_flow()), None)
    return dy


def nudge_lines(page_box: Any, first: float, pitch: float) -> int:
    """Set each line of the text whose baseline lies just off the grid (smaller type in a grid line,
    e.g. the reference list's: its baseline sits higher in the line) onto its grid baseline; how many."""
    from weasyprint.formatting_structure import boxes

    moved = 0

    def walk(box: Any) -> None:
        nonlocal moved
        for child in getattr(box, "children", ()):
            if isinstance(child, boxes.LineBox):
                if getattr(box, "book_grid", False):
                    off = (child.position_y + child.baseline - first + pitch / 2) % pitch - pitch / 2
                    if EPSILON < abs(off) <= NUDGE * pitch:
                        child.translate(dy=-off)
                        moved += 1
            elif isinstance(child, boxes.ParentBox) and child.is_in_normal_flow():
                walk(child)

    walk(page_box)
    return moved


def install() -> bool:
    """Patch WeasyPrint once (idempotent); `book.pdf.weasy.install` checks the version first."""
    global _installed
    if _installed:
        return True
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import block, page
    from weasyprint.layout.percent import resolve_percentages
    from weasyprint.text.line_break import strut

    from book.pdf.weasy import figdefer, figfit

    original = block.block_level_layout

    def block_level_layout(context: Any, box: Any, bottom_space: float, skip_stack: Any, containing_block: Any,
                           page_is_empty: bool = True, absolute_boxes: Any = None, fixed_boxes: Any = None,
                           adjoining_margins: Any = None, *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        grid = None
        if box.is_for_root_element:
            pitch = _pitch(box.style)
            context.book_grid = (box.position_y, pitch) if pitch else None
            if pitch and getattr(context, "book_baseline", None) is None:
                context.book_baseline = strut(box.style)[1]
        else:
            box.book_flow = getattr(containing_block, "book_grid", False)
            box.book_grid = _grid_state(box, containing_block)
            grid = getattr(context, "book_grid", None)
            if grid and box.book_grid and not box.book_flow and _is_content(box):
                context.book_baseline = strut(box.style)[1]  # the text's own face, not the root's
            # a block continued from the previous page starts at the page top, on the grid already
            fresh = not page_is_empty and skip_stack is None and not _heading_line(box, containing_block)
            if grid and box.book_grid and fresh and isinstance(box, boxes.BlockBox):
                if not isinstance(box, boxes.TableBox):
                    resolve_percentages(box, containing_block)
                margin_top = 0 if box.margin_top == "auto" else box.margin_top
                top = box.position_y + block.collapse_margin([*(adjoining_margins or []), margin_top])
                box.position_y += snapped(top, *grid) - top
        result = original(context, box, bottom_space, skip_stack, containing_block, page_is_empty, absolute_boxes,
                          fixed_boxes, adjoining_margins, *args, **kwargs)  # fmt: skip
        baseline = getattr(context, "book_baseline", None)
        pushed = result[0] is None and not page_is_empty and skip_stack is None
        if grid and baseline is not None and pushed and figfit.is_figure(box):
            # a figure a little too tall for the lines left: its image scaled to end on the foot
            result = figfit.fit(original, context, box, bottom_space, containing_block, page_is_empty, absolute_boxes,
                                fixed_boxes, adjoining_margins, args, kwargs, grid[0] + baseline, grid[1],
                                last_baseline) or result  # fmt: skip
        if grid and baseline is not None and result[0] is not None and _aligned(box):
            new_box = result[0]
            if result[1] is not None:  # split at the foot: its last line goes onto the foot
                split_to_foot(new_box, grid[0] + baseline, grid[1], context.page_bottom - bottom_space)
                return result
            dy = baseline_shift(new_box, grid[0] + baseline, grid[1])
            if dy > 0 and context.overflows_page(bottom_space, new_box.border_box_y() + new_box.border_height() + dy):
                dy = 0.0
            if dy:
                new_box.translate(dy=dy)
        return result

    original_make_page = page.make_page

    def make_page(context: Any, root_box: Any, page_type: Any, resume_at: Any, *args: Any, **kwargs: Any) -> Any:
        page_box, resume, next_page = original_make_page(context, root_box, page_type, resume_at, *args, **kwargs)
        grid = getattr(context, "book_grid", None)
        if grid:  # a figure that left the page before short moves after the paragraphs that follow it
            figdefer.after_page(context, root_box, page_box, (resume_at, resume, next_page), page_type.blank, args[0],
                                grid, FILL_MAX, snapped)  # fmt: skip
        # a full page: the text goes on to the next page without a forced break
        if grid and resume is not None and not page_type.blank and next_page["break"] == "any":
            fill_page(page_box, *grid, getattr(context, "book_baseline", 0.0) or 0.0)
        if grid and getattr(context, "book_baseline", None) is not None:
            nudge_lines(page_box, grid[0] + context.book_baseline, grid[1])
        return page_box, resume, next_page

    block.block_level_layout = block_level_layout
    page.block_level_layout = block_level_layout
    page.make_page = make_page
    _installed = True
    return True
