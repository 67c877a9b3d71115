"""Cover spread: book.yaml + the interior's page count → `<slug>-cover.pdf`, the printer's cover file.

One PDF/X-4 page holds back, spine and front at the trim size with bleed on every side (TrimBox and
BleedBox set; crop and spine-fold marks outside the bleed on request). The spine is the interior's
leaves × the paper's caliper (book.cover.press); its text runs top to bottom, Chinese upright and Latin
turned, when the spine is wide enough. The back carries the blurb, the ISBN as EAN-13 vector bars in
K only with its digits (book.cover.isbn), and the 定价. Laid out by WeasyPrint from `cover-spread.html.j2`
and `cover.css` (the book's own templates/ and styles/ folders first); the design colours go through
the press condition's ICC profile, greys stay K only. Same inputs, same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from book.cover import isbn as isbn_mod
from book.cover import press
from book.engine.atomic import atomic_path
from book.errors import BookError, Diagnostics, Problem, display_path
from book.model import BookConfig
from book.parts.render import book_context, environment
from book.pdf.furniture import MM
from book.text import key_line

MARK_SLUG_MM = 10.0  # paper outside the bleed for the marks
MARK_LENGTH_MM = 5.0
MIN_DPI = 300


@dataclass(frozen=True)
class Spread:
    """The cover's geometry in millimetres (x from the back's outer trim edge, y from the top)."""

    trim_w: float
    trim_h: float
    spine: float
    bleed: float
    pages: int
    caliper: float
    marks: bool

    @property
    def width(self) -> float:
        """Trimmed width: back + spine + front."""
        return 2 * self.trim_w + self.spine

    @property
    def full_width(self) -> float:
        return self.width + 2 * self.bleed

    @property
    def full_height(self) -> float:
        return self.trim_h + 2 * self.bleed

    @property
    def front_x(self) -> float:
        return self.trim_w + self.spine


def spread(config: BookConfig, pages: int) -> Spread:
    """The spread for an interior of `pages` pages."""
    opts = config.print
    w, h = opts.trim
    bleed = opts.bleed if opts.cover_bleed is None else opts.cover_bleed
    if bleed > 20:
        line = opts.lines.get("cover_bleed" if opts.cover_bleed is not None else "bleed")
        raise BookError(Problem(display_path(config.config_path), line, f"print: a cover bleed of {bleed:g} mm is not a bleed",
                                "give millimetres, e.g. cover_bleed: 3"))  # fmt: skip
    marks = opts.marks if opts.cover_marks is None else opts.cover_marks
    return Spread(w, h, press.spine_mm(config, pages), bleed, pages, press.caliper_mm(config), marks)


def book_isbn(config: BookConfig) -> isbn_mod.ISBN | None:
    """The print ISBN of book.yaml (top-level `isbn:`, else `print.isbn`), validated; a bad one is a
    user error on its line."""
    written = config.isbn or config.print.isbn
    if not written:
        return None
    try:
        return isbn_mod.parse(written)
    except isbn_mod.InvalidISBN as exc:
        message, hint = exc.args
        if config.isbn:
            line = key_line(config.config_path.read_text(encoding="utf-8"), "isbn")  # the top-level key
        else:
            line = config.print.lines.get("isbn")
        raise BookError(Problem(display_path(config.config_path), line, message, hint)) from None


def interior_pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


# --- the spine's text ----------------------------------------------------------------------------

_LATIN_RUN = re.compile(r"[\x21-\x7e\u00c0-\u024f](?:[\x20-\x7e\u00c0-\u024f]*[\x21-\x7e\u00c0-\u024f])?")


def spine_runs(text: str) -> list[tuple[str, bool]]:
    """Text → (run, upright): CJK characters one by one (kept upright when the line is turned),
    Latin words and numbers as whole runs (turned with the line, read from top to bottom)."""
    runs: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        m = _LATIN_RUN.match(text, i)
        if m:
            runs.append((m.group(0), False))
            i = m.end()
        elif text[i].isspace():
            runs.append((" ", False))
            i += 1
        else:
            runs.append((text[i], True))
            i += 1
    return runs


def spine_html(text: str) -> str:
    return "".join(
        f'<span class="up">{html.escape(run)}</span>' if upright else html.escape(run)
        for run, upright in spine_runs(text)
    )


def _spine_length_em(text: str) -> float:
    return sum(1.0 if up else 0.55 * len(run) for run, up in spine_runs(text))


# --- rendering -----------------------------------------------------------------------------------


def geometry_css(s: Spread, spine_font_pt: float) -> str:
    """The generated rules: page size and bleed, the three panels, the spine line."""
    mm = lambda v: f"{v:.3f}mm"  # noqa: E731
    return "\n".join([
        "/* Generated by book.cover.spread from the spread's geometry; do not edit. */",
        f"@page {{ size: {mm(s.width)} {mm(s.trim_h)}; margin: 0; bleed: {s.bleed:g}mm; marks: none; }}",
        f":root {{ --bleed: {mm(s.bleed)}; --trim-w: {mm(s.trim_w)}; --trim-h: {mm(s.trim_h)}; --spine: {mm(s.spine)}; }}",
        f".back {{ left: 0; width: {mm(s.trim_w)}; }}",
        f".spine {{ left: {mm(s.trim_w)}; width: {mm(s.spine)}; }}",
        f".front {{ left: {mm(s.front_x)}; width: {mm(s.trim_w)}; }}",
        f".back .ground {{ left: -{mm(s.bleed)}; width: {mm(s.trim_w + s.bleed)}; }}",
        f".front .ground {{ width: {mm(s.trim_w + s.bleed)}; }}",
        f".panel .ground {{ top: -{mm(s.bleed)}; height: {mm(s.trim_h + 2 * s.bleed)}; }}",
        # The spine's line is laid out horizontally, then turned a quarter clockwise about its
        # top-left corner onto the spine: Latin reads top to bottom, `.up` turns CJK back upright.
        f".spine-line {{ width: {mm(s.trim_h - 30)}; height: {mm(s.spine)}; line-height: {mm(s.spine)};"
        f" transform: translate({mm(s.spine)}, 15mm) rotate(90deg); font-size: {spine_font_pt:.2f}pt; }}",
    ]) + "\n"  # fmt: skip


OCRB_ADVANCE_EM = 0.723  # every OCR-B glyph's advance (a monospaced face)


def barcode_html(code: isbn_mod.ISBN, scale: float) -> str:
    """The EAN-13 symbol as absolutely placed K rectangles, its digits in OCR-B below and the ISBN
    line above across the whole symbol (quiet zones included), in millimetres."""
    x = isbn_mod.MODULE_MM * scale
    height = isbn_mod.BAR_HEIGHT_MM * scale
    quiet = isbn_mod.QUIET_LEFT * x
    total_w = (isbn_mod.QUIET_LEFT + 95 + isbn_mod.QUIET_RIGHT) * x
    line = code.display
    line_size = min(total_w / (len(line) * OCRB_ADVANCE_EM), 3.0 * scale)
    top = line_size * 1.35
    parts = [
        f'<b class="isbn-line" style="left:0;width:{total_w:.4f}mm;top:0;font-size:{line_size:.4f}mm">'
        f"{html.escape(line)}</b>"
    ]
    guards = isbn_mod.guard_modules()
    for start, width in isbn_mod.bars(code.modules()):
        h = height if start in guards else height - isbn_mod.GUARD_EXTRA_MODULES * x
        parts.append(
            f'<i class="bar" style="left:{quiet + start * x:.4f}mm;top:{top:.4f}mm;'
            f'width:{width * x:.4f}mm;height:{h:.4f}mm"></i>'
        )
    digit_top = top + height - isbn_mod.GUARD_EXTRA_MODULES * x + 0.5 * x
    size = 2.75 * scale  # OCR-B digits 2.75 mm tall at 100 %
    d = code.digits
    groups = [(d[0], quiet - 7 * x, 7 * x), (d[1:7], quiet + 3 * x, 42 * x), (d[7:], quiet + 50 * x, 42 * x)]
    for text, left, width in groups:
        parts.append(
            f'<b class="digits" style="left:{left:.4f}mm;width:{width:.4f}mm;top:{digit_top:.4f}mm;'
            f'font-size:{size:.3f}mm">{text}</b>'
        )
    total_h = digit_top + size * 1.1
    return (
        f'<div class="barcode" data-isbn="{d}" style="width:{total_w:.4f}mm;height:{total_h:.4f}mm">'
        + "".join(parts)
        + "</div>"
    )


def background(config: BookConfig, s: Spread, diag: Diagnostics) -> str | None:
    """The front's background image as a file URI, warned about when it prints under 300 dpi."""
    given = config.print.cover_background
    if not given:
        return None
    path = (config.root / given).resolve()
    where = config.config_path
    line = config.print.lines.get("cover_background")
    try:
        path.relative_to(config.root.resolve())
    except ValueError:
        raise BookError(Problem(display_path(where), line, f"cover_background '{given}' is outside the book's folder",
                                "move it inside")) from None  # fmt: skip
    if not path.is_file():
        raise BookError(Problem(display_path(where), line, f"cover_background '{given}' not found",
                                "check the path (relative to book.yaml)"))  # fmt: skip
    try:
        px_w, px_h = press.image_pixels(path.read_bytes())
    except OSError:
        raise BookError(Problem(display_path(where), line, f"cover_background '{given}' is not an image",
                                "use a PNG or JPEG")) from None  # fmt: skip
    box_w, box_h = s.trim_w + s.bleed, s.trim_h + 2 * s.bleed  # covered, as CSS background-size: cover
    dpi = 25.4 / max(box_w / px_w, box_h / px_h)
    if dpi < MIN_DPI:
        need = (round(box_w / 25.4 * MIN_DPI), round(box_h / 25.4 * MIN_DPI))
        diag.warn(where, line, f"cover_background '{given}' prints at {dpi:.0f} dpi (under {MIN_DPI})",
                  f"use an image of at least {need[0]}×{need[1]} px")  # fmt: skip
    return path.as_uri()


