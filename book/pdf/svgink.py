"""SVG images for print: an SVG's colours (attributes, `style`, `<style>`) → the same SVG in `device-cmyk()`.

WeasyPrint draws an SVG image's `fill="black"` as DeviceRGB, which a PDF/X-4 print file must not
carry (book.check.pdf); the diagrams' SVGs are rewritten once, their colours through the print
document's own conversion (greys to K only), and cached by content next to the original.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from tinycss2.color3 import parse_color

from book.engine.atomic import write_text

VERSION = "2"  # part of the cache key: bump when the rewriting changes
COLOUR = re.compile(r"((?:fill|stroke|stop-color|flood-color|lighting-color|color)\s*(?:=\s*[\"']|:\s*))([^\"';}!<>]+)")


def print_svg(svg: str, to_cmyk: Callable[[float, float, float], str]) -> str:
    """Every colour of an SVG's text as `to_cmyk(r, g, b)`; transparent paint as `none`."""

    def repl(m: re.Match[str]) -> str:
        value = m.group(2).strip()
        colour = parse_color(value)
        if colour is None or colour == "currentColor" or value.startswith("device-cmyk"):
            return m.group(0)
        if colour.alpha == 0:
            return m.group(1) + "none"
        return m.group(1) + to_cmyk(colour.red, colour.green, colour.blue)

    svg = COLOUR.sub(repl, svg)
    # What sets no fill (Graphviz's labels) inherits the root's: black, but DeviceRGB unless said.
    return re.sub(r"<svg\b(?![^>]*\sfill=)", lambda m: m.group(0) + f' fill="{to_cmyk(0, 0, 0)}"', svg, count=1)


def print_file(path: Path, to_cmyk: Callable[[float, float, float], str], cache_dir: Path) -> Path:
    """The print version of an SVG file, written once per content into `cache_dir`."""
    data = path.read_text(encoding="utf-8")
    key = hashlib.sha256(f"{VERSION}\0{data}".encode()).hexdigest()[:24]
    target = cache_dir / f"{key}.svg"
    if not target.is_file():
        write_text(target, print_svg(data, to_cmyk))
    return target
