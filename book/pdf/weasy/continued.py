"""WeasyPrint patch: a box split across pages → its title repeated, with （续）, where it continues.

CSS has no selector for a box's continuation and WeasyPrint 70 no `::continued` fragment, so
`install()` wraps `block_level_layout` (after the grid patch, so it wraps that one): a callout or
takeaways box laid out from a skip stack (its continuation) starts one grid line lower, which
reserves the line; after layout the box is grown back up over that line and a copy of the title as
laid out on the first page is placed in it, followed by the locale's （续）. The copy keeps
neither the title's anchor nor its bookmark, so the PDF's outline and links see one title.
Installed by `book.pdf.weasy.install()`.
"""

from __future__ import annotations

from typing import Any

BOX_CLASSES = frozenset({"callout", "summary-box"})
TITLE_CLASSES = frozenset({"callout-title", "box-title"})
CONTINUED = {"zh-hant": "（續）", "zh-tw": "（續）", "zh-hk": "（續）"}
CONTINUED_DEFAULT = "（续）"
RESERVED = 2  # grid lines the repeated title takes at the top of the continuation
_installed = False


def _classes(box: Any) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def _title(box: Any) -> Any | None:
    for child in getattr(box, "children", []):
        if _classes(child) & TITLE_CLASSES and getattr(child, "element", None) is not getattr(box, "element", None):
            return child
    return None


def continued_mark(lang: str | None) -> str:
    """The （续） of a language (traditional Chinese has its own form)."""
    return CONTINUED.get((lang or "").lower(), CONTINUED_DEFAULT)


def _without_anchors(box: Any) -> None:
    """The copy's boxes without anchor or bookmark (they belong to the title on the first page);
    the styles of the others are left shared (a copied style loses the text's language)."""
    if box.style["anchor"] or box.style["bookmark_level"] != "none":
        style = box.style.copy()
        style["anchor"] = None
        style["bookmark_level"] = "none"
        box.style = style
        box.bookmark_label = ""
    for child in getattr(box, "children", []):
        _without_anchors(child)


def install() -> bool:
    """Patch WeasyPrint once (idempotent); `book.pdf.weasy.install` checks the version first."""
    global _installed
    if _installed:
        return True
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import block, page
    from weasyprint.text import line_break

    original = block.block_level_layout

    def last_text(box: Any) -> tuple[Any, Any] | None:
        found = None
        for child in getattr(box, "children", []):
            if isinstance(child, boxes.TextBox):
                found = (box, child)
            else:
                found = last_text(child) or found
        return found

    def stamp(context: Any, new_box: Any, title: Any, x0: float, pitch: float) -> None:
        copy = title.deepcopy()
        _without_anchors(copy)
        # half a line above the title and half a line under it, as on the box's first page
        copy.translate(new_box.content_box_x() - x0, new_box.content_box_y() + pitch / 2 - copy.position_y)
        hit = last_text(copy)
        if hit is not None:
            parent, text = hit
            mark = continued_mark(text.style["lang"])
            layout, _, _, width, _, _ = line_break.split_first_line(mark, text.style, context, None, 0)
            extra = text.copy_with_text(mark)
            extra.pango_layout, extra.width = layout, width
            extra.justification_spacing = 0
            extra.position_x = max(t.position_x + t.width for t in parent.children if isinstance(t, boxes.TextBox))
            parent.children = [*parent.children, extra]
        new_box.children = [copy, *new_box.children]

    def block_level_layout(context: Any, box: Any, bottom_space: float, skip_stack: Any, containing_block: Any,
                           *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        grid = getattr(context, "book_grid", None)
        if not (grid and isinstance(box, boxes.BlockBox) and _classes(box) & BOX_CLASSES):
            return original(context, box, bottom_space, skip_stack, containing_block, *args, **kwargs)
        titles = context.__dict__.setdefault("book_titles", {})
        key = id(box.element)
        pitch = grid[1]
        if skip_stack is None or key not in titles:
            result = original(context, box, bottom_space, skip_stack, containing_block, *args, **kwargs)
            new_box = result[0]
            title = _title(new_box) if new_box is not None and skip_stack is None else None
            if title is not None:
                titles[key] = (title.deepcopy(), new_box.content_box_x())
            return result
        reserved = RESERVED * pitch  # the title's line and the half lines around it
        box.position_y += reserved
        result = original(context, box, bottom_space, skip_stack, containing_block, *args, **kwargs)
        box.position_y -= reserved
        new_box = result[0]
        if new_box is not None:
            new_box.position_y -= reserved
            new_box.height += reserved
            stamp(context, new_box, *titles[key], pitch)
        return result

    block.block_level_layout = block_level_layout
    page.block_level_layout = block_level_layout
    _installed = True
    return True
