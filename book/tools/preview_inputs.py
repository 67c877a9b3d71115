"""What the preview watches: a book's configuration and its last build → every path the build reads.

The list is derived, not written down: the sources, `book.yaml`, the template and style folders in
use, the cover and every other file an option names (`icc_profile`, `cover_background`), the
bibliography and the citation style, and the files the last build embedded (its images, from the
build's `deps`). Folders are watched rather than files where possible, since editors often replace
a file instead of writing it; the book's own folder is never watched recursively (it holds build/,
.venv/, node_modules/): a file directly in it is watched alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from book.model import BookConfig


def option_files(config: BookConfig) -> list[Path]:
    """Files the `print:`/`epub:` options and the top-level keys name (resolved from the book's folder)."""
    from book.options import EPUB, PRINT

    named: list[Path] = []
    for section, options in ((config.print, PRINT), (config.epub, EPUB)):
        for option in options:
            value = getattr(section, option.key, None)
            if option.kind == "file" and value:
                named.append(value if isinstance(value, Path) else config.root / str(value))
    if config.cover:
        named.append(config.root / config.cover)
    named += list(config.bibliography)
    if config.csl is not None:
        named.append(config.csl)
    return named


def read_paths(config: BookConfig, embedded: Iterable[str | Path] = ()) -> list[Path]:
    """The folders and files to watch for a build of `config` that embedded `embedded`."""
    root = config.root.resolve()
    files = [
        config.config_path,
        *(f for s in config.sources for f in (s.files or (s.path,))),
        *option_files(config),
        *map(Path, embedded),
    ]
    dirs = {*config.template_dirs, *config.style_dirs}
    watched: set[Path] = set()
    for d in dirs:
        if d.is_dir() and d.resolve() != root:
            watched.add(d.resolve())
    for f in files:
        f = Path(f)
        if not f.is_absolute():
            f = root / f
        f = f.resolve()
        parent = f.parent
        if parent != root and parent.is_dir() and parent.is_relative_to(root):
            watched.add(parent)
        elif f.exists():
            watched.add(f)
    # A folder inside another watched one adds nothing.
    return sorted(p for p in watched if not any(p != q and p.is_relative_to(q) and q.is_dir() for q in watched))
