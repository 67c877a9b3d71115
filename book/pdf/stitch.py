"""Stitching: the parts' PDFs, their furniture and layout facts → one book PDF (pikepdf).

The pages of every part go in reading order with a blank verso after each part of odd length, the
furniture sheets (folios, running heads) are stamped over them trim box on trim box, named
destinations are rebuilt for every anchor, links across parts and the outline are made from the
data each worker returned, fonts are subset once for the whole book, and the PDF/X-4 output intent
and XMP of the first part serve the whole file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from book.engine.atomic import atomic_path
from book.model import Build
from book.pdf import finish, furniture, subset


@dataclass
class Placed:
    """A part's PDF at its place in the book: `offset` is the book page of its first page."""

    part_id: str
    result: Any  # PartLayout
    offset: int


def _stamp(page: Any, form: Any, index: int) -> None:
    """Draw `form` over `page`, trim box on trim box (as Page.add_overlay, but with a stable name).

    The name carries the page index: WeasyPrint shares one resources dictionary between all pages.
    """
    import pikepdf

    name = page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name(f"/BookFurniture{index}"))
    placement = page.calc_form_xobject_placement(form, name, pikepdf.Rectangle(page.trimbox))
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(b"Q\n", prepend=False)
    page.contents_add(placement, prepend=False)
    page.contents_coalesce()


def _drawn_form(book: Any, template: Any, bases: dict[int, Any], page: int, content: bytes) -> Any:
    """A form of `content` placed as the template's page `page` would be, with its resources (the
    template's pages share WeasyPrint's one resources dictionary: copied once)."""
    import pikepdf

    if page not in bases:
        bases[page] = book.copy_foreign(template.pages[page].as_form_xobject())
    base = bases[page]
    form = pikepdf.Stream(book, content)
    for key, value in base.items():
        if key not in ("/Length", "/Filter", "/DecodeParms"):
            form[key] = value
    return book.make_indirect(form)


def _blank_page(pdf: Any, like: Any) -> Any:
    import pikepdf

    def box(name: str) -> Any:
        return pikepdf.Array([float(v) for v in like.obj.get(name, like.obj.MediaBox)])

    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=box("/MediaBox"),
        TrimBox=box("/TrimBox"),
        BleedBox=box("/BleedBox"),
        Resources=pikepdf.Dictionary(),
        Contents=pdf.make_stream(b""),
    )
    return pikepdf.Page(pdf.make_indirect(page))


def _dedupe_icc(pdf: Any) -> None:
    """Each part embeds the same ICC profile: point every use at the output intent's copy."""
    import pikepdf

    intents = pdf.Root.get("/OutputIntents")
    if not intents:
        return
    canonical = intents[0].DestOutputProfile
    data = canonical.read_bytes()
    same: dict[tuple[int, int], bool] = {}

    def is_copy(obj: Any) -> bool:
        if not isinstance(obj, pikepdf.Stream) or obj.objgen == canonical.objgen or obj.get("/N") != 4:
            return False
        if obj.objgen not in same:
            same[obj.objgen] = obj.read_bytes() == data
        return same[obj.objgen]

    def point(space: Any) -> None:
        if isinstance(space, pikepdf.Array) and len(space) == 2 and str(space[0]) == "/ICCBased":
            if is_copy(space[1]):
                space[1] = canonical

    # A colour space is named where it is used: the resources' /ColorSpace entries (WeasyPrint's
    # device-cmyk), an image's or a shading's own /ColorSpace, a transparency group's /CS. Only
    # those are looked at, not every object of the book (a walk of all of them took 1.4 s).
    for res in subset.resource_dicts(pdf):
        for space in (res.get("/ColorSpace") or {}).values():
            point(space)
        for kind in ("/XObject", "/Shading"):
            for item in (res.get(kind) or {}).values():
                if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
                    point(item.get("/ColorSpace"))
                    group = item.get("/Group")
                    if isinstance(group, pikepdf.Dictionary):
                        point(group.get("/CS"))
    for page in pdf.pages:
        group = page.obj.get("/Group")
        if isinstance(group, pikepdf.Dictionary):
            point(group.get("/CS"))


