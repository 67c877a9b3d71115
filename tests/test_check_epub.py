"""EPUB checks: our rules catch what they are for (on crafted packages), and `book check` prints one line each."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from book.check.epub import check_epub_files, check_epub_metadata, check_epub_pagelist
from tests.conftest import ROOT, run_cli


def rewrite(src: Path, dst: Path, edits: dict[str, bytes | None], extra: dict[str, bytes] | None = None) -> Path:
    """A copy of an EPUB with some members replaced (None drops them) and some added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = edits.get(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


@pytest.mark.integration
def test_remote_resources_and_non_ascii_names_fail(sample_build: dict, tmp_path: Path) -> None:
    epub = sample_build["epub"]
    with zipfile.ZipFile(epub) as z:
        ch = z.read("EPUB/ch08.xhtml").decode()
        css = z.read("EPUB/styles/epub.css").decode()
    ch = ch.replace("</body>", '<img src="https://example.com/x.png" alt="x"/></body>')
    css += '\n@font-face { font-family: X; src: url("//cdn.example.com/x.woff2"); }\n'
    bad = rewrite(epub, tmp_path / "bad.epub", {"EPUB/ch08.xhtml": ch.encode(), "EPUB/styles/epub.css": css.encode()},
                  {"EPUB/images/封面.png": b""})  # fmt: skip
    result = check_epub_files(bad)
    assert not result.ok
    text = "\n".join(result.details)
    assert "https://example.com/x.png" in text and "//cdn.example.com/x.woff2" in text and "封面" in text


@pytest.mark.integration
def test_untrue_accessibility_claims_fail(sample_build: dict, tmp_path: Path) -> None:
    epub = sample_build["epub"]
    with zipfile.ZipFile(epub) as z:
        opf = z.read("EPUB/content.opf").decode()
        cover = z.read("EPUB/cover.xhtml").decode()
    opf = opf.replace("<dc:language>zh-Hans</dc:language>", "<dc:language>zh</dc:language>")
    # The build now has a print page list (the PDF comes first), so the untrue claim is its absence.
    assert '<meta property="schema:accessibilityFeature">pageNavigation</meta>' in opf
    opf = opf.replace('<meta property="schema:accessibilityFeature">pageNavigation</meta>', "")
    cover = re.sub(r'alt="[^"]*"', 'alt=""', cover)
    bad = rewrite(epub, tmp_path / "bad.epub", {"EPUB/content.opf": opf.encode(), "EPUB/cover.xhtml": cover.encode()})
    result = check_epub_metadata(bad)
    assert not result.ok
    text = "\n".join(result.details)
    assert "script subtag" in text
    assert "alternativeText declared but an image has no alt text" in text
    assert "pageNavigation feature and page-list nav disagree" in text


@pytest.mark.integration
def test_page_list_entry_without_marker_fails(sample_build: dict, tmp_path: Path) -> None:
    epub = sample_build["epub"]
    with zipfile.ZipFile(epub) as z:
        nav = z.read("EPUB/toc.xhtml").decode()
    # The build has a real page list (from the print page map): add one entry whose marker does not exist.
    start = nav.index('epub:type="page-list"')
    end = nav.index("</ol>", start)
    nav = nav[:end] + '<li><a href="ch08.xhtml#page-9999">9999</a></li>' + nav[end:]
    result = check_epub_pagelist(rewrite(epub, tmp_path / "bad.epub", {"EPUB/toc.xhtml": nav.encode()}))
    assert not result.ok and "no such marker" in result.summary


@pytest.mark.integration
def test_book_check_prints_one_line_per_check(sample_build: dict, tmp_path: Path) -> None:
    proc = run_cli("check", "--config", str(ROOT / "book.yaml"), "--out", str(sample_build["out"]))
    lines = [line for line in proc.stdout.splitlines() if not line.startswith("  ")]
    names = [line.split(":", 1)[0] for line in lines]
    assert all(re.match(r"^(PASS|FAIL) [\w .-]+: ", line) for line in lines), lines
    for expected in ("epubcheck 5.3", "epubcheck 4.2.6", "ace", "epub files", "epub metadata", "epub cover",
                     "epub fonts", "epub page-list", "pdffonts"):  # fmt: skip
        assert any(expected in n for n in names), (expected, names)
    if shutil.which("chromium") is None:
        return
    assert proc.returncode == 0, proc.stdout
    assert all(line.startswith("PASS") for line in lines)


def test_book_check_fails_when_nothing_was_built(tmp_path: Path) -> None:
    proc = run_cli("check", "--config", str(ROOT / "book.yaml"), "--out", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"FAIL epub: {tmp_path}/ai-history.epub not found: run `make` first",
        f"FAIL pdf: {tmp_path}/ai-history.pdf not found: run `make` first",
    ]
