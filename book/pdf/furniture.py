"""Page furniture: book.yaml `print:` options → page geometry and the generated @page stylesheet.

The trim size, the mirrored margins and the type area come from the config; the type area is a whole
number of characters wide (font size × characters per line), the rest of the width goes to the
margins, the gutter side getting the extra `gutter`. Running heads (verso: the book's title, recto:
the part's title), folios (roman in the front matter, arabic from the first chapter) and the draft
watermark are margin boxes of named pages, generated here so that they follow the config.

The same rules also serve the parallel renderer (book.pdf.parallel): it renders parts without furniture
and stamps a furniture document (one page per book page, see `furniture_document`) over them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from book.errors import BookError, Problem, display_path
from book.locale import locale_for, localize_css
from book.model import BookConfig

MM = 72 / 25.4  # points per millimetre
ICC_CANDIDATES = (
    Path("/usr/share/color/icc/ghostscript/default_cmyk.icc"),
    Path("/usr/share/color/icc/ghostscript/ps_cmyk.icc"),
)
PROFILES = ("print", "screen", "review")
MARGIN_BOXES = (
    "top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right",
)  # fmt: skip


@dataclass(frozen=True)
class Geometry:
    """Page geometry in points; `inner` is the gutter (spine) side margin."""

    width: float
    height: float
    font_size: float
    chars: int
    top: float
    bottom: float
    inner: float
    outer: float
    bleed_mm: float
    marks: bool
    icc_profile: Path | None
    watermark: bool

    @property
    def type_width(self) -> float:
        return self.font_size * self.chars


def _problem(config: BookConfig, key: str, message: str, hint: str = "") -> BookError:
    line = config.print.lines.get(key)
    return BookError(Problem(display_path(config.config_path), line, f"print: {message}", hint))


def geometry(config: BookConfig, profile: str = "print") -> Geometry:
    """The page geometry for a profile; bleed and marks exist only in the print profile."""
    opts = config.print
    w_mm, h_mm = opts.trim
    font_size = opts.font_size
    gutter = opts.gutter * MM
    min_margin = opts.min_margin * MM
    width, height = w_mm * MM, h_mm * MM
    fit = int((width - 2 * min_margin - gutter) // font_size)
    chars = opts.chars_per_line if opts.chars_per_line is not None else fit
    spare = width - chars * font_size - gutter
    if chars < 10 or spare / 2 < 8 * MM:
        raise _problem(
            config,
            "chars_per_line" if opts.chars_per_line is not None else "font_size",
            f"{chars} characters of {font_size:g}pt do not fit a {w_mm:g}mm wide page",
            f"use chars_per_line: {max(fit, 10)} or smaller",
        )
    icc_path = opts.icc_profile
    if icc_path is None and opts.output_intent:  # a press condition by name (book.cover.press): its profile
        from book.cover.press import interior_intent

        icc_path = interior_intent(config).profile  # type: ignore[union-attr]
    icc_path = icc_path or next((p for p in ICC_CANDIDATES if p.is_file()), None)
    bleed = opts.bleed if profile == "print" else 0.0
    return Geometry(
        width=width,
        height=height,
        font_size=font_size,
        chars=chars,
        top=opts.top * MM,
        bottom=opts.bottom * MM,
        inner=spare / 2 + gutter,
        outer=spare / 2,
        bleed_mm=bleed,
        marks=opts.marks and profile == "print",
        icc_profile=icc_path if profile == "print" else None,
        watermark=profile == "review" or opts.watermark,
    )


def running_head(label: str, title: str) -> str:
    """The recto head of a part: its label and its title up to the first colon, ! or ?.

    Manuscript titles are often a head and a subtitle ("Meta的开源革命：LLaMA引爆AI民主化"); the
    head line carries the short form, as printed books do.
    """
    short = re.split(r"[：:！!？?]", title, maxsplit=1)[0].strip() or title
    return f"{label} {short}".strip()


def css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _boxes(**content: str) -> str:
    """Margin boxes: the ones named get content, every other one is emptied."""
    out = []
    for box in MARGIN_BOXES:
        value = content.get(box.replace("-", "_"), "none")
        out.append(f"  @{box} {{ content: {value}; }}")
    return "\n".join(out)


def page_css(
    config: BookConfig, geo: Geometry, *, furniture: bool = True, ink: str = "#000", watermark_text: str = ""
) -> str:
    """The @page rules for the book: size, mirrored margins, bleed, heads, folios, watermark.

    Page names: `cover` (title page: nothing), `front` (roman folios), `body`/`opening` (chapters
    and appendices; `opening` is the first body part, where the arabic folios restart at 1), each
    with a `-draft` twin that carries the watermark. `furniture=False` empties every margin box
    (the parallel renderer stamps them at assembly).
    """
    pt = lambda v: f"{v:.4f}pt"  # noqa: E731
    title = css_string(config.title)
    lines = [
        "/* Generated from book.yaml `print:` by book.pdf.furniture; do not edit. */",
        "@page {",
        f"  size: {pt(geo.width)} {pt(geo.height)};",
        f"  margin: {pt(geo.top)} {pt(geo.outer)} {pt(geo.bottom)} {pt(geo.inner)};",
        f"  bleed: {geo.bleed_mm:g}mm;" if geo.bleed_mm else "",
        f"  marks: {'crop' if geo.marks else 'none'};",
        _boxes(),
        "}",
        f"@page :right {{ margin-left: {pt(geo.inner)}; margin-right: {pt(geo.outer)}; }}",
        f"@page :left {{ margin-left: {pt(geo.outer)}; margin-right: {pt(geo.inner)}; }}",
        f"html {{ font-size: {geo.font_size:g}pt; }}",
        f".furniture-head, .furniture-folio {{ color: {ink}; }}",
    ]
    head, head_rule, folio = _styles(geo, ink)
    mark = ""
    if watermark_text:
        mark = (
            "background: url(" + watermark_svg(geo, watermark_text) + ") no-repeat center; background-clip: border-box;"
        )
    if not furniture:
        lines.append(":root { --furniture: none; }")
    for draft in ("", "-draft"):
        extra = mark if draft else ""
        lines.append(f"@page cover{draft} {{ {_boxes()} {extra} }}")
        if furniture:
            roman = "counter(page, lower-roman)"
            lines.append(f"@page front{draft} {{ @bottom-center {{ content: {roman}; {folio} }} {extra} }}")
        else:
            lines.append(f"@page front{draft} {{ {extra} }}")
        for name in ("body", "opening"):
            n = name + draft
            if furniture:
                lines += [
                    f"@page {n}:left {{ {extra}",
                    f"  @top-left {{ content: {title}; {head} {head_rule} width: 100%; text-align: left; }}",
                    f"  @bottom-left {{ content: counter(page); {folio} text-align: left; }}",
                    "}",
                    f"@page {n}:right {{ {extra}",
                    f"  @top-right {{ content: string(part-head, first-except); {head} {head_rule}"
                    " width: 100%; text-align: right; }",
                    f"  @bottom-right {{ content: counter(page); {folio} text-align: right; }}",
                    "}",
                ]
            else:
                lines.append(f"@page {n} {{ {extra} }}")
        lines.append(f"@page :nth(1 of opening{draft}) {{ counter-reset: page 1; }}")
        if furniture:  # the opener page: a folio but no head (nor the head's rule)
            for name in ("body", "opening"):
                lines.append(
                    f"@page :nth(1 of {name}{draft}) {{ @top-left {{ content: none; }} @top-right {{ content: none; }} }}"
                )
    # A blank verso (inserted to start the next part on a recto) carries nothing at all.
    names = ["", "cover", "front", "body", "opening"]
    blank = ", ".join(f"@page {n}{d}:blank" if n else "@page :blank" for n in names for d in ("", "-draft"))
    for sel in blank.split(", "):
        lines.append(f"{sel} {{ {_boxes()} background: none; }}")
    return localize_css("\n".join(line for line in lines if line) + "\n", locale_for(config.language))


def _styles(geo: Geometry, ink: str) -> tuple[str, str, str]:
    """Declarations of the running head, its rule and the folio (shared by both renderers)."""
    head = f'font-family: "Noto Serif CJK SC", serif; font-size: {geo.font_size * 0.8:.2f}pt; color: {ink};'
    head_rule = f"border-bottom: 0.4pt solid {ink}; vertical-align: bottom; padding-bottom: 2pt;"
    folio = f'font-family: "Noto Serif CJK SC", serif; font-size: {geo.font_size * 0.85:.2f}pt; color: {ink};'
    return head, head_rule, folio


@dataclass(frozen=True)
class Sheet:
    """The furniture of one assembled page: what kind of page it is, its head and its folio."""

    kind: str  # "none" (title page, blank verso) | "front" | "opener" | "body"
    head: str = ""
    folio: str = ""


def furniture_document(config: BookConfig, geo: Geometry, sheets: list[Sheet], ink: str) -> tuple[str, str]:
    """(HTML, CSS) of a document with one page per sheet, carrying only heads and folios.

    The parallel renderer stamps its page i over page i of the assembled book; since every part
    starts on a recto, the left/right alternation of both documents matches.
    """
    head, head_rule, folio = _styles(geo, ink)
    pt = lambda v: f"{v:.4f}pt"  # noqa: E731
    css = [
        "@page {",
        f"  size: {pt(geo.width)} {pt(geo.height)};",
        f"  margin: {pt(geo.top)} {pt(geo.outer)} {pt(geo.bottom)} {pt(geo.inner)};",
        _boxes(),
        "}",
        f"@page :right {{ margin-left: {pt(geo.inner)}; margin-right: {pt(geo.outer)}; }}",
        f"@page :left {{ margin-left: {pt(geo.outer)}; margin-right: {pt(geo.inner)}; }}",
        "html, body { margin: 0; }",
        ".sheet { break-before: page; height: 1px; string-set: head attr(data-head), folio attr(data-folio); }",
        ".sheet:first-child { break-before: auto; }",
        ".s-none { page: s-none; } .s-front { page: s-front; } .s-opener { page: s-opener; } .s-body { page: s-body; }",
        f"@page s-front {{ @bottom-center {{ content: string(folio); {folio} }} }}",
        f"@page s-opener:left {{ @bottom-left {{ content: string(folio); {folio} text-align: left; }} }}",
        f"@page s-opener:right {{ @bottom-right {{ content: string(folio); {folio} text-align: right; }} }}",
        "@page s-body:left {",
        f"  @top-left {{ content: string(head); {head} {head_rule} width: 100%; text-align: left; }}",
        f"  @bottom-left {{ content: string(folio); {folio} text-align: left; }}",
        "}",
        "@page s-body:right {",
        f"  @top-right {{ content: string(head); {head} {head_rule} width: 100%; text-align: right; }}",
        f"  @bottom-right {{ content: string(folio); {folio} text-align: right; }}",
        "}",
    ]
    rows = [
        f'<div class="sheet s-{s.kind}" data-head="{html.escape(s.head)}" data-folio="{html.escape(s.folio)}"></div>'
        for s in sheets
    ]
    lang = config.pdf_language
    doc = f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"/></head><body>{"".join(rows)}</body></html>'
    return doc, localize_css("\n".join(css) + "\n", locale_for(config.language))


def watermark_svg(geo: Geometry, text: str) -> str:
    """A data: URL of an SVG with the draft mark, drawn diagonally across the type area."""
    from urllib.parse import quote

    w, h = geo.width, geo.height
    size = w / 10
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.1f}pt" height="{h:.1f}pt" viewBox="0 0 {w:.1f} {h:.1f}">'
        f'<text x="{w / 2:.1f}" y="{h / 2:.1f}" text-anchor="middle" font-family="Noto Sans CJK SC" '
        f'font-size="{size:.1f}" fill="#c00000" fill-opacity="0.12" '
        f'transform="rotate(-35 {w / 2:.1f} {h / 2:.1f})">{html.escape(text)}</text></svg>'
    )
    return '"data:image/svg+xml,' + quote(svg) + '"'
