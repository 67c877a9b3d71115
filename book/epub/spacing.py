"""EPUB Han–Latin spacing: a rendered part's body with U+0020 between Han and Latin → an empty
`cjk-gap` span a reading system cannot stretch.

The typography stage puts one U+0020 between Han and Latin (¼ em in Noto CJK), which is right for
the PDF (our justification patch treats it as fixed) but not for reading systems: they justify by
stretching word spaces, and on a phone a Han–Latin gap grows to 1.5 em. U+2005 (four-per-em) would
not stretch, but the Noto CJK faces have no glyph for it. So the space becomes an empty span with a
¼ em margin (epub.css); an engine with `text-autospace` spaces the text itself and the margin is
dropped (`@supports`), and one without CSS reads the words unspaced, as Chinese is written.
"""

from __future__ import annotations

import bisect
import itertools
import re

from lxml import etree

from book.text import HAN, LATIN_END, LATIN_START, URL_RE
from book.typography.text import place, segments

XHTML_NS = "http://www.w3.org/1999/xhtml"
CLASS = "cjk-gap"
GAP_RE = re.compile(f"(?<=[{HAN}]) (?=[{LATIN_START}])|(?<=[{LATIN_END}]) (?=[{HAN}])")


def _split(root: etree._Element, node: etree._Element, attr: str, offsets: list[int]) -> None:
    """Replace the characters at `offsets` of the slot's text by gap spans."""
    text = getattr(node, attr) or ""
    pieces = []
    pos = 0
    for off in offsets:
        pieces.append(text[pos:off])
        pos = off + 1
    pieces.append(text[pos:])
    setattr(node, attr, pieces[0] or None)
    spans = []
    for rest in pieces[1:]:
        span = root.makeelement(f"{{{XHTML_NS}}}span" if root.tag.startswith("{") else "span", {"class": CLASS})
        span.text, span.tail = "", rest or None  # "": written <span …></span>, which HTML parsers read too
        spans.append(span)
    place(node, attr, spans)


def fixed_gaps(root: etree._Element) -> int:
    """Every Han–Latin U+0020 under `root` → a `cjk-gap` span; returns how many.

    The spaces are found in each run's text as the typography stage sees it (book.typography.text),
    but without making a Run of it: a space in locked text (code, a URL) stays, and each one found
    is placed by the text slot it is in and its offset there. Making a Run (one Ch per character)
    of every run was 1.1 s of the 30-chapter book's EPUB, most of its runs without a gap.
    """
    todo: dict[tuple[int, str], tuple[etree._Element, str, list[int]]] = {}
    for segs in segments(root):
        texts = [getattr(seg.node, seg.attr) or "" for seg in segs]
        text = "".join(texts)
        if " " not in text:
            continue
        found = [m.start() for m in GAP_RE.finditer(text)]
        if not found:
            continue
        starts = list(itertools.accumulate((len(t) for t in texts[:-1]), initial=0))
        urls = [m.span() for m in URL_RE.finditer(text)]
        for i in found:
            k = bisect.bisect_right(starts, i) - 1  # the slot holding character i (not an empty one)
            seg = segs[k]
            if seg.locked or any(a <= i < b for a, b in urls):
                continue
            todo.setdefault((id(seg.node), seg.attr), (seg.node, seg.attr, []))[2].append(i - starts[k])
    for node, attr, offsets in todo.values():
        _split(root, node, attr, sorted(offsets))
    return sum(len(o) for *_, o in todo.values())


def fixed_spaces(body: str) -> str:
    """A body fragment (XHTML markup) with its Han–Latin spaces as gap spans."""
    if " " not in body:
        return body
    doc = f'<div xmlns="{XHTML_NS}" xmlns:epub="http://www.idpf.org/2007/ops">{body}</div>'
    try:
        root = etree.fromstring(doc.encode("utf-8"), etree.XMLParser(resolve_entities=False, huge_tree=True))
    except etree.XMLSyntaxError:
        return body  # not well-formed on its own: leave it as it is
    if not fixed_gaps(root):
        return body
    out = (root.text or "") + "".join(etree.tostring(child, encoding="unicode") for child in root)
    # the wrapper's namespace declarations are repeated on each top-level element: the document declares them
    return out.replace(f' xmlns="{XHTML_NS}"', "").replace(' xmlns:epub="http://www.idpf.org/2007/ops"', "")
