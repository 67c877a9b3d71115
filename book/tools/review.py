"""`book review import`: the editor's DOCX (tracked changes, comments) → per-source patches and a report.

Each changed paragraph is found in the package's map by its `src_…` bookmark (book.tools.docxsource),
which names the source lines it came from and their hash. Its text as the package showed it is
aligned with those lines character by character (difflib): the Markdown's markup (`**`, `[^1]`,
`- `) is what the alignment skips. Each tracked insertion or deletion becomes a replacement of
exactly those characters in the source, so the markup around unchanged text stays; a change whose
span crosses markup, or a paragraph the source no longer has as it was, is listed for a manual edit
rather than guessed at. The result is a unified diff per source file (what `git apply` reads, paths
from the book's folder) and `report.md`: every insertion, deletion and comment with its author, date
and `path:line`, the comments as a checklist. `--apply` writes the changes into the sources, but
never into a source that changed since the package was made.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from book.engine.atomic import write_text
from book.errors import BookError, Problem, display_path
from book.tools.docxread import DocxParagraph, read_docx
from book.tools.docxsource import MAP_NAME, PACKAGE_PROPERTY, Block, lines_hash

MANIFEST_NAME = "manifest.json"
# What may stand before a paragraph's first character and after its last without being inline markup.
BLOCK_PREFIX = re.compile(r"\s*(?:(?:#{1,6}|[-*+]|\d+[.)]|>)\s+|\[\^[^\]]+\]:\s*|\|\s*)*")
BLOCK_SUFFIX = re.compile(r"\s*(?:\{[^}]*\})?\s*\|?\s*")
MARKUP_PAIR = set("*_`~")
ESCAPE = re.compile(r"([\\`*_\[\]<>])")


@dataclass
class Change:
    """One tracked change (or a comment) and what became of it."""

    kind: str  # "insert" | "delete" | "replace"
    old: str
    new: str
    author: str
    date: str
    path: str
    line: int | None
    applied: bool = False  # in the patch
    why: str = ""  # why not, when it needs a manual edit
    start: int = 0  # the characters it replaces in the file's text
    end: int = 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class Remark:
    author: str
    date: str
    text: str
    anchored: str
    path: str
    line: int | None
    part: str = ""


@dataclass
class SourceFile:
    path: str
    file: Path
    text: str | None  # None: not UTF-8 with LF line ends, no patch can be made
    changed: bool  # since the package was made
    changes: list[Change] = field(default_factory=list)

    def offset_of_line(self, line: int) -> int:
        assert self.text is not None
        pos = 0
        for _ in range(line - 1):
            pos = self.text.index("\n", pos) + 1
        return pos

    def line_of(self, offset: int) -> int:
        assert self.text is not None
        return self.text.count("\n", 0, offset) + 1


@dataclass
class Imported:
    package: str
    changes: list[Change]
    remarks: list[Remark]
    patches: dict[str, Path]  # source path → its patch
    report: Path
    changed_sources: list[str]
    applied: list[str] = field(default_factory=list)


# --- the package the DOCX came from -------------------------------------------------------------------


def load_package(docx_props: dict[str, str], out: Path, package: Path | None) -> tuple[str, dict, list[Block]]:
    """(package name, its manifest, its bookmark map), from `--package` or the DOCX's own property."""
    if package is None:
        name = docx_props.get(PACKAGE_PROPERTY, "")
        if not name:
            raise BookError(Problem("", None, "the DOCX names no editor package (it was not made by `book editor`)",
                                    "pass the package it came from with --package PATH.zip"))  # fmt: skip
        package = out / "editor" / f"{name}.zip"
    if not package.is_file():
        raise BookError(Problem(display_path(package), None, "the editor package this DOCX came from is not there",
                                "pass it with --package PATH.zip"))  # fmt: skip
    name = package.stem
    with zipfile.ZipFile(package) as z:
        try:
            manifest = json.loads(z.read(f"{name}/{MANIFEST_NAME}"))
            data = json.loads(z.read(f"{name}/{MAP_NAME}"))
        except KeyError:
            raise BookError(Problem(display_path(package), None, "the package has no review map (made by an older `book editor`)",
                                    "make a new package and send its DOCX")) from None  # fmt: skip
    return name, manifest, [Block(**b) for b in data["blocks"]]


