"""Citations in GB/T 7714-2015 (Pandoc citeproc) and the footnote checks, through the CLI."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path

import pypdf
import pytest

from book.check.epubcheck import run_epubcheck
from book.source.config import load_config
from tests.conftest import run_cli

BIB = (Path(__file__).parent / "data" / "three-refs.bib").read_text(encoding="utf-8")

CH1 = """\
# 第一章 引用

深度学习的研究很多[@zhang2020]。注意力机制见文献[@vaswani2017, p. 12]。

技术报告 @openai2023 也值得一读。
"""

CH2 = """\
# 第二章 脚注

这一章有一个脚注[^a]，一个没有定义的脚注[^b]。

[^a]: 脚注内容。

[^c]: 无人引用的脚注。

代码里的 `[^d]` 不是脚注。
"""

JOURNAL = "张三, 李四. 深度学习在自然语言处理中的应用[J]. 计算机学报, 2020, 43(5): 801-815."
WEB = "OPENAI. GPT-4 Technical Report[EB/OL]. (2023)[2024-05-01]. https://openai.com/research/gpt-4."


def make_book(root: Path, ch1: str = CH1) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "refs.bib").write_text(BIB, encoding="utf-8")
    (root / "ch1.md").write_text(ch1, encoding="utf-8")
    (root / "ch2.md").write_text(CH2, encoding="utf-8")
    (root / "book.yaml").write_text(
        "title: 引用之书\nauthors: [作者]\ndate: 2025-01-01\nbibliography: refs.bib\nchapters:\n  - ch1.md\n  - ch2.md\n",
        encoding="utf-8",
    )
    return root / "book.yaml"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("cite")
    config = make_book(base / "book")
    out = base / "out"
    proc = run_cli("build", "--no-check", "--config", str(config), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    epub = out / "book.epub"
    with zipfile.ZipFile(epub) as z:
        ch1 = next(z.read(n).decode() for n in z.namelist() if "zhang2020" in z.read(n).decode(errors="ignore"))
    pdf_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(out / "book.pdf").pages)
    return {"epub": epub, "ch1": ch1, "pdf": pdf_text, "log": proc.stderr}


def _text(xhtml: str) -> str:
    return re.sub(r"<[^>]+>", "", xhtml).replace("\u2060", "")


@pytest.mark.slow
def test_numeric_markers_are_superscript_and_linked(built: dict) -> None:
    assert re.search(r'<sup>\[<a href="#ch01-ref-zhang2020" role="doc-biblioref"[^>]*>1</a>\]</sup>', built["ch1"])
    assert "[2, p. 12]" in _text(built["ch1"])
    assert "深度学习的研究很多[1]" in built["pdf"]


@pytest.mark.slow
def test_bibliography_in_gbt7714_form_under_its_heading(built: dict) -> None:
    section = built["ch1"][built["ch1"].index('class="references bibliography"') :]
    assert '<span class="box-title-zh">参考文献</span>' in section
    text = _text(section)
    assert f"[1] {JOURNAL}" in text
    # More than three Western authors: "et al." (the style alone writes 等), and the entry is English.
    assert "[2] VASWANI A, SHAZEER N, PARMAR N, et al. Attention Is All You Need[Z/OL]. (2017)." in text
    assert 'id="ch01-ref-vaswani2017" class="reference csl-entry" lang="en"' in section
    assert f"[3] {WEB}" in text
    flat = built["pdf"].replace("\n", " ")
    assert JOURNAL in flat and "[EB/OL]. (2023)[2024-05-01]." in flat


@pytest.mark.slow
def test_epubcheck_clean(built: dict) -> None:
    result = run_epubcheck(built["epub"])
    assert result.ok, result.details


@pytest.mark.slow
def test_footnote_warnings(built: dict) -> None:
    log = built["log"]
    assert re.search(r"ch2\.md:3: warning: footnote \[\^b\] has no definition", log)
    assert re.search(r"ch2\.md:7: warning: footnote \[\^c\] is defined but never referenced", log)
    assert "[^a]" not in log and "[^d]" not in log


@pytest.mark.slow
def test_unknown_key_is_one_line_with_suggestion(tmp_path: Path) -> None:
    config = make_book(tmp_path / "book", CH1 + "\n另一处[@zhang2021]。\n")
    proc = run_cli("build", "--no-check", "--config", str(config), "--out", str(tmp_path / "out"))
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if "zhang2021" in ln]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert re.search(r"ch1\.md:7: error: citation '@zhang2021' has no entry .* did you mean '@zhang2020'\?", lines[0])


def test_bibliography_content_is_in_the_part_key(tmp_path: Path) -> None:
    from book.model import Part
    from book.pipeline import part_key

    config = load_config(make_book(tmp_path / "book"))
    part = Part("ch01", "chapter", tmp_path / "book" / "ch1.md", "引用", "第一章", 1, {}, CH1, 1)
    before = part_key(config, part)
    (tmp_path / "book" / "refs.bib").write_text(BIB.replace("2020", "2021"), encoding="utf-8")
    assert part_key(config, part) != before
    assert part_key(dataclasses.replace(config, bibliography=()), part) != before


def test_csl_option(tmp_path: Path) -> None:
    config_path = make_book(tmp_path / "book")
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text + "csl: author-date\n", encoding="utf-8")
    assert load_config(config_path).csl.name == "china-national-standard-gb-t-7714-2015-author-date.csl"
    config_path.write_text(text + "csl: apa\n", encoding="utf-8")
    proc = run_cli("build", "--no-check", "--config", str(config_path), "--out", str(tmp_path / "out"))
    assert proc.returncode != 0 and "book.yaml:" in proc.stderr and "csl: apa" in proc.stderr


def test_citation_without_bibliography_warns(tmp_path: Path) -> None:
    from book.errors import Diagnostics
    from book.model import Part
    from book.parts import citations, convert
    from book.parts.htmltree import parse_fragment

    body = "前文。\n\n引用[@zhang2020]。\n"
    part = Part("ch01", "chapter", tmp_path / "ch1.md", "引用", "第一章", 1, {}, body, 5)
    diag = Diagnostics(echo=False)
    citations.warn_without_bibliography(parse_fragment(convert.markdown_to_html(body, "ch01")), part, diag)
    assert [(w.line, w.message[:20]) for w in diag.warnings] == [(7, "citation '@zhang2020")]


@pytest.mark.slow
def test_note_style_footnotes_keep_the_standard_punctuation(tmp_path: Path) -> None:
    config = make_book(tmp_path / "book")
    config.write_text(config.read_text(encoding="utf-8") + "csl: note\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("build", "--no-check", "--config", str(config), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out / "book.epub") as z:
        ch1 = z.read("EPUB/ch01.xhtml").decode()
    notes = _text("".join(re.findall(r'<aside [^>]*role="doc-footnote".*?</aside>', ch1)))
    assert "张三, 李四. 深度学习在自然语言处理中的应用[J]. 计算机学报, 2020, 43(5): 801-815" in notes
