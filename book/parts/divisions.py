"""Book parts (第一部分 …) and reading order: the manifest's divisions + rendered parts → the book's parts in order.

A division is a page of its own: the title page of a part in print (on a recto, no folio) and a
document in the EPUB whose entry in the navigation holds its chapters' entries. The author's front
matter (序, 前言…) comes after the title and copyright pages and before the table of contents, as
Chinese books print it, so its roman folios are known before the table of contents is laid out.
"""

from __future__ import annotations

from book.model import BookConfig, Manifest, RenderedPart
from book.parts.render import book_context, environment


def with_divisions(config: BookConfig, manifest: Manifest, rendered: list[RenderedPart]) -> list[RenderedPart]:
    """The rendered parts with each division's page before its first chapter."""
    if not manifest.divisions:
        return rendered
    env = environment(config)
    pages = {
        d.id: RenderedPart(
            id=d.id, kind="division", filename=f"{d.id}.xhtml", title=d.title, label=d.label,
            body=env.get_template("division.html.j2").render(book=book_context(config), division=d),
            landmark="part",
        )
        for d in manifest.divisions
    }  # fmt: skip
    out: list[RenderedPart] = []
    for rp in rendered:
        page = pages.pop(rp.division, None) if rp.division else None
        if page is not None:
            out.append(page)
        out.append(rp)
    return out


def reading_order(front: list[RenderedPart], rendered: list[RenderedPart]) -> list[RenderedPart]:
    """Title page, copyright page, the author's front matter, table of contents, then the rest."""
    toc = [p for p in front if p.id == "toc"]
    matter = [p for p in rendered if p.kind == "frontmatter"]
    rest = [p for p in rendered if p.kind != "frontmatter"]
    return [p for p in front if p.id != "toc"] + matter + toc + rest
