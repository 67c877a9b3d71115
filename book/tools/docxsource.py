"""The editor's DOCX from the manuscript: each part's Markdown (as the source stage read it: front matter
stripped, `trim_after` applied) → Pandoc's AST → one Word document, and the map from its bookmarks
back to the source lines.

The text is the author's, not the typeset one: the AST is read the way the parts stage reads the
text (`book.parts.convert`), before the typography stage adds spaces and word joiners. Images are
resolved by the images stage's own rules (inside the book's folder, remote ones through the fetch
cache) and embedded as `data:` URLs, so Pandoc runs sandboxed. Every paragraph, heading, list item,
table cell and footnote paragraph is wrapped in a Span `src_<part>_<n>`, which Pandoc's DOCX writer
turns into a bookmark; the map (`review-map.json` in the package) gives each bookmark its source
file, its line range, the hash of those lines and the paragraph's text as the DOCX shows it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import zipfile
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from book.engine.atomic import atomic_path
from book.errors import Diagnostics
from book.model import Build, Part
from book.tools.docxread import BOOKMARK_PREFIX, q, read_paragraph

MAP_NAME = "review-map.json"
PACKAGE_PROPERTY = "book-package"  # a custom document property: which package the DOCX came from
FOOTNOTE_DEF = re.compile(r"^\[\^[^\]]+\]:.*(?:\n(?:[ \t]+.*|[ \t]*(?=\n[ \t]+\S)))*", re.M)


@dataclass
class Block:
    """One bookmarked paragraph: where its source is, and what the editor was shown."""

    id: str
    part: str
    path: str  # relative to the book's folder
    line: int  # first and last file line of its source
    end: int
    hash: str  # sha256 of those lines, to know the source is still what the editor saw
    text: str  # the paragraph's text in the DOCX
    kind: str  # "heading" | "para" | "item" | "cell" | "note"


def lines_hash(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


# --- the AST --------------------------------------------------------------------------------------


def _resolve_image(src: str, alt: str, part: Part, build: Build) -> tuple[str, bytes] | None:
    """(media type, bytes) of an image, by the images stage's rules; None when the book prints a placeholder."""
    from book.parts import images

    root = lxml_html.fragment_fromstring("<div><img/></div>")
    img = root[0]
    img.set("src", src)
    img.set("alt", alt)
    cache = build.out / ".cache" / "images"
    # The build has already reported each image's problems: these diagnostics are not shown again.
    refs = images.apply(root, part, Diagnostics(echo=False), build.config.root, config=build.config, cache_dir=cache)
    if not refs:
        return None
    return refs[0].media_type, Path(refs[0].path).read_bytes()


def _text(node: Any) -> str:
    """The plain text of an AST node, footnotes left out (Pandoc's `stringify`)."""
    if isinstance(node, list):
        return "".join(_text(x) for x in node)
    if not isinstance(node, dict):
        return ""
    t, c = node.get("t"), node.get("c")
    if t == "Str":
        return c
    if t in ("Space", "SoftBreak"):
        return " "
    if t in ("Code", "Math"):
        return c[1]
    return "" if t == "Note" else _text(c)


