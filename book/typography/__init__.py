"""Typography stage: a part's HTML tree → the same tree with CJK typesetting rules applied.

Rules follow W3C clreq and GB/T 15834-2011. Text rules (`book.typography.text`)
fix punctuation, quotes and Han–Latin spacing across inline elements; markup rules then add the
spans the styles need where WeasyPrint lacks the CSS feature: `cjk-halt` (adjacent
punctuation set half-width with the font's `halt` feature), `cjk-dash` (`——`/`……` kept
whole and full-width), `cjk-dot` (one emphasis dot per Han character), `cjk-phrase`
(headings break between phrases). Code, URLs and `data-typography="off"` are protected.
Every transform is idempotent: running the stage twice gives the same tree.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from book.errors import Diagnostics
from book.model import Meta, Part
from book.text import CLOSING, HAN, HAN_RE, OPENING, STOPS, WJ
from book.typography import blocks as typo_blocks
from book.typography import coverage as typo_fonts
from book.typography import emoji as typo_emoji
from book.typography import numbers as typo_numbers
from book.typography import upright as typo_upright
from book.typography.text import SIMPLIFIED_QUOTES, apply_text_rules, is_protected, local, runs

OURS = ("cjk-halt", "cjk-dash", "cjk-dot", "cjk-phrase", "cjk-quote")
QUOTE_RE = re.compile("[“”‘’]")
KAI_CLASSES = {"kai", "callout"}
HALT_RE = re.compile(f"[{OPENING}{CLOSING}{STOPS}](?={WJ}?[{OPENING}{CLOSING}{STOPS}])")
DASH_RE = re.compile("(?:——|……)+")
PAIRABLE = OPENING + CLOSING + STOPS
LAST_PAIRABLE = re.compile(f"[{PAIRABLE}](?={WJ}?$)")
PHRASE_END = "：，、；？！"
# a heading longer than this (in characters) gets its phrases kept whole
PHRASE_MIN_HEADING = 12
PHRASE_MAX = 16


def _classes(el: etree._Element) -> list[str]:
    return (el.get("class") or "").split()


def _ours(el: etree._Element) -> bool:
    return local(el.tag) == "span" and any(c in OURS for c in _classes(el))


def text_slots(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Every (node, "text"|"tail") whose text typography may change, in document order."""
    slots: list[tuple[etree._Element, str]] = []

    def walk(el: etree._Element, locked: bool) -> None:
        locked = locked or (isinstance(el.tag, str) and is_protected(el))
        if isinstance(el.tag, str) and not locked and not _ours(el):
            slots.append((el, "text"))
        for child in el:
            walk(child, locked)
            if not locked:
                slots.append((child, "tail"))

    walk(root, False)
    return slots


def wrap_matches(
    node: etree._Element, attr: str, pattern: re.Pattern[str], make: Callable[[str], etree._Element]
) -> int:
    """Wrap each match of `pattern` in the slot's text in a new element; returns how many."""
    text = getattr(node, attr)
    if not text:
        return 0
    pieces = list(pattern.finditer(text))
    if not pieces:
        return 0
    new: list[etree._Element] = []
    pos = 0
    head = text[: pieces[0].start()]
    for i, m in enumerate(pieces):
        el = make(m.group())
        end = pieces[i + 1].start() if i + 1 < len(pieces) else len(text)
        el.tail = text[m.end() : end] or None
        new.append(el)
        pos = end
    assert pos == len(text)
    if attr == "text":
        node.text = head or None
        for i, el in enumerate(new):
            node.insert(i, el)
    else:
        node.tail = head or None
        parent = node.getparent()
        idx = parent.index(node)
        for i, el in enumerate(new):
            parent.insert(idx + 1 + i, el)
    return len(new)


def _span(root: etree._Element, cls: str) -> Callable[[str], etree._Element]:
    def make(text: str) -> etree._Element:
        el = root.makeelement("span", {"class": cls})
        el.text = text
        return el

    return make


def mark_halt_and_dashes(root: etree._Element) -> tuple[int, int]:
    """Rules 11 and 7: spans for adjacent punctuation and for dashes/ellipses."""
    halts = dashes = 0
    for node, attr in text_slots(root):
        dashes += wrap_matches(node, attr, DASH_RE, _span(root, "cjk-dash"))
    for node, attr in text_slots(root):
        halts += wrap_matches(node, attr, HALT_RE, _span(root, "cjk-halt"))
    # pairs split by an element boundary (`</strong>：`): halt the last mark of the first slot
    ends: list[tuple[etree._Element, str]] = []
    for run in runs(root):
        chars = run.chars
        for i in range(len(chars) - 1):
            j = i + 2 if chars[i + 1].c == WJ and i + 2 < len(chars) else i + 1
            a, b = chars[i], chars[j]
            if a.seg != b.seg and a.c in PAIRABLE and b.c in PAIRABLE and not a.locked:
                seg = run.segs[a.seg]
                if not _ours(seg.node) or seg.attr == "tail":
                    ends.append((seg.node, seg.attr))
    for node, attr in ends:
        halts += wrap_matches(node, attr, LAST_PAIRABLE, _span(root, "cjk-halt"))
    return halts, dashes


def mark_emphasis(root: etree._Element) -> int:
    """Rule 12: `<em>` with Chinese → class `cjk-em` (text-emphasis) and a `cjk-dot` span per Han."""
    n = 0
    for em in root.iter("em"):
        if any(is_protected(a) for a in em.iterancestors()) or not HAN_RE.search("".join(em.itertext())):
            continue
        if "cjk-em" not in _classes(em):
            em.set("class", " ".join([*_classes(em), "cjk-em"]))
        for node, attr in text_slots(em):
            if attr == "tail" and node is em:
                continue
            n += wrap_matches(node, attr, re.compile(f"[{HAN}]"), _span(root, "cjk-dot"))
    return n


