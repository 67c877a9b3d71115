"""Counts stage: a part's processed tree → measured counts, checked against the front matter's claims.

Han characters and Latin words are counted in the text a reader sees (the opener comes from the
front matter and is not counted). `word_count` is compared with Han characters + Latin words (the
way Chinese word processors count), within a tolerance; `anecdote_count` must match exactly.
"""

from __future__ import annotations

import re

from lxml import etree

from book.errors import Diagnostics
from book.htmltree import heading_level
from book.manifest import Part

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
LATIN_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:['’.\-][A-Za-z0-9\u00c0-\u024f]+)*")
WORD_COUNT_TOLERANCE = 0.10
FIELDS = ("han", "latin_words", "headings", "list_items", "anecdotes", "references", "references_unparsed", "images")
CLAIMS = {"word_count": "words", "anecdote_count": "anecdotes"}


def _text(root: etree._Element) -> str:
    skip = {"script", "style"}
    return "".join(
        t for el in root.iter() if isinstance(el.tag, str) and el.tag not in skip for t in (el.text, el.tail) if t
    )


def measure(root: etree._Element, found: dict | None = None) -> dict[str, int]:
    """Counts of what the part's content holds (after structures and images)."""
    found = found or {}
    text = _text(root)
    refs = found.get("references", [])
    images = [el for el in root.iter("img")]
    placeholders = [el for el in root.iter() if "image-placeholder" in (el.get("class") or "")]
    counts = {
        "han": len(HAN.findall(text)),
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


def _key_line(part: Part, key: str) -> int | None:
    try:
        for i, line in enumerate(part.source.read_text(encoding="utf-8-sig", errors="replace").split("\n")[:200]):
            if re.match(rf"^{re.escape(key)}\s*:", line):
                return i + 1
    except OSError:
        pass
    return None


def check_claims(part: Part, counts: dict[str, int], diag: Diagnostics) -> list[str]:
    """Warn where the front matter's claims disagree with the text; return the messages."""
    messages = []
    claimed = part.meta.get("anecdote_count")
    if isinstance(claimed, int) and claimed != counts["anecdotes"]:
        msg = f"front matter says anecdote_count: {claimed}, the text has {counts['anecdotes']} (sections headed '💡 轶事')"
        diag.warn(part.source, _key_line(part, "anecdote_count"), msg, f"write anecdote_count: {counts['anecdotes']} or add the missing anecdote")  # fmt: skip
        messages.append(msg)
    claimed = part.meta.get("word_count")
    if isinstance(claimed, int) and claimed > 0:
        words = counts["words"]
        if abs(words - claimed) > WORD_COUNT_TOLERANCE * claimed:
            msg = f"front matter says word_count: {claimed}, the text has {words} (Han characters + Latin words)"
            diag.warn(part.source, _key_line(part, "word_count"), msg, f"write word_count: {words}")
            messages.append(msg)
    return messages
