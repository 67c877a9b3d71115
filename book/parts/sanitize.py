"""Sanitise stage: Pandoc's HTML fragment of a part → the same fragment with nothing active in it.

Manuscripts carry pasted HTML. The book never runs what it renders, so raw `<script>`, `<iframe>`,
`<object>`, forms, event attributes (`onclick`) and `javascript:` (or any non-web) links are removed
by nh3 (the Rust `ammonia` sanitiser), each with a warning naming the source file and the line where
it was written. Everything Pandoc legitimately emits is kept: sections, ids, classes, `data-*`,
ARIA roles, figures, tables with their alignment styles, footnotes, task-list checkboxes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import nh3
from lxml import html as lxml_html

from book.errors import Diagnostics
from book.model import Manifest, Part
from book.parts import hidden
from book.text import XML_INVALID, Locator

if TYPE_CHECKING:
    from book.model import RenderedPart

# The HTML5 a book may contain: what Pandoc writes, plus the phrasing and structure an author may
# paste on purpose. Anything else is unwrapped (its text kept); the content of script-like
# elements is dropped with the element.
TAGS = {
    "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption",
    "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img",
    "input", "ins", "kbd", "label", "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s",
    "samp", "section", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
}  # fmt: skip
# Pandoc writes <embed> for an image whose file is not a known image type; it is read as an <img>,
# which the images stage then embeds or refuses with a message (never an active embed).
EMBED = re.compile(r"<embed\b([^>]*?)\s*/?>", re.I)
DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "noscript", "template", "frame", "frameset"}
GENERIC_ATTRIBUTES = {"id", "class", "lang", "title", "dir", "role", "hidden", "translate"}
ATTRIBUTES = {
    "a": {"href", "tabindex"},
    "img": {"src", "alt", "width", "height", "style"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "style", "headers"},
    "th": {"colspan", "rowspan", "style", "scope", "headers"},
    "col": {"span", "style"},
    "colgroup": {"span"},
    "input": {"type", "checked", "disabled"},
    "time": {"datetime"},
    "q": {"cite"},
    "blockquote": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "details": {"open"},
    "div": {"style"},
    "span": {"style"},
    "p": {"style"},
    "abbr": {"title"},
    "bdo": {"dir"},
}
ATTRIBUTE_PREFIXES = {"data-", "aria-"}
# Presentational declarations only: no property here can load a resource or run anything.
STYLE_PROPERTIES = {
    "text-align", "vertical-align", "width", "height", "color", "background-color", "font-weight",
    "font-style", "text-decoration",
}  # fmt: skip
LINK_SCHEMES = {"http", "https", "mailto"}
# nh3 drops URLs whose scheme it is not given; image sources with these reach the images stage,
# which refuses all but http(s) and small data: images with a message naming the scheme.
IMAGE_SCHEMES_JUDGED_LATER = {"data", "file", "ftp", "sftp", "javascript", "vbscript", "blob", "about", "smb"}
URL_ATTRIBUTES = {"href", "src", "cite"}


def _allowed_url(tag: str, attr: str, value: str) -> bool:
    scheme = urlsplit(value.strip()).scheme.lower() if ":" in value else ""
    if not scheme or re.fullmatch(r"[a-z]", scheme):  # relative, or a Windows drive path (images decide)
        return True
    if tag == "img" and attr == "src":  # the images stage decides, with a message per scheme
        return True
    return scheme in LINK_SCHEMES


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr in URL_ATTRIBUTES and not _allowed_url(tag, attr, value):
        return None
    if tag == "input" and attr == "type" and value.lower() != "checkbox":
        return None
    return value


def _allowed_attribute(tag: str, attr: str) -> bool:
    return (
        attr in GENERIC_ATTRIBUTES
        or attr in ATTRIBUTES.get(tag, ())
        or any(attr.startswith(p) and len(attr) > len(p) for p in ATTRIBUTE_PREFIXES)
    )


ACTIVE_HINT = "the book never runs scripts or loads frames; delete it from the source"
UNKNOWN_HINT = "write it in Markdown, or use a class on a <span>/<div> and style it"


def findings(fragment: str) -> Iterator[tuple[str, str, str]]:
    """(what is removed, a regex to find where the author wrote it, hint) for each active or unknown bit."""
    if not fragment.strip():
        return
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if el is not root and tag not in TAGS:
            if tag in DROP_WITH_CONTENT:
                yield f"HTML element <{tag}> removed", rf"<{re.escape(tag)}\b", ACTIVE_HINT
            else:
                yield f"HTML element <{tag}> removed (its text is kept)", rf"<{re.escape(tag)}\b", UNKNOWN_HINT
            continue
        for attr, value in el.attrib.items():
            attr = attr.lower()
            if attr.startswith("on"):
                yield f"event attribute {attr}= removed from <{tag}>", rf"\b{re.escape(attr)}\s*=", ACTIVE_HINT
            elif not _allowed_attribute(tag, attr):
                yield f"attribute {attr}= removed from <{tag}>", rf"\b{re.escape(attr)}\s*=", UNKNOWN_HINT
            elif attr in URL_ATTRIBUTES and not _allowed_url(tag, attr, value):
                scheme = value.strip().split(":", 1)[0].lower()
                hint = "link only to http(s) or mailto addresses"
                yield f"{scheme}: link removed from <{tag}>", rf"{re.escape(scheme)}\s*:", hint


def clean(html: str, part: Part, diag: Diagnostics) -> str:
    """Remove everything active from Pandoc's output; warn once per removal with its source line."""
    where = Locator(part.body, part.body_line)
    html = EMBED.sub(r"<img\1/>", html)
    for what, pattern, hint in findings(html):
        diag.warn(part.source, where.line(pattern), what, hint)
    for what, pattern, hint in hidden.findings(html, STYLE_PROPERTIES, lambda tag: "style" in ATTRIBUTES.get(tag, ())):
        diag.warn(part.source, where.line(pattern), what, hint)
    cleaned = nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes={"*": GENERIC_ATTRIBUTES, **ATTRIBUTES},
        attribute_filter=_attribute_filter,
        generic_attribute_prefixes=ATTRIBUTE_PREFIXES,
        url_schemes=LINK_SCHEMES | IMAGE_SCHEMES_JUDGED_LATER,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel=None,
        strip_comments=True,
    )
    depth = nesting_depth(cleaned)
    if depth > MAX_DEPTH:
        # The XML and HTML parsers downstream (libxml2) silently drop what lies deeper than ~255
        # levels; stop rather than lose text.
        diag.error(part.source, None, f"text nested {depth} levels deep (lists, quotes or HTML elements)",
                   f"flatten it to at most {MAX_DEPTH} levels")  # fmt: skip
        return ""
    cleaned = repair(cleaned, part, diag, where)
    bad = XML_INVALID.search(cleaned)
    if bad:
        # A numeric character reference such as `&#1;` survives Pandoc as a raw control character.
        diag.warn(part.source, where.line(r"&#(?:x0*[0-9a-f]|x0*1[0-9a-f]|0*[0-9]|0*[12][0-9]|0*3[01]);"),
                  f"character U+{ord(bad.group()):04X} is not allowed in XML; removed",
                  "delete the character reference from the source")  # fmt: skip
        cleaned = XML_INVALID.sub("", cleaned)
    return cleaned


