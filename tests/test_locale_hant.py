"""A zh-Hant book's fixed strings: the anecdote callout and the editor's report print Traditional."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from book.errors import Diagnostics
from book.locale import HANS, HANT, locale_for, template_strings
from book.model import PROJECT_ROOT
from book.parts import structures
from book.parts.htmltree import parse_fragment, to_xhtml
from book.tools import editor
from tests.test_technical_units import FakePart

SIMPLIFIED_ONLY = set("轶编辑审读页档来变动删这个没较与检结构单标签题态数发现问")


def test_the_tables_keep_the_same_keys() -> None:
    assert HANS.keys() == HANT.keys()


@pytest.mark.parametrize("language", ["zh-Hant", "zh-TW"])
def test_the_anecdote_callout_is_labelled_in_the_books_script(language: str) -> None:
    config = SimpleNamespace(language=language, template_dirs=(PROJECT_ROOT / "templates",))
    root = parse_fragment("<section><h2>💡 軼事：一個故事</h2><p>正文。</p></section>")
    found = structures.apply(root, FakePart("## 💡 軼事：一個故事\n\n正文。\n"), Diagnostics(echo=False), config)
    out = to_xhtml(root, inner=True)
    assert found["anecdotes"] == 1 and 'aria-label="軼事：一個故事"' in out and "轶" not in out


@pytest.mark.parametrize("template", ["report.md.j2", "report.html.j2"])
def test_the_editor_report_prints_traditional(template: str) -> None:
    config = SimpleNamespace(title="書", language="zh-Hant", template_dirs=(PROJECT_ROOT / "templates",))
    part = editor.PartChange("ch01", "第一章", "開端", "changed",
                             [editor.ParagraphChange("changed", "ch01-p2", 2, "舊", "新")])  # fmt: skip
    ctx = {
        "book": config, "package": "b.zip", "day": "2026-12-01", "files": {"b.pdf": 10}, "pages": 3,
        "rows": [{"id": "ch01", "label": "第一章", "title": "開端", "status": "draft", "source": "01.md",
                  "paragraphs": 2, "characters": 9}],
        "lint": [], "warnings": [], "epubcheck": "", "changes": [part], "previous": "b-1.zip",
        "t": template_strings("zh-Hant"), "region": locale_for("zh-Hant").region,
    }  # fmt: skip
    text = editor._report_env(SimpleNamespace(config=config)).get_template(template).render(**ctx)
    assert "《書》編輯包 2026-12-01" in text and "審讀 PDF 共 3 頁" in text and "沒有警告" in text
    assert not SIMPLIFIED_ONLY & set(text), sorted(SIMPLIFIED_ONLY & set(text))
    if template.endswith(".html.j2"):
        assert '<html lang="zh-Hant">' in text and "Noto Serif CJK TC" in text


def test_the_mail_and_the_accessibility_summary_follow_the_script(tmp_path) -> None:
    from book.epub.package import accessibility_metadata
    from book.model import RenderedPart
    from book.tools.send import build_message

    package = tmp_path / "b-2026-12-01.zip"
    package.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    msg = build_message(package, ["a@example.com"], title="書", sender="x@example.com", language="zh-Hant")
    body = msg.get_body().get_content()
    assert msg["Subject"] == "《書》編輯包 b-2026-12-01" and "審讀 PDF" in body and "「第八章 第12段」" in body
    part = RenderedPart(id="c", kind="chapter", filename="c.xhtml", title="", label="", body='<img alt="x" src="a"/>')
    summary = dict(accessibility_metadata([part], True, True, "zh-Hant"))["schema:accessibilitySummary"]
    assert summary.startswith("本書為可重排的 EPUB 3 電子書") and "頁碼" in summary and "無閃爍" in summary
    assert not SIMPLIFIED_ONLY & set(body + summary)
