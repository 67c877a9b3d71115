"""The page audit (book.check.page_audit) on small synthetic pages, the print keeps' markup
(book.pdf.keeps), the grid patch's rounding (book.pdf.weasy.grid), and the audit of the sample PDF."""

from __future__ import annotations

import pytest

from book.check.page_audit import audit_pages
from book.check.printed import Glyph, Line, Page, Rect
from book.pdf.keeps import bind_last_characters, mark_lead_ins
from book.pdf.weasy.grid import snapped

PITCH, TOP, SIZE = 18.375, 524.9, 10.5


def line(y: float, text: str = "这是正文的一行文字排满了整个版心宽度", x: float = 40.0, size: float = SIZE,
         font: str = "Serif", extra: float = 0.0) -> Line:  # fmt: skip
    return Line(y, [Glyph(x + i * size, y, size, font, c, size, extra) for i, c in enumerate(text)])


def page(index: int, ys: list[float], *, opener: bool = False, last: Line | None = None) -> Page:
    lines = [line(543.4, "书名", size=8.4)]
    if opener:
        lines.append(line(500.0, "第八章", size=19.4))
    lines += [line(y) for y in ys]
    if last is not None:
        lines.append(last)
    lines.append(line(24.5, str(index + 1), size=8.9))
    return Page(index, lines)


def grid(n: int, start: int = 0) -> list[float]:
    return [TOP - k * PITCH for k in range(start, n)]


def test_grid_foot_and_spreads() -> None:
    pages = [page(0, grid(26)), page(1, grid(26)), page(2, grid(25)), page(3, grid(26)), page(4, grid(10)),
             page(5, grid(26), opener=True)]  # fmt: skip
    a = audit_pages(pages)  # page 5 is its part's last (page 6 opens the next), page 6 the book's
    assert a.pitch == pytest.approx(PITCH, abs=0.01) and a.origin == pytest.approx(TOP, abs=0.05)
    assert a.grid_share == 1.0
    assert a.full_pages == 4 and a.on_foot == 3 and a.off_foot_pages == [3]
    assert (a.spreads, a.spreads_even) == (1, 0)  # pages 2|3 differ; page 5 is not full


def test_off_grid_lines_are_counted() -> None:
    ys = grid(10) + [TOP - 10 * PITCH - 4.0 - k * PITCH for k in range(10)]
    a = audit_pages([page(0, ys), page(1, grid(26)), page(2, grid(26))])
    assert a.body_lines == 72 and a.on_grid == 62


def test_keeps_at_the_foot_and_single_characters() -> None:
    heading = line(TOP - 25 * PITCH, "小标题", size=14.2)
    lead = line(TOP - 25 * PITCH, "技术实力不弱：")
    single = line(TOP - 12 * PITCH, "风")
    pages = [
        page(0, grid(25), last=heading),
        page(1, grid(25), last=lead),
        page(2, grid(12), last=single),
        page(3, grid(26)),
    ]
    a = audit_pages(pages)
    assert a.heading_at_foot == [1] and a.lead_in_at_foot == [2] and a.single_char_lines == [3]


def test_split_box_sides_and_han_gaps() -> None:
    p0, p1 = page(0, grid(26)), page(1, grid(26))
    p0.boxes = [Rect(30, 20, 380, TOP - 22.5 * PITCH)]  # the last 3 lines… and 2 on the next page
    p1.boxes = [Rect(30, TOP - 1.5 * PITCH, 380, 540)]
    p1.lines[2] = line(TOP - PITCH, extra=0.2 * SIZE)
    a = audit_pages([p0, p1, page(2, grid(26))])
    assert a.split_boxes == ["pages 1–2 (3+2 lines)"] and a.short_splits == a.split_boxes
    assert a.han_gap_lines == 1 and a.han_gap_max == pytest.approx(0.2)


