"""Apparatus stage: the rendered parts → cross-references resolved, and the back matter made of them.

The 术语表 and the 索引 are parts of their own, built from every other part, so they come after all
the parts are rendered and their labels known; the 索引 is the book's last part.
"""

from __future__ import annotations

from book.errors import BookError, Diagnostics
from book.model import BookConfig, Manifest, RenderedPart
from book.parts import crossref, glossary, index


def apply(config: BookConfig, manifest: Manifest, rendered: list[RenderedPart], diag: Diagnostics) -> None:
    """Resolve `@fig-x` and friends across the book; append the glossary and index parts to `rendered`."""
    try:
        crossref.resolve(config, manifest, rendered)
    except BookError as exc:
        diag.add(exc)


def back_matter(config: BookConfig, manifest: Manifest, rendered: list[RenderedPart], diag: Diagnostics) -> None:
    """Append the 术语表, then the 索引 (last), to `rendered`."""
    try:
        back = [glossary.apply(config, manifest, rendered), index.build_part(config, rendered)]
        rendered.extend(p for p in back if p is not None)
    except BookError as exc:
        diag.add(exc)
