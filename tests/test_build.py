"""Integration: build the sample book and check the outputs with the real tools."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pikepdf
import pytest
from lxml import etree

from book.check.epubcheck import run_epubcheck
from book.check.pdf import check_pdf_fonts
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


def xhtml(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read(f"EPUB/{name}"))


def test_epubcheck_clean(sample_build: dict) -> None:
    result = run_epubcheck(sample_build["epub"])
    assert result.ok, "\n".join(result.details)
    assert "0 errors, 0 warnings" in result.summary


def test_every_list_item_of_chapter_8_is_an_li(sample_build: dict) -> None:
    text = (ROOT / "seeds" / "08-meta-open-source.md").read_text(encoding="utf-8")
    body = text.split("---\n", 2)[2]
    expected = len(re.findall(r"^\s*(?:[-*+]|\d+\.)\s+\S", body, re.M))
    doc = xhtml(sample_build["epub"], "ch08.xhtml")
    content = doc.find(".//x:div[@class='content']", XHTML)
    items = content.findall(".//x:li", XHTML)
    assert expected > 300
    assert len(items) == expected


def test_one_xhtml_per_part_and_language(sample_build: dict) -> None:
    with zipfile.ZipFile(sample_build["epub"]) as z:
        names = z.namelist()
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    assert names[0] == "mimetype"
    assert {"EPUB/ch08.xhtml", "EPUB/appa.xhtml", "EPUB/toc.xhtml"} <= set(names)
    ns = {"dc": "http://purl.org/dc/elements/1.1/", "opf": "http://www.idpf.org/2007/opf"}
    assert opf.findtext(".//dc:language", namespaces=ns) == "zh-Hans"
    for tag in ("title", "identifier", "creator", "date"):
        assert opf.findtext(f".//dc:{tag}", namespaces=ns)
    assert opf.find(".//opf:meta[@property='dcterms:modified']", ns) is not None


def test_navigation_lists_chapter_sections_and_appendix(sample_build: dict) -> None:
    nav = xhtml(sample_build["epub"], "toc.xhtml")
    toc = nav.find(".//x:nav[@epub:type='toc']", XHTML)
    labels = ["".join(a.itertext()) for a in toc.iterfind(".//x:a", XHTML)]
    assert any("的开源革命" in t for t in labels)  # typography spaces it: Meta 的开源革命
    assert "引言" in labels and "小结" in labels
    assert any("附录" in t for t in labels)


def test_pdf_fonts_embedded_sc_only(sample_build: dict) -> None:
    result = check_pdf_fonts(sample_build["pdf"])
    assert result.ok, result.details
    assert "notdef" not in sample_build["log"].lower()


def test_pdf_outline_and_metadata(sample_build: dict) -> None:
    with pikepdf.open(sample_build["pdf"]) as pdf:
        with pdf.open_outline() as outline:
            top = [item.title for item in outline.root]
            chapter = next(item for item in outline.root if "的开源革命" in item.title)
            sections = [c.title for c in chapter.children]
        info = pdf.docinfo
        assert str(info.get("/Title")) == "人工智能简史"
        assert str(info.get("/Author"))
        assert str(pdf.Root.get("/Lang")).startswith("zh")
    assert any("附录" in t or "开源启动" in t for t in top)
    assert "引言" in sections and "小结" in sections
