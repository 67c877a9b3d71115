"""EPUB stage: rendered parts → an EPUB 3 file (packaged with ebooklib, made reproducible).

Each rendered part becomes one XHTML content document, verbatim: ebooklib packages the files and
writes the package document; the navigation document is our own template (table of contents,
landmarks, page list). Around them go a cover page (the book's image or a generated one), the CJK
fonts subset to the book's characters, the print edition's page breaks (from the PDF's page map) and
accessibility metadata that is computed from the content, so it stays true. The zip is then
rewritten with fixed timestamps so that two builds of the same sources are byte-identical.
"""

from __future__ import annotations

import bisect
import datetime as dt
import html
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from ebooklib import epub
from lxml import etree

from book.engine.atomic import atomic_path
from book.engine.cache import Cache, digest, toolchain_fingerprint
from book.epub import cover, fonts, spacing
from book.locale import locale_for, localize_css
from book.model import BookConfig, Build, EpubResult, FontReport, PageMark, RenderedPart
from book.parts import render

STYLESHEETS = ("book.css", "components.css", "epub.css", "technical.css")


def _link_map(parts: list[RenderedPart]) -> dict[str, str]:
    """id → file name, to turn in-book `#id` links into cross-file links."""
    ids: dict[str, str] = {}
    for p in parts:
        for found in _ids(p.body):
            ids.setdefault(found, p.filename)
    return ids


@lru_cache(maxsize=64)  # scanning every body twice was a tenth of a one-chapter preview rebuild
def _ids(body: str) -> tuple[str, ...]:
    return tuple(m.group(1) for m in re.finditer(r'\sid="([^"]+)"', body))


