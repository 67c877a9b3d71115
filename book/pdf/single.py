"""One-document PDF: the whole print document laid out by WeasyPrint at once → a PDF and its page map.

The parallel renderer (book.pdf.parallel) is the default for the print and review profiles; this is
the screen profile's (a tagged PDF's structure tree cannot be stitched from parts) and `--pdf-jobs 1`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from book.engine.atomic import atomic_path
from book.model import Build, PdfResult
from book.pdf import document, finish, imagewarn, imprint, layout
from book.pdf.weasy import leaders
from book.pdf.weasy.fonts import font_data_when_needed


def write_one_document(
    build: Build, target: Path, profile: str = "print", extra_stylesheets: tuple[str | Path, ...] = ()
) -> PdfResult:
    """Lay the book out in one WeasyPrint document and write it; the print profile's page map with it."""
    css = document.stylesheet_texts(build, profile, tuple(extra_stylesheets))
    html = document.print_document(build, drafts=document.draft_ids(build, profile))
    document.trim_typeset_cache(build)
    # A tagged PDF marks each leader dot as a span of its own: WeasyPrint's one box per dot.
    tagged = document.render_options(profile).get("pdf_tags", False)
    with leaders.separate_dots() if tagged else contextlib.nullcontext():
        doc, messages = layout.render_document(
            imprint.fill_sheets(html, None), css, str(build.config.root) + "/", document.read_policy(build)
        )
        if profile == "print" and imprint.has_sheets(html):  # 印张 from the page count: a second layout
            doc, messages = layout.render_document(
                imprint.fill_sheets(html, len(doc.pages)), css, str(build.config.root) + "/",
                document.read_policy(build),
            )  # fmt: skip
    with atomic_path(target) as tmp, layout.epoch_env(str(build.source_date_epoch())):
        with layout.sparse_gc(), font_data_when_needed():
            doc.write_pdf(str(tmp), **document.render_options(profile))
        finish.finish_pdf(tmp, build, profile, layout.front_page_count(doc, build))
    for msg in messages:
        build.diag.warn(target, None, f"WeasyPrint: {msg}")
    imagewarn.report_low_resolution(build, target, layout.low_resolution_found(doc))
    page_map = layout.page_marks(doc, build) if profile == "print" and not extra_stylesheets else None
    return PdfResult(target, len(doc.pages), page_map)
