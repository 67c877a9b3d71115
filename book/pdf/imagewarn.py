"""Images printed under their resolution → one warning per image at the line that references it.

The PDF's layout sees an image only by its file (a cache file for a fetched or data: image); the
images stage recorded on each `ImageRef` where the manuscript first references it, so the author is
pointed at `chapters/03.md:12`, never at a staging or cache path. Beyond `SHOWN` images the rest are
summed up in one line, so a book of scanned screenshots does not bury the build's other warnings.
"""

from __future__ import annotations

from pathlib import Path

from book.model import Build, ImageRef

SHOWN = 10  # images warned about one by one; the rest are one summary line
MIN_DPI = 300


def _by_src(build: Build) -> dict[str, ImageRef]:
    """The print document's img src (a file URI) → the image it embeds."""
    refs: dict[str, ImageRef] = {}
    for part in build.parts:
        for ref in part.resources:
            refs.setdefault(Path(ref.path).as_uri(), ref)
    return refs


def report_low_resolution(
    build: Build, target: Path, found: list[tuple[int, str, float]], minimum: int = MIN_DPI
) -> None:
    """Warn once per image printed under `minimum` dpi; `found` is (page index, src, dpi), page 0-based."""
    refs = _by_src(build)
    pages: dict[str, list[int]] = {}
    lowest: dict[str, float] = {}
    for page, src, dpi in found:
        pages.setdefault(src, []).append(page + 1)
        lowest[src] = min(dpi, lowest.get(src, dpi))
    for n, src in enumerate(pages):
        if n == SHOWN:
            rest = len(pages) - SHOWN
            build.diag.warn(target, None, f"{rest} more images print under {minimum} dpi",
                            "replace them with larger files (book check lists the print's images)")  # fmt: skip
            break
        ref = refs.get(src)
        on = sorted(set(pages[src]))
        where = "page " + ", ".join(map(str, on[:5])) + ("…" if len(on) > 5 else "")
        message = f"{_name(ref, src)}prints at {lowest[src]:.0f} dpi (under {minimum}) on {where}"
        hint = "use a file with more pixels, or print it smaller"
        if ref is not None and ref.source:
            build.diag.warn(ref.source, ref.line, message, hint)
        else:
            build.diag.warn(target, None, message, hint)


def _name(ref: ImageRef | None, src: str) -> str:
    """`image NAME ` as the author knows it; a fetched or data: image's cache file is not named."""
    if ref is None:
        return f"image {src.rsplit('/', 1)[-1][-60:]} "
    cached = "book-image-cache" in Path(ref.path).parts or ".cache" in Path(ref.path).parts
    return "image " if cached or not ref.source else f"image {Path(ref.path).name} "
