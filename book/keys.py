"""Cache keys: a book's config, parts and options → the digest each stage's result is kept under.

What a key leaves out is as deliberate as what it takes in: the list of sources (an edit to one
chapter keeps the others' keys), the `print:`/`epub:` options that do not decide the stage, and the
keys only the printer's cover prints. Files named by options are taken by content, not by name.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from book.engine.cache import digest, toolchain_fingerprint, tree_digest
from book.engine.memo import plain
from book.model import BookConfig, Build, Part
from book.options import invalidating

# book.yaml keys only the printer's cover prints (book cover, never cached); 定价 is on the 版权页 too
COVER_ONLY = ("blurb",)


def config_key(config: BookConfig, stage: str = "parts") -> str:
    """The config minus its list of sources (one chapter's edit must not invalidate the others), with
    only the `print:` / `epub:` options that decide `stage`."""
    fields = {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.name not in ("sources", "print", "epub", *COVER_ONLY)
    }
    fields["options"] = {"print": invalidating(config.print, stage), "epub": invalidating(config.epub, stage)}
    return digest(plain(fields))


def part_key(config: BookConfig, part: Part, book_wide: tuple[str, str] | None = None) -> str:
    """Everything `process_part` reads: the part (text, front matter, position), config, templates, code.
    `book_wide` is `(config_key(config), tree_digest(config.template_dirs))` when already known."""
    cited = [with_contents([*config.bibliography, config.csl])] if config.bibliography else []  # edits re-render
    from book.parts.diagrams import tools_present  # a fence left as code is drawn once its tool is installed

    settings, templates = book_wide or (config_key(config), tree_digest(config.template_dirs))
    return digest(
        "part", toolchain_fingerprint(), settings, templates, plain(part), *cited,
        tools_present() if "```" in part.body or "~~~" in part.body else "",
    )  # fmt: skip


def output_key(build: Build, stage: str, **options: Any) -> str:
    """Everything an output stage reads: rendered parts, styles, templates, config and its options."""

    return digest(
        stage,
        toolchain_fingerprint(),
        config_key(build.config, stage),
        tree_digest(build.config.template_dirs),
        tree_digest(build.config.style_dirs),
        build.manifest.modified(),
        os.environ.get("SOURCE_DATE_EPOCH", ""),
        plain(build.parts),
        with_contents(options),
    )


def with_contents(x: Any) -> Any:
    """Options with every file they name (extra stylesheets…) replaced by its path and content."""
    if isinstance(x, Path):
        return ["file", str(x), x.read_bytes() if x.is_file() else None]
    if isinstance(x, dict):
        return {str(k): with_contents(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [with_contents(v) for v in x]
    return plain(x)
