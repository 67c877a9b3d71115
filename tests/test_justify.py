"""The WeasyPrint CJK justification patch (book/justify.py), on real renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from book import justify
from book.typo_check import unflush_lines
from tests.conftest import have

TEXT = "合计 30+亿月活用户每天产生的文本、图像、视频数据量惊人，用户行为数据可以持续优化模型。" * 6


def test_version_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(justify, "_installed", False)
    monkeypatch.setattr(justify, "_version", lambda: "71.0")
    assert justify.install() is False


def test_cjk_byte_ranges() -> None:
    assert justify.cjk_byte_ranges("ab汉字c") == [(2, 8)]
    assert justify.has_cjk("AI，") and not justify.has_cjk("plain text")


@pytest.mark.skipif(not have("pdftotext"), reason="needs poppler-utils")
def test_chinese_lines_flush(tmp_path: Path) -> None:
    from weasyprint import HTML

    import book.pdf  # noqa: F401  (installs the patch, as every render does)

    assert justify.install() is True
    html = (
        '<html lang="zh-CN"><body style="margin:0"><p style="font: 10.5pt \'Noto Serif CJK SC\'; '
        f'text-align: justify; width: 20.3em; text-indent: 2em">{TEXT}</p></body></html>'
    )
    pdf = tmp_path / "j.pdf"
    HTML(string=html).write_pdf(str(pdf))
    assert unflush_lines(pdf) == []
