"""WeasyPrint patch, part of the grid's: a figure that left the page before it short of its foot →
the same figure moved after the paragraphs that follow it, so they fill that page and the figure
opens the next one (a float, as publishers place "如图 3-1 所示" figures).

WeasyPrint 70 has no float to the next page: a figure too tall for the lines left (and too tall to
be scaled to them, `figfit`) moves to the next page and leaves the lines above it blank. When a page
opens with such a figure, `defer()` looks at the page before it: `room` whole lines left where its
next block would start (past the last one's bottom margin, on the grid), the figure
numbered (it has a caption, so the text says where it is), and followed on its new page by whole
paragraphs of the running text (never a heading, a list, a box or a lead-in: the figure stays in
its section and a lead-in with what it introduces). If the first few of those paragraphs take all
but at most `grid.FILL_MAX` of the lines left (those go to 撑版), the figure is moved after them
in the box tree and the page before is marked for WeasyPrint's repagination (`content_changed`,
how it re-makes a page whose counters changed): its next round fills that page with the paragraphs
and opens the next with the figure. The move is made once per figure (`book_deferred`), so a page
made again keeps it, and only indexes inside the pages concerned change, so the pages before keep
their break points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EPSILON = 0.01  # of a line: a paragraph's height this close to whole lines counts as them


def _path(root: Any, resume_at: Any) -> tuple[list[tuple[Any, int]], bool]:
    """The (parent, index) chain from `root` down the skip stack `resume_at`, as far as it goes
    through boxes, and whether it ends at the start of a box (no part of it on the page before)."""
    chain: list[tuple[Any, int]] = []
    node, stack = root, resume_at
    while stack:
        if len(stack) != 1:
            return chain, False
        ((index, stack),) = stack.items()
        children = getattr(node, "children", ())
        if not isinstance(index, int) or index >= len(children):
            return chain, False
        chain.append((node, index))
        node = children[index]
    return chain, bool(chain)


def _classes(box: Any) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def captioned(box: Any) -> bool:
    """Whether the figure `box` has a caption (its number, which the text refers to)."""
    return any(getattr(child, "element_tag", None) == "figcaption" for child in getattr(box, "children", ()))


def running_paragraph(box: Any) -> bool:
    """Whether `box` is a paragraph of the running text a figure may be moved past."""
    return getattr(box, "element_tag", None) == "p" and "lead-in" not in _classes(box)


def page_room(
    page_box: Any, origin: float, pitch: float, snapped: Callable[[float, float, float], float]
) -> int | None:
    """How many whole lines are left on `page_box` below its text, from where the next block would
    start (past the last block's bottom margin, on the next grid line: `snapped`), or None."""
    from weasyprint.formatting_structure import boxes

    node = next((c for c in page_box.children if getattr(c, "is_for_root_element", False)), None)
    if node is None:
        return None
    margin = 0.0
    while True:
        flow = [c for c in node.children if isinstance(c, boxes.Box) and c.is_in_normal_flow()]
        if not flow or not isinstance(flow[-1], boxes.BlockBox) or isinstance(flow[-1], boxes.LineBox):
            break
        node = flow[-1]
        margin = max(margin, node.margin_bottom if isinstance(node.margin_bottom, (int, float)) else 0.0)
    start = snapped(node.border_box_y() + node.border_height() + margin, origin, pitch)
    return int((page_box.content_box_y() + page_box.height - start) / pitch + 1e-6)


def _laid_out(page_box: Any, element: Any) -> list[Any]:
    """The boxes of `element` on the laid-out page."""
    found: list[Any] = []

    def walk(box: Any) -> None:
        for child in getattr(box, "children", ()):
            if getattr(child, "element", None) is element and getattr(child, "element_tag", None) == "p":
                found.append(child)
            elif getattr(child, "children", None):
                walk(child)

    walk(page_box)
    return found


def moves(room: int, heights: list[int], fill_max: int) -> int:
    """How many of the paragraphs (their `heights` in lines, in order) to move the figure past so
    the page before, with `room` lines left, ends at most `fill_max` short; 0 when none does."""
    used, best = 0, 0
    for k, height in enumerate(heights, 1):
        if used + height > room:
            break
        used += height
        if room - used <= fill_max:
            best = k
    return best


def defer(context: Any, root_box: Any, page_box: Any, resume_at: Any, resume_out: Any, page_number: int,
          room_before: int | None, pitch: float, fill_max: int) -> bool:  # fmt: skip
    """Move the figure that opens `page_box` (made from `resume_at`; the next page from
    `resume_out`) after the paragraphs that follow it, if they fill the page before (`room_before`
    whole lines left below its text); whether it did (the page before is then made again)."""
    from book.pdf.weasy.figfit import is_figure

    if not room_before or room_before <= 0 or page_number < 2:
        return False
    chain, at_start = _path(root_box, resume_at)
    if not at_start:
        return False
    parent, index = chain[-1]
    figure = parent.children[index]
    if not is_figure(figure) or not captioned(figure) or getattr(figure, "book_deferred", False):
        return False
    # the next page resumes past the paragraphs moved (they are whole on this page), so the indexes
    # of its skip stack are unchanged by the move
    stop = min((i for box, i in _path(root_box, resume_out)[0] if box is parent), default=len(parent.children))
    heights: list[int] = []
    for sibling in parent.children[index + 1 : stop]:
        if not running_paragraph(sibling):
            break
        shown = _laid_out(page_box, sibling.element)
        if len(shown) != 1:
            break
        lines = shown[0].margin_height() / pitch
        if abs(lines - round(lines)) > EPSILON:
            break
        heights.append(round(lines))
    k = moves(room_before, heights, fill_max)
    if not k:
        return False
    children = list(parent.children)
    children.insert(index + k, children.pop(index))
    parent.children = children
    figure.book_deferred = True
    context.page_maker[page_number - 2][-1]["content_changed"] = True
    return True


def after_page(context: Any, root_box: Any, page_box: Any, flow: tuple[Any, Any, Any], blank: bool, number: int,
               grid: tuple[float, float], fill_max: int, snapped: Callable[[float, float, float], float]) -> None:  # fmt: skip
    """Called on each page made (`number`; `flow`: where it started, where the next starts, and the
    next page's break): defer the figure it opens if that fills the page before, and note the room
    left on this page, if it is a full page (the text goes on without a forced break)."""
    from weasyprint.formatting_structure import boxes

    resume_at, resume, next_page = flow
    rooms = getattr(context, "book_room", None)
    if rooms is None:
        rooms = context.book_room = {}
    notes = any(isinstance(c, boxes.FootnoteAreaBox) and c.children for c in page_box.children)
    if not blank and not notes:
        defer(context, root_box, page_box, resume_at, resume, number, rooms.get(number - 1), grid[1], fill_max)
    full = resume is not None and not blank and next_page["break"] == "any" and not notes
    rooms[number] = page_room(page_box, *grid, snapped) if full else None
