"""Text conservation: a part's Markdown blocks + its rendered body → a warning for each block whose text is not there.

Every block of the source (paragraph, list, heading, table, quotation, footnote) is reduced to its
letters, digits and Han characters (NFKC; markup, punctuation and spaces dropped, since the
typography stage rewrites those on purpose) and looked for in the rendered body reduced the same
way. What the toolchain removes on purpose is not looked for: HTML comments, link and image
targets, footnote and citation keys, `{#id}` attributes, raw HTML, the leading heading (the opener
prints it), and what `trim_after` cut (no longer in the body). A block that is missing names what
Pandoc made of it (a table, code, nothing), so the author sees which construct swallowed it.
"""

from __future__ import annotations

import html
import re
import unicodedata

from lxml import etree

from book.errors import Diagnostics
from book.model import Part
from book.parts.htmltree import parse_fragment
from book.source.fences import CLOSE, CODE, OPEN, Fences

COMMENT = re.compile(r"<!--.*?-->", re.S)
REFERENCE_DEF = re.compile(r"^ {0,3}\[(?!\^)[^\]]+\]:\s*\S+.*$")
IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
LINK_TARGET = re.compile(r"\]\([^)]*\)|\]\[[^\]]*\]")
KEYS = re.compile(r"\[\^[^\]]+\]:?|\[-?@[^\]]+\]|(?<![\w.])@[\w:.-]+|\{[#.][^}]*\}|\{-\}")
TAG = re.compile(r"</?[A-Za-z][^>]*>")
AUTOLINK = re.compile(r"<(https?://[^>]+)>")
URL = re.compile(r"https?://\S+")
MARKER = re.compile(r"^[ \t>]*(?:[-*+]|\d{1,9}[.)]|#{1,6})?[ \t]+", re.M)  # list numbers are the <ol>'s, not text
MIN_CHARS = 4  # shorter blocks (a lone number, "注") are too common to say anything


def essence(text: str) -> str:
    """The characters conservation compares: letters, digits and Han, NFKC-folded, lower case."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


def source_blocks(body: str) -> list[tuple[int, str]]:
    """(0-based line in the body, Markdown text) of each block between blank lines, code fences kept whole."""
    body = COMMENT.sub(lambda m: "\n" * m.group().count("\n"), body)
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    fences = Fences()
    for i, line in enumerate(body.split("\n")):
        if fences.kind(line) in (CODE, CLOSE):
            current.append(line)
            continue
        if not line.strip():
            if current:
                blocks.append((start, "\n".join(current)))
            current = []
            continue
        if not current:
            start = i
        current.append(line)
    if current:
        blocks.append((start, "\n".join(current)))
    return blocks


def _text_of_block(block: str) -> str:
    return "".join(_runs_of_block(block))


def _runs_of_block(block: str) -> list[str]:
    """The block's text as `essence` compares it, in the runs its URLs separate (a printed URL may be
    broken or shortened by typography, so the text on either side is looked for on its own)."""
    lines = [ln for ln in block.split("\n") if not REFERENCE_DEF.match(ln)]
    fences = Fences()
    if lines and fences.kind(lines[0]) == OPEN:  # a listing: its code; the fences and info string are not text
        kinds = [fences.kind(ln) for ln in lines[1:]]
        lines = [ln for ln, k in zip(lines[1:], kinds, strict=True) if k == CODE]
    text = "\n".join(lines)
    if text.lstrip().startswith("<") and not AUTOLINK.match(text.lstrip()):
        return []  # raw HTML: the sanitizer keeps what it allows, on purpose
    text = MARKER.sub("", text)
    text = IMAGE.sub("", text)  # an image's alt is its caption only when it says something (book.parts.images)
    text = AUTOLINK.sub(r"\1", text)
    text = LINK_TARGET.sub("]", text)
    text = KEYS.sub("", text)
    text = TAG.sub("", text)
    # `&#8;` is one (removed) character, not the digit 8
    return [run for piece in URL.split(text) if (run := essence(html.unescape(piece)))]


def _construct(fragment_root: etree._Element, needle: str) -> str:
    """What Pandoc made of the block whose text is `needle` (its first characters suffice)."""
    probe = needle[:12]
    for el in fragment_root.iter():
        if not isinstance(el.tag, str):
            continue
        if probe in essence("".join(el.itertext())) and el.tag in ("table", "pre", "code", "h1", "h2", "h3", "hr"):
            return {"table": "a table", "pre": "code", "code": "code"}.get(el.tag, f"a heading <{el.tag}>")
    if probe in essence("".join(fragment_root.itertext())):
        return "text Pandoc kept but a later stage removed"
    return "nothing (Pandoc read it as markup)"


# Text the toolchain writes in place of a key (citeproc's [1], a cross-reference's 图 1-1): the source
# has only the key, which `KEYS` drops, so the output drops what replaced it.
GENERATED = {"citation", "crossref", "footnote-ref"}


def _rendered_text(rendered: str) -> str:
    root = parse_fragment(rendered)
    for el in list(root.iter()):
        if isinstance(el.tag, str) and GENERATED & set((el.get("class") or "").split()):
            tail = el.tail
            el.clear()
            el.tail = tail
        elif isinstance(el.tag, str) and etree.QName(el).localname == "math":
            # A formula as its source wrote it: its TeX annotation, not the MathML's tokens as well
            tex = next(
                (a for a in el.iter() if isinstance(a.tag, str) and etree.QName(a).localname == "annotation"), None
            )
            if tex is not None:
                text, tail = tex.text, el.tail
                el.clear()
                el.text, el.tail = text, tail
    # An undefined footnote's `[^b]` stays literal in the output, while the source's key is dropped.
    return essence(KEYS.sub("", "".join(root.itertext())))


def check(
    part: Part, body: str, fragment: str, rendered: str, diag: Diagnostics, reformatted: tuple[str, ...] = ()
) -> int:
    """Warn at each source block of `body` whose text the rendered part lacks; returns how many.

    `reformatted` are source lines a stage rewrites on purpose (a 参考文献 entry set in GB/T 7714).
    """
    out = _rendered_text(rendered)
    skip = {_text_of_block(r) for r in reformatted}
    fragment_root: etree._Element | None = None
    lost = 0
    blocks = source_blocks(body)
    first_heading = next((i for i, (_, b) in enumerate(blocks) if b.lstrip().startswith("#")), None)
    for k, (line, block) in enumerate(blocks):
        if k == first_heading and k <= 1:
            continue  # the leading heading merges into the opener, which prints it as the label and title
        runs = _runs_of_block(block)
        needle = "".join(runs)
        if len(needle) < MIN_CHARS or needle in out or (len(runs) > 1 and all(r in out for r in runs)):
            continue
        # A block may be split by the structures (a callout's title from its heading): its lines then.
        pieces = [p for ln in block.split("\n") if len(p := _text_of_block(ln)) >= MIN_CHARS]
        if pieces and all(p in out or p in skip for p in pieces):
            continue
        if fragment_root is None:
            fragment_root = parse_fragment(fragment)
        shown = " ".join(block.split())
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        diag.warn(part.source, part.body_line + line, f'text lost: "{shown}" became {_construct(fragment_root, needle)}',
                  "write it as a plain paragraph, or report the construct (the build keeps going)")  # fmt: skip
        lost += 1
    return lost
