"""Reading a DOCX: `word/document.xml` and `word/footnotes.xml` → paragraphs with their `src_…` bookmark,
their text before and after the tracked changes (`w:ins`/`w:del`, by author and date), and the
comments of `word/comments.xml` with the paragraph each is anchored in.

Word and WPS record a tracked insertion as runs inside `<w:ins w:author w:date>`, a deletion as runs
inside `<w:del>` whose text is `w:delText`; a moved passage as `w:moveFrom`/`w:moveTo`, read here as
a deletion and an insertion. A comment is a `<w:comment>` in comments.xml, anchored in the text by
`commentRangeStart`/`commentRangeEnd` with the same `w:id`.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BOOKMARK_PREFIX = "src_"


def q(name: str) -> str:
    return f"{{{W}}}{name}"


INSERTED = {q("ins"), q("moveTo")}
DELETED = {q("del"), q("moveFrom")}


@dataclass
class Segment:
    """A stretch of a paragraph's text: kept ("="), inserted ("+") or deleted ("-")."""

    kind: str
    text: str
    author: str = ""
    date: str = ""


@dataclass
class DocxParagraph:
    bookmark: str  # the first `src_…` bookmark in it, "" when it has none
    segments: list[Segment]
    comments: list[str] = field(default_factory=list)  # ids of the comments starting in it
    inserted_mark: bool = False  # the paragraph itself was inserted (tracked)
    mark_author: str = ""
    mark_date: str = ""

    @property
    def old(self) -> str:
        return "".join(s.text for s in self.segments if s.kind != "+")

    @property
    def new(self) -> str:
        return "".join(s.text for s in self.segments if s.kind != "-")

    @property
    def changed(self) -> bool:
        return any(s.kind != "=" for s in self.segments)


@dataclass
class Comment:
    id: str
    author: str
    date: str
    text: str
    anchored: str = ""  # the text between commentRangeStart and commentRangeEnd


def _change_of(el: etree._Element, stop: etree._Element) -> tuple[str, str, str]:
    """("+"|"-"|"=", author, date) from the nearest w:ins/w:del around `el` inside `stop`."""
    node = el.getparent()
    while node is not None and node is not stop:
        if node.tag in INSERTED or node.tag in DELETED:
            return ("+" if node.tag in INSERTED else "-", node.get(q("author")) or "", node.get(q("date")) or "")
        node = node.getparent()
    return "=", "", ""


def read_paragraph(p: etree._Element) -> DocxParagraph:
    segments: list[Segment] = []
    bookmark = ""
    comments: list[str] = []
    for el in p.iter():
        tag = el.tag
        if tag == q("bookmarkStart"):
            name = el.get(q("name")) or ""
            if not bookmark and name.startswith(BOOKMARK_PREFIX):
                bookmark = name
            continue
        if tag == q("commentRangeStart"):
            comments.append(el.get(q("id")) or "")
            continue
        if tag in (q("t"), q("delText")):
            text = el.text or ""
        elif tag in (q("br"), q("cr")):
            text = "\n"
        elif tag == q("tab"):
            text = "\t"
        else:
            continue
        if not text:
            continue
        kind, author, date = _change_of(el, p)
        if tag == q("delText"):
            kind = "-"
        last = segments[-1] if segments else None
        if last is not None and (last.kind, last.author, last.date) == (kind, author, date):
            last.text += text
        else:
            segments.append(Segment(kind, text, author, date))
    mark = p.find(f"{q('pPr')}/{q('rPr')}/{q('ins')}")
    para = DocxParagraph(bookmark, segments, comments, inserted_mark=mark is not None)
    if mark is not None:
        para.mark_author, para.mark_date = mark.get(q("author")) or "", mark.get(q("date")) or ""
    return para


@dataclass
class DocxContent:
    paragraphs: list[DocxParagraph]  # the body's, then the footnotes'
    comments: dict[str, Comment]
    properties: dict[str, str]  # docProps/custom.xml: name → value


def _xml(z: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        data = z.read(name)
    except KeyError:
        return None
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))


def _comment_anchors(root: etree._Element) -> dict[str, str]:
    """comment id → the text it spans, in document order."""
    open_ids: set[str] = set()
    spans: dict[str, list[str]] = {}
    for el in root.iter(q("commentRangeStart"), q("commentRangeEnd"), q("t")):
        if el.tag == q("commentRangeStart"):
            open_ids.add(el.get(q("id")) or "")
            spans.setdefault(el.get(q("id")) or "", [])
        elif el.tag == q("commentRangeEnd"):
            open_ids.discard(el.get(q("id")) or "")
        else:
            for cid in open_ids:
                spans[cid].append(el.text or "")
    return {cid: "".join(parts) for cid, parts in spans.items()}


def read_docx(path: Path) -> DocxContent:
    """The paragraphs, comments and custom properties of a DOCX."""
    with zipfile.ZipFile(path) as z:
        document = _xml(z, "word/document.xml")
        if document is None:
            raise ValueError("no word/document.xml: not a Word document")
        footnotes = _xml(z, "word/footnotes.xml")
        comments_xml = _xml(z, "word/comments.xml")
        custom = _xml(z, "docProps/custom.xml")
    paragraphs = [read_paragraph(p) for p in document.iter(q("p"))]
    if footnotes is not None:
        paragraphs += [read_paragraph(p) for p in footnotes.iter(q("p"))]
    anchors = _comment_anchors(document)
    comments = {}
    for c in comments_xml.iter(q("comment")) if comments_xml is not None else ():
        cid = c.get(q("id")) or ""
        text = "\n".join("".join(t.text or "" for t in p.iter(q("t"))) for p in c.iter(q("p"))).strip()
        comments[cid] = Comment(cid, c.get(q("author")) or "", c.get(q("date")) or "", text, anchors.get(cid, ""))
    properties = {}
    if custom is not None:
        for prop in custom:
            name = prop.get("name")
            if name:
                properties[name] = "".join(prop.itertext())
    return DocxContent(paragraphs, comments, properties)
