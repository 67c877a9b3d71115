"""Layout: HTML + CSS → a laid-out WeasyPrint document, and the facts read off its pages.

What the stages need from a layout besides the PDF bytes: the anchors and block marks on each page
(the page map the EPUB's page list follows), the folio labels, images printed below 300 dpi, and
WeasyPrint's warnings. Parsed stylesheets and fonts are kept per process, so a worker laying out part
after part loads them once.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

from book import trust
from book.engine import pillow_warnings
from book.model import Build, PageMark
from book.pdf.weasy import contexts, fixed_document_id, install

BLOCK_ID = re.compile(r"-(?:p|b|s)\d+$")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if trust.REFUSED not in message:  # already reported by the stylesheet's name (trust.vet_stylesheet)
            self.messages.append(message)


@contextlib.contextmanager
def weasyprint_warnings() -> Iterator[list[str]]:
    """The warnings WeasyPrint logs while the block runs, as a list filled in place."""
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        yield collector.messages
    finally:
        logger.removeHandler(collector)


_frozen = False


@contextlib.contextmanager
def sparse_gc(threshold: int = 50_000) -> Iterator[None]:
    """Python's cyclic GC run rarely, and never over what existed before, while WeasyPrint works.

    Layout allocates millions of small objects; with the default threshold (700) the collector
    rescans the whole growing box tree again and again: measured on a 5-chapter book, render
    5.9 → 4.4 s and write 2.2 → 1.5 s. What exists at the first render of the process (modules,
    the parsed book; a forked worker's inheritance) is frozen out of the scans for good. What a
    render leaves behind is not frozen: a worker rendering part after part would keep every part's
    garbage (measured: 540 MB per worker after 15 chapters, instead of 250 MB).
    """
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
    old = gc.get_threshold()
    gc.set_threshold(threshold, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


_SHEETS: dict[str, tuple[Any, list[Any], dict[str, Any], list[str]]] = {}


def stylesheets(
    css: list[str], base_url: str, policy: trust.ReadPolicy | None = None
) -> tuple[Any, list[Any], dict[str, Any], list[str]]:
    """(font configuration, parsed sheets, colour profiles, parse warnings) for these CSS texts.

    Kept for the life of the process: a worker rendering part after part with the same sheets
    parses them once and keeps one Pango font map, so fonts are loaded and matched once, not once
    per part. The parse warnings are kept too, so every render reports the same ones.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    key = hashlib.sha256("\0".join([base_url, repr(policy), *css]).encode("utf-8")).hexdigest()
    if key not in _SHEETS:
        if len(_SHEETS) >= 4:
            _SHEETS.clear()
        fonts = FontConfiguration()
        profiles: dict[str, Any] = {}  # shared so @color-profile in our sheets reaches the document
        with weasyprint_warnings() as messages:
            fetcher = trust.url_fetcher(policy, base_url)
            sheets = [
                CSS(string=t, base_url=base_url, url_fetcher=fetcher, font_config=fonts, color_profiles=profiles)
                for t in css
            ]
        for profile in profiles.values():
            profile._profile = _SavedProfile(profile._profile)
        _SHEETS[key] = (fonts, sheets, profiles, messages)
    return _SHEETS[key]


class _SavedProfile:
    """An ICC profile serialised once: LittleCMS re-serialises a profile differently on the second
    `tobytes()`, and a reused profile must embed the same bytes in every part."""

    def __init__(self, profile: Any) -> None:
        self.profile = profile.profile
        self._data = profile.tobytes()

    def tobytes(self) -> bytes:
        return self._data


def render_document(
    html: str, css: list[str], base_url: str, policy: trust.ReadPolicy | None = None
) -> tuple[Any, list[str]]:
    """HTML + CSS texts → a laid-out WeasyPrint Document and its warnings.

    WeasyPrint reads only what `policy` allows (by default: the base URL's folder and the toolchain's).
    """
    from weasyprint import HTML

    install()  # every layout goes through here: no render without our patches
    fonts, sheets, profiles, parse_warnings = stylesheets(css, base_url, policy)
    # Pillow quiet: the images stage has told its warnings (book.engine.pillow_warnings)
    with weasyprint_warnings() as messages, sparse_gc(), pillow_warnings.quiet(), contexts.recording() as made:
        doc = HTML(string=html, base_url=base_url, url_fetcher=trust.url_fetcher(policy, base_url)).render(
            stylesheets=sheets, font_config=fonts, color_profiles=profiles
        )
    doc.__dict__[_CONTEXTS] = made
    return doc, [*parse_warnings, *messages]


_CONTEXTS = "_book_layout_contexts"


def release(doc: Any) -> None:
    """The layout context of `doc` emptied, once everything wanted is read off `doc` and it is
    written: its styles and boxes then go with reference counting, not the cyclic collector
    (book.pdf.weasy.contexts)."""
    contexts.release(doc.__dict__.pop(_CONTEXTS, []))


def write_bytes(doc: Any, options: dict[str, Any], seed: str) -> bytes:
    """`doc.write_pdf` with the XMP DocumentID derived from `seed` instead of a random uuid4.

    WeasyPrint's PDF/X metadata takes a fresh uuid4 per write; a worker's result must be a pure
    function of its inputs (so it can be cached by hash and assembled into identical bytes).
    """
    with fixed_document_id(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]), sparse_gc():
        return doc.write_pdf(**options)


