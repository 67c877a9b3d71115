"""Han in italic matter → the same text in `cjk-upright` spans, so no CJK face is slanted.

No CJK face has an italic: where the styles set a cited title, a journal name (`.ref-container`) or
an English subtitle in italic and the text holds Chinese, fontconfig would give WeasyPrint the
regular face with an oblique matrix — a synthesised face. Chinese practice marks such titles with
《》, not with a slant, so the Han (and full-width punctuation) there is set upright.
"""

from __future__ import annotations

import re

from lxml import etree

from book.text import FULLWIDTH_PUNCT, HAN
from book.typography.text import is_protected, local, place

ITALIC_TAGS = {"cite", "i", "var", "dfn", "address"}
ITALIC_CLASSES = {"ref-container", "opener-title-en"}
CLASS = "cjk-upright"
HAN_RUN = re.compile(f"[{HAN}{re.escape(FULLWIDTH_PUNCT)}]+")


def _italic(el: etree._Element) -> bool:
    return local(el.tag) in ITALIC_TAGS or bool(ITALIC_CLASSES & set((el.get("class") or "").split()))


def _wrap(root: etree._Element, node: etree._Element, attr: str) -> int:
    text = getattr(node, attr)
    if not text or not HAN_RUN.search(text):
        return 0
    parts = HAN_RUN.split(text)
    runs = HAN_RUN.findall(text)
    setattr(node, attr, parts[0] or None)
    new = []
    for run, after in zip(runs, parts[1:], strict=True):
        span = root.makeelement("span", {"class": CLASS})
        span.text, span.tail = run, after or None
        new.append(span)
    place(node, attr, new)
    return len(new)


def mark_upright(root: etree._Element) -> int:
    """Wrap the Han runs inside italic elements; returns how many spans were added (idempotent)."""
    n = 0
    for el in [e for e in root.iter() if isinstance(e.tag, str) and _italic(e)]:
        if any(isinstance(a.tag, str) and _italic(a) for a in el.iterancestors()):
            continue  # the outermost italic element covers its subtree
        if is_protected(el) or any(is_protected(a) for a in el.iterancestors()):
            continue
        slots: list[tuple[etree._Element, str]] = [(el, "text")]
        for d in el.iterdescendants():
            if not isinstance(d.tag, str) or CLASS in (d.get("class") or "").split() or is_protected(d):
                continue
            slots.append((d, "text"))
        slots += [(d, "tail") for d in el.iterdescendants() if d.getparent() is not None]
        for node, attr in slots:
            if attr == "text" and CLASS in (node.get("class") or "").split():
                continue
            if attr == "tail" and (node.getparent() is None or is_protected(node.getparent())):
                continue
            n += _wrap(root, node, attr)
    return n