def cover_html(config: BookConfig, s: Spread, code: isbn_mod.ISBN | None, diag: Diagnostics) -> tuple[str, float]:
    """The spread's HTML and the spine's font size (0: no spine text)."""
    min_spine = config.print.spine_text_min_mm
    author_line = "、".join(config.authors) + " 著" if config.authors else ""
    spine_text = [t for t in (config.title, author_line, config.publisher) if t]
    font_pt = 0.0
    if s.spine >= min_spine:
        # At most 70 % of the spine's width, and small enough that the three items fit its height.
        length_em = sum(_spine_length_em(t) for t in spine_text) + 6
        font_pt = min(s.spine * 0.62 / 25.4 * 72, 16.0, (s.trim_h - 30) / length_em / 25.4 * 72)
    else:
        diag.warn(config.config_path, None,
                  f"the spine is {s.spine:.1f} mm ({s.pages} pages of {s.caliper:g} mm leaves): too narrow for text",
                  f"spine text needs {min_spine:g} mm; it is left off")  # fmt: skip
    blurb = [p.strip() for p in re.split(r"\n\s*\n|\n", config.blurb) if p.strip()]
    scale = config.print.barcode_scale
    if not 0.8 <= scale <= 2.0:
        raise BookError(Problem(display_path(config.config_path), config.print.lines.get("barcode_scale"),
                                f"barcode_scale {scale:g} is outside 0.8–2.0", "EAN-13 may be printed at 80–200 %"))  # fmt: skip
    price = config.price.strip()
    if price and re.fullmatch(r"\d+(\.\d+)?", price):
        price = f"{float(price):.2f}元"
    context = {
        "book": book_context(config),
        "author_line": author_line,
        "spine": [spine_html(t) for t in spine_text] if font_pt else [],
        "blurb": blurb,
        "price": price,
        "isbn": code,
        "barcode": barcode_html(code, scale) if code else "",
        "background": background(config, s, diag),
        "lang": config.pdf_language,
        "geometry": s,
    }
    return environment(config).get_template("cover-spread.html.j2").render(**context), font_pt


