"""Book configuration: `book.yaml` → a validated `BookConfig`.

Paths in the config are relative to the config file's folder, which is also the book's root: no
source, template, style or image outside it is ever read.
"""

from __future__ import annotations

import datetime as dt
import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from book.errors import BookError, Problem, display_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCE_SUFFIXES = (".md", ".markdown", ".txt")


@dataclass(frozen=True)
class SourceSpec:
    """One part of the book as configured: where it is and how to trim it."""

    path: Path
    kind: str  # "chapter" | "appendix"
    trim_after: str | None = None  # drop everything from the first line starting with this


@dataclass(frozen=True)
class BookConfig:
    root: Path
    config_path: Path
    title: str
    subtitle: str
    authors: tuple[str, ...]
    language: str
    identifier: str
    publisher: str
    date: str
    rights: str
    edition: str
    slug: str
    sources: tuple[SourceSpec, ...]
    template_dirs: tuple[Path, ...]
    style_dirs: tuple[Path, ...]
    print_options: dict[str, Any] = field(default_factory=dict)
    epub_options: dict[str, Any] = field(default_factory=dict)
    allow_private_fetch: bool = False

    @property
    def chapters(self) -> list[SourceSpec]:
        return [s for s in self.sources if s.kind == "chapter"]

    @property
    def appendices(self) -> list[SourceSpec]:
        return [s for s in self.sources if s.kind == "appendix"]

    @property
    def pdf_language(self) -> str:
        """The language tag fontconfig understands: zh-Hans picks SC glyphs only via zh-CN."""
        return {"zh-hans": "zh-CN", "zh": "zh-CN", "zh-hant": "zh-TW"}.get(self.language.lower(), self.language)


KNOWN_KEYS = {
    "title", "subtitle", "authors", "author", "language", "identifier", "publisher", "date",
    "rights", "edition", "slug", "chapters", "appendices", "templates", "styles", "print", "epub",
    "allow_private_fetch", "cover",
}  # fmt: skip


def _line_of(text: str, key: str) -> int | None:
    m = re.search(rf"^{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, m.start()) + 1 if m else None


def slugify(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s or "book"


def load_config(path: str | Path) -> BookConfig:
    """Read and validate `book.yaml`; every problem is reported with its line."""
    config_path = Path(path).resolve()
    shown = display_path(config_path)
    if not config_path.is_file():
        raise BookError(Problem(shown, None, "config file not found", "pass --config PATH to a book.yaml"))
    text = config_path.read_text(encoding="utf-8-sig")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise BookError(
            Problem(shown, line, f"YAML does not parse: {getattr(exc, 'problem', exc)}", "fix the syntax")
        ) from None
    if not isinstance(data, dict):
        raise BookError(Problem(shown, 1, "book.yaml must be a mapping of keys to values"))
    root = config_path.parent
    problems: list[Problem] = []

    def req_str(key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            problems.append(Problem(shown, None, f"missing required key '{key}'", f"add '{key}: …'"))
            return ""
        if isinstance(value, dt.date):
            return value.isoformat()
        if not isinstance(value, (str, int, float)):
            problems.append(Problem(shown, _line_of(text, key), f"'{key}' must be text"))
            return ""
        return str(value)

    for key in data:
        if key not in KNOWN_KEYS:
            problems.append(
                Problem(
                    shown,
                    _line_of(text, str(key)),
                    f"unknown key '{key}'",
                    "remove it or check its spelling",
                    "warning",
                )
            )
    title = req_str("title")
    authors_raw = data.get("authors", data.get("author"))
    if isinstance(authors_raw, str):
        authors = (authors_raw,)
    elif isinstance(authors_raw, list) and all(isinstance(a, str) for a in authors_raw) and authors_raw:
        authors = tuple(authors_raw)
    else:
        problems.append(Problem(shown, _line_of(text, "authors"), "'authors' must be a name or a list of names"))
        authors = ()
    sources: list[SourceSpec] = []
    for kind, key in (("chapter", "chapters"), ("appendix", "appendices")):
        entries = data.get(key) or []
        if not isinstance(entries, list):
            problems.append(Problem(shown, _line_of(text, key), f"'{key}' must be a list of paths or globs"))
            continue
        for entry in entries:
            opts: dict[str, Any] = {}
            if isinstance(entry, dict):
                opts = dict(entry)
                entry = opts.pop("path", None)
            if not isinstance(entry, str):
                problems.append(Problem(shown, _line_of(text, key), f"an entry of '{key}' has no path"))
                continue
            matches = _expand(root, entry)
            if not matches:
                problems.append(
                    Problem(shown, _line_of(text, key), f"'{entry}' matches no file", "check the path in book.yaml")
                )
            for m in matches:
                if not _inside(root, m):
                    problems.append(
                        Problem(
                            shown, _line_of(text, key), f"'{entry}' leaves the book's folder", "keep sources inside it"
                        )
                    )
                    continue
                sources.append(SourceSpec(m, kind, opts.get("trim_after")))
    dirs: dict[str, tuple[Path, ...]] = {}
    for key in ("templates", "styles"):
        override = data.get(key)
        chain = [root / override] if isinstance(override, str) else []
        dirs[key] = tuple(chain + [PROJECT_ROOT / key])
    if any(p.severity == "error" for p in problems):
        raise BookError(problems)
    for p in problems:
        import sys

        print(p, file=sys.stderr)
    return BookConfig(
        root=root,
        config_path=config_path,
        title=title,
        subtitle=str(data.get("subtitle") or ""),
        authors=authors,
        language=str(data.get("language") or "zh-Hans"),
        identifier=str(data.get("identifier") or f"urn:book:{slugify(title)}"),
        publisher=str(data.get("publisher") or ""),
        date=req_str("date", "") or "",
        rights=str(data.get("rights") or ""),
        edition=str(data.get("edition") or ""),
        slug=str(data.get("slug") or slugify(title)),
        sources=tuple(sources),
        template_dirs=dirs["templates"],
        style_dirs=dirs["styles"],
        print_options=dict(data.get("print") or {}),
        epub_options=dict(data.get("epub") or {}),
        allow_private_fetch=bool(data.get("allow_private_fetch", False)),
    )


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _expand(root: Path, pattern: str) -> list[Path]:
    if any(ch in pattern for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(str(root / pattern), recursive=True))
        return [p for p in found if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES]
    p = root / pattern
    return [p] if p.is_file() else []
