"""The WeasyPrint CJK justification patch (book/justify.py), on real renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from book.check.typography import unflush_lines
from book.pdf.weasy import justify
from tests.conftest import have

TEXT = "合计 30+亿月活用户每天产生的文本、图像、视频数据量惊人，用户行为数据可以持续优化模型。" * 6


def test_version_guard(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The patches reach into WeasyPrint's internals: on another version none is installed."""
    from book.pdf import weasy

    monkeypatch.setattr(weasy, "_state", {})
    monkeypatch.setattr(weasy, "version", lambda: "71.0")
    assert weasy.install() is False
    assert "WeasyPrint 71.0 is not the pinned 70.0" in capsys.readouterr().err


def test_cjk_byte_ranges() -> None:
    assert justify.cjk_byte_ranges("ab汉字c") == [(2, 8)]
    assert justify.has_cjk("AI，") and not justify.has_cjk("plain text")


@pytest.mark.skipif(not have("pdftotext"), reason="needs poppler-utils")
def test_chinese_lines_flush(tmp_path: Path) -> None:
    from weasyprint import HTML

    from book.pdf import weasy

    assert weasy.install() is True  # as every render does (book.pdf.layout.render_document)
    assert justify._installed
    html = (
        '<html lang="zh-CN"><body style="margin:0"><p style="font: 10.5pt \'Noto Serif CJK SC\'; '
        f'text-align: justify; width: 20.3em; text-indent: 2em">{TEXT}</p></body></html>'
    )
    pdf = tmp_path / "j.pdf"
    HTML(string=html).write_pdf(str(pdf))
    assert unflush_lines(pdf) == []


@pytest.mark.skipif(not have("pdftotext"), reason="needs poppler-utils")
def test_dash_and_ellipsis_are_two_ems_and_halt_is_half(tmp_path: Path) -> None:
    """Rules 7 and 11 on a real render with the book's styles: widths measured in the PDF."""
    import re
    import subprocess

    from weasyprint import CSS, HTML

    from book.parts.htmltree import parse_fragment, to_xhtml
    from book.typography import apply
    from tests.test_typography import PART

    root = parse_fragment("<p>汉--汉</p><p>汉...汉</p><p>汉。”汉</p>")
    from book.errors import Diagnostics

    apply(root, PART, Diagnostics(echo=False))
    styles = Path(__file__).resolve().parent.parent / "styles"
    html = f'<html lang="zh-CN"><body style="font-size: 10pt">{to_xhtml(root, inner=True)}</body></html>'
    pdf = tmp_path / "w.pdf"
    HTML(string=html).write_pdf(str(pdf), stylesheets=[CSS(filename=str(styles / "book.css"))])
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    widths = [float(b) - float(a) for a, b in re.findall(r'xMin="([\d.]+)"[^>]*xMax="([\d.]+)"', xml)]
    # 汉——汉 and 汉……汉 are 4 em; 汉。”汉 is 3.5 em (the full stop set half-width)
    assert [round(w / 10, 1) for w in widths[:3]] == [4.0, 4.0, 3.5]


# --- clreq's order of adjustment, on constructed lines (10 pt Song, measured in ems) -------------

EM = 10 * 96 / 72  # px


def _lines(text: str, width: float) -> list[list]:
    """The text boxes of each line of a justified paragraph `width` ems wide."""
    from weasyprint import HTML

    from book.pdf import weasy

    assert weasy.install() is True
    html = (
        "<html lang='zh-CN'><body style='margin:0'><p style=\"font: 10pt 'Noto Serif CJK SC'; "
        f'text-align: justify; width: {width}em">{text}</p></body></html>'
    )
    out: list[list] = []

    def texts(box: object) -> list:
        found = [box] if type(box).__name__ == "TextBox" else []
        for child in getattr(box, "children", []):
            found += texts(child)
        return found

    def walk(box: object) -> None:
        if type(box).__name__ == "LineBox":
            out.append(texts(box))
            return
        for child in getattr(box, "children", []):
            walk(child)

    walk(HTML(string=html).render().pages[0]._page_box)
    return out


def _text(line: list) -> str:
    return "".join(b.text for b in line)


def _spacing(line: list) -> tuple[float, float]:
    s = line[0].justification_spacing
    return round(float(s) / EM, 3), round(getattr(s, "cjk", 0.0) / EM, 3)


def test_compress_the_line_end_mark_first() -> None:
    """“六，” is 0.1 em too wide for the line: the comma at the line's end gives up its blank half and
    the line takes both in (without it the line would end at 五 with 1.9 em over 4 gaps)."""
    first = _lines("一二三四五六，七八九十", 6.9)[0]
    assert _text(first) == "一二三四五六，"
    assert first[0].halts == (len("一二三四五六".encode()),)
    assert 0 <= _spacing(first)[1] < justify.HAN_GAP_LIMIT  # what is left expands the gaps a little


def test_compress_a_mark_inside_the_line_when_none_ends_it() -> None:
    first = _lines("一，二，三四五六七八九十", 6.9)[0]
    assert _text(first) == "一，二，三四五"
    assert first[0].halts == (len("一，二".encode()),)  # the comma nearest the end, not the first


def test_no_compression_where_the_gaps_stay_within_the_limit() -> None:
    # 9.4 em: 一…八， fills 9 em, its 0.4 em over 8 gaps is under 1/16 em: nothing is compressed
    first = _lines("一二三四五六七八，九十甲乙丙丁戊己庚辛", 9.4)[0]
    assert _text(first) == "一二三四五六七八，" and not getattr(first[0], "halts", ())


def test_han_gaps_stop_at_the_limit_and_spaces_take_the_rest() -> None:
    first = _lines("汉字汉字汉字汉字汉字汉字 abc 汉字 Supercalifragilisticexpialidocious", 18.2)[0]
    word, cjk = _spacing(first)
    assert cjk == justify.HAN_GAP_LIMIT and cjk < word <= justify.SPACE_LIMIT


def test_han_gaps_pass_the_limit_only_when_spaces_are_full_or_absent() -> None:
    few_spaces = _lines("汉字汉字 abc def 汉字 Supercalifragilisticexpialidocious", 14)[0]
    word, cjk = _spacing(few_spaces)
    assert word == justify.SPACE_LIMIT and cjk > justify.HAN_GAP_LIMIT
    no_space = _lines("汉字汉字汉字汉字汉字汉字汉字汉字汉字Supercalifragilistic", 12)[1]
    word, cjk = _spacing(no_space)
    assert _text(no_space) == "汉字汉字汉字" and cjk == word > justify.HAN_GAP_LIMIT


def test_compressible_marks_in_clreq_order() -> None:
    assert justify.compressible("一，二（三）四，", 3) == [7, 5, 3]  # the end, then from the end inward
    assert justify.compressible("一。二，三", 3) == [3]  # a full stop inside the line keeps its space
    assert justify.compressible("一，“二", 3) == []  # a pair the stage halts already
    assert justify.next_unit("一二三，”四", 2) == 5 and justify.next_unit("汉 PyTorch 汉", 2) == 9