def _marks(s: Spread) -> bytes:
    """Crop marks at the four corners and fold marks at the spine, K only, outside the bleed."""
    pt = lambda v: v * MM  # noqa: E731
    gap, length = pt(s.bleed + 1), pt(MARK_LENGTH_MM)
    w, h = pt(s.width), pt(s.trim_h)
    ops = ["q", "0 0 0 1 K", "0.25 w"]

    def line(x1: float, y1: float, x2: float, y2: float) -> None:
        ops.append(f"{x1:.3f} {y1:.3f} m {x2:.3f} {y2:.3f} l S")

    for x in (0, w):
        for y, sign in ((0, -1), (h, 1)):
            line(x, y + sign * gap, x, y + sign * (gap + length))
    for y in (0, h):
        for x, sign in ((0, -1), (w, 1)):
            line(x + sign * gap, y, x + sign * (gap + length), y)
    for x in (pt(s.trim_w), pt(s.front_x)):  # spine folds
        line(x, -gap, x, -(gap + length))
        line(x, h + gap, x, h + gap + length)
    ops.append("Q")
    return ("\n".join(ops) + "\n").encode()


def write_cover(
    config: BookConfig, target: Path, pages: int, diag: Diagnostics, *, epoch: int | None = None
) -> tuple[Path, Spread]:
    """Lay out and write the cover PDF for an interior of `pages` pages."""
    import pikepdf

    from book.pdf.finish import finish_document, save_pdf
    from book.pdf.layout import render_document, write_bytes
    from book.pdf.weasy.fonts import font_data_when_needed

    code = book_isbn(config)  # before anything is drawn
    if code is None:
        diag.warn(config.config_path, None, "book.yaml has no 'isbn': the back cover carries no barcode",
                  'add isbn: "978-7-…" from the CIP data')  # fmt: skip
    intent = press.output_intent(config)
    assert intent is not None
    s = spread(config, pages)
    body, font_pt = cover_html(config, s, code, diag)
    css = [
        press.cmyk_css(config.find_style("cover.css").read_text(encoding="utf-8"), intent),
        geometry_css(s, font_pt),
        press.colour_profile_css(intent),
    ]
    doc, messages = render_document(body, css, str(config.root) + "/")
    seed = hashlib.sha256("\0".join([body, *css]).encode("utf-8")).hexdigest()
    with font_data_when_needed():
        data = write_bytes(doc, {"pdf_variant": "pdf/x-4"}, seed)
    for msg in messages:
        diag.warn(target, None, f"WeasyPrint: {msg}")
    stamp = _date(epoch)
    stand_in = types.SimpleNamespace(config=config, build_date=lambda: stamp)  # what finish_document reads
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
        with pikepdf.open(tmp, allow_overwriting_input=True) as pdf:
            press.cmyk_images(pdf, intent)
            press.set_output_intent(pdf, intent)
            page = pdf.pages[0]
            if s.marks:
                slug = MARK_SLUG_MM * MM
                bleed = page.obj.BleedBox
                page.obj.MediaBox = pikepdf.Array([float(bleed[0]) - slug, float(bleed[1]) - slug,
                                                   float(bleed[2]) + slug, float(bleed[3]) + slug])  # fmt: skip
                page.contents_add(pdf.make_stream(_marks(s)), prepend=False)
            pdf.docinfo["/Title"] = f"{config.title} 封面"
            pdf.docinfo["/BookInteriorPages"] = str(pages)
            pdf.docinfo["/BookSpineMM"] = f"{s.spine:.2f}"
            finish_document(pdf, stand_in, "print")
            save_pdf(pdf, tmp)
    return target, s


