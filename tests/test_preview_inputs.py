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
