"""The EPUB's bodymatter landmark: the first part page (第一部分) when the book has `parts:`."""

from __future__ import annotations

from book.epub.package import bodymatter_start
from book.model import RenderedPart


def _part(pid: str, kind: str) -> RenderedPart:
    return RenderedPart(id=pid, kind=kind, filename=f"{pid}.xhtml", title=pid, label="", body="")


def test_bodymatter_starts_at_the_first_part_page() -> None:
    front = [_part("titlepage", "front"), _part("toc", "front"), _part("preface", "frontmatter")]
    with_parts = front + [_part("part1", "division"), _part("ch01", "chapter"), _part("part2", "division")]
    assert bodymatter_start(with_parts).id == "part1"
    assert bodymatter_start(front + [_part("ch01", "chapter"), _part("part1", "division")]).id == "ch01"
    assert bodymatter_start(front + [_part("ch01", "chapter")]).id == "ch01"
    assert bodymatter_start(front) is None