@contextlib.contextmanager
def epoch_env(epoch: str) -> Iterator[None]:
    """SOURCE_DATE_EPOCH set while fonts are subset (fontTools stamps `head.modified` from it)."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def page_names(page: Any) -> list[str]:
    """The anchors and block marks on a laid-out page, in document order (a block split across
    pages is listed on each of them, as WeasyPrint lists anchors)."""
    names: list[str] = []
    seen: set[str] = set()

    def walk(box: Any) -> None:
        element = getattr(box, "element", None)
        if element is not None and getattr(box, "element_tag", None) and not getattr(box, "pseudo_type", None):
            name = box.style["anchor"] or element.get("data-mark")
            if name and name not in seen:
                seen.add(name)
                names.append(name)
        for child in getattr(box, "all_children", lambda: [])():
            walk(child)

    walk(page._page_box)
    return names


def roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):  # fmt: skip
        while n >= value:
            out += numeral
            n -= value
    return out


def folio_labels(n_front: int, n_total: int) -> list[str]:
    """Page labels: roman for the front matter pages, arabic from the first body page."""
    return [roman(i + 1) for i in range(n_front)] + [str(i + 1) for i in range(n_total - n_front)]


def page_marks_from_anchors(
    anchors: list[list[str]], part_ids: list[str], labels: list[str], part_of_page: list[str]
) -> list[PageMark]:
    """Per page, the first contract-2 block id that starts on it (pages of body parts only)."""
    marks = []
    last_target: dict[str, str] = {}
    seen: set[str] = set()  # WeasyPrint lists a split block's id again on the pages it continues on
    for names, label, pid in zip(anchors, labels, part_of_page, strict=True):
        new = [a for a in names if a not in seen]
        seen.update(names)
        if pid not in part_ids:
            continue
        if pid in new:  # the part's opener starts here
            first: str | None = pid
        else:
            first = next((a for a in new if a.startswith(pid + "-") and BLOCK_ID.search(a)), None)
        if first is None:  # a page continuing one long block: point at that block
            first = last_target.get(pid, pid)
        last_target[pid] = first
        marks.append(PageMark(label, pid, first))
    return marks


def front_page_count(doc: Any, build: Build) -> int:
    """How many pages precede the first chapter (they carry roman folios)."""
    first_body = build.first_body_id
    return next((i for i, page in enumerate(doc.pages) if first_body in page.anchors), len(doc.pages))


def page_marks(doc: Any, build: Build) -> list[PageMark]:
    """The page map of a whole-book Document: per printed page, its folio and the first block on it."""
    body_ids = [p.id for p in build.parts if p.kind != "front"]
    anchors = [page_names(page) for page in doc.pages]
    labels = folio_labels(front_page_count(doc, build), len(anchors))
    current = ""
    part_of_page = []
    for page, names in zip(doc.pages, anchors, strict=True):
        current = next((a for a in names if a in body_ids), current)
        blank = getattr(getattr(page._page_box, "page_type", None), "blank", False)
        part_of_page.append("" if blank else current)  # a blank verso belongs to no part
    return page_marks_from_anchors(anchors, body_ids, labels, part_of_page)


def low_resolution_images(doc: Any, minimum: int = 300) -> list[str]:
    """Warnings for raster images printed below `minimum` dpi."""
    return [f"page {index + 1}: {what}" for index, what in low_resolution_pages(doc, minimum)]


def low_resolution_pages(doc: Any, minimum: int = 300) -> list[tuple[int, str]]:
    """(page index, what) for raster images printed below `minimum` dpi."""
    return [(page, f"image {src[-60:]} prints at {dpi:.0f} dpi (under {minimum})")
            for page, src, dpi in low_resolution_found(doc, minimum)]  # fmt: skip


def low_resolution_found(doc: Any, minimum: int = 300) -> list[tuple[int, str, float]]:
    """(page index, the img's src, dpi) for raster images printed below `minimum` dpi."""
    from weasyprint.formatting_structure import boxes

    found = []

    def walk(box: Any, page_no: int) -> None:
        if isinstance(box, boxes.ReplacedBox):
            image = box.replacement
            px = getattr(image, "width", None) or getattr(getattr(image, "pixbuf", None), "width", None)
            if isinstance(px, (int, float)) and box.width:
                dpi = px / (box.width / 96)
                if dpi < minimum:
                    src = box.element.get("src", "?") if box.element is not None else "?"
                    found.append((page_no, src, dpi))
        for child in getattr(box, "all_children", lambda: [])():
            walk(child, page_no)

    for i, page in enumerate(doc.pages):
        walk(page._page_box, i)
    return found
