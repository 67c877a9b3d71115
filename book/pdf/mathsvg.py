"""Formulas for print: the MathML in a part's body → SVG images drawn with ziamath (outlined glyphs).

WeasyPrint has no MathML. ziamath lays MathML out in pure Python with its bundled STIX Two Math
and writes each glyph as an SVG path, so the PDF carries the formula as vectors and no font. Each
`<math>` is swapped for an `<img>` of its SVG, sized in `em` so it follows the text's size, and
lowered by its depth so the formula's baseline sits on the line's; a display formula is centred by
its `.equation` wrapper. A formula with CJK text (`\\text{中文}`), which STIX has no glyphs for and
ziamath would silently leave out, is printed as its TeX in code instead (the parts stage warned at
its line: book.parts.formulas); the EPUB keeps its MathML. The SVGs are cached by the hash of their
MathML (and ink) in the build's cache, so an unchanged formula is drawn once.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from book.engine.atomic import write_text
from book.text import CJK_TEXT_RE

MATH = re.compile(r"<math\b[^>]*>.*?</math>", re.S)
TEX = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)
VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
# ziamath draws in px at this size; the image is then sized in em, so the number only sets the
# precision of the paths (3 decimals at 20 px: 0.0002 em).
DRAW_SIZE = 20.0
VERSION = "1"  # part of the cache key: bump when the drawing changes


def _plain_mathml(mathml: str) -> str:
    """Pandoc's MathML without `semantics`/`annotation`, which ziamath does not know."""
    mathml = TEX.sub("", mathml)
    return re.sub(r"</?semantics>", "", mathml)


def draw(mathml: str, ink: str) -> str:
    """One formula's SVG, its glyphs as paths in `ink`."""
    import ziamath

    ziamath.config.svg2 = False  # plain paths: WeasyPrint's SVG has no <symbol> viewBox
    # ziamath logs through the root logger (`logging.warning`), which with no handler there sets up
    # logging.basicConfig for the whole process: WeasyPrint's collected messages then print too.
    root, null = logging.getLogger(), logging.NullHandler()
    root.addHandler(null)
    try:
        svg = ziamath.Math(_plain_mathml(mathml), size=DRAW_SIZE, margin=0).svg()
    finally:
        root.removeHandler(null)
    return svg.replace("<svg ", f'<svg fill="{ink}" ', 1).replace('fill="black"', f'fill="{ink}"')


def svg_file(mathml: str, ink: str, cache_dir: Path) -> Path:
    """The cached SVG of a formula, drawn if it is not there yet."""
    key = hashlib.sha256(f"{VERSION}\0{ink}\0{mathml}".encode()).hexdigest()[:24]
    path = cache_dir / f"{key}.svg"
    if not path.is_file():
        write_text(path, draw(mathml, ink))
    return path


def image_tag(mathml: str, ink: str, cache_dir: Path) -> str:
    """The `<img>` that stands for one `<math>` in print (its TeX as code when ziamath cannot draw it)."""
    if has_cjk_text(mathml):
        tex = TEX.search(mathml)
        display = 'display="block"' in mathml[: mathml.find(">")]
        cls = "math-source display" if display else "math-source"
        return f'<code class="{cls}">{tex.group(1).strip() if tex else _text_of(mathml)}</code>'
    path = svg_file(mathml, ink, cache_dir)
    box = VIEWBOX.search(path.read_text(encoding="utf-8"))
    x, y, w, h = (float(v) for v in box.groups()) if box else (0.0, 0.0, DRAW_SIZE, DRAW_SIZE)
    depth = y + h  # the baseline is y = 0: what lies below it
    display = 'display="block"' in mathml[: mathml.find(">")]
    tex = TEX.search(mathml)
    alt = tex.group(1).strip() if tex else "formula"
    style = f"width:{w / DRAW_SIZE:.3f}em;height:{h / DRAW_SIZE:.3f}em;vertical-align:{-depth / DRAW_SIZE:.3f}em"
    cls = "math-svg display" if display else "math-svg"
    return f'<img class="{cls}" src="{path.as_uri()}" alt={quoteattr(_unescape(alt))} style="{style}"/>'


def has_cjk_text(mathml: str) -> bool:
    """Whether a formula's MathML carries text STIX Two Math has no glyphs for (Han, kana, Hangul…)."""
    return bool(CJK_TEXT_RE.search(_text_of(TEX.sub("", mathml))))


def _text_of(mathml: str) -> str:
    return re.sub(r"<[^>]*>", "", mathml)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def swap(body: str, ink: str = "black", cache_dir: Path | None = None) -> str:
    """Every `<math>` of a rendered body replaced by its SVG image."""
    if "<math" not in body:
        return body
    folder = cache_dir or Path(tempfile.gettempdir()) / "book-math-cache"
    return MATH.sub(lambda m: image_tag(m.group(0), ink, folder), body)
