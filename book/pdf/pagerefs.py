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
XREF = re.compile(
    r'(<a\b(?! class="(?:crossref|glossary-link)")(?![^>]*epub:type="index-locator")[^>]*?\shref="[\w.-]+\.xhtml#([^"]+)"[^>]*>.*?</a>)',
    re.S,
)
# Where a cross-reference asks for its target's page (`crossref: {page: true}`, book.parts.crossref).
SLOT = re.compile(r'<span class="page-slot" data-target="([^"]+)"></span>')
PLACEHOLDER = "000"


def _format(config: BookConfig) -> tuple[str, str] | None:
    if not config.print.page_references:
        return None
    text = config.print.page_reference_format or locale_for(config.language)["page_reference"]
    before, _, after = text.partition("{page}")
    return html.escape(before, quote=False), html.escape(after, quote=False)


def has_references(config: BookConfig, part: RenderedPart) -> bool:
    if part.kind == "front":
        return False
    apparatus = SLOT.search(part.body) is not None or 'class="index-locators"' in part.body
    return apparatus or (_format(config) is not None and XREF.search(part.body) is not None)


def _apparatus(config: BookConfig, body: str, pages: dict[str, str] | None) -> str:
    """Cross-references' page slots and the index's locators filled with their pages."""
    from book.parts.index import print_locators

    before, _, after = locale_for(config.language)["xref_page"].partition("{page}")

    def slot(m: re.Match[str]) -> str:
        target = m.group(1)
        if pages is None:
            number = f'<a class="page-ref-n" href="#{target}"></a>'
        else:
            number = html.escape(pages.get(target, PLACEHOLDER))
        return f'<span class="page-ref">{html.escape(before)}{number}{html.escape(after)}</span>'

    body = SLOT.sub(slot, body)
    return print_locators(body, pages) if 'class="index-locators"' in body else body


def add(config: BookConfig, part: RenderedPart, body: str, pages: dict[str, str] | None) -> str:
    """`body` with a page reference after each link to another document.

    `pages` maps a target id to its folio (a target it lacks gets the placeholder); None asks the
    layout (one document).
    """
    if part.kind == "front":
        return body
    body = _apparatus(config, body, pages)
    fmt = _format(config)
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
