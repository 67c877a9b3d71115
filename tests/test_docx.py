"""DOCX: the rendered bodies through Pandoc, with a Chinese reference document (python-docx reads it)."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from book.errors import Diagnostics
from book.pipeline import prepare
from book.tools.docx import SANS, SERIF, reference_docx, write_docx
from tests.conftest import ROOT


def east_asian_font(style) -> str | None:
    rfonts = style.element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    return None if rfonts is None else rfonts.get(qn("w:eastAsia"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("docx")
    build = prepare(ROOT / "book.yaml", out, Diagnostics(echo=False))
    return build, write_docx(build, out / "book.docx")


def test_chapter_headings_are_word_headings(sample) -> None:
    build, path = sample
    doc = docx.Document(str(path))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    ch08 = next(p for p in build.parts if p.id == "ch08")
    assert ("Heading 1", ch08.title) in headings
    level2 = [h.title for h in ch08.headings if h.level == 2]
    found = [text for style, text in headings if style == "Heading 2"]
    assert len(level2) >= 5

    # An anecdote section renders as a callout whose heading is "💡轶事 <title>" while its nav
    # title is "轶事：<title>" (structures); compare the titles without that label.
    def bare(text: str) -> str:
        return re.sub(r"^\s*(?:💡\ufe0f?\s*)?轶事\s*[:：]?\s*", "", text)

    for title in level2:
        assert any(bare(text).startswith(bare(title)) for text in found), title
    # The same content as the EPUB: the chapter's first paragraph is there, verbatim
    body = "\n".join(p.text for p in doc.paragraphs)
    # (typeset: the typography stage spaces Han and digits, "2023 年 2 月 24 日")
    assert "2023 年 2 月 24 日" in body


def test_styles_use_chinese_fonts(sample) -> None:
    _, path = sample
    styles = {s.name: s for s in docx.Document(str(path)).styles}
    assert east_asian_font(styles["Normal"]) == SERIF
    assert east_asian_font(styles["Body Text"]) == SERIF
    for level in (1, 2, 3):
        assert east_asian_font(styles[f"Heading {level}"]) == SANS


def test_reference_document_alone(tmp_path: Path) -> None:
    ref = reference_docx(tmp_path / "ref.docx")
    styles = {s.name: s for s in docx.Document(str(ref)).styles}
    assert east_asian_font(styles["Heading 1"]) == SANS
    lang = docx.Document(str(ref)).styles.element.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}"
    )
    assert lang is not None and lang.get(qn("w:eastAsia")) == "zh-CN"