class _Tagger:
    """Walks a part's AST: wraps each text block's inlines in a bookmarking Span, embeds images."""

    def __init__(self, part: Part, build: Build) -> None:
        self.part, self.build = part, build
        self.blocks: list[tuple[str, str]] = []  # (bookmark, kind) in reading order

    def _tag(self, inlines: list[Any], kind: str) -> list[Any]:
        name = f"{BOOKMARK_PREFIX}{self.part.id}_{len(self.blocks) + 1}"
        self.blocks.append((name, kind))
        return [{"t": "Span", "c": [[name, [], []], inlines]}]

    def walk(self, node: Any, kind: str = "para") -> None:
        if isinstance(node, list):
            for x in node:
                self.walk(x, kind)
            return
        if not isinstance(node, dict):
            return
        t, c = node.get("t"), node.get("c")
        if t in ("Para", "Plain"):
            if any(x.get("t") not in ("Image", "Space", "SoftBreak", "LineBreak") for x in c):
                node["c"] = self._tag(c, kind)  # an image alone has no text to edit (its caption is tagged)
            self.walk(c, kind)
        elif t == "Header":
            level, attr, inlines = c
            if attr[0]:
                attr[0] = f"{self.part.id}-{attr[0]}"  # heading ids are per part; one document holds them all
            c[2] = self._tag(inlines, "heading")
            self.walk(inlines, kind)
        elif t == "Note":
            self.walk(c, "note")
        elif t in ("BulletList", "OrderedList"):
            self.walk(c, "note" if kind == "note" else "item")
        elif t == "Table":
            self.walk(c, "note" if kind == "note" else "cell")
        elif t == "Image":
            attr, alt, (src, title) = c
            found = _resolve_image(src, _text(alt), self.part, self.build)
            if found is None:
                node.clear()
                node.update({"t": "Str", "c": f"［{_text(alt) or src}］"})
            else:
                media, data = found
                c[2] = [f"data:{media};base64,{base64.b64encode(data).decode('ascii')}", title]
        elif c is not None:
            self.walk(c, kind)


def _opener(part: Part) -> dict[str, Any]:
    title = f"{part.label} {part.title}".strip()
    return {"t": "Header", "c": [1, ["", [], []], [{"t": "Str", "c": title}]]}


def book_ast(build: Build) -> tuple[dict[str, Any], list[tuple[Part, list[tuple[str, str]]]]]:
    """The chapters and appendices as one AST, with each part's bookmarks in reading order."""
    from book.parts.convert import markdown_to_ast

    doc: dict[str, Any] | None = None
    tagged = []
    for part in build.manifest.parts:
        ast = markdown_to_ast(part.body, part.source)
        tagger = _Tagger(part, build)
        tagger.walk(ast["blocks"])
        blocks = ast["blocks"]
        if not blocks or blocks[0].get("t") != "Header" or blocks[0]["c"][0] != 1:
            blocks.insert(0, _opener(part))  # a part titled by its front matter only still opens with a heading
        tagged.append((part, tagger.blocks))
        if doc is None:
            doc = ast
        else:
            doc["blocks"] += blocks
    return doc or {"pandoc-api-version": [1, 23, 1], "meta": {}, "blocks": []}, tagged


# --- from the DOCX back to the lines -----------------------------------------------------------------


