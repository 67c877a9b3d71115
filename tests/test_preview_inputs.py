"""What the preview watches: derived from book.yaml and the last build, never the book's folder itself."""

from __future__ import annotations

from pathlib import Path

from book.errors import Diagnostics
from book.source.config import load_config
from book.tools.preview_inputs import read_paths


def test_watches_sources_images_cover_styles_and_bibliography(tmp_path: Path) -> None:
    for folder in ("chapters", "images", "art", "refs", "my-styles"):
        (tmp_path / folder).mkdir()
    (tmp_path / "chapters" / "01.md").write_text("# 一\n\n正文。\n", encoding="utf-8")
    (tmp_path / "intro.md").write_text("# 序\n\n正文。\n", encoding="utf-8")
    (tmp_path / "images" / "a.png").write_bytes(b"png")
    (tmp_path / "art" / "cover.jpg").write_bytes(b"jpg")
    (tmp_path / "refs" / "book.bib").write_text("@book{a, title={A}}\n", encoding="utf-8")
    (tmp_path / "book.yaml").write_text(
        "title: 书\nauthors: [作者]\ndate: 2025-01-01\ncover: art/cover.jpg\nbibliography: refs/book.bib\n"
        "styles: my-styles\nchapters:\n  - intro.md\n  - chapters/*.md\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "book.yaml", Diagnostics(echo=False))
    watched = read_paths(config, [tmp_path / "images" / "a.png"])
    root = tmp_path.resolve()
    for expected in ("chapters", "images", "art", "refs", "my-styles", "book.yaml", "intro.md"):
        assert root / expected in watched, expected
    assert root not in watched  # never the book's folder recursively (build/, .venv/ are in it)
    assert any(p.name == "templates" for p in watched) and any(p.name == "styles" for p in watched)


def test_stamp_sees_a_save_and_a_grown_watch_list_adds_no_difference(tmp_path: Path) -> None:
    from book.tools.preview_inputs import expected_stamp, stamp

    for folder in ("chapters", "images", "build", "chapters/.git"):
        (tmp_path / folder).mkdir()
    chapter = tmp_path / "chapters" / "01.md"
    chapter.write_text("一\n", encoding="utf-8")
    (tmp_path / "chapters" / ".01.md.swp").write_text("x", encoding="utf-8")
    (tmp_path / "images" / "a.png").write_bytes(b"png")
    old = [tmp_path / "chapters"]
    before = stamp(old, tmp_path / "build")
    assert list(before) == [chapter]  # hidden files and folders are not inputs
    new = [*old, tmp_path / "images"]  # the build began to embed from images/
    after = stamp(new)
    assert expected_stamp(before, old, after, new) == after
    assert expected_stamp(before, old, {}, old) == before
    chapter.write_text("一二\n", encoding="utf-8")  # a save during the build
    assert stamp(new) != expected_stamp(before, old, after, new)
    chapter.unlink()
    assert chapter not in stamp(old)
