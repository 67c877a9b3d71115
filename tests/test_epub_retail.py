"""Integration: the sample EPUB is retail-ready (validators, accessibility, cover, fonts, no remote files)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree
from PIL import Image

from book.check.epub import (
    check_epub,
    check_epub_cover,
    check_epub_files,
    check_epub_fonts,
    check_epub_metadata,
    chromium_path,
    run_ace,
)
from book.check.epubcheck import run_legacy_epubcheck
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read("EPUB/content.opf"))


def meta_values(epub: Path, prop: str) -> list[str]:
    return [m.text for m in opf(epub).iterfind(f".//opf:meta[@property='{prop}']", NS)]


def test_epubcheck_426_clean(sample_build: dict) -> None:
    result = run_legacy_epubcheck(sample_build["epub"])
    assert result.ok, "\n".join(result.details)
    assert "4.2.6" in result.name and "0 errors, 0 warnings" in result.summary


@pytest.mark.skipif(chromium_path() is None, reason="chromium missing (scripts/sysdeps.sh installs it)")
def test_ace_reports_no_violation(sample_build: dict) -> None:
    result = run_ace(sample_build["epub"])
    assert result.ok, "\n".join(result.details) or result.summary
    assert result.summary == "0 violations"


def test_accessibility_metadata_true_of_content(sample_build: dict) -> None:
    epub = sample_build["epub"]
    with zipfile.ZipFile(epub) as z:
        docs = [etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")]
    imgs = [i for d in docs for i in d.iterfind(".//x:img", NS)]
    assert imgs, "the cover page shows an image"
    assert all(i.get("alt", "").strip() for i in imgs)
    assert set(meta_values(epub, "schema:accessMode")) == {"textual", "visual"}
    assert "textual" in meta_values(epub, "schema:accessModeSufficient")
    features = set(meta_values(epub, "schema:accessibilityFeature"))
    assert {"structuralNavigation", "tableOfContents", "readingOrder", "alternativeText"} <= features
    has_pagelist = any(n.get(EPUB_TYPE) == "page-list" for d in docs for n in d.iterfind(".//x:nav", NS))
    assert ("pageNavigation" in features) == has_pagelist
    assert meta_values(epub, "schema:accessibilityHazard") == ["none"]
    (summary,) = meta_values(epub, "schema:accessibilitySummary")
    assert "目录" in summary and "table of contents" in summary
    assert check_epub_metadata(epub).ok


def test_landmarks_complete(sample_build: dict) -> None:
    with zipfile.ZipFile(sample_build["epub"]) as z:
        nav = etree.fromstring(z.read("EPUB/toc.xhtml"))
    landmarks = next(n for n in nav.iterfind(".//x:nav", NS) if n.get(EPUB_TYPE) == "landmarks")
    types = [a.get(EPUB_TYPE) for a in landmarks.iterfind(".//x:a", NS)]
    assert types == ["cover", "titlepage", "copyright-page", "toc", "bodymatter", "appendix"]


def test_language_with_script_on_package(sample_build: dict) -> None:
    root = opf(sample_build["epub"])
    assert root.findtext(".//dc:language", namespaces=NS) == "zh-Hans"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-Hans"


def test_cover_first_in_spine_and_tall_enough(sample_build: dict) -> None:
    epub = sample_build["epub"]
    root = opf(epub)
    items = {i.get("id"): i for i in root.iterfind(".//opf:item", NS)}
    cover = [i for i in items.values() if i.get("properties") == "cover-image"]
    assert len(cover) == 1
    first = root.find(".//opf:spine/opf:itemref", NS).get("idref")
    assert items[first].get("href") == "cover.xhtml"
    with zipfile.ZipFile(epub) as z:
        with Image.open(io.BytesIO(z.read("EPUB/" + cover[0].get("href")))) as im:
            assert im.size[1] >= 1600
        page = etree.fromstring(z.read("EPUB/cover.xhtml"))
    img = page.find(".//x:img", NS)
    assert img.get("src") == cover[0].get("href") and img.get("role") == "doc-cover"
    assert check_epub_cover(epub).ok


def test_fonts_embedded_as_subsets(sample_build: dict) -> None:
    epub = sample_build["epub"]
    with zipfile.ZipFile(epub) as z:
        text = "".join(
            "".join(etree.fromstring(z.read(n)).find(".//x:body", NS).itertext())
            for n in z.namelist()
            if n.endswith(".xhtml")
        )
        css = z.read("EPUB/styles/fonts.css").decode()
        fonts = {n: z.read(n) for n in z.namelist() if n.startswith("EPUB/fonts/")}
    used = {c for c in text if not c.isspace()}
    # Typography sets quotations and callouts in Kai, so its subset is embedded too; Latin has its
    # own faces (Noto Sans, Noto Serif Italic) and emoji their monochrome symbols. The sample has no
    # code, and the copyright page prints no identifier, so no mono face. The Hei set at normal
    # weight (the publisher's line, image placeholders) has its own face, not the bold one.
    assert set(fonts) == {
        "EPUB/fonts/NotoSerifCJKsc-Regular.otf",
        "EPUB/fonts/NotoSansCJKsc-Bold.otf",
        "EPUB/fonts/NotoSansCJKsc-Regular.otf",
        "EPUB/fonts/LXGWWenKai-Regular.otf",
        "EPUB/fonts/NotoSans-Regular.otf",
        "EPUB/fonts/NotoSerif-Italic.otf",
        "EPUB/fonts/NotoSansSymbols2-Regular.otf",
    }
    for name, data in fonts.items():
        font = TTFont(io.BytesIO(data))
        assert font["OS/2"].fsType & 0x0302 == 0
        cmap = set(map(chr, font.getBestCmap()))
        glyphs = len(font.getGlyphOrder())
        # Layout closure may keep a handful of extra glyphs (fontTools keeps their cmap entries).
        assert len(cmap - used) <= 10, f"{name} covers characters the book does not use: {cmap - used}"
        # A subset: about one glyph per character (plus .notdef and vertical/punctuation forms).
        assert len(cmap) <= glyphs <= 1.1 * len(cmap) + 20
        assert len(data) < 1_000_000
        assert f'url("../fonts/{Path(name).name}")' in css
    serif = TTFont(io.BytesIO(fonts["EPUB/fonts/NotoSerifCJKsc-Regular.otf"]))
    cjk_used = {c for c in used if "\u4e00" <= c <= "\u9fff"}
    assert cjk_used <= set(map(chr, serif.getBestCmap())), "body face must cover every Han character"
    assert "font " in sample_build["log"] and "glyphs" in sample_build["log"]
    assert check_epub_fonts(epub).ok


def test_no_remote_references_in_xhtml_or_css(sample_build: dict) -> None:
    with zipfile.ZipFile(sample_build["epub"]) as z:
        for name in z.namelist():
            if name.endswith((".xhtml", ".css", ".opf")):
                data = z.read(name).decode("utf-8")
                assert not re.search(r"""(?:src|url\()\s*=?\s*["']?(?:https?:)?//""", data), name
        assert all(n.isascii() for n in z.namelist())
    assert check_epub_files(sample_build["epub"]).ok
    assert sample_build["epub"].stat().st_size < 50 * 1024 * 1024


def test_every_epub_check_passes(sample_build: dict) -> None:
    results = check_epub(sample_build["epub"])
    if chromium_path() is None:
        results = [r for r in results if not r.name.startswith("ace")]
    assert all(r.ok for r in results), [r.line() for r in results if not r.ok]


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1760659200"}
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        proc = subprocess.run(
            [sys.executable, "-m", "book", "build", "--format", "epub", "--no-check", "--out", str(out)],
            capture_output=True, text=True, cwd=ROOT, env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        outs.append((out / "ai-history.epub").read_bytes())
    assert outs[0] == outs[1]
    with zipfile.ZipFile(io.BytesIO(outs[0])) as z:
        assert {i.date_time for i in z.infolist()} == {(2025, 10, 17, 0, 0, 0)}
        assert any(n.startswith("EPUB/fonts/") for n in z.namelist())