def _read_source(root: Path, rel: str, recorded: str | None) -> SourceFile:
    file = root / rel
    try:
        data = file.read_bytes()
    except OSError:
        return SourceFile(rel, file, None, True)
    changed = recorded is not None and hashlib.sha256(data).hexdigest() != recorded
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and (text.startswith("\ufeff") or "\r" in text):
        text = None
    return SourceFile(rel, file, text, changed)


# --- one paragraph's changes --------------------------------------------------------------------------


def _groups(para: DocxParagraph) -> list[tuple[int, int, str, str, str]]:
    """(start, end in the old text, inserted text, author, date) per run of adjacent changes."""
    out: list[tuple[int, int, str, str, str]] = []
    pos = 0
    current: list = []
    for seg in para.segments + [None]:  # type: ignore[list-item]
        if seg is None or seg.kind == "=":
            if current:
                start, deleted, inserted, author, date = current
                out.append((start, start + len(deleted), inserted, author, date))
                current = []
            if seg is not None:
                pos += len(seg.text)
            continue
        if not current:
            current = [pos, "", "", seg.author, seg.date]
        if seg.kind == "-":
            current[1] += seg.text
            pos += len(seg.text)
        else:
            current[2] += seg.text
        if seg.author and seg.author not in current[3].split("、"):
            current[3] = f"{current[3]}、{seg.author}" if current[3] else seg.author
    return out


def _span(mapping: dict[int, int], src: str, old: str, i1: int, i2: int) -> tuple[int, int] | str:
    """The source characters the old text's [i1, i2) stands for, or why there is no such stretch."""
    if i2 > i1:
        idx = [mapping.get(i) for i in range(i1, i2)]
        if None in idx or idx[-1] - idx[0] != i2 - i1 - 1:  # type: ignore[operator]
            return "the change crosses Markdown markup"
        s, e = idx[0], idx[-1] + 1  # type: ignore[operator]
        return s, e
    left = mapping.get(i1 - 1) if i1 > 0 else None
    right = mapping.get(i1) if i1 < len(old) else None
    if left is not None and right is not None:
        gap = src[left + 1 : right]
        return (left + 1, left + 1) if not gap.strip() else "the insertion is next to Markdown markup"
    if right is not None and i1 == 0 and BLOCK_PREFIX.fullmatch(src[:right]):
        return right, right
    if left is not None and i1 == len(old) and BLOCK_SUFFIX.fullmatch(src[left + 1 :]):
        return left + 1, left + 1
    return "the insertion is next to Markdown markup"


