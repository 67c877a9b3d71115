"""PDF stage: rendered parts → one print document → a PDF through WeasyPrint, per output profile.

The print document concatenates the same rendered part bodies the EPUB packages, so the two outputs
never disagree on content; only the stylesheets and the link form differ. Profiles:
`print` (bleed, PDF/X-4 with a CMYK output intent, K-only text, no DeviceRGB), `screen` (no bleed,
live links, tagged PDF/UA-1) and `review` (screen geometry plus a draft watermark on draft parts).
The output is reproducible: dates come from SOURCE_DATE_EPOCH, the XMP ids and /ID from the content.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from book import furniture, justify, pillow_warnings
from book.atomic import atomic_path
from book.epub import find_style
from book.pipeline import Build, source_date_epoch
from book.render import PageMark, RenderedPart, book_context, environment  # noqa: F401 (PageMark is API)
from book.structures import footnotes_for_print

PRINT_STYLESHEETS = ("book.css", "components.css", "print.css")
K_BLACK = "device-cmyk(0 0 0 1)"
BLOCK_ID = re.compile(r"-(?:p|b|s)\d+$")
# A block id in the print document, as `id="…"` (WeasyPrint makes every id an anchor) or, when
# nothing links to it, as `data-mark="…"`: the page map only needs to find it on its page.
MARKABLE = re.compile(r' id="([\w-]+-(?:p|b)\d+)"')
LINK_TARGET = re.compile(r'href="[^"#]*#([^"]+)"')


justify.install()  # CJK inter-character justification (CONTRACTS 4); before any render, workers too


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


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


# --- colour --------------------------------------------------------------------------------------


def to_cmyk(r: float, g: float, b: float) -> str:
    """sRGB (0–1) → a `device-cmyk()` colour; greys become K only so text never builds from CMY."""
    if max(r, g, b) - min(r, g, b) < 0.02:
        return f"device-cmyk(0 0 0 {1 - (r + g + b) / 3:.3f})"
    k = 1 - max(r, g, b)
    c, m, y = ((1 - v - k) / (1 - k) for v in (r, g, b))
    return f"device-cmyk({c:.3f} {m:.3f} {y:.3f} {k:.3f})"


_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_RGB = re.compile(r"rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)\s*(?:[,/]\s*[\d.%]+\s*)?\)")
_NAMED = {"black": (0, 0, 0), "white": (1, 1, 1), "gray": (0.5, 0.5, 0.5), "grey": (0.5, 0.5, 0.5)}


def cmyk_css(css: str) -> str:
    """Every hex, rgb() and basic named colour of a stylesheet rewritten as `device-cmyk()`."""

    def hex_(m: re.Match[str]) -> str:
        h = m.group(1)
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
        return to_cmyk(r, g, b)

    css = _HEX.sub(hex_, css)
    css = _RGB.sub(lambda m: to_cmyk(*(float(m.group(i)) / 255 for i in (1, 2, 3))), css)
    for name, rgb in _NAMED.items():
        css = re.sub(rf"(:\s*|solid\s+){name}\b", lambda m, rgb=rgb: m.group(1) + to_cmyk(*rgb), css)
    return css


# --- documents -----------------------------------------------------------------------------------


def build_date(build: Build) -> dt.datetime:
    return dt.datetime.fromtimestamp(source_date_epoch(build), tz=dt.UTC)


def draft_ids(build: Build, profile: str) -> set[str]:
    geo_watermark = profile == "review" or bool(build.config.print_options.get("watermark", False))
    return {p.id for p in build.parts if p.status == "draft"} if geo_watermark else set()


def _first_body_id(parts: list[RenderedPart]) -> str:
    return next((p.id for p in parts if p.kind != "front"), "")


def _print_body(part: RenderedPart) -> str:
    """A part's body as the print document wants it: footnotes at their call, heads as data."""
    body = footnotes_for_print(part.body)  # CONTRACTS 7
    for ref in part.resources:  # CONTRACTS 3: images by their file on disk
        body = body.replace(f'src="{ref.href}"', f'src="{ref.path.as_uri()}"')
    if part.kind != "front":
        head = furniture.running_head(part.label, part.title)
        label = f"{part.label} {part.title}".strip()
        attrs = f' data-head="{_attr(head)}" data-bookmark="{_attr(label)}"'
        body = body.replace('class="opener-title"', 'class="opener-title"' + attrs, 1)
    return body


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def print_document(
    build: Build,
    parts: list[RenderedPart] | None = None,
    *,
    drafts: set[str] | frozenset[str] = frozenset(),
    toc_pages: dict[str, str] | None = None,
) -> str:
    """The book (or some of its parts) as one HTML document, links turned from `file.xhtml#id` into `#id`.

    `toc_pages` maps a link target id to its printed page number: the TOC then prints those numbers
    instead of asking the layout (the parallel renderer knows them only after the other parts).
    """
    config = build.config
    parts = build.parts if parts is None else parts
    printed = [dataclasses.replace(p, body=_print_body(p)) for p in parts]
    html = (
        environment(config)
        .get_template("print.html.j2")
        .render(
            book=book_context(config),
            parts=printed,
            lang=config.pdf_language,
            modified=build_date(build).strftime("%Y-%m-%dT%H:%M:%SZ"),
            first_body_id=_first_body_id(build.parts),
            draft_ids=drafts,
        )
    )
    html = re.sub(r'href="[\w.-]+\.xhtml#([^"]+)"', r'href="#\1"', html)
    html = re.sub(r'href="([\w-]+)\.xhtml"', r'href="#\1"', html)
    html = unanchor_blocks(html, link_targets(build))
    if toc_pages is not None:
        html = re.sub(
            r'<a href="#([^"]+)"(?=[^>]*>)',
            lambda m: m.group(0) + (f' data-page="{toc_pages[m.group(1)]}"' if m.group(1) in toc_pages else ""),
            html,
        )
    return html


