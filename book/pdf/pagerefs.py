"""Page references: a print part's links to other chapters → the same links followed by the target's page.

Print cannot be clicked, so `见第三章` becomes `见第三章（见第 41 页）` (the format is
`print.page_reference_format`, by default the language's; `print.page_references: false` turns
it off). The number is known only after layout. Laid out as one document, CSS asks for it
(`target-counter`, style in print.css); the parallel renderer lays each part out alone, so it
first sets a placeholder of a folio's width, then, with every part's folios known (the map the
table of contents is numbered from), lays the referring parts out again with the numbers.
"""

from __future__ import annotations

import html
import re

from book.locale import locale_for
from book.model import BookConfig, RenderedPart

# A link into another document of the book, as the rendered body has it (before `#id` in print).
XREF = re.compile(r'(<a\b[^>]*?\shref="[\w.-]+\.xhtml#([^"]+)"[^>]*>.*?</a>)', re.S)
PLACEHOLDER = "000"


def _format(config: BookConfig) -> tuple[str, str] | None:
    if not config.print.page_references:
        return None
    text = config.print.page_reference_format or locale_for(config.language)["page_reference"]
    before, _, after = text.partition("{page}")
    return html.escape(before, quote=False), html.escape(after, quote=False)


def has_references(config: BookConfig, part: RenderedPart) -> bool:
    return part.kind != "front" and _format(config) is not None and XREF.search(part.body) is not None


def add(config: BookConfig, part: RenderedPart, body: str, pages: dict[str, str] | None) -> str:
    """`body` with a page reference after each link to another document.

    `pages` maps a target id to its folio (a target it lacks gets the placeholder); None asks the
    layout (one document).
    """
    fmt = _format(config) if part.kind != "front" else None
    if fmt is None:
        return body
    before, after = fmt

    def one(m: re.Match[str]) -> str:
        target = m.group(2)
        if pages is None:
            number = f'<a class="page-ref-n" href="#{target}"></a>'
        else:
            number = html.escape(pages.get(target, PLACEHOLDER))
        return f'{m.group(1)}<span class="page-ref">{before}{number}{after}</span>'

    return XREF.sub(one, body)
