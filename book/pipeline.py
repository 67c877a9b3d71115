"""The pipeline: `book.yaml` → manifest → per-part HTML → rendered parts → EPUB and PDF.

Everything is gathered and validated before anything is written. Each part is processed by
`process_part` from its own inputs only, so parts can be processed in parallel and cached.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from book import convert, counts, images, references, render, sanitize, structures, typography
from book.atomic import write_text
from book.config import BookConfig, load_config
from book.errors import Diagnostics
from book.htmltree import parse_fragment
from book.manifest import Manifest, Part, build_manifest
from book.render import RenderedPart


@dataclass
class Build:
    config: BookConfig
    manifest: Manifest
    parts: list[RenderedPart]  # front matter first, then chapters and appendices
    diag: Diagnostics
    out: Path
    fixes: dict[str, int] = field(default_factory=dict)

    @property
    def epub_path(self) -> Path:
        return self.out / f"{self.config.slug}.epub"

    @property
    def pdf_path(self) -> Path:
        return self.out / f"{self.config.slug}.pdf"


def process_part(
    config: BookConfig, part: Part, diag: Diagnostics, out: Path | None = None
) -> tuple[RenderedPart, dict[str, int]]:
    """Markdown body → converted, structured, typeset and rendered part."""
    fragment = convert.markdown_to_html(part.body, part.id, part.source)
    fragment = sanitize.clean(fragment, part, diag)
    root = parse_fragment(fragment)
    found = structures.apply(root, part, diag, config)
    cache_dir = Path(out) / ".cache" / "images" if out is not None else None
    resources = images.apply(root, part, diag, config.root, config=config, cache_dir=cache_dir)
    structures.number_blocks(root, part)
    part_counts = counts.measure(root, found)  # measured on the author's text, before typesetting
    fixes = typography.apply(root, part, diag)
    part = typography.typeset_title(part)  # the opener, TOC and nav print the title and label too
    rp = render.render_part(config, part, root)
    rp.resources, rp.counts = resources, part_counts
    rp.references = references.to_csl_json(found["references"])
    counts.check_claims(part, rp.counts, diag)
    return rp, fixes


def prepare(config_path: str | Path, out: str | Path, diag: Diagnostics) -> Build:
    """Read, validate and render everything; writes nothing."""
    config = load_config(config_path, diag)
    manifest = build_manifest(config, diag)
    rendered: list[RenderedPart] = []
    fixes: dict[str, int] = {}
    out_dir = Path(out)
    for part in manifest.parts:
        rp, part_fixes = process_part(config, part, diag, out_dir)
        part.counts = rp.counts
        rendered.append(rp)
        for k, v in part_fixes.items():
            fixes[k] = fixes.get(k, 0) + v
    sanitize.check_links(manifest, rendered, diag)
    diag.raise_if_errors()
    front = render.render_front(config, manifest, rendered)
    return Build(config, manifest, front + rendered, diag, out_dir, fixes)


def write_reports(build: Build, place: Callable[[Path], Path] = lambda p: p) -> list[Path]:
    """Write manifest.json and references.json (CSL-JSON); `place` maps a final path to where to write it."""
    written = []
    for name, text in (
        ("manifest.json", build.manifest.to_json()),
        ("references.json", references.csl_json_text([r for p in build.parts for r in getattr(p, "references", [])])),
    ):
        target = place(build.out / name)
        write_text(target, text)
        written.append(target)
    return written


def source_date_epoch(build: Build) -> int:
    """SOURCE_DATE_EPOCH if set, else the newest `last_updated` among the parts (midnight UTC)."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env and env.isdigit():
        return int(env)
    import datetime as dt

    day = dt.date.fromisoformat(build.manifest.modified()[:10])
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
