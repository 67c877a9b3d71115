"""The print document: rendered parts → one HTML document and the stylesheets of an output profile.

The print document concatenates the same rendered part bodies the EPUB packages, so the two outputs
never disagree on content; only the stylesheets and the link form differ. Profiles:
`print` (bleed, PDF/X-4 with a CMYK output intent, K-only text, no DeviceRGB), `screen` (no bleed,
live links, tagged PDF/UA-1) and `review` (screen geometry plus a draft watermark on draft parts).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from book import trust
from book.engine.cache import digest, toolchain_fingerprint
from book.engine.record import CACHE_DIR
from book.locale import locale_for, localize_css
from book.model import BookConfig, Build, RenderedPart
from book.parts.render import book_context, environment
from book.parts.structures import footnotes_for_print
from book.pdf import furniture, imprint, keeps, latin, mathsvg, pagerefs, svgink

PRINT_STYLESHEETS = ("book.css", "components.css", "print.css", "technical.css", "grid.css")


K_BLACK = "device-cmyk(0 0 0 1)"


# A block id in the print document, as `id="…"` (WeasyPrint makes every id an anchor) or, when
# nothing links to it, as `data-mark="…"`: the page map only needs to find it on its page.
MARKABLE = re.compile(r' id="([\w-]+-(?:p|b)\d+)"')


LINK_TARGET = re.compile(r'href="[^"#]*#([^"]+)"')


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


def draft_ids(build: Build, profile: str) -> set[str]:
    geo_watermark = profile == "review" or build.config.print.watermark
    return {p.id for p in build.parts if p.status == "draft"} if geo_watermark else set()


def _print_body(part: RenderedPart, build: Build | None = None, ref_pages: dict[str, str] | None = None) -> str:
    """A part's body as the print document wants it: footnotes at their call, heads as data, page
    references after links to other chapters (book.pdf.pagerefs)."""
    body = footnotes_for_print(part.body)  # footnotes at the page foot, not at the chapter end
    if build is not None:
        body = pagerefs.add(build.config, part, body, ref_pages)
    # Formulas as outlined SVG (WeasyPrint has no MathML), K-only in every profile: black is black.
    body = mathsvg.swap(body, K_BLACK, build.out / CACHE_DIR / "math" if build is not None else None)
    body = _typeset(body, build)
    for ref in part.resources:  # images by their file on disk
        path = ref.path
        if ref.media_type == "image/svg+xml" and build is not None:  # a diagram's colours in CMYK, as the text's
            path = svgink.print_file(path, to_cmyk, build.out / CACHE_DIR / "print-svg")
        body = body.replace(f'src="{ref.href}"', f'src="{path.as_uri()}"')
    if part.kind != "front":
        head = furniture.running_head(part.label, part.title)
        label = f"{part.label} {part.title}".strip()
        attrs = f' data-head="{_attr(head)}" data-bookmark="{_attr(label)}"'
        body = body.replace('class="opener-title"', 'class="opener-title"' + attrs, 1)
    return body


TYPESET_STAGE = "print-typeset"


def _typeset(body: str, build: Build | None) -> str:
    """Lead-ins kept with what they introduce and no 1-character last line (book.pdf.keeps), then
    Latin runs tagged to hyphenate (the document is zh: Pyphen has no dictionary; book.pdf.latin).

    A pure function of the body, so cached by it: for the 30-chapter book both were 0.3 s of CPU
    before any layout started, and an edit changes one part's body."""

    def compute() -> str:
        return latin.tag_latin(keeps.mark(body))

    if build is None or build.cache is None:
        return compute()
    return build.cache.memo(TYPESET_STAGE, digest(TYPESET_STAGE, toolchain_fingerprint(), body), compute)


