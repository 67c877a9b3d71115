"""Structures stage: a part's HTML tree → the same tree with the book's structures marked up.

Conventions of the manuscript become elements the templates and styles design: the body's own
`# Chapter N: …` heading is merged into the chapter opener, bilingual headings get a Chinese title
and an English subtitle, a section whose heading starts with `💡 轶事` becomes an anecdote callout,
the `**本章要点**` list a summary box, the `**参考文献**` list a parsed reference list, Pandoc's
endnotes EPUB footnotes, and, in a part without headings of its own (a news article), bold-only
lines become headings. Each element is rendered by its own template (`templates/*.html.j2`), so a
book can override it. Finally every block gets a stable id (`{part}-p{n}` for paragraphs: the print page map and the editor's
paragraph numbers point at them).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import jinja2
from lxml import etree, html

from book.errors import Diagnostics
from book.locale import locale_for
from book.model import Part
from book.parts import links
from book.parts.htmltree import heading_level, text_of, to_xhtml
from book.parts.references import Reference, parse_entry
from book.text import chinese_numeral

if TYPE_CHECKING:
    from book.model import BookConfig

BILINGUAL = re.compile(r"^(?P<zh>.*?[\u3400-\u9fff].*?)\s*[（(](?P<en>[A-Za-z][^()（）]*)[)）]\s*(?P<rest>[:：]?)$")
ANECDOTE = re.compile(r"^\s*(?:💡\ufe0f?\s*)?[轶軼]事\s*[:：]?\s*")  # 軼事: a zh-Hant manuscript's
ANECDOTE_START = re.compile(r"^\s*💡\ufe0f?\s*[轶軼]事")
# `**本章要点** (Key Takeaways):` and `**参考文献** (Chapter References):` lead a list.
BOXES = {"本章要点": "takeaways", "参考文献": "references"}
LEAD_EN = re.compile(r"^\s*[（(](?P<en>[^()（）]+)[)）]\s*[:：]?\s*$|^\s*[:：]?\s*$")
CHAPTER_H1 = re.compile(r"^\s*(?:chapter\s+(?P<n>\d+)|第(?P<cn>[零一二三四五六七八九十百〇\d]+)章)", re.I)
NUMBERED_BLOCKS = {"li", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "figure", "pre", "aside", "section"}
EPUB_TYPE = "epub:type"


def _env(config: BookConfig | None) -> jinja2.Environment:
    from book.parts import render

    if config is not None:
        return render.environment(config)
    from book.model import PROJECT_ROOT

    return render._environment((PROJECT_ROOT / "templates",))


def _element(env: jinja2.Environment, template: str, **ctx: Any) -> etree._Element:
    """Render a structure's template and parse it back into the tree (later stages still see it)."""
    return html.fragment_fromstring(env.get_template(template).render(**ctx).strip())


def merge_opener_heading(root: etree._Element, part: Part, diag: Diagnostics | None = None) -> None:
    """Drop the body's leading h1 when it repeats the part's title (the opener prints it).

    The h1 must be the first heading of the part; its section wrapper is unwrapped so its content
    follows the opener. A `Chapter N` that disagrees with `chapter_number` is warned about.
    """
    first = next((el for el in root.iter() if heading_level(el)), None)
    if first is None or heading_level(first) != 1:
        return
    text = text_of(first).strip()
    m = CHAPTER_H1.match(text)
    title_en = part.title_en
    if not (m or part.title in text or (title_en and title_en in text)):
        return
    if m and part.number is not None:
        said = m.group("n") or m.group("cn")
        if said not in (str(part.number), chinese_numeral(part.number)):
            diag and diag.warn(
                part.source, part.line_of(text), f"the heading '{text[:40]}' disagrees with chapter_number {part.number}",
                "fix the heading or the front matter",
            )  # fmt: skip
    section = first.getparent()
    _remove_keep_tail(first)
    if section is not None and section.tag == "section" and section.getparent() is not None:
        parent = section.getparent()
        idx = parent.index(section)
        if section.text and section.text.strip():
            _append_text(parent, idx, section.text)
        for child in list(section):
            idx += 1
            parent.insert(idx, child)
        _remove_keep_tail(section)


