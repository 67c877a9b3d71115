"""The glossary: `glossary:` (a YAML file, term → definition) and the rendered parts → the 术语表 part,
with the first use of each term in the text linked to its entry; and, where `index: {front_matter:
true}`, the chapters' `key_organizations` / `technical_concepts` → index occurrences.

An entry is `术语: 定义`, or a mapping `{definition: …, keys: [open-source-llm]}` whose keys are the
front-matter names that stand for it. The first use is the term's first occurrence, in reading
order, in a paragraph or list item of a chapter or appendix (not in a heading, a link, code or a
reference list). It becomes a link to its entry (`epub:type="glossref"`); an indexed front-matter
name's first use becomes an index occurrence of the part, or the part's opener if the text never
uses it.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from lxml import etree

from book.errors import BookError, Problem, display_path
from book.locale import locale_for
from book.model import BookConfig, Heading, Manifest, RenderedPart
from book.parts.htmltree import parse_fragment, to_xhtml

PART_ID = "back-glossary"
SKIP = {"a", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "sup", "kbd", "samp", "script", "style"}
SKIP_CLASSES = {"opener", "references", "bibliography", "sourceCode", "index-term-ref", "crossref", "footnotes"}


def load(path: Path) -> dict[str, dict[str, Any]]:
    """The glossary file → {term: {"definition": str, "keys": [str]}}; a malformed file is an error."""
    import yaml

    from book.source.yamlfile import load_yaml

    shown = display_path(path)
    try:
        data, _ = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BookError(
            Problem(shown, None, f"glossary cannot be read: {str(exc)[:120]}", "write 'term: definition' lines")
        ) from None
    if not isinstance(data, dict):
        raise BookError(
            Problem(shown, None, "the glossary must be a mapping of term → definition", "write '术语: 定义' lines")
        )
    out: dict[str, dict[str, Any]] = {}
    for term, value in data.items():
        if isinstance(value, dict):
            keys = value.get("keys") or []
            out[str(term)] = {"definition": str(value.get("definition") or ""), "keys": [str(k) for k in keys]}
        else:
            out[str(term)] = {"definition": "" if value is None else str(value), "keys": []}
    return out


def _skipped(el: etree._Element) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node.tag in SKIP or SKIP_CLASSES & set((node.get("class") or "").split()):
            return True
        node = node.getparent()
    return False


def _wrap_first(root: etree._Element, term: str, make: Any) -> bool:
    """Wrap the first occurrence of `term` in a text node of a paragraph or list item; True if found."""
    for el in root.iter("p", "li", "dd", "td", "span", "em", "strong"):
        if _skipped(el):
            continue
        for attr, node in (("text", el), *(("tail", c) for c in el)):
            text = getattr(node, attr)
            if not text or term not in text:
                continue
            i = text.index(term)
            new = make(term)
            new.tail = text[i + len(term) :]
            setattr(node, attr, text[:i])
            if attr == "text":
                el.insert(0, new)
            else:
                node.addnext(new)
            return True
    return False


def _element(markup: str) -> etree._Element:
    """An element from its markup: lxml refuses `epub:type` as an attribute name it is given."""
    from lxml import html as lxml_html

    return lxml_html.fragment_fromstring(markup)


def apply(config: BookConfig, manifest: Manifest, rendered: list[RenderedPart]) -> RenderedPart | None:
    """Links first uses and adds the front matter's index terms; returns the 术语表 part (or None)."""
    if config.glossary is None:
        return None
    entries = load(config.glossary)
    ids = {term: f"{PART_ID}-g{n}" for n, term in enumerate(entries, 1)}
    by_key = {k: term for term, e in entries.items() for k in e["keys"]}
    pending = [t for t, e in entries.items() if e["definition"]]
    front = {
        p.id: [str(k) for field in ("key_organizations", "technical_concepts") for k in (p.meta.get(field) or [])]
        for p in manifest.parts
    }
    for rp in rendered:
        if rp.kind not in ("chapter", "appendix"):
            continue
        wanted: list[str] = []
        if config.index_front_matter:
            for key in front.get(rp.id, []):
                if key in by_key and by_key[key] not in wanted:
                    wanted.append(by_key[key])
        here = [t for t in pending if t in rp.body] + [t for t in wanted if t in rp.body]
        if not here and not wanted:
            continue
        root = parse_fragment(rp.body)
        changed = False
        for term in [t for t in pending if t in here]:

            def link(term: str) -> etree._Element:
                return _element(f'<a class="glossary-link" epub:type="glossref" role="doc-glossref" href="{PART_ID}.xhtml#{ids[term]}">'
                                f"{html.escape(term)}</a>")  # fmt: skip

            if _wrap_first(root, term, link):
                pending.remove(term)
                changed = True
        for n, term in enumerate(wanted, 1):
            anchor = f"{rp.id}-fm{n}"

            def span(term: str, anchor: str = anchor) -> etree._Element:
                return _element(f'<span class="index-term-ref" id="{anchor}">{html.escape(term)}</span>')

            if not _wrap_first(root, term, span):
                anchor = rp.id  # the opener: the chapter is about it without saying it
            rp.index_terms.append({"term": term, "key": "", "sub": "", "id": anchor})
            changed = True
        if changed:
            rp.body = to_xhtml(root, inner=True)
    return _part(config, entries, ids)


def _part(config: BookConfig, entries: dict[str, dict[str, Any]], ids: dict[str, str]) -> RenderedPart:
    from book.parts.index import sort_key
    from book.parts.render import environment

    title = locale_for(config.language)["glossary"]
    terms = [{"id": ids[t], "term": t, "definition": entries[t]["definition"]} for t in sorted(entries, key=sort_key)]
    body = environment(config).get_template("glossary.html.j2").render(id=PART_ID, title=title, entries=terms)
    return RenderedPart(
        id=PART_ID, kind="back", filename=f"{PART_ID}.xhtml", title=title, label="", body=body,
        headings=[Heading(1, PART_ID, title)], landmark="glossary",
    )  # fmt: skip
