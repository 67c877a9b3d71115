"""The common foot (book.pdf.weasy.grid): which spaces take a page's slack, blocks with their own
pitch ending on a grid baseline, bookmarks staying on their headings, and the audit's heading rule."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from book.check.page_audit import audit_pages
from book.check.printed import Glyph, Line, Page
from book.pdf.weasy.grid import PARAGRAPH_RANK, _keeps_with_next, _rank, spread

PITCH, TOP, SIZE = 18.375, 524.9, 10.5


def el(tag: str, cls: str = "") -> SimpleNamespace:
    return SimpleNamespace(tag=tag, get=lambda k, d=None: cls if k == "class" and cls else d)


def box(tag: str, cls: str = "", flow: bool = True, element: object = None) -> SimpleNamespace:
    return SimpleNamespace(element=element or el(tag, cls), element_tag=tag, book_flow=flow)


def test_ranks_of_the_spaces() -> None:
    content = box("div", "content")
    assert _rank(box("h2"), content) == 0
    assert _rank(box("table"), content) == 1 and _rank(box("section", "references"), content) == 1
    assert _rank(box("p", "lead-in"), content) == 2
    assert _rank(box("p"), content) == PARAGRAPH_RANK  # last: between two paragraphs of the text
    assert _rank(box("p"), box("section", "callout")) is None  # never inside a box
    assert _rank(box("h2", flow=False), content) is None  # not in the text's flow
    heading = box("h2")
    # the anonymous block holding a heading's line (before its English subtitle): space there would
    # open inside the heading, below its bookmark
    assert _rank(box("h2", element=heading.element), heading) is None


def test_kept_blocks() -> None:
    assert _keeps_with_next(SimpleNamespace(style={"break_after": "avoid"}, children=[]))
    assert not _keeps_with_next(SimpleNamespace(style={"break_after": "auto"}, children=[]))


def test_spread_over_the_page() -> None:
    spaces = [(0, ["h2"]), *((PARAGRAPH_RANK, [f"p{i}"]) for i in range(6))]
    assert [c[-1] for _, c in spread(spaces, 1)] == ["h2"]
    assert [c[-1] for _, c in spread(spaces, 3)] == ["h2", "p1", "p4"]  # spread, not the first ones
    assert [c[-1] for _, c in spread([(1, ["fig"])], 2)] == ["fig", "fig"]


def line(y: float, text: str, size: float = SIZE) -> Line:
    return Line(y, [Glyph(40 + i * size, y, size, "Serif", c, size) for i, c in enumerate(text)])


def test_placeholder_icon_is_not_a_heading() -> None:
    def page(i: int, tail: list[Line]) -> Page:
        body = [line(TOP - k * PITCH, "这是正文的一行文字排满了整个版心宽度") for k in range(20)]
        return Page(i, [line(543.4, "书名", 8.4), *body, *tail, line(24.5, str(i + 1), 8.9)])

    icon = [line(TOP - 22.4 * PITCH, "▨", 15.1), line(TOP - 25 * PITCH, "图片未能获取", 8.6)]
    heading = [line(TOP - 25 * PITCH, "小标题", 14.2)]
    a = audit_pages([page(0, icon), page(1, heading), page(2, [])])
    assert a.heading_at_foot == [2]


def _render(html: str) -> object:
    from weasyprint import HTML

    from book.pdf import weasy

    assert weasy.install() is True
    page_css = "@page { size: 300px 300px; margin: 0 }"
    root = "font-size: 14px; line-height: 1.75; font-family: 'Noto Serif CJK SC'"
    return HTML(string=f"<html style=\"{root}\"><style>{page_css}</style><body style='margin: 0'>"
                f"<div class='content'>{html}</div></body></html>").render()  # fmt: skip


def _baselines(page: object, tag: str) -> list[float]:
    from weasyprint.formatting_structure import boxes

    found: list[float] = []

    def walk(b: object, inside: bool) -> None:
        for child in getattr(b, "children", []):
            if isinstance(child, boxes.LineBox) and inside:
                found.append(child.position_y + child.baseline)
            walk(child, inside or getattr(child, "element_tag", "") == tag)

    walk(page, False)
    return found


def test_table_and_caption_end_on_a_grid_baseline() -> None:
    para = "<p style='margin: 0'>" + "正文" * 6 + "</p>"
    table = "<table style='font-size: 11px; line-height: 1.3; margin: 7px 0'>" + "<tr><td>表</td></tr>" * 3 + "</table>"
    figure = "<figure style='margin: 7px 0'><div style='height: 31px'></div><figcaption style='font-size: 11px'>图</figcaption></figure>"
    doc = _render(f"{para}{table}{para}{figure}{para}")
    page = doc.pages[0]._page_box
    pitch = 14 * 1.75
    first = _baselines(page, "p")[0]
    for tag in ("table", "figure"):
        last = _baselines(page, tag)[-1]
        k = (last - first) / pitch
        assert k == pytest.approx(round(k), abs=0.01), (tag, k)


def test_bookmarks_follow_their_headings_after_the_slack() -> None:
    """A page left short by a box kept whole: the heading at its top takes none of the slack, nor
    does the anonymous block of the heading's own line (before its subtitle), which moved the text
    a line or two below the heading's bookmark."""
    para = "<p style='margin: 0'>" + "正文的一行文字" * 4 + "</p>"
    heading = ("<h2 style='margin: 0; padding: 12.25px 0; line-height: 24.5px; font-size: 18px'>标题"
               "<span style='display: block; font-size: 10px'>Sub</span></h2>")  # fmt: skip
    kept = "<div style='break-inside: avoid'>" + para * 6 + "</div>"
    doc = _render(heading + para * 3 + kept)
    assert len(doc.pages) == 2
    mark = doc.pages[0].bookmarks[0][2][1]
    first = _baselines(doc.pages[0]._page_box, "h2")[0]
    assert 0 < first - mark < 12.25 + 24.5  # its padding and its line: no slack between


