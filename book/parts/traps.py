"""Markdown traps: a part's Markdown as written for GitHub → the same Markdown Pandoc reads as GitHub does.

Two constructs read differently by Pandoc than by the GitHub renderer authors check their
manuscript in, and each cost text or structure:

- a `-------` rule right after a list (the "footer" many READMEs draw under a list): Pandoc took
  rule, list and rule for a multiline table and dropped the items after the first (its simple and
  multiline tables are off in `book.parts.convert.READER`; what is left is the rule read as the
  setext underline of the last item, making it a heading). The rule moves below the blank line
  that follows it, or becomes a blank line, so every text line keeps its line number.
- a paragraph of prose indented by four spaces or a tab (a first-line indent from a word
  processor): Markdown makes it code. A block of such lines that reads as Chinese prose and is not
  the continuation of a list item is un-indented, with a warning at its line.
"""

from __future__ import annotations

import re

from book.errors import Diagnostics
from book.model import Part
from book.source.fences import TEXT, Fences

RULE = re.compile(r"^ {0,3}-{3,}[ \t]*$")
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
INDENTED = re.compile(r"^(?: {4,}|\t)")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
CJK_PUNCT = re.compile(r"[\u3000-\u303f\uff00-\uffef]")
CODE_SIGNS = re.compile(r"[;{}=<>$]|\b(?:def|return|function|var|let|const|import|class|if|for)\b|^\s*[#/]")


def _prose(line: str) -> bool:
    """Chinese prose rather than code: mostly Han and CJK punctuation, no code's signs."""
    text = line.strip()
    if not text or CODE_SIGNS.search(text):
        return False
    han = len(HAN.findall(text)) + len(CJK_PUNCT.findall(text))
    return han >= 6 and han >= 0.5 * len(text.replace(" ", ""))


def defuse(body: str, part: Part, diag: Diagnostics) -> str:
    """The body with both traps defused; the same number of lines, each text line where it was."""
    lines = body.split("\n")
    fences = Fences()  # an indented fence is prose set as code by mistake, which this stage handles
    i = 0
    while i < len(lines):
        line = lines[i]
        if (fences.inside or not INDENTED.match(line)) and fences.kind(line) != TEXT:
            i += 1
            continue
        if RULE.match(line) and i > 0 and LIST_ITEM.match(lines[i - 1]):
            if i + 1 < len(lines) and not lines[i + 1].strip():
                lines[i], lines[i + 1] = "", line.strip()
            else:
                lines[i] = ""
            i += 2
            continue
        previous = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        blank_before = i == 0 or not lines[i - 1].strip() or RULE.match(lines[i - 1]) is not None
        if INDENTED.match(line) and blank_before and not LIST_ITEM.match(previous) and not INDENTED.match(previous):
            end = i
            while end < len(lines) and lines[end].strip() and INDENTED.match(lines[end]):
                end += 1
            block = lines[i:end]
            if block and all(_prose(b) for b in block):
                lines[i:end] = [b.lstrip() for b in block]
                diag.warn(part.source, part.body_line + i, "an indented paragraph would be set as code; it is set "
                          "as text", "remove the leading spaces (a first-line indent is automatic), or fence code "
                          "in ```")  # fmt: skip
            i = max(end, i + 1)
            continue
        i += 1
    return "\n".join(lines)
