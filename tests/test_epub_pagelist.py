"""Page list (CONTRACTS 6): pagebreak markers from a (fake) print page map, and the page-list nav."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from book.check.epub import check_epub_metadata, check_epub_pagelist, chromium_path, run_ace
from book.check.epubcheck import run_epubcheck, run_legacy_epubcheck
from book.epub.package import insert_pagebreaks, prewarm, referenced_ids, without_unlinked_ids
from book.epub.package import package_epub as write_epub
from book.errors import Diagnostics
from book.pipeline import prepare
from tests.conftest import ROOT

NS = {"x": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@dataclass
class PageMark:  # the printpdf branch's PageMark(label, part_id, target_id), as the contract gives it
    label: str
    part_id: str
    target_id: str


BODY = '<section id="ch01-s1"><h2 id="ch01-b1">一</h2><p id="ch01-p1">甲</p><ol><li id="ch01-b2">乙</li></ol></section>'


def test_marker_goes_before_a_block() -> None:
    body, found = insert_pagebreaks(BODY, [("12", "ch01-p1")], set())
    assert found == [("12", "page-12")]
    assert (
        '<span epub:type="pagebreak" role="doc-pagebreak" id="page-12" aria-label="12"></span><p id="ch01-p1">' in body
    )


def test_marker_goes_inside_a_list_item() -> None:
    body, _ = insert_pagebreaks(BODY, [("13", "ch01-b2")], set())
    assert '<li id="ch01-b2"><span epub:type="pagebreak"' in body


def test_unknown_target_is_dropped_and_ids_stay_unique() -> None:
    taken: set[str] = set()
    body, found = insert_pagebreaks(BODY, [("iv", "nowhere"), ("7", "ch01-s1"), ("7", "ch01-b1")], taken)
    assert found == [("7", "page-7"), ("7", "page-7-2")]
    assert body.index('id="page-7"') < body.index('<section id="ch01-s1"') < body.index('id="page-7-2"')


def test_two_pages_at_one_block_keep_their_order() -> None:
    body, _ = insert_pagebreaks(BODY, [("4", "ch01-p1"), ("5", "ch01-p1")], set())
    assert body.index('id="page-4"') < body.index('id="page-5"') < body.index('<p id="ch01-p1">')


def test_marker_inside_a_nav_goes_before_it() -> None:
    nav = '<nav epub:type="toc" id="toc"><h2 id="toc-title">目录</h2><ol><li><a href="#x">x</a></li></ol></nav>'
    body, _ = insert_pagebreaks(nav, [("v", "toc-title")], set())
    assert body.startswith('<span epub:type="pagebreak"') and body.endswith(nav)


def test_marker_label_is_escaped_and_id_is_valid() -> None:
    body, found = insert_pagebreaks(BODY, [('x "1"', "ch01-p1")], set())
    assert found[0][1] == "page-x__1_"
    assert 'aria-label="x &quot;1&quot;"' in body


@pytest.mark.integration
def test_the_epub_keeps_only_the_paragraph_ids_something_links_to() -> None:
    from book.model import RenderedPart

    body = (
        '<section id="ch01-s1"><h2 id="ch01-b1">一</h2><p id="ch01-p1">甲</p><p id="ch01-p2">乙</p>'
        '<p id="ch01-p3" aria-describedby="note ch01-p4">丙</p><p id="ch01-p4">丁</p><p id="ch01-p10">戊</p>'
        '<p id="ch010-p1">己</p><p id="intro">庚</p><a href="#ch01-p2">见</a></section>'
    )
    other = '<p id="ch02-p1"><a href="ch01.xhtml#ch01-p10">见第一章</a></p>'
    parts = [RenderedPart(i, "chapter", f"{i}.xhtml", i, "", b) for i, b in (("ch01", body), ("ch02", other))]
    kept = re.findall(r'\sid="([^"]+)"', without_unlinked_ids(body, "ch01", referenced_ids(parts)))
    # linked within the part, from another part, by an id reference; ids of another part's pattern
    # and the author's own are not ours to drop
    assert kept == ["ch01-s1", "ch01-p2", "ch01-p4", "ch01-p10", "ch010-p1", "intro"]


def test_fake_page_map_gives_a_valid_page_list(tmp_path: Path) -> None:
    build = prepare(ROOT / "book.yaml", tmp_path, Diagnostics())
    ch08 = next(p for p in build.parts if p.id == "ch08")
    ids = re.findall(r'<(?:section|h[2-6]|p|li)\b[^>]*\sid="([^"]+)"', ch08.body)
    marks = [PageMark("iii", "toc", "toc-title"), PageMark("1", "ch08", "ch08")]
    marks += [PageMark(str(n), "ch08", t) for n, t in enumerate(ids[::5], start=2)]
    marks.append(PageMark("99", "appa", "appa"))
    epub = write_epub(build, page_map=marks).path
    with zipfile.ZipFile(epub) as z:
        nav = etree.fromstring(z.read("EPUB/toc.xhtml"))
        ch = etree.fromstring(z.read("EPUB/ch08.xhtml"))
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    pagelist = next(n for n in nav.iterfind(".//x:nav", NS) if n.get(EPUB_TYPE) == "page-list")
    labels = [a.text for a in pagelist.iterfind(".//x:a", NS)]
    assert labels == [m.label for m in marks]
    breaks = [s for s in ch.iter("{*}span") if s.get(EPUB_TYPE) == "pagebreak"]
    assert [s.get("aria-label") for s in breaks] == [m.label for m in marks if m.part_id == "ch08"]
    assert all(s.get("role") == "doc-pagebreak" for s in breaks)
    features = [m.text for m in opf.iterfind(".//opf:meta[@property='schema:accessibilityFeature']", NS)]
    assert "pageNavigation" in features and "pageBreakMarkers" in features
    refines = opf.find(".//opf:meta[@property='source-of']", NS)
    assert refines is not None and refines.text == "pagination"
    assert "印刷版" in opf.findtext(".//{http://purl.org/dc/elements/1.1/}source")
    for result in (
        run_epubcheck(epub),
        run_legacy_epubcheck(epub),
        check_epub_pagelist(epub),
        check_epub_metadata(epub),
    ):
        assert result.ok, (result.line(), result.details)
    assert check_epub_pagelist(epub).summary.startswith(f"{len(marks)} pages")
    # the paragraph ids the page map pointed at gave their place to the markers, and went
    paragraph_ids = [
        i for i in re.findall(r'\sid="([^"]+)"', etree.tostring(ch).decode()) if re.fullmatch(r"ch08-[pb]\d+", i)
    ]
    assert paragraph_ids == []
    if chromium_path() is not None:
        ace = run_ace(epub)
        assert ace.ok, ace.details


def test_without_page_map_no_pdf_is_laid_out_and_no_page_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview and the editor write an EPUB without a page map: nothing may lay out the PDF for it."""
    import book.pdf.layout

    def no_layout(*a: object, **k: object) -> None:
        raise AssertionError("an EPUB without a page map laid out the PDF")

    build = prepare(ROOT / "book.yaml", tmp_path, Diagnostics())
    prewarm(build)  # the generated cover is drawn once and cached, like the font subsets
    monkeypatch.setattr(book.pdf.layout, "render_document", no_layout)
    epub = write_epub(build).path
    with zipfile.ZipFile(epub) as z:
        nav = z.read("EPUB/toc.xhtml").decode()
        opf = z.read("EPUB/content.opf").decode()
    assert "page-list" not in nav and "pageBreakMarkers" not in opf
