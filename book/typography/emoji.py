"""Emoji in a part's tree → no colour emoji: decorative ones dropped, the others monochrome glyphs.

A colour emoji font has no place in a print file (a bitmap in RGB, and WeasyPrint names a bold one
"Noto Color Emoji Bold" while drawing the regular bitmap). An emoji that only decorates — at the
start of a list item or a heading, followed by a space, as in "- ✅ 成本低廉" — is dropped; any
other becomes its monochrome counterpart from Noto Sans Symbols/Symbols2 in a `cjk-symbol` span
(the house colour, upright, regular weight), or is dropped when it has none. The part gets one
warning naming each emoji and the lines it is on, so the author can write the symbol they mean.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from book.errors import Diagnostics
from book.model import Part
from book.typography.text import is_protected, local, place

# Emoji-presentation characters of the BMP (Unicode's Emoji_Presentation=Yes below U+1F000).
_BMP_EMOJI = (
    "\u231a\u231b\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1"
    "\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a"
    "\u270b\u2728\u274c\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55"
)
_BASE = f"(?:[{_BMP_EMOJI}\U0001f000-\U0001faff](?:\ufe0f)?|[^\\s\ufe0f]\ufe0f|[0-9#*]\ufe0f?\u20e3)"
# a cluster: a base, skin tone, zero-width-joined further emoji
EMOJI_RE = re.compile(f"{_BASE}[\U0001f3fb-\U0001f3ff]?(?:\u200d{_BASE}[\U0001f3fb-\U0001f3ff]?)*")
# Monochrome counterparts (all in Noto Sans Symbols or Symbols2), by the cluster's first character.
MONOCHROME = {
    "✅": "✔", "✔": "✔", "☑": "✔", "✓": "✓", "❌": "✘", "❎": "✘", "✖": "✘", "⭐": "★", "🌟": "★",
    "✨": "✦", "💡": "✦", "⚠": "⚠", "❗": "❗", "❕": "❗", "❓": "❓", "❔": "❓", "👉": "☞", "➡": "➜",
    "📌": "➤", "🚀": "➤", "🔍": "🔍", "🔎": "🔍", "📖": "🕮", "📚": "🕮", "⚡": "⚡", "☀": "☀",
}  # fmt: skip
DECORATED = {"li", "h1", "h2", "h3", "h4", "h5", "h6"}
CLASS = "cjk-symbol"


def _slots(root: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    def walk(el: etree._Element) -> Iterator[tuple[etree._Element, str]]:
        if isinstance(el.tag, str) and is_protected(el):
            return
        if isinstance(el.tag, str) and CLASS not in (el.get("class") or "").split():
            yield el, "text"
        for child in el:
            yield from walk(child)
            yield child, "tail"

    yield from list(walk(root))


def _leading(node: etree._Element, attr: str) -> bool:
    """Whether the slot is the very start of a list item's or heading's text."""
    return attr == "text" and local(node.tag) in DECORATED


def replace_emoji(root: etree._Element) -> list[tuple[str, str]]:
    """Drop or replace every emoji in place; returns (emoji, what became of it) in document order."""
    done: list[tuple[str, str]] = []
    for node, attr in _slots(root):
        text = getattr(node, attr)
        if not text or not EMOJI_RE.search(text):
            continue
        pieces: list[str | etree._Element] = []
        pos = 0
        for m in EMOJI_RE.finditer(text):
            before = text[pos : m.start()]
            mono = MONOCHROME.get(m.group()[0])
            if _leading(node, attr) and not before.strip() and not pieces and text[m.end() : m.end() + 1].isspace():
                done.append((m.group(), "dropped"))
                pos = m.end() + 1
                pieces.append(before)
                continue
            if mono is None:
                done.append((m.group(), "dropped (no monochrome form)"))
                if before.endswith(" ") and text[m.end() : m.end() + 1] == " ":
                    before = before[:-1]  # one space stays where the emoji was
                pieces.append(before)
            else:
                pieces.append(before)
                span = root.makeelement("span", {"class": CLASS})
                span.text = mono
                pieces.append(span)
                done.append((m.group(), f"→ {mono}"))
            pos = m.end()
        pieces.append(text[pos:])
        _write(node, attr, pieces)
    return done


def _write(node: etree._Element, attr: str, pieces: list[str | etree._Element]) -> None:
    """Put text and new spans back in place of the slot's text."""
    head: list[str] = []
    items: list[etree._Element] = []
    for p in pieces:
        if isinstance(p, str):
            if items:
                items[-1].tail = (items[-1].tail or "") + p or None
            else:
                head.append(p)
        else:
            items.append(p)
    setattr(node, attr, "".join(head) or None)
    place(node, attr, items)


def apply(root: etree._Element, part: Part, diag: Diagnostics) -> int:
    """Replace the part's emoji and warn once, naming each with its source lines."""
    return warn(replace_emoji(root), part, diag)


def warn(done: list[tuple[str, str]], part: Part, diag: Diagnostics) -> int:
    """The part's one warning about the emoji `replace_emoji` dropped or replaced; returns how many."""
    if not done:
        return 0
    outcomes: dict[tuple[str, str], None] = dict.fromkeys(done)
    lines: list[int] = []
    names = []
    for emoji, outcome in outcomes:
        at = sorted({part.line_at(m.start()) for m in re.finditer(re.escape(emoji), part.body)})
        lines += at
        where = f" (line{'s' if len(at) > 1 else ''} {', '.join(map(str, at))})" if at else ""
        names.append(f"{emoji} {outcome}{where}")
    diag.warn(
        part.source,
        min(lines) if lines else part.body_line,
        f"{len(done)} colour emoji not printed: {'; '.join(names)}",
        "write the symbol you mean (✔ ✘ ★ ➤) or none",
    )
    return len(done)