def stitch(
    build: Build,
    target: Path,
    profile: str,
    sequence: list[tuple[str, Any, int]],
    placed: list[Placed],
    stamps: list[tuple[Any, list[furniture.Sheet], int]],
    front_pages: int,
) -> None:
    """Write the book: `sequence` is the page order ((part id, its layout, page index); a blank verso
    has no layout), `stamps` the furniture ((layout, its sheets, first book page))."""
    import pikepdf

    sources = {id(p.result): pikepdf.open(io.BytesIO(p.result.pdf)) for p in placed}
    first = sources[id(placed[0].result)]
    book = pikepdf.new()
    for key in ("/OutputIntents", "/Metadata", "/Lang"):  # PDF/X-4: output intent and XMP for the whole file
        if key in first.Root:
            value = first.Root[key]
            book.Root[key] = book.copy_foreign(value if value.is_indirect else first.make_indirect(value))
    for key, value in first.docinfo.items():
        book.docinfo[key] = value
    like = first.pages[0]
    for _pid, r, i in sequence:
        book.pages.append(_blank_page(book, like) if r is None else sources[id(r)].pages[i])
    for furn, sheets, first_page in stamps:
        drawn = getattr(furn, "drawn", None)  # book.pdf.furniture_draw: a template's pages, refilled
        bases: dict[int, Any] = {}
        with pikepdf.open(io.BytesIO(furn.pdf)) as fpdf:
            for i, sheet in enumerate(sheets):
                if sheet.kind == "none":
                    continue
                if drawn is None:
                    form = book.copy_foreign(fpdf.pages[i].as_form_xobject())
                else:
                    form = _drawn_form(book, fpdf, bases, *drawn[i])
                _stamp(book.pages[first_page + i], form, first_page + i)
    _links_and_outline(book, placed)
    fonts: dict[str, tuple[str, int]] = {}
    for r in [*(p.result for p in placed), *(f for f, _, _ in stamps)]:
        fonts.update(r.fonts)
    subset.merge_fonts(book, fonts)
    _dedupe_icc(book)
    finish.finish_document(book, build, profile, front_pages)
    with atomic_path(target) as tmp:
        finish.save_pdf(book, tmp, min_version=first.pdf_version)
        for src in sources.values():
            src.close()


def _links_and_outline(book: Any, placed: list[Placed]) -> None:
    """Named destinations for every anchor, then the links that cross parts, then the outline."""
    import pikepdf

    dests = pikepdf.NameTree.new(book)
    for p in placed:
        for i, names in enumerate(p.result.anchors):
            page = book.pages[p.offset + i].obj
            for name, x, y in names:
                if name not in dests:
                    dests[name] = pikepdf.Array([page, pikepdf.Name.XYZ, x, y, 0])
    book.Root.Names = pikepdf.Dictionary(Dests=dests.obj)
    for p in placed:
        for i, page_links in enumerate(p.result.links):
            page = book.pages[p.offset + i]
            for target_id, rect in page_links:
                if target_id not in dests:
                    continue
                annot = book.make_indirect(
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.Annot,
                        Subtype=pikepdf.Name.Link,
                        Rect=pikepdf.Array(rect),
                        BS=pikepdf.Dictionary(W=0),
                        Dest=pikepdf.String(target_id),
                    )
                )
                if "/Annots" not in page.obj:
                    page.obj.Annots = pikepdf.Array()
                page.obj.Annots.append(annot)
    if "/Outlines" in book.Root:
        del book.Root.Outlines

    def items(tree: list[Any], offset: int) -> list[Any]:
        out = []
        for label, (page, x, y), children, state in tree:
            item = pikepdf.OutlineItem(label, offset + page, "XYZ", left=x, top=y, zoom=0)
            item.children.extend(items(children, offset))
            item.is_closed = state == "closed"
            out.append(item)
        return out

    with book.open_outline() as outline:
        for p in placed:
            outline.root.extend(items(p.result.bookmarks, p.offset))