def _append_text(parent: etree._Element, idx: int, text: str) -> None:
    if idx == 0:
        parent.text = (parent.text or "") + text
    else:
        prev = parent[idx - 1]
        prev.tail = (prev.tail or "") + text


def _remove_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if el.tail and el.tail.strip():
        _append_text(parent, parent.index(el), el.tail)
    parent.remove(el)


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


def make_callouts(root: etree._Element, env: jinja2.Environment, label: str = "轶事") -> int:
    """A section whose heading starts with `💡 轶事` (any level) → the anecdote callout template."""
    n = 0
    limit = sum(1 for el in root.iter() if heading_level(el))
    while n < limit:  # one at a time: a callout is re-parsed from its template, so nested ones are found again
        h = next(
            (el for el in root.iter()
             if heading_level(el) and "callout-title" not in (el.get("class") or "") and ANECDOTE_START.match(text_of(el))),
            None,
        )  # fmt: skip
        if h is None:
            break
        level = heading_level(h) or 3
        section = h.getparent()
        if section is None:
            break
        if section.tag == "section" and section.index(h) == 0:
            body_nodes = list(section)[1:]
            target = section
        else:  # no section wrapper: the callout runs to the next heading of the same or a higher level
            body_nodes = []
            for sib in h.itersiblings():
                lv = heading_level(sib)
                if lv and lv <= level:
                    break
                body_nodes.append(sib)
            target = h
        # The callout ends at a thematic break or at the chapter's takeaways/references, which
        # Markdown sections would otherwise swallow when an anecdote is the chapter's last section.
        cut = next((i for i, b in enumerate(body_nodes) if b.tag == "hr" or _lead_box(b)), len(body_nodes))
        body_nodes, after = body_nodes[:cut], body_nodes[cut:]
        title_node = _strip_prefix(h)
        body = "".join(to_xhtml(b, with_tail=True) for b in body_nodes)
        new = _element(
            env, "callout.html.j2", kind="anecdote", label=label, icon="✦", level=max(level, 2),
            title=title_node, body=body, id=section.get("id") if target is section else h.get("id"),
        )  # fmt: skip
        for b in body_nodes:
            if b is not target:
                b.getparent().remove(b)
        new.tail = target.tail
        target.getparent().replace(target, new)
        for node in reversed(after):
            new.addnext(node)
        n += 1
    return n


def _strip_prefix(h: etree._Element) -> jinja2.utils.Markup:
    """The heading's content without its `💡 轶事：` prefix, as markup (it may contain inline tags)."""
    h.text = ANECDOTE.sub("", h.text or "", count=1)
    if not h.text and len(h) and h[0].tag in ("strong", "b", "em", "span"):
        h[0].text = ANECDOTE.sub("", h[0].text or "", count=1)
    inner = to_xhtml(h, inner=True).strip()
    return jinja2.utils.markupsafe.Markup(inner)


def _lead_box(p: etree._Element) -> tuple[str, str] | None:
    """`<p><strong>本章要点</strong> (Key Takeaways):</p>` → ("takeaways", "Key Takeaways")."""
    if p.tag != "p" or len(p) != 1 or p[0].tag not in ("strong", "b") or (p.text or "").strip():
        return None
    kind = BOXES.get(text_of(p[0]).strip().rstrip(":："))
    m = LEAD_EN.match(p[0].tail or "")
    if not kind or not m:
        return None
    return kind, (m.group("en") or "").strip()


