"""Footnote check: a part's Markdown body → warnings for a `[^x]` reference with no `[^x]:`
definition (Pandoc would print it as written) and a definition nothing references (Pandoc drops it).

Read on the source, before Pandoc, with code spans and fenced or indented code blanked out (a
`[^x]` in code is an example, not a note); each warning names the line it was written on.
"""

from __future__ import annotations

import re

from book.errors import Diagnostics
from book.model import Part

FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
DEFINITION = re.compile(r"^[ ]{0,3}\[\^([^\]\s]+)\]:", re.M)
REFERENCE = re.compile(r"\[\^([^\]\s]+)\](?!:)")


def _blank(match: re.Match[str]) -> str:
    # Same length and the same newlines, so indices still map to the source's lines.
    return re.sub(r"[^\n]", " ", match.group(0))


def check(part: Part, diag: Diagnostics) -> None:
    """Warn about every footnote reference without a definition and definition without a reference."""
    text = CODE_SPAN.sub(_blank, FENCE.sub(_blank, part.body))
    defined = {m.group(1): m.start(1) for m in DEFINITION.finditer(text)}
    referenced: dict[str, int] = {}
    for m in REFERENCE.finditer(text):
        referenced.setdefault(m.group(1), m.start(1))
    for name, index in referenced.items():
        if name not in defined:
            diag.warn(part.source, part.line_at(index), f"footnote [^{name}] has no definition; it prints as written",
                      f"add a line '[^{name}]: …' or remove the reference")  # fmt: skip
    for name, index in defined.items():
        if name not in referenced:
            diag.warn(part.source, part.line_at(index), f"footnote [^{name}] is defined but never referenced; it is dropped",
                      f"cite it with [^{name}] in the text or delete the definition")  # fmt: skip
