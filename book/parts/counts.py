"""Counts stage: a part's processed tree → measured counts, checked against the front matter's claims.

Han characters and Latin words are counted in the text a reader sees (the opener comes from the
front matter and is not counted). `word_count` is compared with Han characters + Latin words (the
way Chinese word processors count), within a tolerance; `anecdote_count` must match exactly.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from lxml import etree

from book.errors import Diagnostics
from book.text import IDEOGRAPH_RE

if TYPE_CHECKING:
    from rich.table import Table
from book.parts.htmltree import heading_level

if TYPE_CHECKING:
    from book.model import Manifest, Part

LATIN_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:['’.\-][A-Za-z0-9\u00c0-\u024f]+)*")
WORD_COUNT_TOLERANCE = 0.10
FIELDS = ("han", "latin_words", "headings", "list_items", "anecdotes", "references", "references_unparsed", "images")
CLAIMS = {"word_count": "words", "anecdote_count": "anecdotes"}


def _text(root: etree._Element) -> str:
    """The reader's text: no script/style, no placeholder boxes standing in for images."""
    out: list[str] = []

    def walk(el: etree._Element) -> None:
        if (
            not isinstance(el.tag, str)
            or el.tag in ("script", "style")
            or "image-placeholder" in (el.get("class") or "")
        ):
            return
        out.append(el.text or "")
        for child in el:
            walk(child)
            out.append(child.tail or "")

    walk(root)
    return "".join(out)


def measure(root: etree._Element, found: dict | None = None) -> dict[str, int]:
    """Counts of what the part's content holds (after structures and images)."""
    found = found or {}
    text = _text(root)
    refs = found.get("references", [])
    images = [el for el in root.iter("img")]
    placeholders = [el for el in root.iter() if "image-placeholder" in (el.get("class") or "")]
    counts = {
        "han": len(IDEOGRAPH_RE.findall(text)),
        "latin_words": len(LATIN_WORD.findall(text)),
        "headings": sum(1 for el in root.iter() if (heading_level(el) or 0) >= 2),
        "list_items": sum(1 for _ in root.iter("li")),
        "anecdotes": sum(1 for el in root.iter() if "callout-anecdote" in (el.get("class") or "").split()),
        "references": len(refs),
        "references_unparsed": sum(1 for r in refs if not r.parsed),
        "images": len({el.get("src") for el in images}) + len(placeholders),
    }
    counts["words"] = counts["han"] + counts["latin_words"]
    return counts


def mismatches(meta: dict[str, Any], counts: dict[str, int]) -> dict[str, tuple[int, int, str]]:
    """Front-matter claims the text disagrees with: key → (claimed, measured, message)."""
    found: dict[str, tuple[int, int, str]] = {}
    if not counts:
        return found
    claimed = meta.get("anecdote_count")
    if isinstance(claimed, int) and not isinstance(claimed, bool) and claimed != counts.get("anecdotes", 0):
        have = counts.get("anecdotes", 0)
        found["anecdote_count"] = (claimed, have, f"front matter says anecdote_count: {claimed}, the text has {have} (sections headed '💡 轶事')")  # fmt: skip
    claimed = meta.get("word_count")
    if isinstance(claimed, int) and not isinstance(claimed, bool) and claimed > 0:
        words = counts.get("words", 0)
        if abs(words - claimed) > WORD_COUNT_TOLERANCE * claimed:
            found["word_count"] = (claimed, words, f"front matter says word_count: {claimed}, the text has {words} (Han characters + Latin words)")  # fmt: skip
    return found


def check_claims(part: Part, counts: dict[str, int], diag: Diagnostics) -> list[str]:
    """Warn where the front matter's claims disagree with the text; return the messages."""
    found = mismatches(part.meta, counts)
    hints = {
        "anecdote_count": "write anecdote_count: {m} or add the missing anecdote",
        "word_count": "write word_count: {m}",
    }
    for key, (_claimed, measured, msg) in found.items():
        diag.warn(part.source, part.key_lines.get(key), msg, hints[key].format(m=measured))
    return [m for _, _, m in found.values()]


def claims(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k in CLAIMS if k in meta}


def _claim(value: int, key: str, meta: dict[str, Any], bad: dict) -> str:
    said = meta.get(key)
    if said is None:
        return str(value)
    return f"{value}{' ≠' if key in bad else ' ='} {said}"


def counts_table(manifest: Manifest) -> Table:
    """Per part: measured counts beside the front matter's claims (≠ marks a disagreement)."""
    from rich.table import Table

    table = Table(title=f"{manifest.config.title} — manifest", title_justify="left")
    for name, justify in (
        ("part", "left"), ("label", "left"), ("title", "left"), ("han", "right"), ("latin words", "right"),
        ("words / claim", "right"), ("headings", "right"), ("list items", "right"),
        ("anecdotes / claim", "right"), ("references (unparsed)", "right"), ("images", "right"), ("trim_after", "left"),
    ):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for p in manifest.parts:
        c = p.counts
        bad = mismatches(p.meta, c)
        trim = next((s.trim_after for s in manifest.config.sources if s.path == p.source), None)

        table.add_row(
            p.id, p.label, p.title if len(p.title) <= 18 else p.title[:17] + "…",
            str(c.get("han", 0)), str(c.get("latin_words", 0)), _claim(c.get("words", 0), "word_count", p.meta, bad),
            str(c.get("headings", 0)), str(c.get("list_items", 0)), _claim(c.get("anecdotes", 0), "anecdote_count", p.meta, bad),
            f"{c.get('references', 0)} ({c.get('references_unparsed', 0)})", str(c.get("images", 0)), repr(trim) if trim else "—",
        )  # fmt: skip
    return table


def print_counts(manifest: Manifest, file: TextIO | None = None) -> None:
    """Print the table, then one line per claim the text disagrees with."""
    from rich.console import Console

    console = Console(file=file or sys.stdout, width=170, highlight=False, soft_wrap=False)
    console.print(counts_table(manifest))
    for p in manifest.parts:
        for _, _, msg in mismatches(p.meta, p.counts).values():
            console.print(f"{p.id}: {msg}", markup=False)


def manifest_json(manifest: Manifest) -> str:
    """manifest.json: the book's metadata and each part with its front matter, counts and mismatches."""
    c = manifest.config
    data = {
        "title": c.title,
        "subtitle": c.subtitle,
        "authors": list(c.authors),
        "language": c.language,
        "identifier": c.identifier,
        "publisher": c.publisher,
        "date": c.date,
        "rights": c.rights,
        "slug": c.slug,
        "parts": [
            {
                "id": p.id,
                "kind": p.kind,
                "source": str(p.source.relative_to(c.root)),
                "label": p.label,
                "title": p.title,
                "number": p.number,
                "status": p.status,
                "front_matter": p.meta,
                "counts": p.counts,
                "claims": claims(p.meta),
                "mismatches": [m for _, _, m in mismatches(p.meta, p.counts).values()],
                "trim_after": next((s.trim_after for s in c.sources if s.path == p.source), None),
            }
            for p in manifest.parts
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