def trim_typeset_cache(build: Build) -> None:
    """The typeset bodies of the current parts and a few edits back (`_typeset`)."""
    if build.cache is not None:
        build.cache.trim(TYPESET_STAGE, keep=4 * len(build.parts) + 16)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def print_document(
    build: Build,
    parts: list[RenderedPart] | None = None,
    *,
    drafts: set[str] | frozenset[str] = frozenset(),
    toc_pages: dict[str, str] | None = None,
    targets: frozenset[str] | None = None,
    ref_pages: dict[str, str] | None = None,
) -> str:
    """The book (or some of its parts) as one HTML document, links turned from `file.xhtml#id` into `#id`.

    `toc_pages` maps a link target id to its printed page number: the TOC then prints those numbers
    instead of asking the layout (the parallel renderer knows them only after the other parts).
    `targets` are the ids the book links to (`link_targets`), when the caller already knows them.
    `ref_pages` are the folios page references print (None: the layout counts them, one document).
    """
    config = build.config
    parts = build.parts if parts is None else parts
    printed = [dataclasses.replace(p, body=_print_body(p, build, ref_pages)) for p in parts]
    html = (
        environment(config)
        .get_template("print.html.j2")
        .render(
            book=book_context(config),
            parts=printed,
            lang=config.pdf_language,
            modified=build.build_date().strftime("%Y-%m-%dT%H:%M:%SZ"),
            first_body_id=build.first_body_id,
            draft_ids=drafts,
        )
    )
    html = re.sub(r'href="[\w.-]+\.xhtml#([^"]+)"', r'href="#\1"', html)
    html = re.sub(r'href="([\w-]+)\.xhtml"', r'href="#\1"', html)
    html = unanchor_blocks(html, link_targets(build) if targets is None else targets)
    if toc_pages is not None:
        html = re.sub(
            r'<a href="#([^"]+)"(?=[^>]*>)',
            lambda m: m.group(0) + (f' data-page="{toc_pages[m.group(1)]}"' if m.group(1) in toc_pages else ""),
            html,
        )
    return html


def link_targets(build: Build) -> frozenset[str]:
    """Every id some part links to (a link may cross parts, so over the whole book)."""
    return frozenset(m for p in build.parts for m in LINK_TARGET.findall(p.body))


def unanchor_blocks(html: str, targets: frozenset[str]) -> str:
    """Paragraph and block ids nothing links to, as `data-mark` instead of `id`.

    WeasyPrint gives every element with an id its own style (an anchor is a style property), so
    no element below it can share its parent's computed style: the ids on every block cost 18% of
    a chapter's layout (0.91 → 0.77 s). The page map finds the marks on the pages all the same.
    """
    return MARKABLE.sub(lambda m: m.group(0) if m.group(1) in targets else f' data-mark="{m.group(1)}"', html)


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
    fetch_dir = build.out / CACHE_DIR / "images"
    for name in PRINT_STYLESHEETS:
        path = config.find_style(name)
        text = localize_css(path.read_text(encoding="utf-8"), locale_for(config.language))
        trust.vet_stylesheet(path, text, config, build.diag, fetch_dir)
        texts.append(print_css(config, text) if cmyk else text)
    mark = ""
    if draft_ids(build, profile):
        mark = f"{locale_for(config.language)['draft']} {build.build_date():%Y-%m-%d}"
    ink = K_BLACK if cmyk else "#000"
    texts.append(furniture.page_css(config, geo, furniture=furniture_boxes, ink=ink, watermark_text=mark))
    texts.append(imprint.page_css(geo.height - geo.top - geo.bottom))
    if cmyk:
        texts.append(colour_css(geo, profile))
    texts.append(image_fit_css(geo))
    for sheet in extra:
        p = Path(sheet)
        text = p.read_text(encoding="utf-8") if p.suffix == ".css" and p.exists() else str(sheet)
        trust.vet_stylesheet(p if p.suffix == ".css" else "stylesheet", text, config, build.diag, fetch_dir)
        texts.append(text)
    return texts


def read_policy(build: Build) -> trust.ReadPolicy:
    """What WeasyPrint may read for this build: the book, the build's cache, the toolchain's files."""
    cache = build.out / CACHE_DIR
    return trust.ReadPolicy(trust.roots_for(build.config.root, cache), str(cache / "images"))


def print_css(config: BookConfig, css: str) -> str:
    """A stylesheet's colours for print: the press condition's CMYK (`print.output_intent`, book.cover.press)
    when one is named, else the default conversion."""
    if not config.print.output_intent:
        return cmyk_css(css)
    from book.cover import press

    return press.cmyk_css(css, press.interior_intent(config))  # type: ignore[arg-type]


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


def image_fit_css(geo: furniture.Geometry) -> str:
    """Every image no wider than the type area and no taller than it, less room for a caption line."""
    tall = geo.height - geo.top - geo.bottom - 3 * geo.font_size
    return (
        f".content img:not(.math-svg) {{ max-width: 100%; max-height: {tall:.1f}pt; object-fit: contain; }}\n"
        f".content img.math-svg.display {{ max-width: {geo.type_width:.1f}pt; }}\n"
    )
