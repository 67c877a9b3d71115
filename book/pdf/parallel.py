"""Parallel PDF: each part laid out as its own WeasyPrint document in worker processes → one PDF.

Every part starts on a recto and mirrored margins depend only on the parity of a page within its
part, so parts can be laid out independently, without folios or running heads. Then (1) each part
is padded to an even page count (the blank verso), (2) the table of contents is laid out with the
real page numbers and (3) the furniture (book.pdf.furniture): the front matter's one sheet per page,
the body's a template its pages are drawn from (book.pdf.furniture_draw), both in the workers, and (4) book.pdf.stitch puts it all together. The worker, `render_part_pdf`, is
a pure function of its arguments, so its result is cached by their hash (book.engine.memo).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from book.engine.memo import memo_map
from book.engine.memory import release_freed_memory
from book.engine.workers import pool as process_pool
from book.model import FRONT_KINDS, Build, PageMark, PdfResult, RenderedPart
from book.pdf import document, furniture, furniture_draw, imagewarn, imprint, imprint_ahead, layout, overflow, pagerefs
from book.pdf.stitch import Placed, stitch
from book.pdf.weasy.fonts import deferred_fonts

SCALE = 0.75  # PDF points per CSS pixel
NO_ANCHOR = "No anchor #"
_rendered = False  # this process has rendered a part already


@dataclass
class PartLayout:
    """What a worker returns: the part's PDF and the layout facts assembly needs, as plain data."""

    pdf: bytes
    page_count: int
    anchors: list[list[tuple[str, float, float]]]  # per page: (id, x, y) in PDF points, reading order
    links: list[list[tuple[str, list[float]]]]  # per page: internal links to ids outside the part
    bookmarks: list[Any]  # WeasyPrint's bookmark tree, PDF coordinates, page indexes within the part
    warnings: list[str] = field(default_factory=list)
    fonts: dict[str, tuple[str, int]] = field(default_factory=dict)  # deferred: BaseFont → (file, face)
    low_res: list[tuple[int, str, float]] = field(default_factory=list)  # (page index in the part, src, dpi)
    names: list[list[str]] = field(default_factory=list)  # per page: anchors and block marks (page map)
    overflows: list[list[overflow.Finding]] = field(default_factory=list)  # per page (book.pdf.overflow)


def render_part_pdf(html: str, css: list[str], base_url: str, options: dict[str, Any]) -> PartLayout:
    """One part's HTML + CSS + write options → its PDF and layout data (runs in a worker process)."""
    options = dict(options)
    epoch = str(options.pop("source_date_epoch"))
    policy = options.pop("read_policy", None)
    area = options.pop("layout_check", None)
    global _rendered
    if _rendered:
        # What the last part left in reference cycles (its styles and boxes are freed as it returns,
        # book.pdf.weasy.contexts): collected before this part, not at some later collection (the
        # sparse GC of book.pdf.layout runs seldom), so a worker holds one part at a time. Not after
        # a part: its result would wait for the collection.
        gc.collect()
    _rendered = True
    with layout.epoch_env(epoch):
        return _render(html, css, base_url, options, policy, area)


def _render(
    html: str, css: list[str], base_url: str, options: dict[str, Any], policy: Any = None, area: Any = None
) -> PartLayout:
    doc, messages = layout.render_document(html, css, base_url, policy)
    # The build's layout check, on the boxes just laid out: cached with the part (book.pdf.overflow)
    overflows = [overflow.page_findings(page, area, i) for i, page in enumerate(doc.pages)] if area else []
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
    low_res = layout.low_resolution_found(doc)
    with deferred_fonts() as fonts:  # subset once for the whole book, at assembly
        data = layout.write_bytes(doc, options, seed=html + "".join(css))
    bookmarks = doc.make_bookmark_tree(SCALE, transform_pages=True)
    names = [layout.page_names(page) for page in doc.pages]
    layout.release(doc)  # the part's styles and boxes freed as it returns, not by the next part's collection
    return PartLayout(
        data, len(doc.pages), anchors, links, _plain(bookmarks), warnings, dict(fonts), low_res, names, overflows
    )


def _html_size(call: tuple[Any, ...]) -> int:
    """A layout call's work, by its HTML's length: the pool gets the longest part first."""
    return len(call[0])


def _plain(tree: list[Any]) -> list[Any]:
    return [(label, tuple(dest), _plain(children), state) for label, dest, children, state in tree]


