"""Parallel PDF: each part rendered as its own WeasyPrint document in worker processes → one PDF.

Every part starts on a recto and mirrored margins depend only on the parity of a page within its
part, so parts can be laid out independently, without folios or running heads. Assembly then
(1) pads each part to an even page count (the blank verso), (2) renders the table of contents with
the real page numbers, (3) renders a furniture document (book.furniture) with one page per book page
and stamps it over the pages, (4) rebuilds the named destinations, the cross-part links and the
outline from the data each worker returned, and (5) keeps the PDF/X-4 output intent and XMP of the
first part for the whole file. The worker, `render_part_pdf`, is a pure function of its arguments,
so its result can be cached by their hash (book.cache).
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from book import furniture, subset
from book.atomic import atomic_path
from book.pipeline import Build, source_date_epoch

SCALE = 0.75  # PDF points per CSS pixel
NO_ANCHOR = "No anchor #"
_rendered = False  # this process has rendered a part already


@dataclass
class PartResult:
    """What a worker returns: the part's PDF and the layout facts assembly needs, as plain data."""

    pdf: bytes
    page_count: int
    anchors: list[list[tuple[str, float, float]]]  # per page: (id, x, y) in PDF points, reading order
    links: list[list[tuple[str, list[float]]]]  # per page: internal links to ids outside the part
    bookmarks: list[Any]  # WeasyPrint's bookmark tree, PDF coordinates, page indexes within the part
    warnings: list[str] = field(default_factory=list)
    fonts: dict[str, tuple[str, int]] = field(default_factory=dict)  # deferred: BaseFont → (file, face)
    low_res: list[tuple[int, str]] = field(default_factory=list)  # (page index in the part, what)
    names: list[list[str]] = field(default_factory=list)  # per page: anchors and block marks (page map)


def render_part_pdf(html: str, css: list[str], base_url: str, options: dict[str, Any]) -> PartResult:
    """One part's HTML + CSS + write options → its PDF and layout data (runs in a worker process)."""
    from book import pdf as bookpdf  # imported first: it installs the WeasyPrint hooks (CONTRACTS 4)

    options = dict(options)
    epoch = str(options.pop("source_date_epoch"))
    policy = options.pop("read_policy", None)
    global _rendered
    if _rendered:
        # The last part's boxes form reference cycles: free them before this part, not at some
        # later collection (the sparse GC of book.pdf runs seldom), so a worker holds one part at a
        # time. Not after a part: its result would wait for the collection.
        gc.collect()
    _rendered = True
    with bookpdf.epoch_env(epoch):
        return _render(bookpdf, html, css, base_url, options, policy)


def _render(
    bookpdf: Any, html: str, css: list[str], base_url: str, options: dict[str, Any], policy: Any = None
) -> PartResult:
    doc, messages = bookpdf.render_document(html, css, base_url, policy)
    own: set[str] = set()
    anchors, links = [], []
    for page in doc.pages:
        h = page.height
        anchors.append([(name, box[0] * SCALE, (h - box[1]) * SCALE) for name, box in page.anchors.items()])
        own.update(page.anchors)
    for page in doc.pages:
        h = page.height
        found = []
        for kind, target, rect, _box in page.links:
            if kind == "internal" and target not in own:
                x1, y1, x2, y2 = rect
                found.append((target, [x1 * SCALE, (h - y2) * SCALE, x2 * SCALE, (h - y1) * SCALE]))
        links.append(found)
    outside = {t for page in links for t, _ in page}
    warnings = [m for m in messages if not (m.startswith(NO_ANCHOR) and m[len(NO_ANCHOR) :].split()[0] in outside)]
    low_res = bookpdf.low_resolution_pages(doc)
    with subset.deferred_fonts() as fonts:  # subset once for the whole book, at assembly
        data = bookpdf.write_bytes(doc, options, seed=html + "".join(css))
    bookmarks = doc.make_bookmark_tree(SCALE, transform_pages=True)
    names = [bookpdf.page_names(page) for page in doc.pages]
    return PartResult(data, len(doc.pages), anchors, links, _plain(bookmarks), warnings, dict(fonts), low_res, names)


def _plain(tree: list[Any]) -> list[Any]:
    return [(label, tuple(dest), _plain(children), state) for label, dest, children, state in tree]


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

    def visit(obj: Any) -> None:  # direct children only: indirect ones are visited as top-level objects
        if isinstance(obj, pikepdf.Array):
            if len(obj) == 2 and str(obj[0]) == "/ICCBased" and is_copy(obj[1]):
                obj[1] = canonical
                return
            for item in obj:
                if not getattr(item, "is_indirect", True):
                    visit(item)
        elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            for _key, item in obj.items():
                if not getattr(item, "is_indirect", True):
                    visit(item)

    for obj in list(pdf.objects):
        visit(obj)


