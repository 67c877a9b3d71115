"""Book configuration: `book.yaml` → a validated `BookConfig`.

Paths in the config are relative to the config file's folder, which is also the book's root: no
source, template, style or image outside it is ever read.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from book.bounds import GlobTooWide, has_magic, walk_glob
from book.errors import BookError, Diagnostics, Problem, display_path
from book.model import PROJECT_ROOT, BookConfig, SourceSpec
from book.options import EpubOptions, PrintOptions, parse_section
from book.source.copyright import read_cip
from book.text import XML_INVALID, key_line, xml_safe

SOURCE_SUFFIXES = (".md", ".markdown", ".txt")


KNOWN_KEYS = {
    "title", "subtitle", "authors", "author", "language", "identifier", "publisher", "date",
    "rights", "edition", "slug", "chapters", "appendices", "templates", "styles", "print", "epub",
    "allow_private_fetch", "cover", "isbn", "price", "blurb", "bibliography", "csl",
    "crossref", "index", "glossary",
    "frontmatter", "parts", "backmatter", "chapter_label", "part_label", "editions",
    "printer", "impression", "cip",
}  # fmt: skip


class BookLoader(yaml.SafeLoader):
    """Safe YAML that never crashes on what authors write.

    A date-shaped value that is not a real date (`2025-13-45`) stays a string, so the validator can
    name its field and line instead of PyYAML raising a bare ValueError; repeated keys are recorded.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override]
        # An alias is shared, not copied, when loaded, but everything that walks the data (the
        # config's hash) expands it: nine nested aliases of nine made a 1 KB file hang the build.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"YAML aliases (*{event.anchor}) are not allowed; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in getattr(node, "value", []):
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    self.duplicates.append((key_node.value, key_node.start_mark.line + 1))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


BookLoader.add_constructor("tag:yaml.org,2002:timestamp", BookLoader.construct_yaml_timestamp)
BookLoader.add_constructor("tag:yaml.org,2002:map", BookLoader.construct_yaml_map)


def load_yaml(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """YAML text → (data, [(duplicate key, 1-based line)]); raises yaml.YAMLError on bad syntax."""
    loader = BookLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    finally:
        loader.dispose()


def slugify(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s or "book"


def _suggest(key: str, known: set[str] | list[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else "remove it or check its spelling"


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


@dataclass
class _Checker:
    """Collects the problems of one book.yaml, each at the line of the key it is about."""

    shown: str
    text: str
    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    divisions: list[str] = field(default_factory=list)  # the titles of `parts:`, once read

    def err(self, key: str | None, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.shown, key_line(self.text, key) if key else None, message, hint))

    def warn(self, line: int | None, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.shown, line, message, hint, "warning"))

    def text_value(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float, dt.date)):
            self.err(key, f"'{key}' must be text, not {type(value).__name__}", f'write {key}: "…"')
            return default
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        if XML_INVALID.search(text):
            self.warn(key_line(self.text, key), f"'{key}' contains control characters; they are removed",
                      "delete them from book.yaml")  # fmt: skip
            text = xml_safe(text)
        return text


def load_config(path: str | Path, diag: Diagnostics | None = None) -> BookConfig:
    """Read and validate `book.yaml`; every problem is reported with its line.

    Errors are collected and raised together as one BookError; warnings go to `diag` (so --strict
    applies to them) or, without one, to stderr.
    """
    config_path, shown, text, data, duplicates = _read(path)
    root = config_path.parent
    c = _Checker(shown, text, data)
    for key, line in duplicates:
        c.warn(line, f"key '{key}' appears twice; the last one wins", "keep only one")
    for key in data:
        if str(key) not in KNOWN_KEYS:
            c.warn(key_line(text, str(key)), f"unknown key '{key}'", _suggest(str(key), KNOWN_KEYS))
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
    sources = _sources(c, root)
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
    cip = read_cip(c, _suggest)
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


def _editions(c: _Checker, language: str) -> tuple[str, ...]:
    """`editions:` → the language tags the book is also built in (book.source.editions)."""
    from book.source.editions import parse_editions

    tags, problems = parse_editions(c.data.get("editions"), language)
    for what, hint in problems:
        c.err("editions", what, hint)
    return tags


def _label(c: _Checker, key: str, language: str) -> str:
    """`chapter_label:` / `part_label:` → the pattern (the locale's by default, "" for none)."""
    from book.locale import locale_for
    from book.source.labels import parse_pattern

    default = locale_for(language)["chapter" if key == "chapter_label" else "part"]
    pattern, problem = parse_pattern(c.data.get(key), default)
    if problem:
        c.err(key, f"'{key}' {problem}", f"write {key}: 第{{n}}章, {key}: '第 {{n:02d}} 天' or {key}: none")
    return pattern


def _authors(c: _Checker) -> tuple[str, ...]:
    raw = c.data.get("authors", c.data.get("author"))
    if isinstance(raw, (str, int)) and xml_safe(str(raw)).strip():
        return (xml_safe(str(raw)),)
    if isinstance(raw, list) and raw and all(isinstance(a, (str, int)) for a in raw):
        return tuple(xml_safe(str(a)) for a in raw)
    c.err("authors" if "authors" in c.data else "author", "'authors' must be a name or a list of names",
          "write 'authors: [姓名]'")  # fmt: skip
    return ()


SOURCE_KEYS = (("frontmatter", "frontmatter"), ("chapter", "chapters"), ("appendix", "appendices"),
               ("backmatter", "backmatter"))  # fmt: skip
ENTRY_OPTIONS = ["path", "trim_after", "files"]


def _sources(c: _Checker, root: Path) -> list[SourceSpec]:
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


def _divisions(c: _Checker) -> list[tuple[str, Any]]:
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
                       _suggest(str(extra), ["title", "chapters"]))  # fmt: skip
        found.append((xml_safe(str(entry["title"]).strip()), entry.get("chapters")))
    return found