def write_pdf_parallel(
    build: Build,
    target: Path,
    profile: str = "print",
    extra_stylesheets: tuple[str | Path, ...] = (),
    workers: int = 2,
    executor: Executor | None = None,
    meanwhile: Callable[[], None] | None = None,
    after_layout: Callable[[list[PageMark]], None] | None = None,
    stage: Callable[[str, int | None], Callable[..., None]] | None = None,
    after_workers: Callable[[], None] | None = None,
) -> PdfResult:
    """The book's PDF from parts laid out in parallel; the same layout as `book.pdf.single.write_pdf`.

    `after_workers()` runs once the layout workers have exited, before the stitch.

    `stage(name, total)` (book.engine.progress) gets one task per round of layout, advanced per part.
    """
    if profile == "screen":  # a tagged PDF's structure tree cannot be stitched: one document
        from book.pdf.single import write_one_document

        return write_one_document(build, target, profile, extra_stylesheets)
    config = build.config
    css = document.stylesheet_texts(build, profile, tuple(extra_stylesheets), furniture_boxes=False)
    drafts = document.draft_ids(build, profile)
    targets = document.link_targets(build)
    base_url = str(config.root) + "/"
    options = {
        **document.render_options(profile),
        "source_date_epoch": build.source_date_epoch(),
        "read_policy": document.read_policy(build),
    }
    if profile == "print":  # each part measured for overflow where it is laid out
        options["layout_check"] = overflow.area_of(furniture.geometry(config, profile))
    front, toc, matter, bodies = _kinds(build)
    groups = ([front] if front else []) + [[p] for p in matter] + [[p] for p in bodies]
    # Page references get a placeholder until every part's folios are known (book.pdf.pagerefs).
    refs = {} if any(pagerefs.has_references(config, p) for p in bodies) else None
    jobs = [
        (document.print_document(build, g, drafts=drafts, targets=targets, ref_pages=refs), css, base_url, options)
        for g in groups
    ]
    document.trim_typeset_cache(build)

    own_pool = executor is None
    pool = executor or process_pool(workers)

    def run(calls: list[tuple[Any, ...]], name: str, meanwhile: Callable[[], None] | None = None) -> list[PartLayout]:
        advance = stage(ROUNDS.get(name, name), len(calls)) if stage is not None else (lambda n=1: None)
        # One cache stage per kind of call: memo_map trims a stage to a few versions of its calls.
        if build.cache is not None:  # one edited chapter re-renders that chapter only
            # A lone call too goes to a worker, whose sheets are parsed and fonts loaded already
            # (in this process, the 版权页's second layout cost twice as much).
            return memo_map(build.cache, name, render_part_pdf, calls, pool, meanwhile, done=advance, pooled_from=1,
                            size=_html_size)  # fmt: skip
        pending = pool.map(render_part_pdf, *zip(*calls, strict=True))
        if meanwhile is not None:
            meanwhile()
        laid_out = []
        for r in pending:
            laid_out.append(r)
            advance(1)
        return laid_out

    try:
        results = run(jobs, "pdf-part", meanwhile)
        front_result, matter_results, body_results = _split(results, bool(front), len(matter))
        body_start, folio_of = _folios(body_results, _matter_folios(front_result, matter_results))
        # The parts with page references again, with the folios; again while that moved a folio.
        referring = [k for k, p in enumerate(bodies) if refs is not None and pagerefs.has_references(config, p)]
        for _ in range(3):
            if not referring:
                break
            calls = [
                (document.print_document(build, [bodies[k]], drafts=drafts, targets=targets, ref_pages=folio_of),
                 css, base_url, options)
                for k in referring
            ]  # fmt: skip
            again = run(calls, "pdf-part-refs")
            moved = any(r.page_count != body_results[k].page_count for k, r in zip(referring, again, strict=True))
            for k, r in zip(referring, again, strict=True):
                body_results[k] = r
            body_start, folio_of = _folios(body_results, _matter_folios(front_result, matter_results))
            if not moved:
                break
        page_map = None
        if profile == "print" and not extra_stylesheets:
            page_map = _page_map(bodies, body_start, body_results)

        # Furniture: the front matter's one sheet per page, the body's a template to draw every page
        # from, laid out in the workers together with the table of contents, and cached like the parts.
        geo = furniture.geometry(config, profile)
        ink = document.K_BLACK if profile == "print" else "#000"
        fcss = document.colour_css(geo, profile)

        def chunk(sheets: list[furniture.Sheet]) -> tuple[Any, ...]:
            fhtml, css_text = furniture.furniture_document(config, geo, sheets, ink)
            return (fhtml, [css_text, fcss], base_url, options)

        body_sheets = _body_sheets(build, bodies, body_results, body_start)
        # The front matter's furniture is drawn with the rest, for a generous guess of the TOC's
        # length: a page's roman folio does not depend on how long the TOC is.
        cover_pages = _unfoliated(front)  # the title page and the 版权页 on its verso
        entries = sum(p.body.count("<li") for p in toc)
        toc_guess = 2 + entries // 12 if toc else 0
        guess = _front_sheets(front_result, toc_guess, cover_pages, matter_results) if front or toc or matter else []
        # The body's furniture is drawn from one template (book.pdf.furniture_draw), not laid out per page.
        flat = [s for sheets in body_sheets for s in sheets]
        body_template = furniture_draw.template(flat)
        later = [chunk(body_template.sheets)] if body_template.sheets else []
        if guess:
            later.insert(0, chunk(guess))
        if toc:
            toc_html = document.print_document(build, toc, drafts=drafts, toc_pages=folio_of, targets=targets)
            later.insert(0, (toc_html, css, base_url, options))
        # The 版权页's 印张 for each TOC length it may have, beside the TOC (book.pdf.imprint_ahead)
        pairs = list(zip(matter, matter_results, strict=True))  # also the stitch's, below
        untoc = len(_sequence(front_result, None, bodies, body_results, pairs)[0]) if front else 0
        ahead = imprint_ahead.candidates(jobs[0][0], untoc, toc_guess) if front and toc else []
        later += [(html, *jobs[0][1:]) for html in ahead]
        laid_out = None if after_layout is None or page_map is None else (lambda: after_layout(page_map))
        rendered = run(later, "pdf-furniture", laid_out)
        ready = dict(zip(ahead, rendered[len(rendered) - len(ahead) :], strict=True))
        del rendered[len(rendered) - len(ahead) :]
        toc_result = rendered.pop(0) if toc else None
        front_furniture = rendered.pop(0) if guess else None
        drawn = furniture_draw.compose(rendered[0].pdf, flat) if rendered else None
        body_stamps: list[tuple[Any, list[furniture.Sheet], int]] = []
        if body_template.sheets and drawn is not None:
            t = rendered[0]
            overflows = [t.overflows[d[0]] if d is not None and d[0] < len(t.overflows) else [] for d in drawn]
            body_stamps = [(furniture_draw.DrawnFurniture(t.pdf, t.fonts, drawn, overflows), flat, 0)]
        elif body_template.sheets:  # the template does not reproduce itself: one sheet per page, per part
            body_furniture = run([chunk(sheets) for sheets in body_sheets], "pdf-furniture-pages")
            body_stamps = list(zip(body_furniture, body_sheets, body_start, strict=True))

        toc_pages = toc_result.page_count if toc_result else 0
        front_sheets = _front_sheets(front_result, toc_pages, cover_pages, matter_results)
        fits = len(front_sheets) <= len(guess) and all(
            s.kind == "none" or s == guess[i] for i, s in enumerate(front_sheets)
        )
        if front_sheets and not fits:  # a longer table of contents than guessed
            front_furniture = run([chunk(front_sheets)], "pdf-front")[0]
        if front:
            front_result = _with_sheets(run, jobs[0], front_result, toc_result, bodies, body_results, pairs, ready)
    finally:
        if own_pool:
            pool.shutdown()
    jobs.clear()  # every part's print HTML: not needed by the stitch, which peaks beside EPUBCheck
    if after_workers is not None:
        after_workers()

    sequence, placed, front_pages = _sequence(front_result, toc_result, bodies, body_results, pairs)
    front_stamp = [(front_furniture, front_sheets, 0)] if front_furniture is not None else []
    # (furniture result, its sheets, the book page its first sheet goes on)
    stamps = front_stamp + [(r, s, front_pages + start) for r, s, start in body_stamps]
    stitch(build, target, profile, sequence, placed, stamps, front_pages)
    release_freed_memory()  # the stitch's freed peak, before the layout check and beside EPUBCheck
    _report(build, target, placed)
    found = _overflows(placed, stamps) if "layout_check" in options else None
    return PdfResult(target, len(sequence), page_map, found)


