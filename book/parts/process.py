"""Processing one part: a manifest `Part` → its `ProcessedPart` (rendered body, fixes, problems).

Each part is processed from its own inputs only, so parts run in parallel worker processes and are
cached by the hash of those inputs (book.pipeline).
"""

from __future__ import annotations

from pathlib import Path

from book import typography
from book.engine.cache import file_sha256
from book.errors import BookError, Diagnostics
from book.locale import locale_for
from book.model import BookConfig, Part, ProcessedPart, RenderedPart
from book.parts import citations, code, convert, counts, footnotes, images, references, render, sanitize, structures
from book.parts.htmltree import parse_fragment


def book_quotes(config: BookConfig) -> tuple[str, str, str, str]:
    """The book's quotation marks: `print.quotes` if set, else the language's."""
    chosen = config.print.quotes
    if chosen and chosen.startswith("「"):
        return ("「", "」", "『", "』")
    if chosen and chosen.startswith("“"):
        return ("“", "”", "‘", "’")
    return locale_for(config.language).quotes


def process_part(
    config: BookConfig, part: Part, diag: Diagnostics, cache_dir: Path | None = None
) -> tuple[RenderedPart, dict[str, int]]:
    """Markdown body → converted, structured, typeset and rendered part (and the typography fixes made).

    `cache_dir` holds fetched remote images (`<out>/.cache/images`); None fetches without keeping them.
    """
    footnotes.check(part, diag)
    if config.bibliography:
        fragment = citations.markdown_to_html(part.body, part, config)
    else:
        fragment = convert.markdown_to_html(part.body, part.id, part.source)
    fragment = sanitize.clean(fragment, part, diag)
    root = parse_fragment(fragment)
    found = structures.apply(root, part, diag, config)
    if config.bibliography:
        citations.make_bibliography(root, part, structures._env(config))
    else:
        citations.warn_without_bibliography(root, part, diag)
    resources = images.apply(root, part, diag, config.root, config=config, cache_dir=cache_dir)
    structures.number_blocks(root, part)
    code.apply(root)
    part_counts = counts.measure(root, found)  # measured on the author's text, before typesetting
    fixes = typography.apply(root, part, diag, book_quotes(config), config.print.number_range)
    part = typography.typeset_title(part)  # the opener, TOC and nav print the title and label too
    rp = render.render_part(config, part, root)
    rp.resources, rp.counts = resources, part_counts
    rp.references = references.to_csl_json(found["references"])
    counts.check_claims(part, rp.counts, diag)
    return rp, fixes


def run_part(config: BookConfig, part: Part, strict: bool, cache_dir: Path | None = None) -> ProcessedPart:
    """One part in a worker: problems are collected, not printed, and returned in order."""
    diag = Diagnostics(strict=strict, echo=False)
    rendered, fixes = None, {}
    try:
        rendered, fixes = process_part(config, part, diag, cache_dir)
    except BookError as exc:
        diag.add(exc)
    deps = {}
    for ref in rendered.resources if rendered is not None else []:
        path = Path(ref.path)
        if path.is_file():
            deps[str(path)] = file_sha256(path)
    return ProcessedPart(rendered, fixes, diag.export(), deps)


def deps_current(result: ProcessedPart) -> bool:
    """Whether every file a cached part embeds is still what it was."""
    try:
        return all(file_sha256(Path(p)) == sha for p, sha in result.deps.items())
    except OSError:
        return False
