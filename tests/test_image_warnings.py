"""Print-resolution warnings name the manuscript's line, once per image, summed up when many."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from book.errors import Diagnostics
from book.model import ImageRef
from book.pdf import imagewarn
from tests.conftest import write_chapter
from tests.test_images import FM, png, process


def test_images_record_their_source_line(book_dir: Path) -> None:
    (book_dir / "chapters" / "a.png").write_bytes(png((0, 128, 0)))
    write_chapter(book_dir, "01.md", FM + "正文。\n\n![本地](a.png)\n\n再来一次 ![又是](a.png)\n")
    rp, _ = process(book_dir)
    (ref,) = rp.resources
    assert Path(ref.source).name == "01.md" and ref.line == 10  # the first reference


def _build(refs: list[ImageRef], tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(parts=[SimpleNamespace(resources=refs)], diag=Diagnostics(echo=False), out=tmp_path)


def test_low_resolution_is_warned_at_the_source_once(tmp_path: Path) -> None:
    local = tmp_path / "pics" / "scan.png"
    cached = tmp_path / "build" / ".cache" / "images" / "3f2a.png"
    refs = [ImageRef(local, "images/a.png", "image/png", "chapters/03.md", 12),
            ImageRef(cached, "images/b.png", "image/png", "chapters/04.md", 7)]  # fmt: skip
    build = _build(refs, tmp_path)
    target = tmp_path / "out" / ".staging-x" / "book.pdf"
    found = [(4, local.as_uri(), 150.0), (9, local.as_uri(), 140.0), (20, cached.as_uri(), 200.0)]
    imagewarn.report_low_resolution(build, target, found)
    said = [str(w) for w in build.diag.warnings]
    assert len(said) == 2, said
    assert said[0].startswith("chapters/03.md:12: warning: image scan.png prints at 140 dpi (under 300) on page 5, 10")
    assert said[1].startswith("chapters/04.md:7: warning: image prints at 200 dpi"), said[1]
    assert not any(".cache" in s or ".staging" in s or "3f2a" in s for s in said)


def test_many_low_resolution_images_are_summed_up(tmp_path: Path) -> None:
    refs = [ImageRef(tmp_path / f"{i}.png", f"images/{i}.png", "image/png", "ch.md", i + 1) for i in range(15)]
    build = _build(refs, tmp_path)
    imagewarn.report_low_resolution(build, tmp_path / "book.pdf", [(0, r.path.as_uri(), 72.0) for r in refs])
    said = [str(w) for w in build.diag.warnings]
    assert len(said) == imagewarn.SHOWN + 1 and "5 more images print under 300 dpi" in said[-1]
