"""Imports: another tool's table of contents (mdBook/GitBook `SUMMARY.md`, Quarto `_quarto.yml`) → an `Outline` for book.yaml.

The manuscript is taken as its authors wrote it: nothing is edited, only listed. In a SUMMARY.md a
`# Part` heading (or `## …` in GitBook) opens a part and `---` separates; links before the first
list item are prefix chapters (front matter), links after the numbered list suffix chapters (back
matter); a nested item is a section of the chapter above it, so that chapter becomes a multi-file
chapter (`files:`); a draft `[Title]()` has no file and is skipped with a warning at its line.
Quarto's `book: chapters:` may hold `part:` entries with their own `chapters:`; `index.qmd` (the
preface Quarto requires) and an unnumbered chapter before the first numbered one are front matter,
unnumbered ones after the last back matter; `book: appendices:` are the appendices.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from book.errors import BookError, Problem, display_path
from book.source.infer import first_heading

LINK = re.compile(r"\[(?P<title>(?:[^\]\\]|\\.)*)\]\((?P<href><[^>]*>|[^)\s]*)\s*(?:\"[^\"]*\")?\)")
ITEM = re.compile(r"^(?P<indent>[ \t]*)[-*+][ \t]+(?P<rest>.*)$")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
SEPARATOR = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
UNNUMBERED = re.compile(r"\{[^}]*(?:\.unnumbered|(?<![\w-])-(?![\w-]))[^}]*\}\s*$")
SELF_NUMBERED = re.compile(r"^\s*(?:第\s*[零一二三四五六七八九十百〇两\d]+\s*[章天课講讲回节節篇]|\d+[.、:：\s])")

Entry = str | dict[str, Any]  # a path, or {"files": [...]} for a multi-file chapter


@dataclass
class Outline:
    """A book's structure as another tool described it, in book.yaml's terms (paths relative to the book)."""

    title: str = ""
    authors: list[str] = field(default_factory=list)
    language: str = ""
    frontmatter: list[Entry] = field(default_factory=list)
    chapters: list[Entry] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)  # {"title", "chapters"}
    appendices: list[Entry] = field(default_factory=list)
    backmatter: list[Entry] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    self_numbered: bool = False  # the headings carry the chapter numbers: `chapter_label: none`

    def numbered(self) -> list[Entry]:
        return self.chapters + [e for p in self.parts for e in p["chapters"]]


def _relative(target: Path, root: Path, shown: str, line: int) -> str:
    try:
        return target.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise BookError(Problem(shown, line, f"'{target}' is outside the book's folder {display_path(root)}",
                                "run book init on the folder that holds the manuscript")) from None  # fmt: skip


def parse_summary(path: Path, root: Path) -> Outline:
    """An mdBook/GitBook SUMMARY.md → the outline; links are relative to the SUMMARY's folder."""
    shown = display_path(path)
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    out = Outline()
    base = path.parent
    part: dict[str, Any] | None = None
    seen_list = False  # a numbered chapter came: plain links now are suffix chapters
    chapter: dict[str, Any] | None = None  # the top-level item nested items join
    chapter_indent = 0
    fence = False
    for n, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if fence or not line.strip() or line.lstrip().startswith("<!--"):
            continue
        h = HEADING.match(line)
        if h:
            title = LINK.sub(lambda m: m.group("title"), h.group(2)).strip()
            if title.lower() in ("summary", "table of contents", "目录", "目錄") and not out.numbered():
                continue  # the file's own heading, not a part
            part = {"title": title, "chapters": []}
            out.parts.append(part)
            chapter = None
            continue
        if SEPARATOR.match(line):
            chapter = None
            continue
        item = ITEM.match(line)
        link = LINK.search(line)
        if link is None:
            continue
        title = link.group("title").strip()
        href = link.group("href").strip("<>").split("#")[0]
        if not href:
            out.warnings.append(Problem(shown, n, f"draft chapter '{title}' has no file; it is left out",
                                        "write the file and link it, then run book init again or add it to book.yaml",
                                        "warning"))  # fmt: skip
            continue
        if re.match(r"^[a-z][\w+.-]*:", href):
            out.warnings.append(Problem(shown, n, f"'{title}' links to {href}, not a file of the book; it is left out",
                                        "save it as a Markdown file in the book", "warning"))  # fmt: skip
            continue
        target = _relative(base / href, root, shown, n)
        if not (root / target).is_file():
            out.warnings.append(Problem(shown, n, f"'{href}' not found; '{title}' is left out",
                                        "check the link in SUMMARY.md", "warning"))  # fmt: skip
            continue
        if item is None:  # a prefix or suffix chapter
            (out.backmatter if seen_list else out.frontmatter).append(target)
            continue
        indent = len(item.group("indent").expandtabs(4))
        if chapter is not None and indent > chapter_indent:
            if "files" not in chapter:
                chapter["files"] = [chapter.pop("path")]
            chapter["files"].append(target)
            continue
        seen_list = True
        chapter = {"path": target}
        chapter_indent = indent
        (part["chapters"] if part is not None else out.chapters).append(chapter)
    _flatten(out)
    _book_metadata(out, root, base)
    out.self_numbered = self_numbered(root, out.numbered())
    return out


def _flatten(out: Outline) -> None:
    """Chapter items as book.yaml entries: a path, or `{files: […]}` for one with sections."""
    for entries in [out.chapters] + [p["chapters"] for p in out.parts]:
        entries[:] = [e["path"] if "path" in e else {"files": e["files"]} for e in entries]
    out.parts[:] = [p for p in out.parts if p["chapters"]]


