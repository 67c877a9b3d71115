"""What the preview watches: a book's configuration and its last build → every path the build reads.

The list is derived, not written down: the sources, `book.yaml`, the template and style folders in
use, the cover and every other file an option names (`icc_profile`, `cover_background`), the
bibliography and the citation style, and the files the last build embedded (its images, from the
build's `deps`). Folders are watched rather than files where possible, since editors often replace
a file instead of writing it; the book's own folder is never watched recursively (it holds build/,
.venv/, node_modules/): a file directly in it is watched alone.

`stamp` is the watched files' state (mtime, size, inode) at one moment: the watcher compares it
with the state a build began from, so a save its file-system events missed is still rebuilt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from book.model import BookConfig

Stamp = dict[Path, tuple[int, int, int]]


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


def _ignored(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"


def stamp(watched: Iterable[Path], skip: Path | None = None) -> Stamp:
    """(mtime, size, inode) of every file in or under `watched` (hidden files and `skip`'s tree left
    out, as the watcher leaves them out): a few hundred stat calls, about a millisecond."""
    found: Stamp = {}

    def note(path: Path) -> None:
        try:
            st = path.stat()
        except OSError:
            return  # gone: its absence is the difference
        found[path] = (st.st_mtime_ns, st.st_size, st.st_ino)

    for w in watched:
        if not w.is_dir():
            note(w)
            continue
        for folder, dirs, files in os.walk(w):
            here = Path(folder)
            dirs[:] = [d for d in dirs if not _ignored(d) and (skip is None or here / d != skip)]
            for name in files:
                if not _ignored(name):
                    note(here / name)
    return found


def covered(path: Path, watched: Iterable[Path]) -> bool:
    """Whether `path` is one of `watched` or lies under one of its folders."""
    return any(path == w or path.is_relative_to(w) for w in watched)


def expected_stamp(before: Stamp, old: list[Path], after: Stamp, new: list[Path]) -> Stamp:
    """What the files under the `new` watch list should look like if nothing changed since a build began.

    `before` was taken over the `old` list as the build began, `after` over `new` as it ended: a file
    the old list covered keeps its state from before (so a save during the build is a difference),
    a newly covered one (in a folder the build has just begun to embed from) its state from after."""
    return {
        **{p: s for p, s in after.items() if not covered(p, old)},
        **{p: s for p, s in before.items() if covered(p, new)},
    }