def make_boxes(root: etree._Element, part: Part, diag: Diagnostics, env: jinja2.Environment) -> list[Reference]:
    """The takeaways list → a summary box; the reference list → parsed entries in a reference list."""
    refs: list[Reference] = []
    for p in list(root.iter("p")):
        found = _lead_box(p)
        lst = p.getnext()
        if not found or lst is None or lst.tag not in ("ul", "ol"):
            continue
        kind, title_en = found
        title = text_of(p[0]).strip().rstrip(":：")
        if kind == "takeaways":
            items = [jinja2.utils.markupsafe.Markup(to_xhtml(li, inner=True).strip()) for li in lst.findall("li")]
            new = _element(env, "takeaways.html.j2", title=title, title_en=title_en, items=items, id=p.get("id") or "")
        else:
            entries = []
            for li in lst.findall("li"):
                raw = _inline_markdown(li).strip()
                ref = parse_entry(raw, part.line_of(raw))
                ref.id = f"{part.id}-ref{len(refs) + len(entries) + 1}"
                if not ref.parsed:
                    diag.warn(
                        part.source, ref.line, f"reference entry does not parse, printed as written: {raw[:60]}",
                        "write it as 'Surname, A., & Other, B. (2023). Title. *Container*. https://…'",
                    )  # fmt: skip
                entries.append(ref)
            refs.extend(entries)
            new = _element(env, "references.html.j2", title=title, title_en=title_en, entries=entries)
        new.tail = lst.tail
        p.getparent().remove(p)
        lst.getparent().replace(lst, new)
    return refs


def _inline_markdown(el: etree._Element) -> str:
    """An entry's text with its italics written back as `*…*` (the parser reads the source form)."""
    out = [el.text or ""]
    for child in el:
        if not isinstance(child.tag, str):
            out.append(child.tail or "")
            continue
        if child.tag in ("em", "i", "cite"):
            out.append(f"*{text_of(child)}*")
        elif child.tag in ("p", "span", "a", "strong", "b", "code"):
            out.append(_inline_markdown(child))
        else:
            out.append(text_of(child))
        out.append(child.tail or "")
    return re.sub(r"\s+", " ", "".join(out))


def promote_bold_lines(root: etree._Element) -> int:
    """In a part with no headings of its own (a news article), a bold-only line is a heading (h2)."""
    if any(heading_level(el) for el in root.iter()):
        return 0
    n = 0
    for p in list(root.iter("p")):
        if len(p) != 1 or p[0].tag not in ("strong", "b") or (p.text or "").strip() or (p[0].tail or "").strip():
            continue
        text = text_of(p[0]).strip()
        if not text or text.endswith((":", "：")) or p.getparent() is not root:
            continue
        h = etree.Element("h2")
        h.text = p[0].text
        for c in p[0]:
            h.append(c)
        h.tail = p.tail
        for k, v in p.attrib.items():
            h.set(k, v)
        p.getparent().replace(p, h)
        n += 1
    return n


def make_footnotes(root: etree._Element) -> int:
    """Pandoc's endnotes section → `<aside epub:type="footnote">` after the block that calls each note."""
    notes = [s for s in root.iter("section") if "footnotes" in (s.get("class") or "").split()]
    n = 0
    for section in notes:
        for li in section.iter("li"):
            nid = li.get("id")
            if not nid:
                continue
            for back in li.xpath(".//a[contains(concat(' ', @class, ' '), ' footnote-back ')]"):
                _remove_keep_tail(back)
            refs = root.xpath(f".//a[@href='#{nid}']")
            for ref in refs:
                ref.set(EPUB_TYPE, "noteref")
                ref.set("role", "doc-noteref")
            aside = root.makeelement("aside", {})
            aside.set("id", nid)
            aside.set(EPUB_TYPE, "footnote")
            aside.set("role", "doc-footnote")
            aside.set("class", "footnote-body")
            aside.text = li.text
            for c in list(li):
                aside.append(c)
            anchor = _block_of(refs[0], root) if refs else None
            if anchor is None:
                section.addprevious(aside)
            else:
                anchor.addnext(aside)
                aside.tail, anchor.tail = anchor.tail, None
            n += 1
        _remove_keep_tail(section)
    return n


def _block_of(el: etree._Element, root: etree._Element) -> etree._Element:
    """The outermost block holding `el` whose parent is a flow container (section, div, li, …)."""
    node = el
    while node.getparent() is not None and node.getparent() is not root:
        parent = node.getparent()
        if parent.tag in ("section", "div", "blockquote", "li", "aside") and node.tag in (
            "p", "ul", "ol", "table", "blockquote", "figure", "dl", "pre", "div",
        ):  # fmt: skip
            return node
        node = parent
    return node


