"""Bounds: what a book asks the build to read → the same input, or a one-line refusal before it hangs.

Each limit is checked before the expensive step it protects: an image's pixel count from its
header before anything decodes it, a file's size from `stat` before it is read, a YAML alias before
it is expanded, a glob's matches while the folder is walked (symlinked folders not followed).
"""

from __future__ import annotations

import fnmatch
import os
import re
import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from book.errors import Diagnostics
    from book.model import SourceSpec

# Pillow warns at 89.5 Mpx and refuses at twice that with DecompressionBombError; we refuse at its
# warning threshold, before decoding. A 300 dpi A4 page is 8.7 Mpx, a retail cover 3.8 Mpx.
MAX_PIXELS = 89_478_485
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # local images and the cover, checked by size before reading
# A source costs the build about MEMORY_PER_SOURCE_BYTE times its size in memory, and time grows
# faster than its size: see `read_source_bytes`.
WARN_SOURCE_BYTES = 2 * 1024 * 1024
MAX_SOURCE_BYTES = 10 * 1024 * 1024
MEMORY_PER_SOURCE_BYTE = 110
MAX_GLOB_MATCHES = 20_000
MAX_GLOB_DIRS = 50_000


class ImageTooLarge(ValueError):
    """An image over the pixel or byte limit (its message says which, with the numbers)."""


class FileTooLarge(ValueError):
    """A file over a byte limit."""


def mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 10 * 1024 * 1024 else f"{n / (1024 * 1024):.1f} MB"


def read_capped(path: Path, cap: int, what: str = "file") -> bytes:
    """The bytes of `path`, refused (FileTooLarge) by its size before any is read."""
    size = Path(path).stat().st_size
    if size > cap:
        raise FileTooLarge(f"{what} is {mb(size)}, over the {mb(cap)} limit")
    with open(path, "rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:  # it grew since stat
        raise FileTooLarge(f"{what} is over the {mb(cap)} limit")
    return data


def read_source_bytes(spec: SourceSpec, diag: Diagnostics) -> bytes:
    """A source's bytes: refused over MAX_SOURCE_BYTES (by size, before reading), warned above WARN_SOURCE_BYTES.

    Measured (peak RSS of `book build --format epub --no-check`, one chapter of repeated prose):
    1 MB → 0.26 GB in 19 s, 5 MB → 0.70 GB in 122 s: about 110 MB more per MB of chapter, and time
    growing faster than size. A typical chapter is 30 KB; a whole novel is about 1 MB.
    """
    from book.errors import BookError, Problem, display_path

    size = Path(spec.path).stat().st_size
    what = "chapter" if spec.kind == "chapter" else "appendix"
    if size > MAX_SOURCE_BYTES:
        raise BookError(Problem(display_path(spec.path), None, f"{what} is {mb(size)}, over the {mb(MAX_SOURCE_BYTES)} limit",
                                "split it into several files"))  # fmt: skip
    if size > WARN_SOURCE_BYTES:
        need = size * MEMORY_PER_SOURCE_BYTE / 1024**3
        diag.warn(spec.path, None, f"{what} is {mb(size)}: building it takes about {need:.1f} GB of memory and minutes",
                  "split it into several files")  # fmt: skip
    try:
        return read_capped(spec.path, MAX_SOURCE_BYTES, what)
    except FileTooLarge as exc:  # it grew since stat
        raise BookError(Problem(display_path(spec.path), None, str(exc), "split it into several files")) from None


def check_pixels(width: int, height: int, limit: int = MAX_PIXELS) -> None:
    if width * height > limit:
        raise ImageTooLarge(
            f"image is {width}×{height} px ({width * height / 1e6:.0f} Mpx), over the {limit / 1e6:.0f} Mpx limit"
        )


def open_image(fp: str | Path | IO[bytes]) -> Any:
    """`PIL.Image.open` (header only) with the pixel count checked before anything decodes it.

    Raises ImageTooLarge for a pixel bomb (Pillow's own DecompressionBombError included), and what
    Image.open raises for bytes that are not an image.
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(fp)
        except Image.DecompressionBombError as exc:
            # Raised for over twice the limit, before the size is known to us: its message has it.
            m = re.search(r"\((\d+) pixels\)", str(exc))
            size = f" is {int(m.group(1)) / 1e6:.0f} Mpx," if m else " is"
            raise ImageTooLarge(f"image{size} over the {MAX_PIXELS / 1e6:.0f} Mpx limit") from None
    try:
        check_pixels(*im.size)
    except ImageTooLarge:
        im.close()
        raise
    return im


# --- globs ---------------------------------------------------------------------------------------


class GlobTooWide(ValueError):
    """A glob that matched or walked more than the limits allow."""


def has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _match(name: str, segment: str) -> bool:
    # As glob.glob: a wildcard does not match a leading dot unless the pattern starts with one.
    if name.startswith(".") and not segment.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, segment)


def walk_glob(
    root: Path, pattern: str, max_matches: int = MAX_GLOB_MATCHES, max_dirs: int = MAX_GLOB_DIRS
) -> list[Path]:
    """`glob.glob(root/pattern, recursive=True)`, sorted, except that `**` does not descend into
    symlinked folders (a link to `..` made glob loop for ever) and the walk is capped."""
    segments = [s for s in Path(pattern).parts if s not in ("", ".")]
    found: set[Path] = set()
    dirs_seen = 0

    def listdir(folder: Path) -> list[os.DirEntry[str]]:
        nonlocal dirs_seen
        dirs_seen += 1
        if dirs_seen > max_dirs:
            raise GlobTooWide(f"'{pattern}' walks over {max_dirs} folders")
        try:
            with os.scandir(folder) as it:
                return list(it)
        except OSError:
            return []

    def visit(folder: Path, i: int) -> None:
        if i == len(segments):
            found.add(folder)
            if len(found) > max_matches:
                raise GlobTooWide(f"'{pattern}' matches over {max_matches} files")
            return
        seg = segments[i]
        if seg == "**":
            visit(folder, i + 1)  # zero folders
            for entry in listdir(folder):
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    visit(folder / entry.name, i)
                elif i + 1 == len(segments):  # a trailing `**` matches files too
                    visit(folder / entry.name, i + 1)
            return
        if not has_magic(seg):
            child = folder / seg
            if i + 1 == len(segments) and (child.exists() or child.is_symlink()) or child.is_dir():
                visit(child, i + 1)
            return
        for entry in listdir(folder):
            if _match(entry.name, seg) and (i + 1 == len(segments) or entry.is_dir()):
                visit(folder / entry.name, i + 1)

    visit(Path(root), 0)
    return sorted(found)