def test_a_caption_does_not_keep_its_figure_with_the_next_paragraph() -> None:
    from pathlib import Path

    grid_css = Path(__file__).parent.parent / "styles" / "grid.css"
    rule = next(ln for ln in grid_css.read_text().splitlines() if ln.startswith("figure > figcaption:last-child"))
    para = "<p style='margin: 0; orphans: 2; widows: 2'>" + "正文的一行文字" * 6 + "</p>"
    figure = "<figure style='margin: 0; break-inside: avoid'><div style='height: 40px'></div><figcaption>图</figcaption></figure>"
    doc = _render(f"<style>figcaption {{ break-after: avoid }} {rule}</style>{para * 4}{figure}{para}")
    assert _baselines(doc.pages[0]._page_box, "figure"), "the figure stays on the page it fits"


def test_book_check_audits_the_editions(sample_build: dict, tmp_path: Path) -> None:
    """`editions: [zh-TW]` builds into <out>/zh-TW/: `book check` audits that PDF too, in its script."""
    import shutil

    from tests.conftest import ROOT, run_cli

    (tmp_path / "book.yaml").write_text((ROOT / "book.yaml").read_text(encoding="utf-8") + "editions: [zh-TW]\n",
                                        encoding="utf-8")  # fmt: skip
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    out = tmp_path / "out"
    (out / "zh-TW").mkdir(parents=True)
    shutil.copy(sample_build["pdf"], out / "zh-TW" / "ai-history.pdf")
    proc = run_cli("check", "--config", str(tmp_path / "book.yaml"), "--out", str(out))
    lines = proc.stdout.splitlines()
    assert any(ln.startswith("PASS page audit (zh-TW): ") for ln in lines), lines
    assert any(ln.startswith("FAIL pdffonts (zh-TW): ") for ln in lines), lines  # an SC file is not the TC edition


def test_a_listing_split_at_the_foot_ends_on_the_foot() -> None:
    para = "<p style='margin: 0'>" + "正文" * 6 + "</p>"
    code = "\n".join(f"line {i}" for i in range(12))
    listing = (f"<div class='sourceCode' style='margin: 7px 0'><pre style='margin: 0; font-size: 11px; "
               f"line-height: 1.3; orphans: 3; widows: 3'>{code}</pre></div>")  # fmt: skip
    doc = _render(para * 8 + listing + para)
    assert len(doc.pages) == 2
    page = doc.pages[0]._page_box
    first, pitch = _baselines(page, "p")[0], 14 * 1.75
    last = _baselines(page, "pre")[-1]
    assert (last - first) / pitch == pytest.approx(11, abs=0.01)  # the page's 12th line: its foot


def test_a_heading_line_before_its_subtitle_stays_in_its_slot() -> None:
    """The anonymous block of a heading's own line (before a block subtitle) is not moved onto the
    grid: mid-page, it stood half a line lower in its slot than at a page top (1.75 lines under its
    bookmark instead of 1.3)."""
    heading = ("<h2 style='margin: 0; padding: 12.25px 0; line-height: 24.5px; font-size: 18px'>引言"
               "<span style='display: block; font-size: 10px'>Introduction</span></h2>")  # fmt: skip
    doc = _render("<div style='height: 10px'></div>" + heading + "<p style='margin: 0'>正文</p>")
    h2 = next(b for b in doc.pages[0]._page_box.descendants() if getattr(b, "element_tag", "") == "h2")
    assert h2.children[0].position_y == pytest.approx(h2.border_box_y() + 12.25, abs=0.01)
