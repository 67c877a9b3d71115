"""Manuscript lint: Markdown sources → `file:line: message` findings an editor can fix at the source.

Reports the source-level problems the typography stage repairs in the output anyway:
ASCII punctuation after Han, `...`, `--`, unpaired quotation marks. Code and URLs are skipped. It
also reports what is editorial rather than mechanical and so is never rewritten: `$130亿` and
`30+亿` (GB/T 15835 numbers with Chinese units).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from book.errors import display_path
from book.model import Part
from book.text import HAN, URL_RE

ASCII_AFTER_HAN = re.compile(f"(?<=[{HAN}])[,;:?!]")
ELLIPSIS = re.compile(f"(?<=[{HAN}，。”])\\s*\\.{{3,}}|\\.{{3,}}\\s*(?=[{HAN}])")
DASH = re.compile(f"(?<=[{HAN}，。”])\\s*-{{2,3}}(?!-)|(?<!-)-{{2,3}}\\s*(?=[{HAN}“])")
INLINE_CODE = re.compile(r"`[^`]*`")
# Editorial, not mechanical (GB/T 15835): a currency sign before a Chinese unit ($130亿 — 130 亿美元),
# a `+` for "more than" before one (30+亿 — 30 多亿 / 逾 30 亿), a range mark no rule can place.
MONEY_HAN_UNIT = re.compile(r"[$¥€£]\s?\d[\d,.]*\s?[万亿千百]")
PLUS_HAN_UNIT = re.compile(r"\d[\d,.]*\+\s?[万亿千百]")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def lint_text(body: str, path: str, first_line: int = 1) -> list[Finding]:
    found: list[Finding] = []
    fence = False
    for n, raw in enumerate(body.splitlines(), first_line):
        if raw.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence or raw.startswith("    ") and not raw.strip().startswith(("-", "*", "1")):
            continue
        line = URL_RE.sub(
            lambda m: "\ufffc" * len(m.group()), INLINE_CODE.sub(lambda m: "\ufffc" * len(m.group()), raw)
        )
        line = re.sub(r"\]\([^)]*\)", lambda m: "\ufffc" * len(m.group()), line)  # link targets
        for m in ASCII_AFTER_HAN.finditer(line):
            found.append(Finding(path, n, f"ASCII {m.group()!r} after a Han character: use the full-width mark"))
        for _ in ELLIPSIS.finditer(line):
            found.append(Finding(path, n, "'...' in Chinese text: use '……'"))
        for _ in DASH.finditer(line):
            found.append(Finding(path, n, "'--' in Chinese text: use '——'"))
        for m in MONEY_HAN_UNIT.finditer(line):
            found.append(
                Finding(
                    path,
                    n,
                    f"{m.group()!r}: a currency sign with a Chinese unit — write the currency in words (130 亿美元)",
                )
            )
        for m in PLUS_HAN_UNIT.finditer(line):
            found.append(Finding(path, n, f"{m.group()!r}: '+' for 'more than' — write 多 or 逾 (30 多亿, 逾 30 亿)"))
        if re.search(f"[{HAN}]", line):
            if line.count('"') % 2:
                found.append(Finding(path, n, "unpaired quotation mark '\"'"))
            if line.count("“") != line.count("”"):
                found.append(Finding(path, n, "unpaired quotation marks “ ”"))
    return found


def lint_part(part: Part, display: str | None = None) -> list[Finding]:
    """One part's findings, named by `display` (default: the source as the user would type it)."""
    found = lint_text(part.body, display or display_path(part.source), part.body_line)
    if not part.segments:
        return found
    moved = []  # a multi-file chapter: each finding at its own file's line
    for f in found:
        path, line = part.origin(f.line)
        moved.append(Finding(f.path if path == str(part.source) else display_path(path), line, f.message))
    return moved
