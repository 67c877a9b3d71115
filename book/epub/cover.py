"""Cover stage: book.yaml's `cover:` image, or the title and authors → a cover image (PNG/JPEG bytes).

A book that names its own cover (`cover: images/cover.jpg`, a path inside the book's folder) gets
that image as is; otherwise it is the printed cover's front (book.cover.spread: the same template
and style, in sRGB, 2400 px tall), or, without pdftoppm, a plain typographic cover drawn with
Pillow in the book's own CJK faces. Either way the image is at least 1600 px tall, as the retail
stores ask.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from book.bounds import MAX_IMAGE_BYTES, FileTooLarge, ImageTooLarge, open_image, read_capped
from book.engine import pillow_warnings
from book.engine.cache import Cache, digest
from book.engine.isolated import run_isolated
from book.epub.fonts import locate
from book.errors import Diagnostics, error
from book.locale import locale_for
from book.model import BookConfig
from book.text import key_line

WIDTH, HEIGHT = 1600, 2400  # 2:3, the ratio Apple and Kobo recommend
MIN_HEIGHT = 1600
MEDIA_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}
PAPER, INK, ACCENT = (246, 241, 231), (33, 30, 28), (139, 0, 0)


@dataclass
class Cover:
    data: bytes
    media_type: str
    href: str  # images/cover.<ext>
    width: int
    height: int
    generated: bool


def make_cover(config: BookConfig, diag: Diagnostics, cache: Cache) -> Cover:
    given = config.cover
    if given:
        return _given_cover(config, given, diag)
    if shutil.which("pdftoppm"):  # the printed cover's front, in screen colours (book.cover.spread)
        return _printed_front(config, cache)
    key = digest("cover-1", config.title, config.subtitle, list(config.authors), config.publisher,
                 [locate(*f)[0] for f in _FACES.values()])  # fmt: skip
    data = cache.memo("cover", key, lambda: draw_cover(config))
    return Cover(data, "image/png", "images/cover.png", WIDTH, HEIGHT, True)


def cover_line(config: BookConfig) -> int | None:
    """The line of `cover:` in book.yaml (top level, else under `epub:`), for its messages."""
    if "cover" in config.epub.lines:
        return config.epub.lines["cover"]
    try:
        text = config.config_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    return key_line(text, "cover")


def _printed_front(config: BookConfig, cache: Cache) -> Cover:
    from book.cover.spread import front_png
    from book.parts.render import environment

    template = Path(environment(config).get_template("cover-spread.html.j2").filename or "")
    background = (config.root / config.print.cover_background) if config.print.cover_background else None
    key = digest("cover-front-1", config.title, config.subtitle, list(config.authors), config.publisher,
                 config.language, repr(config.print.trim), background, template.read_text(encoding="utf-8"),
                 config.find_style("cover.css").read_text(encoding="utf-8"))  # fmt: skip
    # In a child: the layout's fonts and caches would stay in this process (book.engine.isolated)
    data = cache.memo("cover", key, lambda: run_isolated(front_png, config))
    with Image.open(io.BytesIO(data)) as im:
        return Cover(data, "image/png", "images/cover.png", im.width, im.height, True)


def _given_cover(config: BookConfig, given: str, diag: Diagnostics) -> Cover:
    path = (config.root / given).resolve()
    where = config.config_path
    line = cover_line(config)
    try:
        path.relative_to(config.root.resolve())
    except ValueError:
        raise error(where, line, f"cover '{given}' is outside the book's folder", "move it inside") from None
    if not path.is_file():
        raise error(where, line, f"cover '{given}' not found", "check the path in `cover:`")
    try:
        data = read_capped(path, MAX_IMAGE_BYTES, "the cover")
        with pillow_warnings.reported(diag, where, line, f"cover '{given}'"), open_image(io.BytesIO(data)) as im:
            fmt, (w, h) = im.format, im.size
    except (ImageTooLarge, FileTooLarge) as exc:
        raise error(where, None, f"cover '{given}': {exc}", "use a PNG or JPEG of at most 1600×2400 px or so") from None
    except OSError:
        raise error(where, line, f"cover '{given}' is not an image", "use a PNG or JPEG") from None
    if fmt not in MEDIA_TYPES:
        raise error(where, line, f"cover '{given}' is {fmt}", "use a PNG or JPEG")
    if h < MIN_HEIGHT:
        diag.warn(where, line, f"cover '{given}' is {w}×{h} px", f"stores ask for at least {MIN_HEIGHT} px tall")
    media_type, ext = MEDIA_TYPES[fmt]
    return Cover(data, media_type, f"images/cover.{ext}", w, h, False)


_FACES = {
    "title": ("Noto Sans CJK SC:style=Bold", "Noto Sans CJK SC"),
    "text": ("Noto Serif CJK SC:style=Regular", "Noto Serif CJK SC"),
}


def _font(role: str, size: int) -> ImageFont.FreeTypeFont:
    path, index = locate(*_FACES[role])
    return ImageFont.truetype(str(path), size, index=index)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break CJK text at any character (Latin words kept whole) to fit `width`."""
    lines, line = [], ""
    for token in _tokens(text):
        if line and font.getlength(line + token) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line:
        lines.append(line)
    return lines


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        if out and ch.isascii() and not ch.isspace() and out[-1][-1:].isascii() and not out[-1][-1:].isspace():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def draw_cover(config: BookConfig) -> bytes:
    """A typographic cover: title block on paper, a red rule, authors and publisher below."""
    im = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    d = ImageDraw.Draw(im)
    margin = 170
    width = WIDTH - 2 * margin
    d.rectangle((0, 0, WIDTH, 90), fill=ACCENT)
    d.rectangle((0, HEIGHT - 90, WIDTH, HEIGHT), fill=ACCENT)
    y = 520
    title_font = _font("title", 150)
    for line in _wrap(config.title, title_font, width):
        d.text((margin, y), line, font=title_font, fill=INK)
        y += 200
    if config.subtitle:
        sub_font = _font("text", 72)
        y += 20
        for line in _wrap(config.subtitle, sub_font, width):
            d.text((margin, y), line, font=sub_font, fill=INK)
            y += 100
    y += 60
    d.rectangle((margin, y, margin + 240, y + 12), fill=ACCENT)
    author_font = _font("text", 64)
    y = HEIGHT - 640
    for line in _wrap("、".join(config.authors) + " " + locale_for(config.language)["by"], author_font, width):
        d.text((margin, y), line, font=author_font, fill=INK)
        y += 90
    if config.publisher:
        pub_font = _font("title", 56)
        d.text((margin, HEIGHT - 300), config.publisher, font=pub_font, fill=INK)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