def link_targets(build: Build) -> frozenset[str]:
    """Every id some part links to (a link may cross parts, so over the whole book)."""
    found = getattr(build, "_link_targets", None)
    if found is None:
        found = frozenset(m for p in build.parts for m in LINK_TARGET.findall(p.body))
        build._link_targets = found  # type: ignore[attr-defined]
    return found


def unanchor_blocks(html: str, targets: frozenset[str]) -> str:
    """Paragraph and block ids nothing links to, as `data-mark` instead of `id`.

    WeasyPrint gives every element with an id its own style (an anchor is a style property), so
    no element below it can share its parent's computed style: the ids on every block cost 18% of
    a chapter's layout (0.91 → 0.77 s). The page map finds the marks on the pages all the same.
    """
    return MARKABLE.sub(lambda m: m.group(0) if m.group(1) in targets else f' data-mark="{m.group(1)}"', html)


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


def stylesheet_texts(
    build: Build, profile: str = "print", extra: tuple[str | Path, ...] = (), *, furniture_boxes: bool = True
) -> list[str]:
    """The CSS of a profile, in cascade order: the book's sheets, generated @page rules, extras."""
    if profile not in furniture.PROFILES:
        raise ValueError(f"unknown PDF profile {profile!r}")
    config = build.config
    geo = furniture.geometry(config, profile)
    cmyk = profile == "print"
    texts = []
    for name in PRINT_STYLESHEETS:
        text = find_style(config, name).read_text(encoding="utf-8")
        texts.append(cmyk_css(text) if cmyk else text)
    mark = ""
    if draft_ids(build, profile):
        mark = f"草稿 {build_date(build):%Y-%m-%d}"
    ink = K_BLACK if cmyk else "#000"
    texts.append(furniture.page_css(config, geo, furniture=furniture_boxes, ink=ink, watermark_text=mark))
    if cmyk:
        texts.append(colour_css(geo, profile))
    for sheet in extra:
        p = Path(sheet)
        texts.append(p.read_text(encoding="utf-8") if p.suffix == ".css" and p.exists() else str(sheet))
    return texts


def colour_css(geo: furniture.Geometry, profile: str) -> str:
    """Print: K-only black text and the CMYK output profile (WeasyPrint's PDF/X output intent)."""
    if profile != "print":
        return ""
    rules = [f"html, body {{ color: {K_BLACK}; }}"]
    if geo.icc_profile:
        uri = geo.icc_profile.as_uri()
        rules.append(f'@color-profile device-cmyk {{ src: url("{uri}"); components: c, m, y, k; }}')
    return "\n".join(rules) + "\n"


def render_options(profile: str) -> dict[str, Any]:
    """write_pdf options of a profile."""
    if profile == "print":
        return {"pdf_variant": "pdf/x-4"}
    if profile == "screen":
        return {"pdf_variant": "pdf/ua-1", "pdf_tags": True}
    return {}


