"""Folder chapters: a `chapters:` entry naming a folder (or `files:`) → its section files in reading order.

mdBook, GitBook and Hugo open a folder with README.md / index.md / _index.md; the other files
follow by name, unless `files:` gives the order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

INDEX_NAMES = ("readme", "index", "_index")


def section_files(
    root: Path, folder: str, files: Any, suffixes: tuple[str, ...]
) -> tuple[list[Path], list[tuple[str, str]]]:
    """(the files, [(problem, hint)]); `files:` entries are relative to the folder (to the book for `.`)."""
    base = root / folder
    if files is not None:
        if not isinstance(files, list) or not all(isinstance(f, str) and f.strip() for f in files):
            return [], [
                (f"'files' of '{folder}' must be a list of file names", "write 'files: [intro.md, install.md]'")
            ]
        found, problems = [], []
        for f in files:
            path = base / f
            if Path(f).is_absolute() or ".." in Path(f).parts or not path.resolve().is_relative_to(root.resolve()):
                problems.append((f"'{f}' leaves the book's folder", "name files inside it"))
            elif not path.is_file():
                problems.append((f"'{(Path(folder) / f).as_posix()}' not found",
                                 "check the file names under 'files:' (relative to the folder)"))  # fmt: skip
            else:
                found.append(path)
        return (found, []) if not problems else ([], problems)
    found = sorted(
        (p for p in base.iterdir() if p.is_file() and p.suffix.lower() in suffixes and p.name.lower() != "summary.md"),
        key=lambda p: (p.stem.lower() not in INDEX_NAMES, p.name),
    )
    if not found:
        return [], [
            (
                f"folder '{folder}' holds no manuscript file",
                "put the chapter's files in it, or list them under 'files:'",
            )
        ]
    return found, []