def write_pdf_parallel(
    build: Build,
    target: Path | None = None,
    profile: str = "print",
    extra_stylesheets: tuple[str | Path, ...] = (),
    workers: int = 2,
    executor: Executor | None = None,
    meanwhile: Callable[[], None] | None = None,
    after_layout: Callable[[], None] | None = None,
) -> Path:
    """The book's PDF from parts rendered in parallel; same layout rules as `book.pdf.write_pdf`."""
    import pikepdf

    from book import pdf as bookpdf

    if profile == "screen":  # a tagged PDF's structure tree cannot be stitched: one document
        return bookpdf.write_pdf(build, target, profile, extra_stylesheets)
    config = build.config
    target = target or bookpdf.target_path(build, profile)
    geo = furniture.geometry(config, profile)
    css = bookpdf.stylesheet_texts(build, profile, tuple(extra_stylesheets), furniture_boxes=False)
    drafts = bookpdf.draft_ids(build, profile)
    base_url = str(config.root) + "/"
    options = {**bookpdf.render_options(profile), "source_date_epoch": source_date_epoch(build),
               "read_policy": bookpdf.read_policy(build)}  # fmt: skip
    front = [p for p in build.parts if p.kind == "front" and p.id != "toc"]
    toc = [p for p in build.parts if p.id == "toc"]
    bodies = [p for p in build.parts if p.kind != "front"]
    groups = ([front] if front else []) + [[p] for p in bodies]
    jobs = [(bookpdf.print_document(build, g, drafts=drafts), css, base_url, options) for g in groups]

    own_pool = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=max(1, workers))
    cache = getattr(build, "cache", None)

    def run(calls: list[tuple[Any, ...]], stage: str, meanwhile: Callable[[], None] | None = None) -> list[PartResult]:
        # One cache stage per kind of call: memo_map trims a stage to a few versions of its calls.
        if cache is not None:  # one edited chapter re-renders that chapter only
            from book.pipeline import memo_map

            return memo_map(cache, stage, render_part_pdf, calls, pool, meanwhile)
        pending = pool.map(render_part_pdf, *zip(*calls, strict=True))
        if meanwhile is not None:
            meanwhile()
        return list(pending)

    try:
        results = run(jobs, "pdf-part", meanwhile)
        front_result = results[0] if front else None
        body_results = results[1:] if front else results

        # Folios of the body: known as soon as the page counts are (each part padded to even), and
        # independent of the front matter, whose pages are numbered apart (roman).
        body_start: list[int] = []
        n = 0
        for r in body_results:
            body_start.append(n)
            n += r.page_count + r.page_count % 2
        body_ids = [p.id for p in bodies]
        if profile == "print" and not extra_stylesheets:
            # The page map needs the body's pages only, whose folios do not depend on the front.
            names, labels, owners = [], [], []
            for p, start, r in zip(bodies, body_start, body_results, strict=True):
                names += r.names
                labels += [str(start + i + 1) for i in range(r.page_count)]
                owners += [p.id] * r.page_count
            build.page_map = bookpdf.page_marks_from_anchors(names, body_ids, labels, owners)  # type: ignore[attr-defined]
        folio_of: dict[str, str] = {}
        for start, r in zip(body_start, body_results, strict=True):
            for i, names in enumerate(r.anchors):
                for name, _, _ in names:
                    folio_of.setdefault(name, str(start + i + 1))

        # Furniture: one sheet per book page, rendered per part (each chunk starts on a recto) in
        # the workers together with the table of contents, and cached like the parts.
        heads = {p.id: furniture.running_head(p.label, p.title) for p in bodies}
        ink = bookpdf.K_BLACK if profile == "print" else "#000"
        fcss = bookpdf.colour_css(geo, profile)

        def chunk(sheets: list[furniture.Sheet]) -> tuple[Any, ...]:
            fhtml, css_text = furniture.furniture_document(config, geo, sheets, ink)
            return (fhtml, [css_text, fcss], base_url, options)

        body_sheets: list[list[furniture.Sheet]] = []
        for k, (p, r) in enumerate(zip(bodies, body_results, strict=True)):
            pages = r.page_count + (r.page_count % 2 if k < len(bodies) - 1 else 0)
            sheets = []
            for i in range(pages):
                folio = str(body_start[k] + i + 1)
                if i >= r.page_count:
                    sheets.append(furniture.Sheet("none"))
                elif i == 0:
                    sheets.append(furniture.Sheet("opener", folio=folio))
                else:
                    # Body page i of the part is a verso when i is odd (parts start on a recto).
                    head = config.title if i % 2 else heads[p.id]
                    sheets.append(furniture.Sheet("body", head=head, folio=folio))
            body_sheets.append(sheets)
        cover_pages = 1 if front and front[0].id == "titlepage" else 0

        def front_sheets_for(toc_pages: int) -> list[furniture.Sheet]:
            """The front matter's sheets: roman folios, none on the title page and blank versos."""
            sheets: list[furniture.Sheet] = []

            def add(pages: int, unfoliated: int) -> None:  # one part, padded to an even count
                for i in range(pages + pages % 2):
                    if i >= pages or i < unfoliated:
                        sheets.append(furniture.Sheet("none"))
                    else:
                        sheets.append(furniture.Sheet("front", folio=bookpdf.roman(len(sheets) + 1)))

            if front_result is not None:
                add(front_result.page_count, cover_pages)
            if toc:
                add(toc_pages, 0)
            return sheets

        # The front matter's furniture is drawn with the rest, for a generous guess of the TOC's
        # length: a page's roman folio does not depend on how long the TOC is.
        entries = sum(p.body.count("<li") for p in toc)
        guess = front_sheets_for(2 + entries // 12) if (front or toc) else []
        later = [chunk(sheets) for sheets in body_sheets]
        if guess:
            later.insert(0, chunk(guess))
        if toc:
            later.insert(
                0, (bookpdf.print_document(build, toc, drafts=drafts, toc_pages=folio_of), css, base_url, options)
            )
        rendered = run(later, "pdf-furniture", after_layout)
        toc_result = rendered.pop(0) if toc else None
        front_furniture = rendered.pop(0) if guess else None
        body_furniture = rendered

        front_sheets = front_sheets_for(toc_result.page_count if toc_result else 0)
        fits = len(front_sheets) <= len(guess) and all(
            s.kind == "none" or s == guess[i] for i, s in enumerate(front_sheets)
        )
        if front_sheets and not fits:  # a longer table of contents than guessed
            front_furniture = run([chunk(front_sheets)], "pdf-front")[0]
    finally:
        if own_pool:
            pool.shutdown()

    # The page sequence: (part id or "", result, page index within it) — "" marks a blank verso.
    sequence: list[tuple[str, PartResult | None, int]] = []
    placed: list[tuple[str, PartResult, int]] = []  # (part id, result, offset in the book)

    def place(pid: str, r: PartResult, pad: bool) -> None:
        placed.append((pid, r, len(sequence)))
        sequence.extend((pid, r, i) for i in range(r.page_count))
        if pad and r.page_count % 2:
            sequence.append(("", None, 0))

    if front_result:
        place("front", front_result, True)
    if toc_result:
        place("toc", toc_result, True)
    front_pages = len(sequence)
    for k, (p, r) in enumerate(zip(bodies, body_results, strict=True)):
        place(p.id, r, k < len(bodies) - 1)
    # (furniture result, its sheets, the book page its first sheet goes on)
    stamps: list[tuple[PartResult, list[furniture.Sheet], int]] = []
    if front_furniture is not None:
        stamps.append((front_furniture, front_sheets, 0))
    for r, sheets, start in zip(body_furniture, body_sheets, body_start, strict=True):
        stamps.append((r, sheets, front_pages + start))

    # Assembly.
    sources = {id(r): pikepdf.open(io.BytesIO(r.pdf)) for _, r, _ in placed}
    first = sources[id(placed[0][1])]
    book = pikepdf.new()
    for key in ("/OutputIntents", "/Metadata", "/Lang"):  # PDF/X-4: output intent and XMP for the whole file
        if key in first.Root:
            value = first.Root[key]
            book.Root[key] = book.copy_foreign(value if value.is_indirect else first.make_indirect(value))
    for key, value in first.docinfo.items():
        book.docinfo[key] = value
    like = first.pages[0]
    for _pid, r, i in sequence:
        if r is None:
            book.pages.append(_blank_page(book, like))
        else:
            book.pages.append(sources[id(r)].pages[i])
    for furn, sheets, first_page in stamps:
        with pikepdf.open(io.BytesIO(furn.pdf)) as fpdf:
            for i, sheet in enumerate(sheets):
                if sheet.kind != "none":
                    form = book.copy_foreign(fpdf.pages[i].as_form_xobject())
                    _stamp(book.pages[first_page + i], form, first_page + i)

    # Named destinations for every anchor, then links that cross parts, then the outline.
    dests = pikepdf.NameTree.new(book)
    for _pid, r, offset in placed:
        for i, names in enumerate(r.anchors):
            page = book.pages[offset + i].obj
            for name, x, y in names:
                if name not in dests:
                    dests[name] = pikepdf.Array([page, pikepdf.Name.XYZ, x, y, 0])
    book.Root.Names = pikepdf.Dictionary(Dests=dests.obj)
    for _pid, r, offset in placed:
        for i, page_links in enumerate(r.links):
            page = book.pages[offset + i]
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
        for _pid, r, offset in placed:
            outline.root.extend(items(r.bookmarks, offset))
    fonts: dict[str, tuple[str, int]] = {}
    for r in [*(r for _, r, _ in placed), *(f for f, _, _ in stamps)]:
        fonts.update(r.fonts)
    subset.merge_fonts(book, fonts)
    _dedupe_icc(book)

    bookpdf.finish_document(book, build, profile, front_pages)
    with atomic_path(target) as tmp:
        bookpdf.save_pdf(book, tmp, min_version=first.pdf_version)
        for src in sources.values():
            src.close()
    said: set[str] = set()  # the stylesheets' warnings come back from every part
    for _pid, r, offset in placed:
        for msg in r.warnings:
            if msg not in said:
                said.add(msg)
                build.diag.warn(target, None, f"WeasyPrint: {msg}")
        for index, what in r.low_res:
            build.diag.warn(target, None, f"page {offset + index + 1}: {what}")

    build.page_count = len(sequence)  # type: ignore[attr-defined]
    return target
