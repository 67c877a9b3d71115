"""Render stage: a manifest part (and its processed HTML tree) → a `RenderedPart` via Jinja.

Each part is rendered on its own, from its own inputs, so parts can be rendered in parallel and
cached. The rendered body is the one content both outputs use: the EPUB wraps it in an XHTML
document per part, the PDF concatenates the bodies into one print document.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from lxml import etree

from book.locale import locale_for, template_strings
from book.model import BookConfig, Heading, Manifest, Part, RenderedPart
from book.parts.htmltree import heading_level, text_of, to_xhtml
from book.text import chinese_numeral
from book.trust import template_environment
from book.typography.latin import latin_runs


@lru_cache(maxsize=8)
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    env = template_environment(
        dirs,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cn_numeral"] = chinese_numeral
    env.filters["latin_runs"] = latin_runs  # letter-spaced display lines: Latin set unspaced
    return env


def environment(config: BookConfig) -> jinja2.Environment:
    """Templates from the book's own folder first, then the toolchain's."""
    return _environment(config.template_dirs)


def collect_headings(root: etree._Element) -> list[Heading]:
    found = []
    for el in root.iter():
        level = heading_level(el)
        if not level or el.get("data-toc") == "no":
            continue
        target = el.getparent() if el.getparent() is not None and el.getparent().tag == "section" else el
        title = (el.get("data-nav-title") or text_of(el)).replace("\u2060", "").strip()  # no word joiners in nav
        found.append(Heading(level, target.get("id", ""), title))
    return found


def book_context(config: BookConfig) -> dict[str, Any]:
    return {
        "title": config.title,
        "subtitle": config.subtitle,
        "authors": list(config.authors),
        "author_line": "、".join(config.authors),
        "language": config.language,
        "publisher": config.publisher,
        "date": config.date,
        "rights": config.rights,
        "edition": config.edition,
        "identifier": config.identifier,
        "t": template_strings(config.language),  # the locale's fixed strings (book.locale)
    }


def render_part(config: BookConfig, part: Part, root: etree._Element) -> RenderedPart:
    env = environment(config)
    content = to_xhtml(root, inner=True)
    headings = collect_headings(root)
    template = {"chapter": "chapter.html.j2", "frontmatter": "matter.html.j2", "backmatter": "matter.html.j2"}.get(
        part.kind, "appendix.html.j2"
    )
    body = env.get_template(template).render(book=book_context(config), part=part, meta=part.meta, content=content)
    part_heading = Heading(1, part.id, part.title)
    return RenderedPart(
        id=part.id,
        kind=part.kind,
        filename=f"{part.id}.xhtml",
        title=part.title,
        label=part.label,
        body=body,
        headings=[part_heading] + [h for h in headings if h.level > 1],
        landmark={"chapter": "bodymatter", "frontmatter": "frontmatter", "backmatter": "backmatter"}.get(
            part.kind, "appendix"
        ),
        status=part.status,
        division=part.division,
    )


def render_front(
    config: BookConfig, manifest: Manifest, parts: list[RenderedPart], imprint: dict[str, Any] | None = None
) -> list[RenderedPart]:
    """Title page, copyright page (its data from `imprint`: book.cover.imprint) and table of contents."""
    env = environment(config)
    from book.parts.crossref import lists

    ctx = {
        "book": book_context(config),
        "parts": parts,
        "modified": manifest.modified(),
        "lists": lists(config, parts),
        "imprint": imprint or {},
    }
    pages = []
    t = locale_for(config.language)
    for pid, template, title, landmark in (
        ("titlepage", "titlepage.html.j2", config.title, "titlepage"),
        ("copyright", "copyright.html.j2", t["copyright"], "copyright-page"),
        ("toc", "toc.html.j2", t["toc"], "toc"),
    ):
        pages.append(
            RenderedPart(
                id=pid, kind="front", filename=f"{pid}.xhtml", title=title, label="",
                body=env.get_template(template).render(**ctx), landmark=landmark,
            )
        )  # fmt: skip
    return pages


def document(config: BookConfig, part: RenderedPart, stylesheets: list[str], *, lang: str | None = None) -> str:
    """A complete XHTML document for one rendered part (the EPUB's content document)."""
    return (
        environment(config)
        .get_template("document.xhtml.j2")
        .render(book=book_context(config), part=part, stylesheets=stylesheets, lang=lang or config.language)
    )
