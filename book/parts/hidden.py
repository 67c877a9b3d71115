"""Hidden text: a part's HTML fragment (before sanitising) → findings for text a reader would not see
and for style declarations the sanitiser drops.

Pasted HTML can carry text the author never meant to publish, or that hides keywords: elements with
the `hidden` attribute, inline `display: none`, `visibility: hidden`, `font-size: 0`, or a text
colour equal to its background (white on the white page by default). The sanitiser keeps only a
few presentational declarations (sanitize.STYLE_PROPERTIES); each one it drops is reported too, so
an author knows why the pasted passage looks different. A hiding declaration is reported once, as
hidden text, whether or not the sanitiser keeps it. Findings are (message, regex locating the
source line, hint), as `sanitize.findings` gives them; CSS is parsed with tinycss2 (WeasyPrint's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import tinycss2
import tinycss2.color3
from lxml import html as lxml_html

PAGE = (1.0, 1.0, 1.0)  # the page's background, for a colour set without one
HIDDEN_HINT = "readers will not see it: delete the text, or make it visible"
SHOWN_HINT = "the declaration is removed, so readers will see the text: delete it if it is not for them"
DROPPED_HINT = "write the passage in Markdown, or use a class on a <span>/<div> and style it"


def _declarations(style: str) -> list[tuple[str, str]]:
    """(lower-case property, value) for each declaration of an inline style."""
    out = []
    for d in tinycss2.parse_blocks_contents(style, skip_whitespace=True, skip_comments=True):
        if d.type == "declaration":
            out.append((d.lower_name, tinycss2.serialize(d.value).strip()))
    return out


def _rgb(value: str) -> tuple[float, float, float] | None:
    color = tinycss2.color3.parse_color(value)
    if color is None or isinstance(color, str) or color.alpha == 0:  # currentColor, transparent
        return None
    return (round(color.red, 3), round(color.green, 3), round(color.blue, 3))


def _hiding(prop: str, value: str) -> str | None:
    """Why a declaration hides its text, or None."""
    v = value.lower().replace(" ", "").removesuffix("!important")
    if prop == "display" and v == "none":
        return "display: none"
    if prop == "visibility" and v in ("hidden", "collapse"):
        return f"visibility: {v}"
    if prop == "font-size" and re.fullmatch(r"0(\.0*)?([a-z%]*)", v):
        return "font-size: 0"
    if prop == "opacity" and re.fullmatch(r"0(\.0*)?%?", v):
        return "opacity: 0"
    return None


def _snippet(el) -> str:
    text = " ".join("".join(el.itertext()).split())
    return text[:30] + ("…" if len(text) > 30 else "")


def _style_pattern(tag: str, prop: str) -> str:
    return rf"<{re.escape(tag)}\b[^>]*\bstyle\s*=\s*[\"'][^\"']*(?<![\w-]){re.escape(prop)}\s*:"


def findings(fragment: str, kept: set[str], style_allowed) -> Iterator[tuple[str, str, str]]:  # noqa: ANN001
    """Hidden text and dropped declarations in `fragment`; `kept`: the properties the sanitiser
    keeps; `style_allowed(tag)`: whether it keeps a style attribute on that element at all."""
    if "hidden" not in fragment and "style" not in fragment:
        return
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    background: dict[object, tuple[float, float, float]] = {root: PAGE}
    for el in root.iter():
        if el is root or not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        parent = el.getparent()
        bg = background.get(parent, PAGE)
        text = _snippet(el)
        if el.get("hidden") is not None and text:
            yield (f"hidden text (the hidden attribute on <{tag}>): '{text}'",
                   rf"<{re.escape(tag)}\b[^>]*\bhidden\b", HIDDEN_HINT)  # fmt: skip
        style = el.get("style")
        if not style:
            background[el] = bg
            continue
        decls = _declarations(style)
        colour = None
        for prop, value in decls:
            if prop == "background-color" and (rgb := _rgb(value)) is not None:
                bg = rgb
            elif prop == "color":
                colour = _rgb(value)
        background[el] = bg
        for prop, value in decls:
            why = _hiding(prop, value)
            if why and text:
                hint = HIDDEN_HINT if prop in kept and style_allowed(tag) else SHOWN_HINT
                yield f"hidden text ({why} on <{tag}>): '{text}'", _style_pattern(tag, prop), hint
            elif prop not in kept and style_allowed(tag) and not why:
                yield (f"style declaration '{prop}: {value[:40]}' removed from <{tag}>",
                       _style_pattern(tag, prop), DROPPED_HINT)  # fmt: skip
        if colour is not None and colour == bg and text:
            yield (f"hidden text (text colour same as its background on <{tag}>): '{text}'",
                   _style_pattern(tag, "color"), HIDDEN_HINT)  # fmt: skip
