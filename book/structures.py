"""Structures stage: a part's HTML tree → the same tree with the book's structures marked up.

Conventions of the manuscript become elements the templates and styles design: the body's own
`# Chapter N: …` heading is merged into the chapter opener, bilingual headings get a Chinese title
and an English subtitle, and every heading gets a stable id and a navigation title.
"""

from __future__ import annotations

import re

from lxml import etree

from book.errors import Diagnostics
from book.htmltree import heading_level, text_of
from book.manifest import Part

BILINGUAL = re.compile(r"^(?P<zh>.*?[\u3400-\u9fff].*?)\s*[（(](?P<en>[A-Za-z][^()（）]*)[)）]\s*(?P<rest>[:：]?)$")


def merge_opener_heading(root: etree._Element, part: Part) -> None:
    """Drop the body's leading h1 when it repeats the part's title (the opener prints it)."""
    first = next((el for el in root.iter() if heading_level(el)), None)
    if first is None or heading_level(first) != 1:
        return
    text = text_of(first)
    if part.title not in text and not re.match(r"^\s*(chapter|第)", text, re.I):
        return
    section = first.getparent()
    first.getparent().remove(first) if first.tail is None or not first.tail.strip() else None
    if section is not None and section.tag == "section" and section.getparent() is not None:
        parent = section.getparent()
        idx = parent.index(section)
        for child in list(section):
            idx += 1
            parent.insert(idx, child)
        parent.remove(section)


def split_bilingual(root: etree._Element) -> None:
    """`引言 (Introduction)` → Chinese title plus an English subtitle span; nav uses the Chinese."""
    for el in root.iter():
        if not heading_level(el) or len(el):
            continue
        m = BILINGUAL.match(el.text or "")
        if not m:
            continue
        el.text = m.group("zh")
        el.set("data-nav-title", m.group("zh"))
        sub = etree.SubElement(el, "span")
        sub.set("class", "heading-en")
        sub.set("lang", "en")
        sub.text = m.group("en")


def ensure_ids(root: etree._Element, part: Part) -> None:
    """Give every heading a unique ASCII id (`ch08-s3`) so links and the outline survive any title."""
    used: set[str] = set()
    n = 0
    for el in root.iter():
        if not heading_level(el):
            continue
        n += 1
        target = el.getparent() if el.getparent() is not None and el.getparent().tag == "section" else el
        new = f"{part.id}-s{n}"
        old = target.get("id")
        target.set("id", new)
        if target is not el and el.get("id"):
            del el.attrib["id"]
        used.add(new)
        if old:
            for a in root.iter("a"):
                if a.get("href") == f"#{old}":
                    a.set("href", f"#{new}")


def apply(root: etree._Element, part: Part, diag: Diagnostics) -> None:
    merge_opener_heading(root, part)
    split_bilingual(root)
    ensure_ids(root, part)
