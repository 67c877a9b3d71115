"""HTML fragments ↔ lxml trees, and polyglot XHTML serialisation.

Stages after conversion work on one lxml tree per part. The serialisation is XML (for the EPUB) that
an HTML parser (WeasyPrint's) reads the same way: empty non-void elements are written open and
closed (`<a id="x"></a>`, never `<a id="x"/>`).
"""

from __future__ import annotations

from lxml import etree, html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def parse_fragment(fragment: str) -> etree._Element:
    """Parse an HTML fragment into a `<div>` root."""
    root = html.fragment_fromstring(fragment or "", create_parent="div")
    return root


def to_xhtml(el: etree._Element, *, with_tail: bool = False, inner: bool = False) -> str:
    """Serialise as polyglot XHTML; with `inner`, only the element's content."""
    for node in el.iter():
        if isinstance(node.tag, str) and node.tag not in VOID and len(node) == 0 and node.text is None:
            node.text = ""
    if inner:
        head = _escape(el.text or "")
        return head + "".join(etree.tostring(c, method="xml", encoding="unicode", with_tail=True) for c in el)
    return etree.tostring(el, method="xml", encoding="unicode", with_tail=with_tail)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_of(el: etree._Element) -> str:
    return "".join(el.itertext())


def heading_level(el: etree._Element) -> int | None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
        return int(tag[1])
    return None
