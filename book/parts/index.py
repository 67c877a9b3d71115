"""The back-of-book index: terms marked in the parts (`[大语言模型]{.index}`) → the 索引 part.

In a part (`mark`), each `<span class="index">` Pandoc made of `[term]{.index key="…" sub="…"}` gets
an anchor id, and the part keeps its occurrences (`RenderedPart.index_terms`). Once every part is
rendered, `build_part` groups the entries by the first letter of their pinyin (pypinyin), Latin
and digit-led terms in a group of their own before them, sorts each group by pinyin (tones, then
the characters, break ties), nests sub-entries (`sub="…"` or `key="父!子"`) and writes the part in
the EPUB Indexes vocabulary (`epub:type="index"`, `index-entry`, `index-locator`…). The EPUB links
each entry to its occurrence in every part; print replaces the locators with page numbers, ranges
merged (12–14), once the pages are known (book.pdf.pagerefs).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from book.locale import locale_for
from book.model import BookConfig, Heading, Part, RenderedPart

PART_ID = "back-index"
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
DASH = "–"  # U+2013 between the pages of a range (GB/T 15834: 一字线 for ranges of numbers)


def mark(root: etree._Element, part: Part) -> list[dict[str, str]]:
    """Each index span in the tree, anchored (`{part}-ix{n}`); its entry, sub-entry and sort key."""
    found: list[dict[str, str]] = []
    for n, span in enumerate((s for s in root.iter("span") if "index" in (s.get("class") or "").split()), 1):
        text = " ".join("".join(span.itertext()).split())
        key = span.get("data-key") or ""
        sub = span.get("data-sub") or ""
        term = text
        if "!" in key:
            term, _, sub = (k.strip() for k in key.partition("!"))
            key = ""
        anchor = f"{part.id}-ix{n}"
        span.set("id", anchor)
        span.set("class", "index-term-ref")
        for name in ("data-key", "data-sub"):
            span.attrib.pop(name, None)
        if term:
            found.append({"term": term, "key": key, "sub": sub, "id": anchor})
    return found


def sort_key(text: str) -> tuple[Any, ...]:
    """Pinyin order: the syllables without tones, then the tones, then the characters themselves."""
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(text.lower(), style=Style.TONE3, neutral_tone_with_five=True, errors="default")
    bare = tuple(re.sub(r"\d$", "", s) for s in syllables)
    tones = tuple(s[-1] if s[-1:].isdigit() else "0" for s in syllables)
    return (bare, tones, text)


def group_of(text: str) -> str:
    """The entry's group: the capital of its first pinyin letter, or "" for a Latin- or digit-led term."""
    first = text.lstrip()[:1]
    if not first or not HAN.match(first):
        return ""
    from pypinyin import Style, lazy_pinyin

    # The whole term, not its first character: 重 reads chóng in 重庆 (pypinyin's phrase table).
    return lazy_pinyin(text.lstrip(), style=Style.FIRST_LETTER)[0][:1].upper()


def merge_pages(pages: list[str]) -> list[tuple[str, str, int]]:
    """Folios in reading order → (first, last, index of the first occurrence) runs: 12, 13, 14 → 12–14.

    A page met twice counts once; a folio that is no number (a roman front page) stands alone.
    """
    runs: list[tuple[str, str, int]] = []
    last: int | None = None
    for i, page in enumerate(pages):
        number = int(page) if page.isdigit() else None
        if runs and page == runs[-1][1]:
            continue
        if number is not None and last is not None and number == last + 1:
            runs[-1] = (runs[-1][0], page, runs[-1][2])
        else:
            runs.append((page, page, i))
        last = number
    return runs


def page_text(first: str, last: str) -> str:
    return first if first == last else f"{first}{DASH}{last}"


@dataclass
class Entry:
    term: str
    key: str
    places: list[tuple[str, str]] = field(default_factory=list)  # (part id, anchor id)
    subs: dict[str, Entry] = field(default_factory=dict)