def plan(para: DocxParagraph, block: Block, source: SourceFile) -> list[Change]:
    """The paragraph's tracked changes as replacements in the source file's text."""
    groups = _groups(para)
    old = para.old

    def change(start: int, end: int, inserted: str, author: str, date: str) -> Change:
        deleted = old[start:end]
        kind = "replace" if deleted and inserted else "delete" if deleted else "insert"
        return Change(kind, deleted, inserted, author, date, block.path, block.line)

    changes = [change(*g) for g in groups]
    why = ""
    lines = source.text.split("\n") if source.text is not None else []
    if source.text is None:
        why = "the source is not UTF-8 text with LF line ends (or is missing)"
    elif lines_hash(lines[block.line - 1 : block.end]) != block.hash:
        why = "the source's lines changed since the package was made"
    elif old != block.text:
        why = "the paragraph was also changed without tracking (or split)"
    if why:
        for c in changes:
            c.why = why
        return changes
    base = source.offset_of_line(block.line)
    src = "\n".join(lines[block.line - 1 : block.end])
    if not para.new.strip() and old.strip() and block.kind in ("para", "item", "heading"):
        # The whole paragraph deleted: its lines go, with the blank line that separated it.
        end = base + len(src) + 1
        if source.text[end : end + 1] == "\n" and (base == 0 or source.text[base - 2 : base] == "\n\n"):
            end += 1
        c = Change("delete", old.strip(), "", groups[0][3], groups[0][4], block.path, block.line, True,
                   start=base, end=min(end, len(source.text)))  # fmt: skip
        return [c]
    mapping: dict[int, int] = {}
    for m in SequenceMatcher(None, old, src, autojunk=False).get_matching_blocks():
        for k in range(m.size):
            mapping[m.a + k] = m.b + k
    for c, (i1, i2, inserted, _, _) in zip(changes, groups, strict=True):
        span = _span(mapping, src, old, i1, i2)
        if isinstance(span, str):
            c.why = span
            continue
        s, e = span
        if (
            not inserted
            and s > 0
            and e < len(src)
            and src[s - 1] in MARKUP_PAIR
            and src[e] == src[s - 1]
            and (s < 2 or src[s - 2] != "\\")
        ):
            c.why = "the deletion empties a marked-up span"
            continue
        c.start, c.end, c.new, c.applied = base + s, base + e, ESCAPE.sub(r"\\\1", inserted), True
        c.line = source.line_of(base + s)
    return changes


# --- patches -----------------------------------------------------------------------------------------


def new_text(source: SourceFile) -> str:
    """The source with its applicable changes made; one overlapping an earlier one is left for a manual edit."""
    assert source.text is not None
    text = source.text
    done: list[Change] = []
    for c in sorted((c for c in source.changes if c.applied), key=lambda c: (c.start, c.end), reverse=True):
        if done and c.end > done[-1].start:
            c.applied, c.why = False, "overlaps another change"
            continue
        text = text[: c.start] + c.new + text[c.end :]
        done.append(c)
    return text