def write_bytes(doc: Any, options: dict[str, Any], seed: str) -> bytes:
    """`doc.write_pdf` with the XMP DocumentID derived from `seed` instead of a random uuid4.

    WeasyPrint's PDF/X metadata takes a fresh uuid4 per write; a worker's result must be a pure
    function of its inputs (so it can be cached by hash and assembled into identical bytes).
    """
    import uuid

    from weasyprint.pdf import metadata

    fixed = uuid.UUID(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32])
    original = metadata.uuid4
    metadata.uuid4 = lambda: fixed
    try:
        with sparse_gc():
            return doc.write_pdf(**options)
    finally:
        metadata.uuid4 = original


def target_path(build: Build, profile: str) -> Path:
    return build.pdf_target(profile)


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


def stylesheets(css: list[str], base_url: str) -> tuple[Any, list[Any], dict[str, Any], list[str]]:
    """(font configuration, parsed sheets, colour profiles, parse warnings) for these CSS texts.

    Kept for the life of the process: a worker rendering part after part with the same sheets
    parses them once and keeps one Pango font map, so fonts are loaded and matched once, not once
    per part. The parse warnings are kept too, so every render reports the same ones.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    key = hashlib.sha256("\0".join([base_url, *css]).encode("utf-8")).hexdigest()
    if key not in _SHEETS:
        if len(_SHEETS) >= 4:
            _SHEETS.clear()
        fonts = FontConfiguration()
        profiles: dict[str, Any] = {}  # shared so @color-profile in our sheets reaches the document
        with weasyprint_warnings() as messages:
            sheets = [CSS(string=t, base_url=base_url, font_config=fonts, color_profiles=profiles) for t in css]
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


def render_document(html: str, css: list[str], base_url: str) -> tuple[Any, list[str]]:
    """HTML + CSS texts → a laid-out WeasyPrint Document and its warnings."""
    from weasyprint import HTML

    fonts, sheets, profiles, parse_warnings = stylesheets(css, base_url)
    with weasyprint_warnings() as messages, sparse_gc(), pillow_warnings.quiet():  # Pillow: told by images
        doc = HTML(string=html, base_url=base_url).render(
            stylesheets=sheets, font_config=fonts, color_profiles=profiles
        )
    return doc, [*parse_warnings, *messages]


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


def source_epoch(build: Build) -> contextlib.AbstractContextManager[None]:
    return epoch_env(str(source_date_epoch(build)))


def write_pdf(
    build: Build, target: Path | None = None, profile: str = "print", extra_stylesheets: tuple[str | Path, ...] = ()
) -> Path:
    """Render the book in one WeasyPrint document and write it; sets build.page_map for print."""
    config = build.config
    target = target or target_path(build, profile)
    css = stylesheet_texts(build, profile, tuple(extra_stylesheets))
    html = print_document(build, drafts=draft_ids(build, profile))
    doc, messages = render_document(html, css, str(config.root) + "/")
    with atomic_path(target) as tmp, source_epoch(build):
        with sparse_gc():
            doc.write_pdf(str(tmp), **render_options(profile))
        finish_pdf(tmp, build, profile, front_page_count(doc, build))
    for msg in messages:
        build.diag.warn(target, None, f"WeasyPrint: {msg}")
    for msg in low_resolution_images(doc):
        build.diag.warn(target, None, msg)
    build.page_count = len(doc.pages)  # type: ignore[attr-defined]
    if profile == "print" and not extra_stylesheets:
        build.page_map = page_marks(doc, build)  # type: ignore[attr-defined]
    return target


# --- layout facts --------------------------------------------------------------------------------


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
    first_body = _first_body_id(build.parts)
    return next((i for i, page in enumerate(doc.pages) if first_body in page.anchors), len(doc.pages))


def page_marks(doc: Any, build: Build) -> list[PageMark]:
    """Page map of a whole-book Document (see CONTRACTS 5)."""
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


def page_map(build: Build) -> list[PageMark]:
    """The print edition's page map (CONTRACTS 6), laying the book out when no render has yet."""
    existing = getattr(build, "page_map", None)
    if existing:
        return existing
    css = stylesheet_texts(build, "print")
    doc, _ = render_document(print_document(build), css, str(build.config.root) + "/")
    build.page_map = page_marks(doc, build)  # type: ignore[attr-defined]
    build.page_count = len(doc.pages)  # type: ignore[attr-defined]
    return build.page_map  # type: ignore[attr-defined]