# Elements whose content may only be phrasing (inline) content, and the block elements that must
# not appear inside them. HTML parsers keep `<b><p>…</p></b>` or `<span><ul>` from pasted HTML;
# the EPUB's XHTML content model (and EPUBCheck) does not allow it.
PHRASING_ONLY = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "a", "abbr", "b", "bdi", "bdo", "cite", "code",
    "dfn", "em", "i", "kbd", "label", "mark", "q", "ruby", "rp", "rt", "s", "samp", "small", "span",
    "strong", "sub", "sup", "time", "u", "var", "del", "ins", "summary",
}  # fmt: skip
BLOCKS = {
    "address", "article", "aside", "blockquote", "details", "div", "dl", "dd", "dt", "figure",
    "figcaption", "footer", "header", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p",
    "pre", "section", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td",
    "th", "ul", "summary",
}  # fmt: skip
# Elements that are only valid inside particular parents.
PARENTS = {
    "li": {"ul", "ol"},
    "dt": {"dl", "div"},
    "dd": {"dl", "div"},
    "rt": {"ruby"},
    "rp": {"ruby"},
    "figcaption": {"figure"},
    "summary": {"details"},
    "caption": {"table"},
    "colgroup": {"table"},
    "col": {"colgroup"},
    "thead": {"table"},
    "tbody": {"table"},
    "tfoot": {"table"},
    "tr": {"table", "thead", "tbody", "tfoot"},
    "td": {"tr"},
    "th": {"tr"},
}
NCNAME = re.compile(r"[^\W\d][\w.\-]*")
INTERACTIVE = {"a", "label", "details", "input"}