def _overflows(placed: list[Placed], stamps: list[tuple[Any, list[furniture.Sheet], int]]) -> list[Any]:
    """Every part's and every furniture sheet's overflow findings as (book page, *finding), by page."""
    found: list[tuple[int, int, Any]] = []
    for p in placed:
        for i, page in enumerate(p.result.overflows):
            found.extend((p.offset + i + 1, 0, f) for f in page)
    for furn, sheets, first_page in stamps:
        for i, sheet in enumerate(sheets):
            if sheet.kind != "none" and i < len(furn.overflows):
                found.extend((first_page + i + 1, 1, f) for f in furn.overflows[i])
    found.sort(key=lambda t: (t[0], t[1]))
    return [(page, *f) for page, _, f in found]


def _kinds(build: Build) -> tuple[list[RenderedPart], ...]:
    """(title and copyright pages, the table of contents, the author's front matter — 序, 前言…,
    roman folios, before the TOC —, the body) among the book's parts."""
    parts = build.parts
    front = [p for p in parts if p.kind == "front" and p.id != "toc"]
    toc = [p for p in parts if p.id == "toc"]
    return front, toc, [p for p in parts if p.kind == "frontmatter"], [p for p in parts if p.kind not in FRONT_KINDS]


# What each round of layout shows on the progress bar.
ROUNDS = {
    "pdf-part": "PDF: parts laid out",
    "pdf-part-refs": "PDF: parts with page references",
    "pdf-furniture": "PDF: heads, folios and contents",
    "pdf-front": "PDF: front matter",
    "pdf-front-imprint": "PDF: 版权页 印张",
    "pdf-furniture-pages": "PDF: heads and folios, page by page",
}


