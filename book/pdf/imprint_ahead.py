"""The copyright page's 印张 ahead of the table of contents: the front matter's document and the page
count without the TOC → the few documents the 印张 can still read, to lay out beside the TOC.

The 印张 needs the book's page count, which needs the TOC's, which is laid out with the heads and
folios (book.pdf.parallel). Laid out after that round, the two-page front matter ran alone while
the other core waited (0.2–0.5 s of every clean build). 印张 counts quarter sheets (8 pages of an
A5 book), so the TOC lengths up to the round's generous guess give one text or two: each is laid
out in that round, and the one for the real count is taken. A longer TOC than guessed lays it out
after the round, as before.
"""

from __future__ import annotations

from book.pdf import imprint


def candidates(html: str, pages_without_toc: int, toc_guess: int) -> list[str]:
    """The front matter's document filled for each TOC of 1…`toc_guess` pages (each padded to an
    even count), distinct and in that order; none when it has no 印张 or there is no TOC."""
    if toc_guess <= 0 or not imprint.has_sheets(html):
        return []
    found: list[str] = []
    for toc in range(1, toc_guess + 1):
        filled = imprint.fill_sheets(html, pages_without_toc + toc + toc % 2)
        if filled not in found:
            found.append(filled)
    return found
