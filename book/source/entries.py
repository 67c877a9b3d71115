"""book.yaml's source lists (`frontmatter:`, `chapters:`, `parts:`, `appendices:`, `backmatter:`)
→ the manuscript files, each once, in reading order, with their kind and division.

An entry is a path, a glob, a folder (one chapter of its files) or a mapping (`path:`, `files:`,
`trim_after:`); nothing outside the book's folder is taken, and each problem names its entry's line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from book.bounds import GlobTooWide, has_magic, walk_glob
from book.errors import Problem
from book.model import SourceSpec
from book.source.yamlfile import Checker, suggest
from book.text import key_line, xml_safe

SOURCE_SUFFIXES = (".md", ".markdown", ".txt")


SOURCE_KEYS = (("frontmatter", "frontmatter"), ("chapter", "chapters"), ("appendix", "appendices"),
               ("backmatter", "backmatter"))  # fmt: skip
ENTRY_OPTIONS = ["path", "trim_after", "files"]


def source_specs(c: Checker, root: Path) -> list[SourceSpec]:
    """`frontmatter:`, `chapters:`, `parts:` (each with its `chapters:`), `appendices:` and
    `backmatter:` → the source files, each once, in reading order."""
    sources: list[SourceSpec] = []
    listed: set[Path] = set()  # resolved paths of `sources`: a set, as 10,000 files made a list quadratic
    for kind, key in SOURCE_KEYS:
        sources += _entries(c, root, kind, key, c.data.get(key), listed)
        if key == "chapters":
            for number, (title, chapters) in enumerate(_divisions(c), 1):
                c.divisions.append(title)
                sources += _entries(c, root, "chapter", "parts", chapters, listed, number)
    return sources


def _divisions(c: Checker) -> list[tuple[str, Any]]:
    """`parts:` → [(title, its chapters' entries)]; a malformed entry is an error at its line."""
    raw = c.data.get("parts")
    if raw is None:
        return []
    hint = "write 'parts:' then '  - title: 第一部分的标题' and an indented 'chapters:' list"
    if not isinstance(raw, list):
        c.err("parts", "'parts' must be a list of {title, chapters}", hint)
        return []
    found = []
    for entry in raw:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("title"), (str, int))
            or not str(entry["title"]).strip()
        ):
            c.err("parts", "an entry of 'parts' has no title", hint)
            continue
        for extra in entry:
            if extra not in ("title", "chapters"):
                c.warn(key_line(c.text, str(extra), indented=True), f"unknown option '{extra}' in 'parts'",
                       suggest(str(extra), ["title", "chapters"]))  # fmt: skip
        found.append((xml_safe(str(entry["title"]).strip()), entry.get("chapters")))
    return found


def _entry_line(c: Checker, key: str, entry: Any) -> int | None:
    """The line an entry of `parts:` is written on (its path's first occurrence), else its key's."""
    if key == "parts" and isinstance(entry, str) and entry.strip():
        m = re.search(rf"^[ \t-]*(?:path:\s*)?['\"]?{re.escape(entry.strip())}", c.text, re.M)
        if m:
            return c.text.count("\n", 0, m.start()) + 1
    return key_line(c.text, key)


def _entries(
    c: Checker, root: Path, kind: str, key: str, entries: Any, listed: set[Path], division: int = 0
) -> list[SourceSpec]:
    sources: list[SourceSpec] = []
    entries = entries or []
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list):
        c.err(key, f"'{key}' must be a list of paths or globs", f"write '{key}:' then '  - path.md' lines")
        return sources
    for entry in entries:
        opts: dict[str, Any] = {}
        if isinstance(entry, dict):
            opts = dict(entry)
            entry = opts.pop("path", None)
            for extra in opts:
                if extra not in ENTRY_OPTIONS:
                    c.warn(key_line(c.text, str(extra), indented=True), f"unknown option '{extra}' in '{key}'",
                           suggest(str(extra), ENTRY_OPTIONS))  # fmt: skip
            if opts.get("trim_after") is not None and not isinstance(opts["trim_after"], str):
                c.err(key, "'trim_after' must be text", 'write trim_after: "感谢阅读！"')
                opts.pop("trim_after")
        if entry is None and opts.get("files") is not None:  # `- files: [a.md, a/b.md]`: one chapter
            files = _section_files(c, root, key, ".", opts["files"])
            if files and files[0].resolve() not in listed:
                listed.update(f.resolve() for f in files)
                sources.append(SourceSpec(files[0], kind, opts.get("trim_after"), division, tuple(files)))
            continue
        if not isinstance(entry, str) or not entry.strip():
            c.err(key, f"an entry of '{key}' has no path", "write '- path/to/file.md' or '- path: …'")
            continue
        if Path(entry).is_absolute() or ".." in Path(entry).parts:
            c.err(key, f"'{entry}' leaves the book's folder", "list sources by a path inside the book's folder")
            continue
        if (root / entry).is_dir() and not has_magic(entry):  # a folder: one chapter, its files its sections
            files = _section_files(c, root, key, entry, opts.get("files"))
            if files and all(inside(root, f) for f in files):
                real = files[0].resolve()
                if real not in listed:
                    listed.update(f.resolve() for f in files)
                    sources.append(SourceSpec(files[0], kind, opts.get("trim_after"), division, tuple(files)))
            continue
        try:
            matches = _expand(root, entry)
        except GlobTooWide as exc:
            c.err(key, f"{exc}", "narrow the glob, or split the book")
            continue
        if not matches:
            c.problems.append(Problem(c.shown, _entry_line(c, key, entry), f"'{entry}' matches no file",
                                      "check the path in book.yaml (relative to book.yaml)"))  # fmt: skip
        for m in matches:
            if not inside(root, m):
                c.err(key, f"'{m.relative_to(root)}' leaves the book's folder (a symlink?)",
                      "copy the file into the book's folder")  # fmt: skip
                continue
            real = m.resolve()
            if real in listed:
                c.warn(_entry_line(c, key, entry), f"'{m.relative_to(root)}' is listed twice; it is used once",
                       "remove the repeated entry")  # fmt: skip
                continue
            listed.add(real)
            sources.append(SourceSpec(m, kind, opts.get("trim_after"), division))
    return sources


def _section_files(c: Checker, root: Path, key: str, folder: str, files: Any) -> list[Path]:
    """A folder chapter's files (book.source.sections), each problem at the entry's line."""
    from book.source.sections import section_files

    found, problems = section_files(root, folder, files, SOURCE_SUFFIXES)
    line = _entry_line(c, key, folder)
    c.problems += [Problem(c.shown, line, what, hint) for what, hint in problems]
    return found


def inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _expand(root: Path, pattern: str) -> list[Path]:
    if has_magic(pattern):
        found = walk_glob(root, pattern)
        return [p for p in found if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES]
    p = root / pattern
    return [p] if p.is_file() else []