def _unfoliated(front: list[RenderedPart]) -> int:
    """Front pages without a folio: the title page and the copyright page (版权页) on its verso."""
    titled = bool(front) and front[0].id == "titlepage"
    return int(titled) + int(titled and len(front) > 1 and front[1].id == "copyright")


def _with_sheets(
    run: Callable[..., list[PartLayout]],
    job: tuple[Any, ...],
    front: PartLayout | None,
    toc: PartLayout | None,
    bodies: list[RenderedPart],
    results: list[PartLayout],
    pairs: list[tuple[RenderedPart, PartLayout]],
    ready: dict[str, PartLayout] | None = None,
) -> PartLayout | None:
    """The front matter laid out again with the copyright page's 印张, once the page count is known
    (`ready`: documents laid out already, by their HTML)."""
    if not imprint.has_sheets(job[0]):
        return front
    pages = len(_sequence(front, toc, bodies, results, pairs)[0])
    filled = imprint.fill_sheets(job[0], pages)
    if ready and filled in ready:
        return ready[filled]
    return run([(filled, *job[1:])], "pdf-front-imprint")[0]


def _folios(body_results: list[PartLayout], matter: dict[str, str] | None = None) -> tuple[list[int], dict[str, str]]:
    """Where each body part starts and the folio of every id in it.

    Known as soon as the page counts are (each part padded to even), and independent of the front
    matter, whose pages are numbered apart (roman).
    """
    body_start: list[int] = []
    n = 0
    for r in body_results:
        body_start.append(n)
        n += r.page_count + r.page_count % 2
    folio_of: dict[str, str] = dict(matter or {})  # the front matter's roman folios
    for start, r in zip(body_start, body_results, strict=True):
        for i, names in enumerate(r.anchors):
            for name, _, _ in names:
                folio_of.setdefault(name, str(start + i + 1))
    return body_start, folio_of


def _split(results: list[PartLayout], front: bool, matter: int) -> tuple[Any, list[PartLayout], list[PartLayout]]:
    """The laid-out groups as (title and copyright pages or None, the author's front matter, the body)."""
    head = results[0] if front else None
    rest = results[1:] if front else results
    return head, rest[:matter], rest[matter:]


def _matter_folios(front: PartLayout | None, matter: list[PartLayout]) -> dict[str, str]:
    """The roman folio of every id in the author's front matter, which follows the title and
    copyright pages (each part padded to an even count) and precedes the table of contents."""
    n = front.page_count + front.page_count % 2 if front is not None else 0
    found: dict[str, str] = {}
    for r in matter:
        for i, names in enumerate(r.anchors):
            for name, _, _ in names:
                found.setdefault(name, layout.roman(n + i + 1))
        n += r.page_count + r.page_count % 2
    return found


