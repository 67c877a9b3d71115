"""EPUB images (CONTRACTS 3) and accessibility metadata derived from the content."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from book.check.epub import check_epub_metadata
from book.check.epubcheck import run_epubcheck
from book.epub.package import accessibility_metadata
from book.epub.package import package_epub as write_epub
from book.errors import Diagnostics
from book.model import ImageRef, RenderedPart
from book.pipeline import prepare
from tests.conftest import ROOT


def part(body: str) -> RenderedPart:
    return RenderedPart(id="ch01", kind="chapter", filename="ch01.xhtml", title="一", label="第一章", body=body)


def values(meta: list[tuple[str, str]], prop: str) -> list[str]:
    return [v for p, v in meta if p == prop]


def test_text_only_book_claims_textual_only() -> None:
    meta = accessibility_metadata([part("<p>正文</p>")], has_cover=False, has_pages=False)
    assert values(meta, "schema:accessMode") == ["textual"]
    assert values(meta, "schema:accessModeSufficient") == ["textual"]
    assert "alternativeText" not in values(meta, "schema:accessibilityFeature")
    assert "pageNavigation" not in values(meta, "schema:accessibilityFeature")
    assert values(meta, "schema:accessibilityHazard") == ["none"]


def test_image_without_alt_is_not_claimed_as_described() -> None:
    meta = accessibility_metadata([part('<p><img src="images/a.png" alt=""/></p>')], has_cover=True, has_pages=True)
    assert values(meta, "schema:accessMode") == ["textual", "visual"]
    assert values(meta, "schema:accessModeSufficient") == ["textual,visual"]
    features = values(meta, "schema:accessibilityFeature")
    assert "alternativeText" not in features
    assert {"pageNavigation", "pageBreakMarkers"} <= set(features)
    (summary,) = values(meta, "schema:accessibilitySummary")
    assert "替代文字" not in summary and "页码" in summary


@pytest.mark.integration
def test_resources_are_packaged_once(tmp_path: Path) -> None:
    png = tmp_path / "pic.png"
    Image.new("RGB", (40, 30), (200, 0, 0)).save(png)
    ref = ImageRef(png, "images/0123456789abcdef.png", "image/png")
    build = prepare(ROOT / "book.yaml", tmp_path / "out", Diagnostics())
    img = f'<figure id="ch08-fig"><img src="{ref.href}" alt="红色方块"/><figcaption>图</figcaption></figure>'
    parts = []
    for p in build.parts:
        if p.kind != "front":
            p = replace(p, body=p.body.replace("</section>", img + "</section>", 1))
            p.resources = [ref]  # type: ignore[attr-defined]  # CONTRACTS 3; the structures branch adds the field
        parts.append(p)
    build.parts = parts
    epub = write_epub(build).path
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        opf = z.read("EPUB/content.opf").decode()
    assert names.count("EPUB/images/0123456789abcdef.png") == 1
    assert opf.count('href="images/0123456789abcdef.png"') == 1
    assert "alternativeText" in opf
    for result in (run_epubcheck(epub), check_epub_metadata(epub)):
        assert result.ok, (result.line(), result.details)
