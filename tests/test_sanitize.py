"""The sanitiser: active HTML in manuscripts is removed with a positioned warning, Pandoc's own
output passes unchanged, and front-matter values are shown literally, never evaluated."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from book.check.epubcheck import run_epubcheck
from book.errors import Diagnostics
from book.model import Part
from book.parts import convert, sanitize
from tests.conftest import ROOT, write_chapter
from tests.test_bad_input_build import build_epub

HOSTILE = """开头。

<script>alert(1)</script>

<p onclick="steal()">点我</p>

[普通链接](https://example.com) [坏链接](javascript:alert(2))

<iframe src="https://evil.example/"></iframe>

<a href="JaVaScRiPt:alert(3)">大小写</a> <img src="x.png" onerror="alert(4)" alt="图">

<object data="x.swf"></object><embed src="x.swf">

<style>body{display:none}</style>

<svg onload="alert(5)"><circle r="1"/></svg>

结尾。
"""


def part_of(body: str, line: int = 10) -> Part:
    return Part("ch01", "chapter", Path("chapters/a.md"), "标题", "第一章", 1, {}, body, line)


def clean(body: str, line: int = 10) -> tuple[str, list]:
    diag = Diagnostics(echo=False)
    out = sanitize.clean(convert.markdown_to_html(body, "ch01"), part_of(body, line), diag)
    return out, diag.warnings


def test_hostile_html_removed_with_warnings_naming_file_and_line() -> None:
    out, warnings = clean(HOSTILE)
    for bad in (
        "<script",
        "alert",
        "onclick",
        "javascript",
        "<iframe",
        "onerror",
        "<object",
        "<embed",
        "<style",
        "onload",
    ):
        assert bad not in out.lower(), bad
    assert "开头。" in out and "点我" in out and "结尾。" in out and 'href="https://example.com"' in out
    lines = {(w.line, w.message) for w in warnings}
    # body starts at file line 10: the <script> is on body line 3 → file line 12
    assert (12, "HTML element <script> removed") in lines
    assert (14, "event attribute onclick= removed from <p>") in lines
    assert (16, "javascript: link removed from <a>") in lines
    assert (18, "HTML element <iframe> removed") in lines
    assert (20, "javascript: link removed from <a>") in lines
    assert (20, "event attribute onerror= removed from <img>") in lines
    assert (22, "HTML element <object> removed") in lines
    assert (24, "HTML element <style> removed") in lines
    assert all(str(w).startswith("chapters/a.md:") for w in warnings)


def test_pandoc_output_of_the_sample_chapter_passes_unchanged() -> None:
    text = (ROOT / "seeds" / "08-meta-open-source.md").read_text(encoding="utf-8")
    body = text.split("---\n", 2)[2]
    fragment = convert.markdown_to_html(body, "ch08")
    diag = Diagnostics(echo=False)
    out = sanitize.clean(fragment, part_of(body), diag)
    assert not diag.problems
    assert out.replace("<hr>", "<hr />") == fragment


def test_pandoc_constructs_are_kept() -> None:
    body = (
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- [x] 完成\n\n```python\nprint(1)\n```\n\n脚注[^1]。\n\n"
        "[^1]: 注释。\n\n[链接](https://x.org){.cls #myid lang=en}\n\n::: {.callout callout=tip}\n提示\n:::\n\n"
        "![图](pic.png){width=50%}\n\n<ruby>汉<rp>(</rp><rt>hàn</rt><rp>)</rp></ruby> <kbd>Ctrl</kbd>\n"
    )
    fragment = convert.markdown_to_html(body, "ch01")
    diag = Diagnostics(echo=False)
    out = sanitize.clean(fragment, part_of(body), diag)
    assert not diag.problems, diag.problems
    for kept in (
        'style="text-align:right"', 'type="checkbox"', 'class="sourceCode python"', 'role="doc-noteref"',
        'role="doc-endnotes"', 'id="ch01-myid"', 'data-callout="tip"', 'style="width:50.0%"', "<rt>hàn</rt>",
        'aria-hidden="true"', "<kbd>Ctrl</kbd>",
    ):  # fmt: skip
        assert kept in out, kept


@pytest.mark.parametrize(
    "href,kept",
    [("https://a.org", True), ("http://a.org", True), ("mailto:a@b.org", True), ("#sec", True),
     ("other.xhtml#x", True), ("javascript:alert(1)", False), ("vbscript:x", False),
     ("data:text/html,<script>", False), ("file:///etc/passwd", False), (" javascript:x", False)],
)  # fmt: skip
def test_link_schemes(href: str, kept: bool) -> None:
    out, warnings = clean(f'<a href="{href}">链接</a>')
    assert ("href=" in out) is kept
    assert bool(warnings) is not kept


def test_numeric_reference_to_a_control_character_is_removed() -> None:
    out, warnings = clean("甲\n\n乙&#1;丙\n")
    assert "\x01" not in out and "乙丙" in out
    (w,) = warnings
    assert w.line == 12 and "U+0001" in w.message


# --- through a real build: the EPUB's XHTML -----------------------------------------------------


XHTML = {"x": "http://www.w3.org/1999/xhtml"}


@pytest.fixture(scope="module")
def hostile_epub(tmp_path_factory: pytest.TempPathFactory) -> dict:
    book = tmp_path_factory.mktemp("hostile")
    (book / "chapters").mkdir()
    (book / "book.yaml").write_text(
        'title: "{{ 7*7 }}<b>书</b>"\nsubtitle: "{% raw %}x{% endraw %}&amp;"\nauthors: ["{{ config }}"]\n'
        "date: 2025-01-01\nchapters:\n  - chapters/*.md\n",
        encoding="utf-8",
    )
    write_chapter(
        book,
        "a.md",
        '---\nchapter_number: 1\ntitle: "{{ 7*7 }}<b>"\ntitle_en: "{{ self.__init__ }}"\nperiod: "<script>x</script>"\n'
        'technical_concepts: ["{% for x in range(3) %}{{x}}{% endfor %}"]\n---\n\n' + HOSTILE,
    )
    epub, diag = build_epub(book)
    return {"epub": epub, "diag": diag}


def read(epub: Path, name: str) -> str:
    with zipfile.ZipFile(epub) as z:
        return z.read(f"EPUB/{name}").decode("utf-8")


def test_front_matter_values_shown_literally_never_evaluated(hostile_epub: dict) -> None:
    ch = read(hostile_epub["epub"], "ch01.xhtml")
    assert "{{ 7*7 }}&lt;b&gt;" in ch and ">49<" not in ch and "49&lt;" not in ch
    assert "{{ self.__init__ }}" in ch and "&lt;script&gt;x&lt;/script&gt;" in ch
    assert "{% for x in range(3) %}{{x}}{% endfor %}" in ch
    title = etree.fromstring(ch.encode()).find(".//x:h1", XHTML)
    assert "".join(title.itertext()) == "{{ 7*7 }}<b>"
    for name in ("titlepage.xhtml", "toc.xhtml", "content.opf"):
        text = read(hostile_epub["epub"], name)
        assert "{{ 7*7 }}&lt;b&gt;" in text, name
        assert "<b>" not in text, name


def test_no_active_content_in_any_content_document(hostile_epub: dict) -> None:
    with zipfile.ZipFile(hostile_epub["epub"]) as z:
        names = [n for n in z.namelist() if n.endswith(".xhtml")]
        for name in names:
            doc = etree.fromstring(z.read(name))
            for el in doc.iter():
                if not isinstance(el.tag, str):
                    continue
                local = etree.QName(el).localname
                assert local not in {"script", "iframe", "object", "embed", "style"}, (name, local)
                for attr, value in el.attrib.items():
                    assert not attr.lower().startswith("on"), (name, attr)
                    assert not re.match(r"\s*(javascript|vbscript|data):", value, re.I), (name, value)


def test_hostile_book_is_epubcheck_clean(hostile_epub: dict) -> None:
    result = run_epubcheck(hostile_epub["epub"])
    assert result.ok, "\n".join(result.details)


@pytest.mark.parametrize(
    "raw,expect,gone",
    [
        ("<span>甲<ul><li>乙</li></ul></span>", "<span>甲<span><span>乙</span></span>", "<ul"),
        ("<em>強<div>塊</div></em>", "<em>強<span>塊</span></em>", "<div"),
        ("<div><li>孤</li></div>", "<div><div>孤</div></div>", "<li"),
        ("甲<rt>注</rt>乙", "<span>注</span>", "<rt"),
        ("<ul><b>粗</b>字<li>项</li>尾</ul>", "<ul><li><b>粗</b>字</li><li>项</li><li>尾</li></ul>", "</b>字<li>"),
        ("<dl>词<dt>t</dt></dl>", "<dl><dd>词</dd><dt>t</dt></dl>", "<dl>词"),
        ('<span id="a b">甲</span><span id="k">乙</span><span id="k">丙</span>', 'id="ch01-k"', 'id="ch01-a b"'),
    ],
)
def test_hand_written_html_is_repaired_to_fit_xhtml(raw: str, expect: str, gone: str) -> None:
    out, warnings = clean(raw)
    flat = re.sub(r"\s+", "", out)
    assert re.sub(r"\s+", "", expect) in flat and gone not in out
    assert out.count('id="ch01-k"') <= 1
    if "<a" not in raw:
        assert any("repaired to fit XHTML" in w.message for w in warnings)


def test_repaired_html_builds_epubcheck_clean(tmp_path: Path) -> None:
    book = tmp_path
    (book / "chapters").mkdir()
    (book / "book.yaml").write_text("title: 书\nauthors: [甲]\nchapters:\n  - chapters/*.md\n", encoding="utf-8")
    write_chapter(
        book, "a.md",
        "---\nchapter_number: 1\ntitle: 修复\n---\n\n<b>粗<p>段</p></b>\n\n<span>甲<ul><li>乙</li></ul></span>\n\n"
        '<div><li>孤</li><dt>词</dt></div>\n\n甲<rt>注</rt>乙 <span id="k">一</span><span id="k">二</span>\n\n'
        '<a href="#x">一<label>二<input type="checkbox"></label></a>\n\n<ol start="3"><b>粗</b><li>项</li>尾</ol>\n',
    )  # fmt: skip
    epub, diag = build_epub(book)
    assert any("repaired" in w.message for w in diag.warnings)
    assert any(w.message.startswith("link to '#x' points at no id") and w.line == 14 for w in diag.warnings)
    result = run_epubcheck(epub)
    assert result.ok, "\n".join(result.details)
