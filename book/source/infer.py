"""Inferred fields: a source's text and place in book.yaml → the title and number front matter leaves out.

A chapter as authors write it has no front matter: its title is its first heading (without a
leading `第三章` / `Chapter 3` the label prints anyway), its number follows its place in book.yaml.
The same facts make the hints when front matter is there but lacks a field, so a hint names the
file's own heading and number rather than a placeholder.
"""

from __future__ import annotations

import re
from pathlib import Path

from book.source.fences import text_lines

ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
ATTRIBUTES = re.compile(r"\s*\{[^{}]*\}\s*$")  # `{#id .class}` after a heading
INLINE_MARKUP = re.compile(r"[*_`]+|!?\[([^\]]*)\]\([^)]*\)")
# `第三章`, `第3章`, `Chapter 3`, `3.` before the title proper, and what separates them from it.
NUMBER_PREFIX = re.compile(
    r"^\s*(?:第[零一二三四五六七八九十百〇两\d]+章|chapter\s+\d+|\d+[.、])\s*[:：.、\-—]*\s*", re.I
)
DIGITS = re.compile(r"\d+")


def first_heading(body: str, first_line: int = 1) -> tuple[str, int] | None:
    """The text of the body's first heading (ATX or setext, outside code fences) and its file line."""
    lines = body.split("\n")
    for i, line in text_lines(lines):
        m = ATX.match(line)
        if m and m.group(2).strip():
            return _plain(m.group(2)), first_line + i
        if i + 1 < len(lines) and line.strip() and SETEXT.match(lines[i + 1]) and not line.startswith(("    ", "\t")):
            if lines[i + 1].strip().startswith("=") or (i == 0 or not lines[i - 1].strip()):
                return _plain(line), first_line + i
    return None


def _plain(text: str) -> str:
    text = ATTRIBUTES.sub("", text)
    return INLINE_MARKUP.sub(lambda m: m.group(1) or "", text).strip()


def title_from_heading(heading: str) -> str:
    """A heading as a part title: without the chapter number the label prints before it."""
    rest = NUMBER_PREFIX.sub("", heading, count=1).strip()
    return rest or heading.strip()


def fallback_title(path: Path) -> str:
    """A title for a part with no heading at all: its file name without digits and dashes."""
    stem = re.sub(r"^[\d\s._-]+", "", path.stem).replace("_", " ").replace("-", " ").strip()
    return stem or path.stem


def inferred_title(body: str, path: Path, keep_number: bool = False) -> str:
    """The title a part without front matter takes; `keep_number` when the book prints no chapter
    label (its headings carry their numbers)."""
    found = first_heading(body)
    if found:
        return found[0].strip() if keep_number else title_from_heading(found[0])
    return fallback_title(path)


def number_from_name(path: Path) -> int | None:
    """The number a file's name gives it (`03-intro.md` → 3, `12/chapter.md` → 12), if any."""
    for name in (path.stem, path.parent.name):
        m = DIGITS.search(name)
        if m and 1 <= int(m.group()) <= 999:
            return int(m.group())
    return None