def _book_metadata(out: Outline, root: Path, base: Path) -> None:
    """Title, authors and language from mdBook's book.toml or GitBook's book.json, if there."""
    for folder in (root, base, base.parent):
        toml = folder / "book.toml"
        if toml.is_file():
            try:
                book = tomllib.loads(toml.read_text(encoding="utf-8")).get("book", {})
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            out.title = out.title or str(book.get("title") or "")
            out.authors = out.authors or [str(a) for a in book.get("authors") or []]
            out.language = out.language or str(book.get("language") or "")
            return
        jsn = folder / "book.json"
        if jsn.is_file():
            import json

            try:
                book = json.loads(jsn.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(book, dict):
                out.title = out.title or str(book.get("title") or "")
                out.authors = out.authors or ([str(book["author"])] if book.get("author") else [])
                out.language = out.language or str(book.get("language") or "")
            return


def parse_quarto(path: Path, root: Path) -> Outline:
    """A Quarto `_quarto.yml` (`book: chapters:` with `part:` entries, `appendices:`) → the outline."""
    shown = display_path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BookError(Problem(shown, mark.line + 1 if mark else None, "not valid YAML", "fix the YAML")) from None
    book = (data or {}).get("book") if isinstance(data, dict) else None
    if not isinstance(book, dict) or not isinstance(book.get("chapters"), list):
        raise BookError(Problem(shown, 1, "no 'book: chapters:' list", "this is not a Quarto book's _quarto.yml"))
    out = Outline(title=str(book.get("title") or ""), language=str((data or {}).get("lang") or ""))
    author = book.get("author")
    out.authors = [str(a.get("name", a) if isinstance(a, dict) else a) for a in (author if isinstance(author, list) else [author] if author else [])]  # fmt: skip
    base = path.parent
    text = path.read_text(encoding="utf-8-sig")

    def file_of(entry: Any) -> str | None:
        href = entry.get("href") if isinstance(entry, dict) else entry
        if not isinstance(href, str) or not href.strip():
            return None
        line = next((i for i, t in enumerate(text.split("\n"), 1) if href in t), None) or 1
        target = _relative(base / href, root, shown, line)
        if not (root / target).is_file():
            out.warnings.append(
                Problem(shown, line, f"'{href}' not found; it is left out", "check _quarto.yml", "warning")
            )
            return None
        return target

    flat: list[tuple[str, dict[str, Any] | None]] = []  # (file, its part)
    for entry in book["chapters"]:
        if isinstance(entry, dict) and "part" in entry:
            part = {"title": str(entry["part"]), "chapters": []}
            out.parts.append(part)
            if _looks_like_file(entry["part"]):  # `part: intro.qmd`: the part's title page is that file's heading
                found = file_of(entry["part"])
                heading = first_heading((root / found).read_text(encoding="utf-8")) if found else None
                part["title"] = heading[0] if heading else Path(entry["part"]).stem
            for chapter in entry.get("chapters") or []:
                if (f := file_of(chapter)) is not None:
                    flat.append((f, part))
        elif (f := file_of(entry)) is not None:
            flat.append((f, None))
    numbered = [i for i, (f, _) in enumerate(flat) if not _unnumbered(root / f)]
    first, last = (numbered[0], numbered[-1]) if numbered else (len(flat), -1)
    for i, (f, part) in enumerate(flat):
        if part is None and i < first:
            out.frontmatter.append(f)
        elif part is None and i > last:
            out.backmatter.append(f)
        elif part is not None:
            part["chapters"].append(f)
        elif out.parts:  # a chapter after a part: Quarto keeps it in that part
            out.parts[-1]["chapters"].append(f)
        else:
            out.chapters.append(f)
    out.appendices = [f for e in book.get("appendices") or [] if (f := file_of(e)) is not None]
    out.parts[:] = [p for p in out.parts if p["chapters"]]
    out.self_numbered = self_numbered(root, out.numbered())
    return out


def _looks_like_file(value: Any) -> bool:
    return isinstance(value, str) and Path(value).suffix.lower() in (".qmd", ".md", ".rmd", ".ipynb")


def _unnumbered(path: Path) -> bool:
    """A Quarto/Pandoc chapter whose first heading is marked `{.unnumbered}` or `{-}`, or `index`."""
    if path.stem == "index":
        return True
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    for line in text.split("\n"):
        if line.startswith("#"):
            return UNNUMBERED.search(line) is not None
    return False


def self_numbered(root: Path, entries: list[Entry]) -> bool:
    """Do most chapters' first headings carry their own number (第 01 天, 1. …)? Then the book
    prints no chapter label, so no chapter is numbered twice."""
    votes = []
    for e in entries:
        f = e if isinstance(e, str) else e["files"][0]
        try:
            found = first_heading((root / f).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            continue
        votes.append(bool(found and SELF_NUMBERED.match(found[0]) and not re.match(r"^\s*第\s*\S+\s*章", found[0])))
    return bool(votes) and sum(votes) * 2 > len(votes)


def to_yaml(out: Outline, title: str, source: str) -> str:
    """The outline as a book.yaml, with a comment naming where it came from."""
    data: dict[str, Any] = {"title": out.title or title, "authors": out.authors or ["作者"]}
    data["language"] = _language(out.language)
    if out.self_numbered:
        data["chapter_label"] = "none"
    for key in ("frontmatter", "chapters", "parts", "appendices", "backmatter"):
        value = getattr(out, key)
        if value:
            data[key] = value
    head = f"# Imported from {source} by `book init --from`; the manuscript files are unchanged.\n"
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _language(tag: str) -> str:
    low = tag.lower().replace("_", "-")
    if low in ("zh-tw", "zh-hant", "zh-hk", "zh-mo") or low.startswith("zh-hant"):
        return "zh-HK" if low.endswith("hk") else "zh-Hant"
    return "zh-Hans"
