"""WeasyPrint patch, part of the grid's: a figure a little too tall for the lines left on its page →
the same figure with its image scaled down so it fits there and its caption ends on the page's foot.

A Chinese publisher fits a figure to the page rather than leave the lines above it empty: WeasyPrint
70 moves a figure (`break-inside: avoid`) that does not fit to the next page whole, so a figure
12.5 lines tall before the 12 lines left leaves those 12 lines blank (the page is a third short of
the common foot). `fit()` is called by the grid's `block_level_layout` when a figure did not fit:
it lays the figure out once without a page bottom, finds the last grid baseline its caption can end
on above the page's bottom, and lays it out again with the image that much shorter (its width in
proportion) — if the image loses at most `SHRINK_MAX` of the figure's height and keeps at least
`MIN_SCALE` of its set size. Only figures: an image with its caption (`figure`, not a listing, a
table or a diagram's own markup), never one with a footnote in it (a trial layout would place it).

Why 8 %: it is a line of a 12-line figure, the figures where the blank page a third short is seen
most; a smaller figure gains its last line only from a larger share, and under a tenth of the width
two figures side by side in a spread do not look set at different sizes. Why 85 %: a caption of
several lines under a short image would otherwise take its whole shrink from the image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SHRINK_MAX = 0.08  # of the figure's height: the most its image may lose to fit the page
MIN_SCALE = 0.85  # of the image's set width and height: never smaller
FIGURE_CLASSES = frozenset({"figure"})


def is_figure(box: Any) -> bool:
    """Whether `box` is a figure of the text: `figure.figure` (an image and its caption)."""
    element = getattr(box, "element", None)
    if element is None or getattr(box, "element_tag", None) != "figure":
        return False
    return bool(set((element.get("class") or "").split()) & FIGURE_CLASSES)


def _images(box: Any) -> list[Any]:
    """The replaced boxes (images) under `box`, in order."""
    from weasyprint.formatting_structure import boxes

    found: list[Any] = []
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.ReplacedBox):
            found.append(child)
        elif isinstance(child, boxes.ParentBox):
            found += _images(child)
    return found


def _has_footnote(box: Any) -> bool:
    for child in getattr(box, "children", ()):
        style = getattr(child, "style", None)
        if style is not None and style["float"] == "footnote" or _has_footnote(child):
            return True
    return False


def shrink_for(base: float, below: float, limit: float, first: float, pitch: float) -> float:
    """How much shorter a figure whose last baseline is at `base`, with `below` under it to its
    bottom, must be to end on the last grid baseline (`first` + k × `pitch`) that fits above `limit`."""
    foot = first + ((limit - below - first) // pitch) * pitch
    return base - foot


def scale_for(shrink: float, figure_height: float, image_height: float) -> float | None:
    """The image's scale that takes `shrink` off it, or None past the limits (`SHRINK_MAX` of the
    figure, `MIN_SCALE` of the image)."""
    if shrink <= 0 or image_height <= 0 or shrink > SHRINK_MAX * figure_height:
        return None
    scale = (image_height - shrink) / image_height
    return scale if scale >= MIN_SCALE else None


def fit(layout: Callable[..., Any], context: Any, box: Any, bottom_space: float, containing_block: Any,
        page_is_empty: bool, absolute_boxes: Any, fixed_boxes: Any, adjoining_margins: Any,
        rest: tuple[Any, ...], options: dict[str, Any], first: float, pitch: float,
        last_baseline: Callable[[Any], float | None]) -> Any:  # fmt: skip
    """`layout` (WeasyPrint's `block_level_layout`) of the figure `box` with its image scaled to end
    on the page's last grid baseline, or None where it does not qualify or still does not fit.
    `rest`, `options`: the call's arguments after `adjoining_margins`; `first`: the grid's first baseline;
    `last_baseline`: the grid's measure of a box's lowest baseline."""
    from weasyprint.css.properties import Dimension

    images = _images(box)
    if len(images) != 1 or _has_footnote(box):
        return None
    # the trial: without a page bottom, with lists of its own (what it places is thrown away)
    position = box.position_x, box.position_y
    trial = layout(context, box, float("-inf"), None, containing_block, page_is_empty, [], [],
                   list(adjoining_margins or []), *rest, **options)[0]  # fmt: skip
    box.position_x, box.position_y = position
    if trial is None:
        return None
    shown = _images(trial)
    base = last_baseline(trial)
    if len(shown) != 1 or base is None:
        return None
    image = shown[0]
    height = trial.border_height()
    below = trial.border_box_y() + height - base
    shrink = shrink_for(base, below, context.page_bottom - bottom_space, first, pitch)
    scale = scale_for(shrink, height, image.height)
    if scale is None:
        return None
    source = images[0]
    style = source.style
    source.style = style.copy()
    source.style["width"] = Dimension(image.width * scale, "px")
    source.style["height"] = Dimension(image.height * scale, "px")
    try:
        result = layout(context, box, bottom_space, None, containing_block, page_is_empty, absolute_boxes,
                        fixed_boxes, adjoining_margins, *rest, **options)  # fmt: skip
    finally:
        source.style = style
    if result[0] is None:
        return None
    return result
