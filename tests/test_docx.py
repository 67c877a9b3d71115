"""DOCX: the manuscript through Pandoc, with a Chinese reference document (python-docx reads it)."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from book.errors import Diagnostics
from book.pipeline import prepare
from book.tools.docx import SANS, SERIF, reference_docx
from book.tools.docxsource import write_source_docx
from tests.conftest import ROOT


def east_asian_font(style) -> str | None:
    rfonts = style.element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    return None if rfonts is None else rfonts.get(qn("w:eastAsia"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("docx")
    build = prepare(ROOT / "book.yaml", out, Diagnostics(echo=False))
    write_source_docx(build, out / "book.docx")
    return build, out / "book.docx"


def test_chapter_headings_are_word_headings(sample) -> None:
    build, path = sample
    doc = docx.Document(str(path))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    ch08 = next(p for p in build.parts if p.id == "ch08")
    source = next(p for p in build.manifest.parts if p.id == "ch08")
    # The author's heading as written (`# Chapter 8: …`), not the opener the book makes of it.
    assert ("Heading 1", f"Chapter 8: {source.title}") in headings
    level2 = [h.title for h in ch08.headings if h.level == 2]
    found = [text for style, text in headings if style == "Heading 2"]
    assert len(level2) >= 5

    # An anecdote section renders as a callout whose heading is "💡轶事 <title>" while its nav
    # title is "轶事：<title>" (structures); compare the titles without that label.
    def bare(text: str) -> str:
        # (and the typeset title's spaces and paired quotes, which the author did not type)
        return re.sub(r"[\s\"“”]", "", re.sub(r"^\s*(?:💡\ufe0f?\s*)?轶事\s*[:：]?\s*", "", text))

    for title in level2:
        assert any(bare(text).startswith(bare(title)) for text in found), title
    # The author's text, not the typeset one: no spaces between Han and digits, no word joiners.
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "2023年2月24日，星期五" in body and "\u2060" not in body


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