def _entry_line(c: _Checker, key: str, entry: Any) -> int | None:
    """The line an entry of `parts:` is written on (its path's first occurrence), else its key's."""
    if key == "parts" and isinstance(entry, str) and entry.strip():
        m = re.search(rf"^[ \t-]*(?:path:\s*)?['\"]?{re.escape(entry.strip())}", c.text, re.M)
        if m:
            return c.text.count("\n", 0, m.start()) + 1
    return key_line(c.text, key)


def _entries(
    c: _Checker, root: Path, kind: str, key: str, entries: Any, listed: set[Path], division: int = 0
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
                           _suggest(str(extra), ENTRY_OPTIONS))  # fmt: skip
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
            if files and all(_inside(root, f) for f in files):
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
            if not _inside(root, m):
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


def _section_files(c: _Checker, root: Path, key: str, folder: str, files: Any) -> list[Path]:
    """A folder chapter's files (book.source.sections), each problem at the entry's line."""
    from book.source.sections import section_files

    found, problems = section_files(root, folder, files, SOURCE_SUFFIXES)
    line = _entry_line(c, key, folder)
    c.problems += [Problem(c.shown, line, what, hint) for what, hint in problems]
    return found


def _citations(c: _Checker, root: Path) -> tuple[tuple[Path, ...], Path | None]:
    """`bibliography:` (a path or a list) and `csl:` (a built-in style name or a .csl path) → files."""
    from book.parts.citations import BIB_SUFFIXES, STYLES, builtin_style

    raw = c.data.get("bibliography")
    entries = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    if raw is not None and not (entries and all(isinstance(e, str) and e.strip() for e in entries)):
        c.err("bibliography", "'bibliography' must be a path or a list of paths", "write 'bibliography: refs.bib'")
        entries = []
    files: list[Path] = []
    for entry in entries:
        path = root / entry
        if Path(entry).is_absolute() or not _inside(root, path):
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
    if not style.endswith(".csl") or Path(style).is_absolute() or not _inside(root, path) or not path.is_file():
        c.err("csl", f"'csl: {style}' is neither a built-in style nor a .csl file in the book",
              f"write one of {', '.join(STYLES)}, or the path of a .csl file inside the book")  # fmt: skip
        return tuple(files), builtin_style("numeric")
    return tuple(files), path


def _folders(c: _Checker, root: Path, key: str) -> tuple[Path, ...]:
    """`templates:` / `styles:` → the book's folder (if any) searched before the toolchain's."""
    override = c.data.get(key)
    chain: list[Path] = []
    if override is not None:
        if not isinstance(override, str) or not override.strip():
            c.err(key, f"'{key}' must be a folder path", f"write '{key}: {key}/'")
        elif Path(override).is_absolute() or not _inside(root, root / override):
            c.err(key, f"'{key}: {override}' leaves the book's folder", "keep it inside the book's folder")
        elif not (root / override).is_dir():
            c.err(key, f"'{key}: {override}' is not a folder", "create it or remove the key")
        else:
            chain = [root / override]
    return tuple(chain + [PROJECT_ROOT / key])


def _options(c: _Checker, root: Path) -> tuple[PrintOptions, EpubOptions]:
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


def _inside(root: Path, path: Path) -> bool:
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