def locate(text: str, body: str, start: int = 0, within: list[tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """The stretch of `body` (from `start`, or inside `within`'s spans) whose characters spell `text`.

    Pandoc drops the markup (`**`, `[^1]`, `- `, line breaks between Han), so the paragraph's text is
    found as a sequence of matching characters: an anchor of a few characters finds where it starts,
    then difflib aligns the text with the source around it.
    """
    clean = text.strip()
    if not clean:
        return None
    spans = within if within is not None else [(start, len(body))]
    best: tuple[int, int, int] | None = None  # (estimated start, span start, span end)
    for size in sorted({min(n, len(clean)) for n in (6, 3, 2)}, reverse=True):  # shorter when markup splits it
        for offset in list(range(0, len(clean) - size + 1, size))[:8]:
            anchor = clean[offset : offset + size]
            for lo, hi in spans:
                at = body.find(anchor, lo, hi)
                if at >= 0:
                    if best is None or at - offset < best[0]:
                        best = (max(at - offset, lo), lo, hi)
                    break
        if best is not None:
            break
    if best is None:
        return None
    lo = max(best[0] - 80, best[1])
    window = body[lo : min(best[0] + 2 * len(clean) + 200, best[2])]
    matched = [m for m in SequenceMatcher(None, clean, window, autojunk=False).get_matching_blocks() if m.size]
    # A stray one-character match far from the rest (a 的 in the paragraph before) is not the start.
    while len(matched) > 1 and matched[0].size == 1 and matched[1].b - matched[0].b > 4:
        matched.pop(0)
    while len(matched) > 1 and matched[-1].size == 1 and matched[-1].b - (matched[-2].b + matched[-2].size) > 4:
        matched.pop()
    if not matched or sum(m.size for m in matched) < 0.5 * len(clean.replace(" ", "")):
        return None
    return lo + matched[0].b, lo + matched[-1].b + matched[-1].size


def docx_texts(path: Path) -> dict[str, str]:
    """bookmark → the text of its paragraph, from the body and the footnotes."""
    texts = {}
    with zipfile.ZipFile(path) as z:
        for name in ("word/document.xml", "word/footnotes.xml"):
            try:
                root = etree.fromstring(z.read(name))
            except KeyError:
                continue
            for p in root.iter(q("p")):
                para = read_paragraph(p)
                if para.bookmark:
                    texts[para.bookmark] = para.old
    return texts


def source_map(build: Build, tagged: list[tuple[Part, list[tuple[str, str]]]], docx: Path) -> list[Block]:
    """Each bookmark's source lines, found from the text the DOCX shows."""
    texts = docx_texts(docx)
    found: list[Block] = []
    for part, blocks in tagged:
        body = part.body
        lines = body.split("\n")
        notes = [(m.start(), m.end()) for m in FOOTNOTE_DEF.finditer(body)]
        cursor = 0
        rel = part.source.relative_to(build.config.root).as_posix()
        for name, kind in blocks:
            text = texts.get(name, "")
            if kind == "note":
                where = locate(text, body, within=notes or [(0, 0)])
            else:  # a short text is looked for near the last one: "图1" is likely elsewhere too
                near = len(body) if len(text.strip()) >= 12 else cursor + 4000
                where = locate(text, body, within=[(cursor, min(near, len(body)))])
            if where is None:
                continue
            if kind != "note":
                cursor = where[1]
            first, last = body.count("\n", 0, where[0]), body.count("\n", 0, max(where[1] - 1, where[0]))
            found.append(Block(name, part.id, rel, first + part.body_line, last + part.body_line,
                               lines_hash(lines[first : last + 1]), text, kind))  # fmt: skip
    return found


# --- writing -----------------------------------------------------------------------------------------


def cached_reference(build: Build) -> Path:
    """The Chinese reference document, made once per toolchain version and language in the build's cache."""
    from book.tools import docx as docx_style

    key = hashlib.sha256(Path(docx_style.__file__).read_bytes() + build.config.pdf_language.encode()).hexdigest()[:16]
    target = build.out / ".cache" / "docx" / f"reference-{key}.docx"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        docx_style.reference_docx(target, build.config.pdf_language)
    return target


def write_source_docx(build: Build, target: Path, package: str = "") -> list[Block]:
    """The manuscript → `target` (DOCX), returning the bookmark map."""
    from book.parts.convert import PANDOC_RTS, pandoc_binary

    config = build.config
    ast, tagged = book_ast(build)
    meta = ast.setdefault("meta", {})
    meta["title"] = {"t": "MetaString", "c": config.title}
    meta["lang"] = {"t": "MetaString", "c": config.pdf_language}
    if config.authors:
        meta["author"] = {"t": "MetaString", "c": "、".join(config.authors)}
    if package:
        meta[PACKAGE_PROPERTY] = {"t": "MetaString", "c": package}
    ref = cached_reference(build)
    args = [pandoc_binary(), "--from=json", "--to=docx", f"--reference-doc={ref}", "--sandbox", *PANDOC_RTS]
    if config.bibliography:
        args += ["--citeproc", f"--csl={config.csl}", *(f"--bibliography={p}" for p in config.bibliography)]
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as out:
        subprocess.run([*args, "-o", str(out)], input=json.dumps(ast).encode("utf-8"), check=True,
                       capture_output=True, cwd=config.root, timeout=300)  # fmt: skip
        blocks = source_map(build, tagged, Path(out))
    return blocks


def map_json(blocks: list[Block]) -> str:
    return json.dumps({"version": 1, "blocks": [asdict(b) for b in blocks]}, ensure_ascii=False, indent=1) + "\n"


def source_hashes(build: Build) -> dict[str, str]:
    """Each source file (relative path) → sha256 of its bytes: what the editor's DOCX was made from."""
    return {
        p.source.relative_to(build.config.root).as_posix(): hashlib.sha256(p.source.read_bytes()).hexdigest()
        for p in build.manifest.parts
    }