def _date(epoch: int | None) -> dt.datetime:
    """The cover's date: SOURCE_DATE_EPOCH, else the interior's day, else 1980-01-01 (midnight UTC),
    as the interior's own `Build.build_date`."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env and env.isdigit():
        return dt.datetime.fromtimestamp(int(env), tz=dt.UTC)
    if epoch is None:
        return dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
    day = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def interior_epoch(path: Path) -> int | None:
    """The interior PDF's date (its SOURCE_DATE_EPOCH), so cover and interior carry the same one."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        stamp = str(pdf.docinfo.get("/ModDate", ""))
    m = re.match(r"D:(\d{14})", stamp)
    if not m:
        return None
    return int(dt.datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC).timestamp())


def make_cover(config: BookConfig, out: Path, diag: Diagnostics, pages: int | None = None) -> tuple[Path, Spread]:
    """`book cover`: `<slug>-cover.pdf` for the built interior `<slug>.pdf` in `out`, or for `pages`."""
    book_isbn(config)
    interior = out / f"{config.slug}.pdf"
    epoch = None
    if pages is None:
        if not interior.is_file():
            raise BookError(Problem(display_path(interior), None, "the interior has not been built",
                                    "run `make pdf`, or give the page count with --pages N"))  # fmt: skip
        pages = interior_pages(interior)
        epoch = interior_epoch(interior)
    elif pages < 1:
        raise BookError(Problem("--pages", None, f"{pages} is not a page count", "give the interior's pages"))
    return write_cover(config, out / f"{config.slug}-cover.pdf", pages, diag, epoch=epoch)


