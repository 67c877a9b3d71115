"""WeasyPrint speed patch: a box's used margins, paddings and sizes → resolved without a call per value.

`resolve_percentages` runs before every layout of every box, each line's inline boxes included, and
turns each of its fourteen lengths through two nested calls (`resolve_one_percentage`, then
`percentage`): about a tenth of a chapter's layout, mostly in those calls. The patch resolves the
common values inline — `auto`, a length in px, a percentage, with the same arithmetic — and hands
anything else (`calc()` and the like) to WeasyPrint's `percentage`, so every box gets the same used
values. It replaces the function in each `weasyprint.layout` module that imported it, and is
installed before the grid's patch, which calls it too. Installed by `book.pdf.weasy.install()`.
"""

from __future__ import annotations

import sys
from typing import Any

_installed = False
_weasy: dict[str, Any] = {}  # WeasyPrint's names the functions below use, bound by install()
INF = float("inf")


def used(value: Any, style: Any, refer_to: Any) -> Any:
    """`percentage(value, style, refer_to)` (weasyprint.layout.percent, 70.0)."""
    if value is None or value == "auto":
        return value
    if type(value) is _weasy["Dimension"] and value.unit is not None:
        if value.unit == "%":
            return refer_to * value.value / 100
        return value.value
    return _weasy["percentage"](value, style, refer_to)


def resolve_percentages(box: Any, containing_block: Any) -> None:
    """`resolve_percentages` of WeasyPrint 70.0, value for value."""
    if isinstance(containing_block, _weasy["Box"]):
        cb_width = containing_block.width
        cb_height = containing_block.height
    else:
        cb_width, cb_height = containing_block
    maybe_height = cb_height if isinstance(box, _weasy["PageBox"]) else cb_width
    style = box.style
    box.margin_left = used(style["margin_left"], style, cb_width)
    box.margin_right = used(style["margin_right"], style, cb_width)
    box.margin_top = used(style["margin_top"], style, maybe_height)
    box.margin_bottom = used(style["margin_bottom"], style, maybe_height)
    box.padding_left = used(style["padding_left"], style, cb_width)
    box.padding_right = used(style["padding_right"], style, cb_width)
    box.padding_top = used(style["padding_top"], style, maybe_height)
    box.padding_bottom = used(style["padding_bottom"], style, maybe_height)
    box.width = used(style["width"], style, cb_width)
    value = used(style["min_width"], style, cb_width)
    box.min_width = 0 if value == "auto" else value
    box.max_width = used(style["max_width"], style, cb_width)

    if cb_height == "auto":
        height = style["height"]
        if height == "auto" or _weasy["check_math"](height) or height.unit == "%":
            box.height = "auto"
        else:
            assert height.unit.lower() == "px"
            box.height = height.value
        value = used(style["min_height"], style, 0)
        box.min_height = 0 if value == "auto" else value
        box.max_height = used(style["max_height"], style, INF)
    else:
        box.height = used(style["height"], style, cb_height)
        value = used(style["min_height"], style, cb_height)
        box.min_height = 0 if value == "auto" else value
        box.max_height = used(style["max_height"], style, cb_height)

    collapse = style["border_collapse"] == "collapse"
    # a collapsed border's width was set by the border conflict resolution: kept
    if not (collapse and hasattr(box, "border_top_width")):
        box.border_top_width = style["border_top_width"]
    if not (collapse and hasattr(box, "border_right_width")):
        box.border_right_width = style["border_right_width"]
    if not (collapse and hasattr(box, "border_bottom_width")):
        box.border_bottom_width = style["border_bottom_width"]
    if not (collapse and hasattr(box, "border_left_width")):
        box.border_left_width = style["border_left_width"]

    _weasy["adjust_box_sizing"](box, "width")
    _weasy["adjust_box_sizing"](box, "height")


def install() -> None:
    global _installed
    if _installed:
        return
    from weasyprint.css.functions import check_math
    from weasyprint.css.properties import Dimension
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import percent

    original = percent.resolve_percentages
    _weasy.update(
        Dimension=Dimension, percentage=percent.percentage, check_math=check_math, Box=boxes.Box,
        PageBox=boxes.PageBox, adjust_box_sizing=percent.adjust_box_sizing,
    )  # fmt: skip
    resolve_percentages.__wrapped__ = original  # type: ignore[attr-defined]
    for name, module in list(sys.modules.items()):
        if name.startswith("weasyprint.") and getattr(module, "resolve_percentages", None) is original:
            module.resolve_percentages = resolve_percentages  # type: ignore[attr-defined]
    _installed = True
