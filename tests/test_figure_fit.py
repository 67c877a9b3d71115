"""Figures fitted to the page (book.pdf.weasy.figfit, figdefer): a figure a little too tall for the
lines left is scaled to end on the foot; one far too tall opens the next page after the paragraphs
that follow it, never past a heading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from book.pdf.weasy.figdefer import moves
from book.pdf.weasy.figfit import MIN_SCALE, SHRINK_MAX, scale_for, shrink_for

PITCH = 14 * 1.75  # px: the test pages' line
LINE = "<p style='margin: 0'>正文一行</p>"
TWO_LINES = "<p style='margin: 0'>" + "正文" * 15 + "</p>"  # 30 characters over a 21-character line


def test_shrink_to_the_last_grid_baseline() -> None:
    # a caption ending at 290 with 6 below it on a page whose bottom is 294: the last baseline that
    # leaves room for the 6 is 10 + 11 × 24.5 = 279.5
    assert shrink_for(290, 6, 294, 10, PITCH) == pytest.approx(10.5)
    assert shrink_for(279.5, 6, 294, 10, PITCH) == pytest.approx(0)


def test_scale_limits() -> None:
    assert scale_for(10, 200, 180) == pytest.approx(170 / 180)
    assert scale_for(SHRINK_MAX * 200 + 1, 200, 180) is None  # more than 8 % of the figure
    assert scale_for(0.1 * 100, 120, 60) is None  # an image of 60 would go under 85 %
    assert scale_for(0, 200, 180) is None and MIN_SCALE == 0.85


def test_paragraphs_a_figure_moves_past() -> None:
    assert moves(8, [4], 4) == 1  # 4 lines left for 撑版
    assert moves(5, [2, 2, 3], 4) == 2  # the third does not fit whole
    assert moves(8, [2], 4) == 0  # still 6 short: the figure stays where it is
    assert moves(8, [], 4) == 0


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("figure") / "fig.png"
    Image.new("RGB", (400, 200), "white").save(path)
    return path


def _render(image: Path, body: str) -> Any:
    from weasyprint import HTML

    from book.pdf import weasy

    assert weasy.install() is True
    page_css = "@page { size: 300px 300px; margin: 0 } figure { margin: 0; break-inside: avoid }"
    root = "font-size: 14px; line-height: 1.75; font-family: 'Noto Serif CJK SC'"
    html = (f"<html style=\"{root}\"><style>{page_css}</style><body style='margin: 0'>"
            f"<div class='content'>{body}</div></body></html>")  # fmt: skip
    return HTML(string=html, base_url=str(image.parent) + "/").render()


def _figure(height: int) -> str:
    return (f"<figure class='figure'><img src='fig.png' style='width: {2 * height}px; height: {height}px'/>"
            "<figcaption>图 1-1 示意图</figcaption></figure>")  # fmt: skip


def _find(page: Any, tag: str) -> list[Any]:
    found: list[Any] = []

    def walk(box: Any) -> None:
        for child in getattr(box, "children", ()):
            if getattr(child, "element_tag", None) == tag:
                found.append(child)
            walk(child)

    walk(page._page_box)
    return found


def _text(page: Any) -> str:
    from weasyprint.formatting_structure import boxes

    out: list[str] = []

    def walk(box: Any) -> None:
        for child in getattr(box, "children", ()):
            if isinstance(child, boxes.TextBox):
                out.append(child.text)
            walk(child)

    walk(page._page_box)
    return "".join(out)


def test_a_figure_a_little_too_tall_is_scaled_onto_the_foot(image: Path) -> None:
    # 12 lines a page; 7 taken: the figure (an image of 100 and a caption, about 5.3 lines) misses
    # the 5 left by about 6 % of its height
    doc = _render(image, LINE * 7 + _figure(100) + LINE * 3)
    first = doc.pages[0]
    images = _find(first, "img")
    assert images, "the figure stays on its page"
    assert MIN_SCALE * 200 <= images[0].width < 200
    assert images[0].width / images[0].height == pytest.approx(2)
    caption = _find(first, "figcaption")[0].children[-1]
    base = caption.position_y + caption.baseline
    first_base = _find(first, "p")[0].children[0]
    k = (base - first_base.position_y - first_base.baseline) / PITCH
    assert k == pytest.approx(11, abs=0.01)  # the page's last grid baseline


def test_a_figure_far_too_tall_opens_the_next_page_after_the_text(image: Path) -> None:
    # 7 lines taken, 5 left; the figure takes about 7 lines: the two paragraphs after it (4 lines)
    # fill the page to one line (撑版), the figure opens page 2, the heading follows it
    doc = _render(image, LINE * 7 + _figure(140) + TWO_LINES * 2 + "<h2 style='margin: 0'>标题</h2>" + LINE)
    assert not _find(doc.pages[0], "img") and _text(doc.pages[0]) == "正文一行" * 7 + "正文" * 30
    second = doc.pages[1]
    assert _find(second, "img") and _text(second).startswith("图 1-1 示意图")
    assert _find(second, "figure")[0].position_y == pytest.approx(0, abs=1)


def test_a_figure_is_never_moved_past_a_heading(image: Path) -> None:
    doc = _render(image, LINE * 7 + _figure(140) + "<h2 style='margin: 0'>标题</h2>" + TWO_LINES * 2)
    assert _text(doc.pages[0]) == "正文一行" * 7
    assert _text(doc.pages[1]).startswith("图 1-1 示意图标题")


def test_the_room_left_counts_the_last_blocks_margin(image: Path) -> None:
    """Below a block with a bottom margin (a listing's, a table's) the next block starts a line
    lower: the 5 lines under its last baseline hold a 4-line paragraph, not a 5-line one (moved
    there, it was split and the figure followed its last lines)."""
    last = "<div style='margin: 0 0 24.5px'>正文一行</div>"
    five = "<p style='margin: 0'>" + "正文" * 50 + "</p>"
    doc = _render(image, LINE * 6 + last + _figure(140) + five)
    assert _text(doc.pages[0]) == "正文一行" * 7
    assert _text(doc.pages[1]).startswith("图 1-1 示意图正文")