def test_lead_ins_and_bound_last_characters() -> None:
    body = '<p id="a">引言如下：</p><ul><li>甲乙丙</li></ul><p><strong>路径 1：闭源</strong></p><p>a <strong>b</strong></p>'
    marked = mark_lead_ins(body)
    assert marked.count('class="lead-in"') == 2 and "<p>a <strong>b</strong></p>" in marked
    assert bind_last_characters('<p>难占上风<span class="cjk-halt">。</span></p>') == (
        '<p>难占<span class="keep-end">上风<span class="cjk-halt">。</span></span></p>'
    )
    assert bind_last_characters("<p>Latin end.</p>") == "<p>Latin end.</p>"


def test_grid_rounding() -> None:
    assert snapped(10.0, 10.0, 24.5) == 10.0
    assert snapped(20.0, 10.0, 24.5) == pytest.approx(34.5)
    assert snapped(13.0, 10.0, 24.5) == pytest.approx(10.0)  # just past a line: back onto it
    assert snapped(34.499, 10.0, 24.5) == 34.499


def test_sample_pages(sample_build: dict) -> None:
    from book.check.page_audit import audit_pdf

    a = audit_pdf(sample_build["pdf"])
    assert a.grid_share >= 0.95, a.summary()
    assert not a.short_splits and not a.heading_at_foot and not a.lead_in_at_foot, a.summary()
    assert not a.single_char_lines and not a.widows_at_top, a.summary()
    assert a.foot_share >= 0.95, a.summary()
    assert a.han_gap_lines <= 6, a.summary()  # lines whose few spaces stop at their limit


def test_title_turns_over_between_words() -> None:
    from book.pdf.keeps import bind_title_words

    out = bind_title_words('<h1 class="opener-title" id="t">Meta 的开源革命：LLaMA 引爆 AI 民主化</h1>')
    assert '<span class="keep-end">民主化</span>' in out and '<span class="keep-end">的开源革命</span>' in out
    long_run = bind_title_words('<h1 class="opener-title">一二三四五六七八九十</h1>')
    assert "keep-end" not in long_run  # a long run keeps its breaks: it may have to turn over inside


def test_grid_patch_on_a_render() -> None:
    """After a heading in larger type and a table, the text's lines are back on the grid."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    from book.pdf import weasy

    assert weasy.install() is True
    para = "<p style='margin: 0'>" + "正文的一行文字" * 12 + "</p>"
    html = (
        "<html style='font-size: 14px; line-height: 1.75; font-family: \"Noto Serif CJK SC\"'>"
        "<body style='margin: 0'><div class='content'>"
        f"{para}<h2 style='font-size: 23px; margin: 7px 0'>标题</h2>{para}"
        f"<table style='font-size: 11px; line-height: 1.3'><tr><td>表</td></tr></table>{para}</div></body></html>"
    )
    doc = HTML(string=html).render(stylesheets=[])
    page = doc.pages[0]._page_box
    top, pitch = page.content_box_y(), 14 * 1.75
    tops: list[float] = []

    def walk(box: object, in_p: bool) -> None:
        for child in getattr(box, "children", []):
            if isinstance(child, boxes.LineBox) and in_p:
                tops.append(child.position_y)
            walk(child, in_p or getattr(child, "element_tag", "") == "p")

    walk(page, False)
    assert len(tops) >= 6
    assert all(abs((y - top) / pitch - round((y - top) / pitch)) < 0.01 for y in tops), tops


def test_lead_in_over_a_table_is_not_at_the_foot() -> None:
    lead = line(TOP - 22 * PITCH, "性能飞跃：")
    table = [line(TOP - 23 * PITCH - k * 14, "MMLU 82% 70%", size=9.0) for k in range(3)]
    pages = [page(0, grid(22)), page(1, grid(26)), page(2, grid(26))]
    pages[0].lines[-1:-1] = [lead, *table]  # before the folio
    a = audit_pages(pages)
    assert a.lead_in_at_foot == []