def _fix_links(body: str, here: str, ids: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        target = m.group(1)
        file = ids.get(target)
        if file is None or file == here:
            return m.group(0)
        return f'href="{file}#{target}"'

    return re.sub(r'href="#([^"]+)"', repl, body)


# What may name an element's id: a link's fragment, or an attribute holding id references.
_ID_REFERENCE = re.compile(
    r'\shref="[^"#]*#([^"]+)"|\s(?:aria-describedby|aria-labelledby|aria-flowto|aria-owns|aria-controls|for|headers)="([^"]+)"'
)


def referenced_ids(parts: list[RenderedPart]) -> frozenset[str]:
    """Every id some part links to or names in an id-reference attribute."""
    return frozenset().union(*(_references(p.body) for p in parts))


# Cached by body, as `_ids` is: a build gathers the documents up to three times, and the preview's
# rebuild changes one part; scanning and stripping all of the 30-chapter book's parts was 58 ms a time.
@lru_cache(maxsize=256)
def _references(body: str) -> frozenset[str]:
    found: set[str] = set()
    for m in _ID_REFERENCE.finditer(body):
        if m.group(1):
            found.add(html.unescape(m.group(1)))
        else:
            found.update(html.unescape(m.group(2)).split())
    return frozenset(found)


@lru_cache(maxsize=256)
def without_unlinked_ids(body: str, part_id: str, referenced: frozenset[str]) -> str:
    """`body` without the paragraph and block ids of book.parts.structures.number_blocks that nothing
    links to. Those ids are for the print page map and the editor's paragraph numbers, and both read them
    from the rendered part. In the EPUB they cost the check: EPUBCheck's Schematron tests each id's
    uniqueness against all of the document's ids, and the 640 ids of a long chapter made that half of a
    30-chapter book's check."""
    own = re.compile(rf'\sid="({re.escape(part_id)}-[pb]\d+)"')
    return own.sub(lambda m: m.group(0) if m.group(1) in referenced else "", body)


def cache_for(build: Build) -> Cache:
    """The build's stage cache if the pipeline has one, else `<out>/.cache/` (never in the sources)."""
    return build.cache if build.cache is not None else Cache(build.out / ".cache")


def page_id(label: str, taken: set[str]) -> str:
    """`page-{label}`, made a valid unique XML id (labels are folios such as 12 or xii)."""
    base = "page-" + re.sub(r"[^A-Za-z0-9_.-]", "_", label)
    pid, n = base, 1
    while pid in taken:
        n += 1
        pid = f"{base}-{n}"
    taken.add(pid)
    return pid


_TAG_WITH_ID = re.compile(r'<([A-Za-z][\w:-]*)\b[^>]*?\sid="([^"]+)"[^>]*>')
# Elements whose parent allows only particular children: the marker goes first inside them instead.
_MARK_INSIDE = {"li", "dt", "dd", "tr", "td", "th", "caption", "thead", "tbody", "tfoot", "figcaption", "summary"}


def insert_pagebreaks(
    body: str, marks: list[tuple[str, str]], taken: set[str], self_closing: bool = False
) -> tuple[str, list[tuple[str, str]]]:
    """Insert a pagebreak marker before each `(label, target_id)`'s element; returns (body, [(label, id)]).

    Marks whose target is not in the body are dropped (the page list only lists markers that exist).
    `self_closing`: the marker written `<span …/>`, as lxml writes an empty element (a body already gapped).
    """
    placed: list[tuple[int, str]] = []
    found: list[tuple[str, str]] = []
    # Each id's first tag, and where navigation lists open and close, found in one pass each: a
    # search of the body per mark was 0.6 s of the 30-chapter book's EPUB, on its critical path.
    tags: dict[str, re.Match[str]] = {}
    for m in _TAG_WITH_ID.finditer(body):
        tags.setdefault(m.group(2), m)
    opens = [n.start() for n in re.finditer(r"<nav\b", body)]
    closes = [n.start() for n in re.finditer("</nav>", body)]
    for label, target in marks:
        m = tags.get(target)
        if m is None:
            continue
        pos = m.end() if m.group(1).lower() in _MARK_INSIDE else m.start()
        # A navigation list allows only headings and lists: a page starting inside one is marked before it.
        navs, closed = bisect.bisect_right(opens, pos - 4), bisect.bisect_right(closes, pos - 6)
        if navs > closed:
            pos = opens[closed]
        pid = page_id(label, taken)
        span = (f'<span epub:type="pagebreak" role="doc-pagebreak" id="{pid}" '
                f'aria-label="{html.escape(label, quote=True)}"{"/>" if self_closing else "></span>"}')  # fmt: skip
        placed.append((pos, span))
        found.append((label, pid))
    # Insert from the end so earlier offsets stay valid; at one offset the later mark goes in first,
    # so the markers keep the page map's order.
    for _, (pos, span) in sorted(enumerate(placed), key=lambda x: (x[1][0], x[0]), reverse=True):
        body = body[:pos] + span + body[pos:]
    return body, found


def _with_pagebreaks(build: Build, marks: list[PageMark]) -> tuple[list[RenderedPart], list[dict[str, str]]]:
    by_part: dict[str, list[tuple[str, str]]] = {}
    for mark in marks:
        by_part.setdefault(mark.part_id, []).append((str(mark.label), mark.target_id))
    parts, pages, taken = [], [], set()
    ids = _link_map(list(build.parts)) if by_part else {}
    for part in build.parts:
        if part.id == "toc" and part.id in by_part:  # the navigation document: never gapped (`_documents`)
            body, found = insert_pagebreaks(part.body, by_part[part.id], taken)
        elif part.id in by_part:
            # The markers go into the body as `_documents` makes it (links fixed, gaps set): that body
            # was gapped by `prewarm` during the layout, and gapping it again with the markers in it
            # was 0.7 s of the 30-chapter book's critical path. The same bytes: a marker holds no
            # text, so the gaps fall where they did, and lxml's serialisation writes it `<span …/>`.
            fixed = _fix_links(part.body, part.filename, ids)
            gapped = _gapped(build, fixed)
            body, found = insert_pagebreaks(gapped, by_part[part.id], taken, self_closing=gapped != fixed)
            _GAPPED[body] = body  # final: `_documents` fixes its links and gaps it again, a no-op
        if part.id in by_part:
            part = replace(part, body=body)
            pages += [{"label": label, "href": f"{part.filename}#{pid}"} for label, pid in found]
        parts.append(part)
    return parts, pages


def accessibility_metadata(
    parts: list[RenderedPart], has_cover: bool, has_pages: bool, language: str = "zh-Hans"
) -> list[tuple[str, str]]:
    """(property, value) pairs of schema.org accessibility metadata that are true of this content."""
    bodies = "\n".join(p.body for p in parts)
    imgs = re.findall(r"<img\b[^>]*>", bodies)
    has_images = bool(imgs) or has_cover
    all_alt = all(re.search(r'\salt="[^"]*\S[^"]*"', i) for i in imgs)  # the cover's alt is ours: always set
    meta = [("schema:accessMode", "textual")]
    if has_images:
        meta.append(("schema:accessMode", "visual"))
    if not has_images or all_alt:
        meta.append(("schema:accessModeSufficient", "textual"))
    if has_images:
        meta.append(("schema:accessModeSufficient", "textual,visual"))
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    if has_images and all_alt:
        features.append("alternativeText")
    if has_pages:
        features += ["pageBreakMarkers", "pageNavigation"]
    if re.search(r'\srole="doc-', bodies):
        features.append("ARIA")
    meta += [("schema:accessibilityFeature", f) for f in features]
    meta.append(("schema:accessibilityHazard", "none"))
    t = locale_for(language)
    zh = [t["a11y_summary"]]
    en = [
        "A reflowable EPUB 3 publication in reading order, with a table of contents, landmarks and structured headings"
    ]
    if has_images and all_alt:
        zh.append(t["a11y_alt"])
        en.append("every image has a text alternative")
    if has_pages:
        zh.append(t["a11y_pages"])
        en.append("page numbers of the print edition")
    summary = "；".join(zh) + t["a11y_hazards"] + " " + "; ".join(en) + ". No known hazards."
    meta.append(("schema:accessibilitySummary", summary))
    return meta


def _documents(
    build: Build, parts: list[RenderedPart], pages: list[dict[str, str]], the_cover: cover.Cover, hrefs: list[str]
) -> list[tuple[str, str, str, list[str]]]:
    """Every XHTML document in spine order: (uid, file name, content, manifest properties)."""
    config = build.config
    env = render.environment(config)
    subtitle = f"——{config.subtitle}" if config.subtitle else ""
    t = render.template_strings(config.language)
    alt = f"{t['cover']}：{config.title}{subtitle}，{'、'.join(config.authors)} {t['by']}"
    docs = [("cover", "cover.xhtml", env.get_template("cover.xhtml.j2").render(
        cover=the_cover, alt=alt, lang=config.language, stylesheets=hrefs, t=render.template_strings(config.language)), [])]  # fmt: skip
    ids = _link_map(parts)
    referenced = referenced_ids(parts)
    first_body = bodymatter_start(parts)
    for part in parts:
        if part.id == "toc":
            content = env.get_template("nav.xhtml.j2").render(
                toc=part, parts=parts, first_body=first_body, lang=config.language, t=render.template_strings(config.language),
                stylesheets=hrefs, pages=pages, cover="cover.xhtml",
            )  # fmt: skip
            docs.append((part.id, part.filename, content, ["nav"]))
        else:
            gapped = _gapped(build, _fix_links(part.body, part.filename, ids))
            fixed = replace(part, body=without_unlinked_ids(gapped, part.id, referenced))
            # EPUB 3: a content document with MathML declares it (EPUBCheck OPF-014 otherwise).
            properties = ["mathml"] if "<math" in fixed.body else []
            docs.append((part.id, part.filename, render.document(config, fixed, hrefs), properties))
    cache_for(build).trim(GAPS_STAGE, 4 * len(parts))  # a few versions of each part
    return docs


GAPS_STAGE = "epub-gaps"


def _gapped(build: Build, body: str) -> str:
    """`spacing.fixed_spaces(body)` through the cache: a build gathers the documents up to three
    times (the font subsets' text twice, the package once), and an edit changes one part's body."""
    hit = _GAPPED.get(body)
    if hit is None:
        key = digest(GAPS_STAGE, toolchain_fingerprint(), body)
        hit = cache_for(build).memo(GAPS_STAGE, key, lambda: spacing.fixed_spaces(body))
    # kept in this process for its next build (the preview's): hashing and loading the unchanged
    # parts' bodies from the cache was 20 ms of a 30-chapter rebuild
    _GAPPED[body] = hit
    while len(_GAPPED) > GAPS_KEPT:
        del _GAPPED[next(iter(_GAPPED))]
    return hit


_GAPPED: dict[str, str] = {}  # body → gapped body, oldest first
GAPS_KEPT = 400  # a few times a long book's parts: a build asks for each body three times


# Every character a page label can have (arabic and lower-case roman folios, book.pdf.document.folio_labels).
LABEL_ALPHABET = [{"label": "0123456789", "href": "#"}, {"label": "ivxlcdm", "href": "#"}]


def _font_texts(build: Build, the_cover: cover.Cover, hrefs: list[str]) -> list[str]:
    """The documents whose text the font subsets must cover: the book's, with a page list made of
    every label character instead of the real one, so the subsets do not wait for the print
    layout (and a page label never misses a glyph)."""
    return [d[2] for d in _documents(build, list(build.parts), LABEL_ALPHABET, the_cover, hrefs)]


def prewarm(build: Build) -> None:
    """Fill the cache with the EPUB's costly pieces the PDF does not decide: the cover and the font
    subsets. Runs while the PDF workers lay the parts out (the page list waits for them; the
    subsets do not, see `_font_texts`). Problems are left for `write_epub` to report.
    """
    from book.errors import BookError, Diagnostics

    try:
        the_cover = cover.make_cover(build.config, Diagnostics(), cache_for(build))
        loc = locale_for(build.config.language)
        css = [localize_css(build.config.find_style(name).read_text(encoding="utf-8"), loc) for name in STYLESHEETS]
        hrefs = ["styles/fonts.css"] + [f"styles/{name}" for name in STYLESHEETS]
        fonts.embed_fonts(_font_texts(build, the_cover, hrefs), css, cache_for(build), fonts.faces_for(loc.region))
    except (BookError, OSError):
        pass


def package_epub(
    build: Build,
    target: Path | None = None,
    page_map: list[PageMark] | None = None,
    *,
    compress: bool = True,
    durable: bool = True,
) -> EpubResult:
    """The EPUB of `build` at `target`; with the print edition's `page_map`, a page list and page breaks.
    `compress=False` stores the zip's entries (the preview's: read at once over loopback);
    `durable=False` does not sync the file before it replaces the old one (book.engine.atomic)."""
    config = build.config
    target = target or build.epub_path
    epoch = build.source_date_epoch()
    when = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    cache = cache_for(build)
    # Gather everything first: cover, page list, every document, then the font subsets of their text.
    the_cover = cover.make_cover(config, build.diag, cache)
    parts, pages = _with_pagebreaks(build, page_map or [])
    loc = locale_for(config.language)
    css = {
        name: localize_css(config.find_style(name).read_text(encoding="utf-8"), loc).encode() for name in STYLESHEETS
    }
    hrefs = ["styles/fonts.css"] + [f"styles/{name}" for name in STYLESHEETS]
    docs = _documents(build, parts, pages, the_cover, hrefs)
    embedded = fonts.embed_fonts(
        _font_texts(build, the_cover, hrefs),
        [c.decode("utf-8") for c in css.values()],
        cache,
        fonts.faces_for(loc.region),
    )
    b = epub.EpubBook()
    b.set_identifier(config.identifier)
    if config.epub.isbn:  # the e-book's own ISBN, beside the unique identifier
        b.add_metadata("DC", "identifier", f"urn:isbn:{re.sub(r'[^0-9X]', '', config.epub.isbn.upper())}")
    b.set_title(config.title)
    b.set_language(config.language)
    for i, author in enumerate(config.authors):
        b.add_author(author, uid=f"creator{i}")
    b.add_metadata("DC", "date", config.date or build.manifest.modified())
    if config.publisher:
        b.add_metadata("DC", "publisher", config.publisher)
    if config.rights:
        b.add_metadata("DC", "rights", config.rights)
    if config.subtitle:
        b.add_metadata("DC", "description", config.subtitle)
    for prop, value in accessibility_metadata(parts, True, bool(pages), config.language):
        b.add_metadata(None, "meta", value, {"property": prop})
    if pages:
        source = page_break_source(config)
        # EPUB 3.3 names this `pageBreakSource`, but EPUBCheck 4.2.6 (Kobo) rejects that property and
        # every prefixed spelling fails one validator or the other; the EPUB 3.2 form passes both.
        b.add_metadata("DC", "source", source, {"id": "print-source"})
        b.add_metadata(None, "meta", "pagination", {"refines": "#print-source", "property": "source-of"})
    # EPUB 2 readers (older Kobo and Kindle tools) find the cover through this meta.
    b.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})
    b.add_item(epub.EpubItem(uid="css-fonts", file_name="styles/fonts.css", media_type="text/css",
                             content=fonts.font_face_css(embedded).encode("utf-8")))  # fmt: skip
    for name, data in css.items():
        b.add_item(epub.EpubItem(uid=f"css-{name.split('.')[0]}", file_name=f"styles/{name}",
                                 media_type="text/css", content=data))  # fmt: skip
    for f in embedded:
        b.add_item(epub.EpubItem(uid=f"font-{f.spec.name}", file_name=f.href, media_type=f.media_type, content=f.data))
    cover_img = epub.EpubItem(uid="cover-image", file_name=the_cover.href, media_type=the_cover.media_type,
                              content=the_cover.data)  # fmt: skip
    cover_img.properties = ["cover-image"]
    b.add_item(cover_img)
    seen = {the_cover.href}
    for part in parts:
        for ref in part.resources:
            if ref.href in seen:
                continue
            seen.add(ref.href)
            uid = "res-" + re.sub(r"[^A-Za-z0-9_-]", "-", ref.href)
            b.add_item(epub.EpubItem(uid=uid, file_name=ref.href, media_type=ref.media_type,
                                     content=Path(ref.path).read_bytes()))  # fmt: skip
    spine = []
    for uid, filename, content, properties in docs:
        item = epub.EpubItem(uid=uid, file_name=filename, media_type="application/xhtml+xml",
                             content=content.encode("utf-8"))  # fmt: skip
        item.properties = properties
        b.add_item(item)
        spine.append(item)
    b.add_item(epub.EpubNcx())

    def entry(p: RenderedPart) -> object:
        inner = [entry(c) for c in parts if p.kind == "division" and c.division == p.id]
        inner += [epub.Link(f"{p.filename}#{h.id}", h.title, h.id) for h in p.headings if h.level == 2]
        return (epub.Section(p.title, f"{p.filename}#{p.id}"), inner) if inner else epub.Link(
            f"{p.filename}#{p.id}", p.title, p.id)  # fmt: skip

    b.toc = [entry(p) for p in parts if p.kind != "front" and not p.division]
    b.spine = spine
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, atomic_path(target, durable=durable) as final:
        raw = Path(tmp) / "raw.epub"
        with warnings.catch_warnings():  # ebooklib warns about its own option as it re-raises a write error
            warnings.filterwarnings("ignore", "In the future throwing exceptions", UserWarning)
            epub.write_epub(str(raw), b, {"raise_exceptions": True, "mtime": when, "epub2_guide": False,
                                          "epub3_landmark": False, "epub3_pages": False,
                                          # read back once, just below: the final zip is deflated there
                                          "compresslevel": 1 if compress else 0})  # fmt: skip
        reproducible_zip(raw, final, when, rewrite={"EPUB/content.opf": lambda d: finish_package(d, config.language)},
                         compress=compress)  # fmt: skip
    return EpubResult(target, [FontReport(f.href, len(f.data), f.glyphs, f.characters) for f in embedded])