def _sequence(
    front: PartLayout | None,
    toc: PartLayout | None,
    bodies: list[RenderedPart],
    results: list[PartLayout],
    matter: list[tuple[RenderedPart, PartLayout]] = (),  # type: ignore[assignment]
) -> tuple[list[tuple[str, PartLayout | None, int]], list[Placed], int]:
    """The book's page order: (part id or "", layout, page index within it), "" marking a blank
    verso; each part at its place; and how many pages the front matter takes."""
    sequence: list[tuple[str, PartLayout | None, int]] = []
    placed: list[Placed] = []

    def place(pid: str, r: PartLayout, pad: bool) -> None:
        placed.append(Placed(pid, r, len(sequence)))
        sequence.extend((pid, r, i) for i in range(r.page_count))
        if pad and r.page_count % 2:
            sequence.append(("", None, 0))

    if front:
        place("front", front, True)
    for p, r in matter:
        place(p.id, r, True)
    if toc:
        place("toc", toc, True)
    front_pages = len(sequence)
    for k, (p, r) in enumerate(zip(bodies, results, strict=True)):
        place(p.id, r, k < len(bodies) - 1)
    return sequence, placed, front_pages


def _page_map(bodies: list[RenderedPart], body_start: list[int], body_results: list[PartLayout]) -> list[PageMark]:
    """The print edition's page map: the body's pages only, whose folios do not depend on the front."""
    names, labels, owners = [], [], []
    for p, start, r in zip(bodies, body_start, body_results, strict=True):
        names += r.names
        labels += [str(start + i + 1) for i in range(r.page_count)]
        owners += [p.id] * r.page_count
    return layout.page_marks_from_anchors(names, [p.id for p in bodies], labels, owners)


def _body_sheets(
    build: Build, bodies: list[RenderedPart], results: list[PartLayout], body_start: list[int]
) -> list[list[furniture.Sheet]]:
    """Each body part's furniture: the opener's folio, running heads (verso: the book, recto: the
    part) and folios, nothing on the blank verso that pads it to an even count."""
    all_sheets = []
    for k, (p, r) in enumerate(zip(bodies, results, strict=True)):
        head = furniture.running_head(p.label, p.title)
        pages = r.page_count + (r.page_count % 2 if k < len(bodies) - 1 else 0)
        sheets = []
        for i in range(pages):
            folio = str(body_start[k] + i + 1)
            if i >= r.page_count or p.kind == "division":  # a part's title page: no folio
                sheets.append(furniture.Sheet("none"))
            elif i == 0:
                sheets.append(furniture.Sheet("opener", folio=folio))
            else:
                # Body page i of the part is a verso when i is odd (parts start on a recto).
                sheets.append(furniture.Sheet("body", head=build.config.title if i % 2 else head, folio=folio))
        all_sheets.append(sheets)
    return all_sheets


def _front_sheets(
    front: PartLayout | None,
    toc_pages: int,
    unfoliated: int,
    matter: list[PartLayout] = (),  # type: ignore[assignment]
) -> list[furniture.Sheet]:
    """The front matter's sheets: roman folios, none on the first `unfoliated` pages (the title page and
    the 版权页) and blank versos."""
    sheets: list[furniture.Sheet] = []

    def add(pages: int, unfoliated: int) -> None:  # one part, padded to an even count
        for i in range(pages + pages % 2):
            if i >= pages or i < unfoliated:
                sheets.append(furniture.Sheet("none"))
            else:
                sheets.append(furniture.Sheet("front", folio=layout.roman(len(sheets) + 1)))

    if front is not None:
        add(front.page_count, unfoliated)
    for r in matter:
        add(r.page_count, 0)
    if toc_pages:
        add(toc_pages, 0)
    return sheets


def _report(build: Build, target: Path, placed: list[Placed]) -> None:
    said: set[str] = set()  # the stylesheets' warnings come back from every part
    for p in placed:
        for msg in p.result.warnings:
            if msg not in said:
                said.add(msg)
                build.diag.warn(target, None, f"WeasyPrint: {msg}")
    imagewarn.report_low_resolution(
        build, target, [(p.offset + i, src, dpi) for p in placed for i, src, dpi in p.result.low_res]
    )