def unified_diff(path: str, old: str, new: str) -> str:
    """A unified diff `git apply` takes (a/ and b/ prefixes, the no-newline marker where it is needed)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=3):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)


# --- the report --------------------------------------------------------------------------------------

KIND_NAMES = {"insert": "insertion", "delete": "deletion", "replace": "replacement"}


def _q(text: str) -> str:
    text = " ".join(text.split())
    return "“" + (text if len(text) <= 60 else text[:59] + "…") + "”"


def report_text(result: Imported, docx: Path, root: Path) -> str:
    done = [c for c in result.changes if c.applied]
    manual = [c for c in result.changes if not c.applied]
    out = [f"# Review import: {docx.name}", "",
           f"From package `{result.package}.zip`: {len(result.changes)} tracked changes "
           f"({len(done)} in the patches, {len(manual)} for a manual edit), {len(result.remarks)} comments.", ""]  # fmt: skip
    if result.changed_sources:
        out += ["Changed since the package was made (not applied with --apply): "
                + ", ".join(f"`{p}`" for p in result.changed_sources), ""]  # fmt: skip
    for path, patch in result.patches.items():
        shown = patch.relative_to(root) if patch.is_relative_to(root) else patch
        out.append(f"- `{path}`: `git apply {shown}` in the book's folder")
    out += ["", "## Tracked changes", "", "| where | change | author | date | status |", "|---|---|---|---|---|"]
    for c in result.changes:
        what = {"insert": f"+ {_q(c.new)}", "delete": f"− {_q(c.old)}", "replace": f"{_q(c.old)} → {_q(c.new)}"}[c.kind]
        status = "in the patch" if c.applied else f"manual: {c.why}"
        what = what.replace("|", "\\|")
        out.append(f"| {c.where} | {KIND_NAMES[c.kind]} {what} | {c.author} | {c.date} | {status} |")
    out += ["", "## Comments", ""]
    for r in result.remarks:
        where = f"{r.path}:{r.line}" if r.line else r.path or "(not in the manuscript's text)"
        on = f" — on {_q(r.anchored)}" if r.anchored else ""
        epub = f" (EPUB: `{r.part}.xhtml`)" if r.part else ""
        out.append(f"- [ ] {where}: {' '.join(r.text.split())} — {r.author}, {r.date}{on}{epub}")
    if not result.remarks:
        out.append("None.")
    return "\n".join(out) + "\n"


# --- the command -------------------------------------------------------------------------------------


def import_review(config_path: str | Path, docx: Path, out: Path, *, package: Path | None = None,
                  apply: bool = False) -> Imported:  # fmt: skip
    """Read the DOCX, write `<out>/review/<docx stem>/` (patches, report.md); with `apply`, the sources too."""
    from book.source.config import load_config

    config = load_config(config_path)
    try:
        content = read_docx(docx)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise BookError(Problem(display_path(docx), None, f"cannot read the DOCX: {exc}",
                                "save it from Word or WPS as .docx")) from None  # fmt: skip
    name, manifest, blocks = load_package(content.properties, out, package)
    hashes = manifest.get("sources", {})
    by_id = {b.id: b for b in blocks}
    sources: dict[str, SourceFile] = {}

    def source(rel: str) -> SourceFile:
        if rel not in sources:
            sources[rel] = _read_source(config.root, rel, hashes.get(rel))
        return sources[rel]

    changes: list[Change] = []
    where_of: dict[str, Block] = {}  # comment id → the block it is anchored in
    last: Block | None = None
    for para in content.paragraphs:
        block = by_id.get(para.bookmark)
        last = block or last
        for cid in para.comments:
            if last is not None:
                where_of[cid] = last
        if para.inserted_mark:  # Enter pressed with tracking on: a paragraph split or added
            path, line = (last.path, last.end) if last else ("", None)
            changes.append(Change("insert", "", "¶", para.mark_author, para.mark_date, path, line,
                                  why="a paragraph break was inserted: split the paragraph by hand"))  # fmt: skip
        if not para.changed:
            continue
        if block is None:
            for start, end, inserted, author, date in _groups(para):
                deleted = para.old[start:end]
                kind = "replace" if deleted and inserted else "delete" if deleted else "insert"
                path, line = (last.path, last.end) if last else ("", None)
                changes.append(Change(kind, deleted, inserted, author, date, path, line,
                                      why="a paragraph the manuscript does not have (added by the editor?)"))  # fmt: skip
            continue
        src = source(block.path)
        found = plan(para, block, src)
        src.changes += found
        changes += found
    remarks = []
    for cid, c in content.comments.items():
        b = where_of.get(cid)
        remarks.append(Remark(c.author, c.date, c.text, c.anchored, b.path if b else "", b.line if b else None,
                              b.part if b else ""))  # fmt: skip
    folder = out / "review" / docx.stem
    folder.mkdir(parents=True, exist_ok=True)
    patches: dict[str, Path] = {}
    updated: dict[str, str] = {}
    for rel, src in sources.items():
        if src.text is None or not any(c.applied for c in src.changes):
            continue
        text = new_text(src)
        patch = folder / (rel.replace("/", "__") + ".patch")
        write_text(patch, unified_diff(rel, src.text, text))
        patches[rel], updated[rel] = patch, text
    changed = sorted(rel for rel, s in sources.items() if s.changed)
    result = Imported(name, changes, remarks, patches, folder / "report.md", changed)
    write_text(result.report, report_text(result, docx, config.root))
    if apply:
        stale = sorted(rel for rel, src in sources.items() if src.changed and src.changes)
        if stale:
            raise BookError(Problem(stale[0], None, f"changed since the package {name}.zip was made; nothing applied",
                                    f"review {display_path(result.report)} and edit by hand, or make a new package"))  # fmt: skip
        for rel, text in updated.items():
            write_text(sources[rel].file, text)
            result.applied.append(rel)
    return result