def _phrasing_context(el) -> bool:
    parent = el.getparent()
    while parent is not None:
        if parent.tag in PHRASING_ONLY:
            return True
        parent = parent.getparent()
    return False


# What a list may hold directly, and what wraps anything else put there.
LIST_CHILDREN = {"ul": ({"li"}, "li"), "ol": ({"li"}, "li"), "dl": ({"dt", "dd", "div"}, "dd")}


def _wrap_stray_children(el) -> bool:
    """`<ul><b>x</b>text<li>…` → every child of a list is a list item (the stray ones wrapped)."""
    allowed, wrapper = LIST_CHILDREN[el.tag]
    stray_text = bool(el.text and el.text.strip()) or any(c.tail and c.tail.strip() for c in el)
    if not stray_text and all(isinstance(c.tag, str) and c.tag in allowed for c in el):
        return False
    items: list = []
    pending = None
    if el.text and el.text.strip():
        pending = lxml_html.Element(wrapper)
        pending.text = el.text
        items.append(pending)
    el.text = None
    for child in list(el):
        el.remove(child)  # its tail goes with it
        if isinstance(child.tag, str) and child.tag in allowed:
            tail, child.tail = child.tail, None
            items.append(child)
            pending = None
            if tail and tail.strip():
                pending = lxml_html.Element(wrapper)
                pending.text = tail
                items.append(pending)
        else:
            if pending is None:
                pending = lxml_html.Element(wrapper)
                items.append(pending)
            pending.append(child)
    el.extend(items)
    return True


def _rename(el, tag: str) -> None:
    """Change an element's name, dropping the attributes the new name does not allow (ol's type…)."""
    el.tag = tag
    for attr in list(el.attrib):
        if not _allowed_attribute(tag, attr):
            del el.attrib[attr]