def mark_heading_phrases(root: etree._Element) -> int:
    """Rule 15: a long Chinese heading breaks only between phrases (at its punctuation)."""
    n = 0
    for el in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        text = el.text or ""
        if len(text) <= PHRASE_MIN_HEADING or not HAN_RE.search(text) or any(_ours(c) for c in el):
            continue
        if any(is_protected(a) for a in el.iterancestors()):
            continue
        phrases = re.findall(f"[^{PHRASE_END}]+[{PHRASE_END}]*|[{PHRASE_END}]+", text)
        if len(phrases) < 2:
            continue
        pattern = re.compile("|".join(re.escape(p) for p in phrases if len(p) <= PHRASE_MAX) or "(?!)")
        n += wrap_matches(el, "text", pattern, _span(root, "cjk-phrase"))
    return n


def typeset_string(text: str) -> str:
    """The text rules (no markup) applied to a plain string, such as a title from front matter."""
    root = etree.Element("p")
    root.text = text
    typo_numbers.apply_gb_rules(root)
    apply_text_rules(root)
    return root.text or ""


SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def key_terms(concepts: object) -> list[str]:
    """A chapter's key terms as written: slugs (`open-source-llm`) are not terms and are left out."""
    if not isinstance(concepts, list):
        return []
    return [str(c) for c in concepts if isinstance(c, (str, int)) and not SLUG.fullmatch(str(c))]


def typeset_title(part: Part) -> Part:
    """A copy of the part whose title and label have the text rules applied (the manifest keeps the source's)."""
    title, label = typeset_string(part.title), typeset_string(part.label)
    period = part.meta.get("period")
    meta = part.meta
    if isinstance(period, str) and period:  # the opener prints it: 2023-2024 → 2023—2024
        meta = Meta({**part.meta, "period": typeset_string(typo_numbers.typeset_range_field(period))})
    terms = key_terms(part.meta.get("technical_concepts"))
    if terms or part.meta.get("technical_concepts"):  # the opener shows terms as written, never slugs
        meta = Meta({**meta, "key_terms": [typeset_string(t) for t in terms]})
    if (title, label, meta) == (part.title, part.label, part.meta):
        return part
    return dataclasses.replace(part, title=title, label=label, meta=meta)


def mark_kai_quotes(root: etree._Element) -> int:
    """Rule 2: quotation marks in Kai text come from the Song face (LXGW WenKai's are Latin-width)."""
    n = 0
    for el in root.iter():
        if not isinstance(el.tag, str) or is_protected(el):
            continue
        if local(el.tag) != "blockquote" and not KAI_CLASSES & set(_classes(el)):
            continue
        if any(local(a.tag) == "blockquote" or KAI_CLASSES & set(_classes(a)) for a in el.iterancestors()):
            continue  # the outermost Kai block handles its whole subtree
        for node, attr in text_slots(el):
            if attr == "tail" and node is el:
                continue
            n += wrap_matches(node, attr, QUOTE_RE, _span(root, "cjk-quote"))
    return n


def apply_rules(
    root: etree._Element, quotes: tuple[str, str, str, str] = SIMPLIFIED_QUOTES, number_range: str = "～"
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Every rule that changes the tree, in place: how many changes each made (`unpaired_quotes`
    too) and the emoji dropped or replaced, in document order. Reads nothing outside `root`."""
    done = typo_emoji.replace_emoji(root)  # before the text rules: a dropped ✅ leaves no space to normalise
    gb = typo_numbers.apply_gb_rules(root, quotes, number_range)
    counts = apply_text_rules(root, quotes)
    counts["emoji"] = len(done)
    counts.update(gb)
    counts["halt"], counts["dash_spans"] = mark_halt_and_dashes(root)
    counts["emphasis_dots"] = mark_emphasis(root)
    counts["heading_phrases"] = mark_heading_phrases(root)
    counts["kai_quotes"] = mark_kai_quotes(root)
    counts["upright"] = typo_upright.mark_upright(root)
    for el in root.iter():  # navigation titles (TOC, nav, outline) get the text rules too
        nav = el.get("data-nav-title") if isinstance(el.tag, str) else None
        if nav:
            el.set("data-nav-title", typeset_string(nav).replace(WJ, ""))
    # WeasyPrint may break between one of our spans and a closing mark after it: glue them
    for el in root.iter("span"):
        if _ours(el) and el.tail and el.tail[0] in CLOSING + STOPS:
            el.tail = WJ + el.tail
    return counts, done


def apply(
    root: etree._Element,
    part: Part,
    diag: Diagnostics,
    quotes: tuple[str, str, str, str] = SIMPLIFIED_QUOTES,
    number_range: str = "～",
    memo_dir: Path | None = None,
) -> dict[str, int]:
    """Apply every rule in place (ASCII quotes become the locale's `quotes`, a number range takes
    `number_range`); return how many changes each made. With `memo_dir` (the stage cache's folder)
    each block's result is memoised there (book.typography.blocks): an edit re-typesets its blocks only."""
    memo = typo_blocks.load(memo_dir, part.id, str(part.source))
    salt = typo_blocks.salt(quotes, number_range) if memo is not None else b""
    counts, done = typo_blocks.typeset_blocks(root, lambda r: apply_rules(r, quotes, number_range), salt, memo)
    typo_blocks.save(memo_dir, part.id, str(part.source), memo)
    typo_emoji.warn(done, part, diag)
    unpaired = counts.pop("unpaired_quotes")
    if unpaired:
        diag.warn(part.source, part.body_line, f"{unpaired} unpaired quotation mark(s)", "run `book lint` to find them")
    typo_fonts.check_coverage(root, part, diag)
    return counts