def page_break_source(config: BookConfig) -> str:
    """What identifies the print edition the page list follows."""
    isbn = config.isbn or config.print.isbn
    if isbn:
        return f"urn:isbn:{str(isbn).replace('-', '')}"
    edition = locale_for(config.language)["print_edition"]
    return f"{config.title}（{edition}{('，' + config.edition) if config.edition else ''}）"


def finish_package(opf: bytes, language: str) -> bytes:
    """The package document's own language (ebooklib leaves `xml:lang` off `<package>`)."""
    root = etree.fromstring(opf)
    root.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def reproducible_zip(
    src: Path,
    dst: Path,
    when: dt.datetime,
    rewrite: dict[str, Callable[[bytes], bytes]] | None = None,
    compress: bool = True,
) -> None:
    """Rewrite a zip with one fixed timestamp and fixed attributes, `mimetype` first and stored
    (and every entry stored without `compress`)."""
    rewrite = rewrite or {}
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in rewrite:
                data = rewrite[info.filename](data)
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            stored = info.filename == "mimetype" or not compress
            zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zout.writestr(zi, data, compresslevel=None if stored else 9)


def bodymatter_start(parts: list[RenderedPart]) -> RenderedPart | None:
    """Where the landmarks' bodymatter begins: the first chapter, or the part page (第一部分) before it."""
    return next((p for p in parts if p.kind in ("chapter", "division")), None)
