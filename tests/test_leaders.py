"""Leader dots (book.pdf.weasy.leaders): one box per leader in the layout, each dot drawn as
WeasyPrint draws it, replayed where it can be — the same PDF as WeasyPrint's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from book.pdf import layout
from book.pdf.parallel import render_part_pdf
from book.pdf.weasy import install, leaders

PAGE = "@page { size: A6; margin: 10mm; } a { color: black; } "
HTML = "<html lang='zh'><body><ul>{}</ul></body></html>".format(
    "".join(f"<li><a href='#x{i}' data-page='{i * 7}'>第{i}章 标题{'长' * (i % 5)}</a></li>" for i in range(40))
)
LEADERS = {
    "dots": "li a::after { content: leader('.') attr(data-page); }",
    "dotted keyword": "li a::after { content: leader(dotted) attr(data-page); }",
    "spaced": "li a::after { content: leader(' . ') attr(data-page); }",
    "underlined, coloured": "li a { text-decoration: underline; } li a::after { content: leader('·') attr(data-page);"
    " color: #c00; }",
    "letter-spaced": "li a::after { content: leader('.') attr(data-page); letter-spacing: 0.3em; }",
}


def _leader_boxes(html: str, css: str) -> list[object]:
    from weasyprint.formatting_structure import boxes

    doc, _ = layout.render_document(html, [css], "file:///nonexistent/")
    found = [b for page in doc.pages for b in page._page_box.descendants() if getattr(b, "is_leader", False)]
    assert found and all(isinstance(b, boxes.InlineBox) for b in found)
    return found


@pytest.mark.parametrize("name", sorted(LEADERS))
def test_leaders_write_the_same_pdf_as_weasyprint(tmp_path: Path, name: str) -> None:
    from weasyprint.draw import text

    install()
    leaders.install()  # idempotent
    css = PAGE + LEADERS[name]
    patched = text.draw_first_line
    assert patched._book_replays
    options = {"source_date_epoch": 1735689600}
    calls = []

    def counting(*args: object) -> object:
        calls.append(1)
        return patched.__wrapped__(*args)

    try:
        text.draw_first_line = counting
        with leaders.separate_dots():
            own = render_part_pdf(HTML, [css], str(tmp_path) + "/", options)
    finally:
        text.draw_first_line = patched
    ours = render_part_pdf(HTML, [css], str(tmp_path) + "/", options)
    assert ours.pdf == own.pdf
    assert ours.overflows == own.overflows and ours.anchors == own.anchors and ours.links == own.links
    assert len(calls) > 400  # WeasyPrint's own path drew every dot (about a dozen per entry)


def test_a_leader_is_one_box_unless_its_dots_are_kept_apart() -> None:
    install()
    css = PAGE + LEADERS["dots"]
    collapsed = _leader_boxes(HTML, css)
    assert all(len(b.children) == 1 and b.children[0].dots for b in collapsed)
    assert sum(len(b.children[0].dots) for b in collapsed) > 400
    with leaders.separate_dots():  # a tagged PDF marks each dot: WeasyPrint's boxes
        separate = _leader_boxes(HTML, css)
    assert sum(len(b.children) for b in separate) == sum(len(b.children[0].dots) for b in collapsed)
    run, dots = collapsed[0].children[0], separate[0].children
    assert [(d.position_x, d.width) for d in dots] == list(run.dots)
    assert run.position_x == min(d.position_x for d in dots)
    assert run.position_x + run.width == max(d.position_x + d.width for d in dots)
