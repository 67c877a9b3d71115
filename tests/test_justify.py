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