def low_resolution_images(doc: Any, minimum: int = 300) -> list[str]:
    """Warnings for raster images printed below `minimum` dpi."""
    return [f"page {index + 1}: {what}" for index, what in low_resolution_pages(doc, minimum)]


def low_resolution_pages(doc: Any, minimum: int = 300) -> list[tuple[int, str]]:
    """(page index, what) for raster images printed below `minimum` dpi."""
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
                    found.append((page_no, f"image {src[-60:]} prints at {dpi:.0f} dpi (under {minimum})"))
        for child in getattr(box, "all_children", lambda: [])():
            walk(child, page_no)

    for i, page in enumerate(doc.pages):
        walk(page._page_box, i)
    return found


# --- reproducibility -----------------------------------------------------------------------------


def cmyk_images(pdf: Any) -> int:
    """Convert every DeviceRGB image (colour emoji glyphs, pictures) to DeviceCMYK; returns the count.

    WeasyPrint draws bitmap glyphs and raster images in RGB whatever the CSS says; a print file
    must not carry any. The conversion is a plain device conversion (Pillow), K from grey.
    """
    import zlib

    import pikepdf
    from PIL import Image

    done = 0
    seen: set[tuple[int, int]] = set()
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != "/Image" or obj.objgen in seen:
            continue
        seen.add(obj.objgen)
        if str(obj.get("/ColorSpace")) != "/DeviceRGB":
            continue
        image = pikepdf.PdfImage(obj).as_pil_image().convert("RGB")
        cmyk = Image.frombytes("RGB", image.size, image.tobytes()).convert("CMYK")
        obj.write(zlib.compress(cmyk.tobytes(), 9), filter=pikepdf.Name.FlateDecode)
        obj.ColorSpace = pikepdf.Name.DeviceCMYK
        obj.BitsPerComponent = 8
        for key in ("/DecodeParms", "/Decode"):
            if key in obj:
                del obj[key]
        done += 1
    return done


def finish_pdf(path: Path, build: Build, profile: str = "print", front_pages: int | None = None) -> None:
    """Dates from SOURCE_DATE_EPOCH, XMP ids and the trailer /ID from the content: same input, same bytes.

    In the print profile, RGB images are converted to CMYK as well.
    """
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        finish_document(pdf, build, profile, front_pages)
        save_pdf(pdf, path)


def save_pdf(pdf: Any, path: Path, **options: Any) -> None:
    """Save with a deterministic /ID, compressed streams and object streams (PDF 1.5+, so PDF/X-4
    allows them: the dictionaries of a thousand pages compress too)."""
    import pikepdf

    pdf.save(
        path,
        deterministic_id=True,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        **options,
    )


def finish_document(pdf: Any, build: Build, profile: str = "print", front_pages: int | None = None) -> None:
    """`finish_pdf` on an open pikepdf document (the caller saves it with `save_pdf`)."""
    import pikepdf

    stamp = build_date(build)
    pdf_date = stamp.strftime("D:%Y%m%d%H%M%S+00'00'")
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    seed = hashlib.sha256()
    for page in pdf.pages:
        for stream in (
            page.obj.get("/Contents", [])
            if isinstance(page.obj.get("/Contents"), pikepdf.Array)
            else [page.obj.get("/Contents")]
        ):
            if stream is not None:
                seed.update(stream.read_raw_bytes())
    seed.update(build.config.identifier.encode())
    digest = seed.hexdigest()
    uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    if "/Metadata" in pdf.Root:
        xmp = pdf.Root.Metadata.read_bytes().decode("utf-8")
        xmp = re.sub(r"xmp\.did:[0-9a-f-]+", f"xmp.did:{uuid}", xmp)
        xmp = re.sub(r"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)[^<]*", rf"\g<1>{iso}", xmp)
        pdf.Root.Metadata.write(xmp.encode("utf-8"))
    if profile == "print":
        cmyk_images(pdf)
    if front_pages is not None:  # viewers then show the printed folios: i, ii… then 1, 2…
        labels = [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
        if front_pages < len(pdf.pages):
            labels += [front_pages, pikepdf.Dictionary(S=pikepdf.Name.D)]
        pdf.Root.PageLabels = pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(labels)))
    pdf.docinfo["/CreationDate"] = pdf_date
    pdf.docinfo["/ModDate"] = pdf_date
    # qpdf keeps the first /ID element (WeasyPrint's hashes a random XMP id): replace it first.
    pdf.trailer.ID = pikepdf.Array([pikepdf.String(bytes.fromhex(digest[:32]))] * 2)
