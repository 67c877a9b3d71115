"""The copyright page's 印张 → filled in the print document once the book's page count is known.

印张 is the page count over the 开数 (book.cover.imprint.sheets), and the count is known only after
layout: the front matter is laid out again with the number once the parts and the table of contents
are (book.pdf.parallel; a two-page document, in the workers' cache like the parts). Without a count
(a screen or review PDF laid out as one document) the line is left out.
"""

from __future__ import annotations

import re

from book.cover.imprint import sheets

PLACEHOLDER = re.compile(r'<span class="imprint-sheets" data-kai="(\d+)">[^<]*</span>')
ROW = re.compile(
    r'<div class="imprint-row print-only"><dt>[^<]*</dt><dd><span class="imprint-sheets"[^>]*>[^<]*</span></dd></div>\n?'
)


def has_sheets(html: str) -> bool:
    return PLACEHOLDER.search(html) is not None


def fill_sheets(html: str, pages: int | None) -> str:
    """The document with its 印张 for `pages` pages, or without the 印张 line when `pages` is None."""
    if pages is None:
        return ROW.sub("", html)
    return PLACEHOLDER.sub(lambda m: m.group(0).replace("></span>", f">{sheets(pages, int(m.group(1)))}</span>"), html)


def page_css(type_height_pt: float) -> str:
    """The copyright page as tall as the type area, so its block sits at the foot (print.css)."""
    return f".print-part.part-copyright .copyright {{ height: {type_height_pt - 0.5:.2f}pt; }}\n"