def describe(path: Path, s: Spread) -> dict[str, Any]:
    return {"path": str(path), "pages": s.pages, "spine_mm": s.spine, "width_mm": s.full_width}


# --- the EPUB's cover: the same front, in screen colours -----------------------------------------

EPUB_COVER_LONG_SIDE = 2400  # px; stores ask for at least 1600 on the long side


def front_png(config: BookConfig) -> bytes:
    """The front cover as the EPUB's cover image: the spread's design rendered once in sRGB (no
    press conversion), cut at the front's trim, its long side EPUB_COVER_LONG_SIDE px."""
    import io
    import subprocess
    import tempfile

    from PIL import Image

    from book.pdf.layout import render_document
    from book.pdf.weasy.fonts import font_data_when_needed

    quiet = Diagnostics(echo=False)
    w, h = config.print.trim
    s = Spread(w, h, 0.0, 0.0, 0, press.caliper_mm(config), False)
    body, font_pt = cover_html(config, s, None, quiet)
    css = [config.find_style("cover.css").read_text(encoding="utf-8"), geometry_css(s, font_pt)]
    doc, _ = render_document(body, css, str(config.root) + "/")
    dpi = EPUB_COVER_LONG_SIDE / (max(w, h) / 25.4)
    width, height = round(w / 25.4 * dpi), round(h / 25.4 * dpi)
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "front.pdf"
        with font_data_when_needed():
            doc.write_pdf(str(pdf))
        crop = ["-x", str(round(2 * w / 25.4 * dpi) - width), "-y", "0", "-W", str(width), "-H", str(height)]
        # A PPM, not a PNG: the same pixels without a PNG encoded there and decoded here (0.5 s).
        subprocess.run(["pdftoppm", "-r", f"{dpi:.4f}", *crop, "-singlefile", str(pdf), str(Path(tmp) / "front")],
                       check=True, capture_output=True, env={**os.environ, "SOURCE_DATE_EPOCH": "0"})  # fmt: skip
        with Image.open(Path(tmp) / "front.ppm") as im:
            front = im.convert("RGB")
    buf = io.BytesIO()
    front.save(buf, format="PNG")
    return buf.getvalue()
