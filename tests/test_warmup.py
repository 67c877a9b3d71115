"""EPUBCheck's warm-up book (book.tools.warmup): made once into the user's cache, and what a first
build's early JVM warms up on when it is there (book.check.cds.warmup_epub)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from book.check import cds
from book.check.epubcheck import EpubCheckRun
from book.tools.warmup import make_warmup


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warm-up book built once for this module, under a cache folder of its own."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root))
        path = make_warmup()
    assert path is not None and path.is_relative_to(root)
    return path


def test_without_the_warm_up_book_the_early_jvm_warms_up_on_the_small_epub(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fallback = tmp_path / "small.epub"
    assert cds.warmup_epub(fallback) == fallback
    assert "OEBPS/c1.xhtml" in zipfile.ZipFile(fallback).namelist()
    book = cds.warmup_path()
    book.parent.mkdir(parents=True)
    book.write_bytes(fallback.read_bytes())
    assert cds.warmup_epub(tmp_path / "other.epub") == book and not (tmp_path / "other.epub").exists()


def test_the_warm_up_book_has_what_a_books_epub_has(made: Path) -> None:
    with zipfile.ZipFile(made) as z:
        names = z.namelist()
        nav = next(z.read(n).decode() for n in names if n.endswith("toc.xhtml"))
    assert any(n.endswith(".ncx") for n in names)  # its Schematron compiled in the warm-up, not in the check
    assert any(n.endswith("cover.png") for n in names) and any(n.endswith(".otf") for n in names)
    assert 'epub:type="page-list"' in nav and sum(n.endswith(".xhtml") for n in names) >= 4


def test_the_warm_up_book_is_made_once(made: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(made.parent.parent.parent))
    before = made.stat().st_mtime_ns
    assert make_warmup() == made and made.stat().st_mtime_ns == before


@pytest.mark.integration
def test_epubcheck_finds_nothing_in_the_warm_up_book(made: Path) -> None:
    # A warm-up that ran EPUBCheck's error paths would leave its clean paths cold.
    result = EpubCheckRun(made).result()
    assert result.ok and not result.details, result.details