def entries(rendered: list[RenderedPart]) -> list[Entry]:
    """The book's index entries, each with its occurrences in reading order and its sub-entries."""
    top: dict[str, Entry] = {}
    for rp in rendered:
        for t in rp.index_terms:
            e = top.setdefault(t["term"], Entry(t["term"], t["key"] or t["term"]))
            if t["key"] and e.key == e.term:
                e.key = t["key"]
            if t["sub"]:
                e = e.subs.setdefault(t["sub"], Entry(t["sub"], t["sub"]))
            e.places.append((rp.id, t["id"]))
    return list(top.values())


def groups(found: list[Entry], latin_title: str) -> list[dict[str, Any]]:
    """Entries in their groups (Latin first, then A–Z by pinyin), each group sorted by pinyin."""
    by: dict[str, list[Entry]] = {}
    for e in found:
        if HAN.match(e.key[:1]) or e.key == e.term:
            g = group_of(e.key)
        else:  # a Han term sorted by the pinyin its `key` spells
            g = e.key[:1].upper() if HAN.match(e.term[:1]) and e.key[:1].isalpha() else ""
        by.setdefault(g, []).append(e)

    def order(es: list[Entry]) -> list[Entry]:
        return sorted(es, key=lambda e: sort_key(unicodedata.normalize("NFKC", e.key)))

    out = []
    for g in sorted(by):
        out.append({"title": g or latin_title, "id": f"{PART_ID}-{g or 'latin'}", "entries": order(by[g])})
    return out


def _locators(e: Entry, labels: dict[str, tuple[str, str]]) -> str:
    """The EPUB's locators: a link to the first occurrence in each part; print reads data-targets."""
    import html

    seen: dict[str, str] = {}
    for pid, anchor in e.places:
        seen.setdefault(pid, anchor)
    links = []
    for pid, anchor in seen.items():
        filename, label = labels[pid]
        links.append(f'<a epub:type="index-locator" href="{filename}#{anchor}">{html.escape(label)}</a>')
    targets = " ".join(a for _, a in e.places)
    return f'<span class="index-locators" data-targets="{targets}">{"，".join(links)}</span>'


def build_part(config: BookConfig, rendered: list[RenderedPart]) -> RenderedPart | None:
    """The 索引 part (the book's last), or None when nothing is marked or `index: false`."""
    found = entries(rendered)
    if not found or not config.index:
        return None
    from markupsafe import Markup

    from book.parts.render import environment

    t = locale_for(config.language)
    labels = {rp.id: (rp.filename, rp.label or rp.title) for rp in rendered}
    shown = [
        {
            "id": g["id"],
            "title": g["title"],
            "entries": [
                {
                    "term": e.term,
                    "locators": Markup(_locators(e, labels) if e.places else ""),
                    "subs": [
                        {"term": s.term, "locators": Markup(_locators(s, labels))}
                        for s in sorted(e.subs.values(), key=lambda s: sort_key(s.term))
                    ],
                }
                for e in g["entries"]
            ],
        }
        for g in groups(found, t["index_latin"])
    ]
    title = t["index"]
    body = environment(config).get_template("index.html.j2").render(id=PART_ID, title=title, groups=shown)
    return RenderedPart(
        id=PART_ID, kind="back", filename=f"{PART_ID}.xhtml", title=title, label="", body=body,
        headings=[Heading(1, PART_ID, title)], landmark="index",
    )  # fmt: skip


def print_locators(body: str, pages: dict[str, str] | None) -> str:
    """The index's locators as print has them: page numbers, ranges merged; None asks the layout."""
    import html

    def one(m: re.Match[str]) -> str:
        targets = m.group(1).split()
        if pages is None:  # one document: the layout counts each occurrence (no merging)
            return ", ".join(f'<a class="page-ref-n" href="#{a}"></a>' for a in targets)
        folios = [pages.get(a, "000") for a in targets]
        runs = merge_pages(folios)
        return ", ".join(f'<a href="#{targets[i]}">{html.escape(page_text(f, last))}</a>' for f, last, i in runs)

    return LOCATORS.sub(one, body)


LOCATORS = re.compile(r'<span class="index-locators" data-targets="([^"]*)">.*?</span>', re.S)