def repair(fragment: str, part: Part, diag: Diagnostics, where: Locator | None = None) -> str:
    """Make hand-written HTML fit the XHTML content model: blocks inside inline elements become
    spans, list items and table cells outside their parents become divs, interactive elements are
    not nested, and ids are unique XML names. Pandoc's own output needs none of this."""
    if not fragment.strip():
        return fragment
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    changed = []
    for el in list(root.iter()):
        if el is root or not isinstance(el.tag, str):
            continue
        tag = el.tag
        if tag in BLOCKS and _phrasing_context(el):
            if tag in ("hr", "col", "colgroup"):
                el.drop_tree()
            else:
                _rename(el, "span")
            changed.append(tag)
        elif tag in PARENTS and (el.getparent() is None or el.getparent().tag not in PARENTS[tag]):
            _rename(el, "span" if _phrasing_context(el) else "div")
            changed.append(tag)
        elif tag in INTERACTIVE and any(
            a.tag == "a" or (a.tag == "label" and tag == "label") for a in el.iterancestors()
        ):  # nothing interactive inside a link; a label holds its input but no other label
            _rename(el, "span")
            changed.append(tag)
    for el in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        if not "".join(el.itertext()).strip() and el.get("data-toc") != "no":
            # An empty entry in the navigation document is an EPUBCheck error.
            el.set("data-toc", "no")
            line = where.line(rf"(?m)^#{{{el.tag[1]}}}[ \t]*(\{{[^}}]*\}})?[ \t]*$|<{el.tag}\b") if where else None
            diag.warn(part.source, line, f"a heading (<{el.tag}>) has no text; it is left out of the table of contents",
                      "write its title, or remove the '#' line")  # fmt: skip
            changed.append("")
    for el in list(root.iter("ul", "ol", "dl")):
        if _wrap_stray_children(el):
            changed.append(f"content of <{el.tag}>")
    seen: set[str] = set()
    for n, el in enumerate(root.iter()):
        if not isinstance(el.tag, str):
            continue
        ident = el.get("id")
        if ident is None:
            continue
        if not NCNAME.fullmatch(ident) or ident in seen:
            new = f"{part.id}-id{n}"
            el.set("id", new)
            changed.append(f"id {ident!r}")
            ident = new
        seen.add(ident)
    if not changed:
        return fragment
    what = ", ".join(c for c in dict.fromkeys(changed) if c)
    if not what:
        return _serialise(root)
    first = re.search(r"^(?:content of <)?([a-z][a-z0-9]*)>?$", next(c for c in changed if c))
    line = where.line(rf"<{first.group(1)}\b") if where and first else None
    diag.warn(part.source, line, f"hand-written HTML repaired to fit XHTML ({what[:120]})",
              "write the passage in Markdown, or close the HTML elements in the right order")  # fmt: skip
    return _serialise(root)


def _serialise(root) -> str:
    """The children of a fragment's wrapper element as HTML."""
    head = (root.text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return head + "".join(lxml_html.tostring(c, encoding="unicode") for c in root)


MAX_DEPTH = 200
TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)(?:\s[^>]*)?>")
VOID = {"area", "br", "col", "embed", "hr", "img", "input", "source", "track", "wbr"}


def nesting_depth(fragment: str) -> int:
    """Element depth of sanitised (so well-formed, html5ever-serialised) HTML."""
    depth = deepest = 0
    for m in TAG.finditer(fragment):
        if m.group(1):
            depth -= 1
        elif m.group(2).lower() not in VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


HREF_FRAGMENT = re.compile(r'\shref="#([^"]*)"')
ID_ATTRIBUTE = re.compile(r'\sid="([^"]+)"')


def check_links(manifest: Manifest, rendered: list[RenderedPart], diag: Diagnostics) -> None:
    """Remove in-book links whose target id exists nowhere in the book, with a positioned warning.

    A dangling `[见上文](#不存在)` is an EPUBCheck error (RSC-012); the words stay, the link goes.
    Needs every part, so it runs once after all parts are rendered.
    """
    ids = {i for rp in rendered for i in ID_ATTRIBUTE.findall(rp.body)}
    parts = {p.id: p for p in manifest.parts}
    for rp in rendered:
        rp.body = HREF_FRAGMENT.sub(_LinkDropper(ids, parts.get(rp.id), diag), rp.body)


class _LinkDropper:
    def __init__(self, ids: set[str], part: Part | None, diag: Diagnostics) -> None:
        self.ids, self.part, self.diag = ids, part, diag
        self.where = Locator(part.body, part.body_line) if part is not None else None

    def __call__(self, m: re.Match[str]) -> str:
        target = m.group(1)
        if target in self.ids:
            return m.group(0)
        if self.part is not None and self.where is not None:
            written = target.removeprefix(f"{self.part.id}-")
            # The id must end there: `#intro` is not the start of a good link's `#intro-2`.
            pattern = rf"(?:\]\(\s*#|href=[\"']?#){re.escape(written)}(?=[\s)\"'>]|$)"
            line = self.where.line(pattern)
            self.diag.warn(
                *(self.part.origin(line) if line and self.part.segments else (self.part.source, line)),
                f"link to '#{written}' points at no id in the book; the link is removed (its text is kept)",
                "link to a heading's {#id}, or remove the link",
            )  # fmt: skip
        return ""
