"""PDF stage: rendered parts → one print document → a PDF through WeasyPrint.

The print document concatenates the same rendered part bodies the EPUB packages, so the two outputs
never disagree on content; only the stylesheet (print.css) and the link form differ.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

from book.atomic import atomic_path
from book.epub import find_style
from book.pipeline import Build
from book.render import RenderedPart, book_context, environment
from book.structures import footnotes_for_print

PRINT_STYLESHEETS = ("book.css", "components.css", "print.css")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def print_document(build: Build) -> str:
    """The whole book as one HTML document, links turned from `file.xhtml#id` into `#id`."""
    config = build.config
    parts = [dataclasses.replace(p, body=_print_body(p)) for p in build.parts]
    html = (
        environment(config)
        .get_template("print.html.j2")
        .render(book=book_context(config), parts=parts, lang=config.pdf_language, modified=build.manifest.modified())
    )
    html = re.sub(r'href="[\w.-]+\.xhtml#([^"]+)"', r'href="#\1"', html)
    return re.sub(r'href="([\w-]+)\.xhtml"', r'href="#\1"', html)


def _print_body(part: RenderedPart) -> str:
    """CONTRACTS 3 and 7: images by their file on disk, footnotes at their call sites."""
    body = footnotes_for_print(part.body)
    for res in part.resources:
        body = body.replace(f'src="{res.href}"', f'src="{res.path.as_uri()}"')
    return body


def write_pdf(build: Build, target: Path | None = None) -> Path:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    config = build.config
    target = target or build.pdf_path
    fonts = FontConfiguration()
    sheets = [CSS(filename=str(find_style(config, n)), font_config=fonts) for n in PRINT_STYLESHEETS]
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        doc = HTML(string=print_document(build), base_url=str(config.root) + "/").render(
            stylesheets=sheets, font_config=fonts
        )
        with atomic_path(target) as tmp:
            doc.write_pdf(str(tmp))
    finally:
        logger.removeHandler(collector)
    for msg in collector.messages:
        build.diag.warn(target, None, f"WeasyPrint: {msg}")
    build.page_count = len(doc.pages)  # type: ignore[attr-defined]
    return target
