"""Cover: a generated cover from title and authors, or the book's own image."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from book.engine.cache import Cache
from book.epub.cover import MIN_HEIGHT, make_cover
from book.errors import BookError, Diagnostics
from book.source.config import load_config
from tests.conftest import have, write_chapter


@pytest.fixture(autouse=True)
def _one_chapter(book_dir: Path) -> None:
    write_chapter(book_dir, "01.md", "---\ntitle: 第一章\n---\n正文。\n")


def test_generated_cover_is_tall_png(book_dir: Path) -> None:
    config = load_config(book_dir / "book.yaml")
    cover = make_cover(config, Diagnostics(), Cache(book_dir / ".cache"))
    assert cover.generated and cover.href == "images/cover.png"
    with Image.open(io.BytesIO(cover.data)) as im:
        assert im.format == "PNG" and im.size[1] >= MIN_HEIGHT
        assert len(im.getcolors(maxcolors=1 << 16) or []) > 2, "text was drawn"
    again = make_cover(config, Diagnostics(), Cache(book_dir / ".cache2"))
    assert again.data == cover.data, "drawing is deterministic"


def test_generated_cover_is_the_printed_front(book_dir: Path) -> None:
    if not have("pdftoppm"):
        pytest.skip("pdftoppm not installed")
    cover = make_cover(load_config(book_dir / "book.yaml"), Diagnostics(), Cache(book_dir / ".cache"))
    assert (cover.width, cover.height) == (1691, 2400), "A5 at 2400 px on the long side"
    with Image.open(io.BytesIO(cover.data)) as im:
        assert im.mode == "RGB" and im.size == (1691, 2400)


def test_without_pdftoppm_the_cover_is_drawn(book_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "pdftoppm" else which(name, *a, **k))
    cover = make_cover(load_config(book_dir / "book.yaml"), Diagnostics(), Cache(book_dir / ".cache"))
    assert cover.generated and (cover.width, cover.height) == (1600, 2400)


def test_given_cover_is_used_as_is(book_dir: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 1800), (10, 20, 30)).save(buf, format="JPEG")
    (book_dir / "art").mkdir()
    (book_dir / "art" / "front.jpg").write_bytes(buf.getvalue())
    (book_dir / "book.yaml").write_text(
        (book_dir / "book.yaml").read_text(encoding="utf-8") + "cover: art/front.jpg\n", encoding="utf-8"
    )
    diag = Diagnostics()
    cover = make_cover(load_config(book_dir / "book.yaml"), diag, Cache(book_dir / ".cache"))
    assert not cover.generated and cover.media_type == "image/jpeg" and cover.href == "images/cover.jpg"
    assert cover.data == buf.getvalue() and (cover.width, cover.height) == (1200, 1800)
    assert not diag.warnings


def test_small_given_cover_warns(book_dir: Path) -> None:
    Image.new("RGB", (400, 600)).save(book_dir / "small.png")
    (book_dir / "book.yaml").write_text(
        (book_dir / "book.yaml").read_text(encoding="utf-8") + "cover: small.png\n", encoding="utf-8"
    )
    diag = Diagnostics()
    make_cover(load_config(book_dir / "book.yaml"), diag, Cache(book_dir / ".cache"))
    assert any("1600" in w.hint for w in diag.warnings)


@pytest.mark.parametrize("given", ["missing.png", "../outside.png"])
def test_bad_cover_path_is_a_user_error(book_dir: Path, given: str) -> None:
    (book_dir / "book.yaml").write_text(
        (book_dir / "book.yaml").read_text(encoding="utf-8") + f"cover: {given}\n", encoding="utf-8"
    )
    with pytest.raises(BookError, match="cover"):
        make_cover(load_config(book_dir / "book.yaml"), Diagnostics(), Cache(book_dir / ".cache"))
