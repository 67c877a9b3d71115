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
from book.parts import (
    citations,
    code,
    conservation,
    convert,
    counts,
    crossref,
    footnotes,
    images,
    index,
    references,
    reflist,
    render,
    sanitize,
    structures,
    traps,
)
from book.parts.diagrams import apply as set_diagrams
from book.parts.formulas import apply as set_formulas
from book.parts.htmltree import parse_fragment
from book.parts.tables import apply as set_tables


def book_quotes(config: BookConfig) -> tuple[str, str, str, str]:
    """The book's quotation marks: `print.quotes` if set, else the language's."""
    chosen = config.print.quotes
    if chosen and chosen.startswith("「"):
        return ("「", "」", "『", "』")
    if chosen and chosen.startswith("“"):
        return ("“", "”", "‘", "’")
    return locale_for(config.language).quotes


def process_part(
    config: BookConfig, part: Part, diag: Diagnostics, cache_dir: Path | None = None, memo_dir: Path | None = None
) -> tuple[RenderedPart, dict[str, int]]:
    """Markdown body → converted, structured, typeset and rendered part (and the typography fixes made).

    `cache_dir` holds fetched remote images (`<out>/.cache/images`); None fetches without keeping them.
    `memo_dir` (the stage cache, `<out>/.cache`) keeps the typography stage's blocks; None typesets all.
    """
    footnotes.check(part, diag)
    body = crossref.protect(traps.defuse(part.body, part, diag))  # `@fig-x` is no citation key
    if config.bibliography:
        fragment = citations.markdown_to_html(body, part, config)
    else:
        fragment = convert.markdown_to_html(body, part.id, part.source)
    fragment = sanitize.clean(fragment, part, diag)
    root = parse_fragment(fragment)
    found = structures.apply(root, part, diag, config)
    set_formulas(root, part, diag)  # before the images: a display formula may become its own block
    if config.bibliography:
        citations.make_bibliography(root, part, structures._env(config), locale_for(config.language)["bibliography"])
    else:
        citations.warn_without_bibliography(root, part, diag)
    resources = images.apply(root, part, diag, config.root, config=config, cache_dir=cache_dir)
    resources += set_diagrams(root, part, diag, cache_dir, config.language)  # before the listings: a fence drawn
    labels = crossref.number(root, part, config)
    terms = index.mark(root, part)
    structures.number_blocks(root, part)
    code.apply(root)
    set_tables(root)
    part_counts = counts.measure(root, found)  # measured on the author's text, before typesetting
    reflist.apply(root, found["references"], part, config)  # the 参考文献 as written, in GB/T 7714
    fixes = typography.apply(root, part, diag, book_quotes(config), config.print.number_range, memo_dir)
    part = typography.typeset_title(part)  # the opener, TOC and nav print the title and label too
    rp = render.render_part(config, part, root)
    reformatted = tuple(r.raw for r in found["references"])  # set anew in GB/T 7714 (book.parts.reflist)
    conservation.check(part, body, fragment, rp.body, diag, reformatted)
    rp.resources, rp.counts = resources, part_counts
    rp.references = references.to_csl_json(found["references"])
    rp.labels, rp.index_terms = labels, terms
    counts.check_claims(part, rp.counts, diag)
    return rp, fixes


def run_part(
    config: BookConfig, part: Part, strict: bool, cache_dir: Path | None = None, memo_dir: Path | None = None
) -> ProcessedPart:
    """One part in a worker: problems are collected, not printed, and returned in order."""
    diag = Diagnostics(strict=strict, echo=False)
    rendered, fixes = None, {}
    try:
        rendered, fixes = process_part(config, part, diag, cache_dir, memo_dir)
    except BookError as exc:
        diag.add(exc)
    deps = {}
    for ref in rendered.resources if rendered is not None else []:
        path = Path(ref.path)
        if path.is_file():
            deps[str(path)] = file_sha256(path)
    return ProcessedPart(rendered, fixes, _at_origin(part, diag.export()), deps)


def _at_origin(part: Part, problems: list[dict]) -> list[dict]:
    """A multi-file chapter's problems at the file and line each was written in."""
    if not part.segments:
        return problems
    own = Path(part.source).resolve()
    for d in problems:
        if d.get("line") and Path(d["path"]).resolve() == own:
            d["path"], d["line"] = part.origin(d["line"])
    return problems


def deps_current(result: ProcessedPart) -> bool:
    """Whether every file a cached part embeds is still what it was."""
    try:
        return all(file_sha256(Path(p)) == sha for p, sha in result.deps.items())
    except OSError:
        return False