def ensure_ids(root: etree._Element, part: Part) -> None:
    """Give every heading a unique ASCII id (`ch08-s3`) so links and the outline survive any title."""
    renamed: dict[str, str] = {}
    n = 0
    # An id the author wrote (`{#intro}`, prefixed by Pandoc) is kept: other chapters link to it.
    explicit = {f"{part.id}-{i}" for i in links.explicit_ids(part.body)}
    for el in root.iter():
        if not heading_level(el):
            continue
        n += 1
        target = el.getparent() if el.getparent() is not None and el.getparent().tag == "section" else el
        kept = next((i for i in (el.get("id"), target.get("id")) if i in explicit), None)
        while kept is None and f"{part.id}-s{n}" in explicit:
            n += 1
        new = kept or f"{part.id}-s{n}"
        for old in (target.get("id"), el.get("id")):
            if old and old != new:
                renamed[old] = new
        target.set("id", new)
        if target is not el and el.get("id"):
            del el.attrib["id"]
    _relink(root, renamed)


def _relink(root: etree._Element, renamed: dict[str, str]) -> None:
    if not renamed:
        return
    for a in root.iter("a"):
        href = a.get("href") or ""
        if href.startswith("#") and href[1:] in renamed:
            a.set("href", "#" + renamed[href[1:]])


def number_blocks(root: etree._Element, part: Part) -> None:
    """Every `<p>` gets `{part}-p{n}` in reading order; other page-starting blocks an id."""
    renamed: dict[str, str] = {}
    used = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    p_n = b_n = 0
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "p":
            p_n += 1
            new = f"{part.id}-p{p_n}"
            old = el.get("id")
            if old and old != new:
                renamed[old] = new
            el.set("id", new)
        elif el.tag in NUMBERED_BLOCKS and not el.get("id"):
            b_n += 1
            while f"{part.id}-b{b_n}" in used:
                b_n += 1
            el.set("id", f"{part.id}-b{b_n}")
    _relink(root, renamed)


def footnotes_for_print(body_html: str) -> str:
    """Each EPUB footnote's content moved to its call site as `<span class="footnote">`.

    WeasyPrint floats `span.footnote` (`float: footnote` in print.css) to the page foot and numbers
    the call itself, so the noteref link is replaced by the span.
    """
    if "footnote" not in body_html:
        return body_html
    root = html.fragment_fromstring(body_html, create_parent="div")
    notes = [a for a in root.iter("aside") if a.get(EPUB_TYPE) == "footnote" or a.get("role") == "doc-footnote"]
    for aside in notes:
        nid = aside.get("id")
        refs = root.xpath(f".//a[@href='#{nid}']") if nid else []
        span = etree.Element("span")
        span.set("class", "footnote")
        span.set("id", nid or "")
        inline = []
        for i, block in enumerate(list(aside)):
            if i:
                inline.append(" ")
            inline.append(block)
        span.text = aside.text
        for item in inline:
            if isinstance(item, str):
                if len(span):
                    span[-1].tail = (span[-1].tail or "") + item
                else:
                    span.text = (span.text or "") + item
            else:
                if item.tag in ("p", "div"):
                    item.tag = "span"
                span.append(item)
        if refs:
            ref = refs[0]
            span.tail = ref.tail
            ref.getparent().replace(ref, span)
            for extra in refs[1:]:
                extra.attrib.pop("href", None)
        _remove_keep_tail(aside)
    return to_xhtml(root, inner=True)


def apply(root: etree._Element, part: Part, diag: Diagnostics, config: BookConfig | None = None) -> dict[str, Any]:
    """Mark up every structure in place; return what was found (anecdotes, reference entries)."""
    env = _env(config)
    merge_opener_heading(root, part, diag)
    promote_bold_lines(root)
    split_bilingual(root)
    anecdotes = make_callouts(root, env, locale_for(config.language)["anecdote"] if config is not None else "轶事")
    refs = make_boxes(root, part, diag, env)
    make_footnotes(root)
    ensure_ids(root, part)
    return {"anecdotes": anecdotes, "references": refs}
