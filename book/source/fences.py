"""Markdown lines → whether each is text, a code fence's first or last line, or code inside one.

Every stage that reads the manuscript line by line (headings, traps, labels, the text conservation
check) must agree on where code is, or one of them reads `# comment` in a listing as a heading. The
rule is CommonMark's: a fence is three or more backticks or tildes; it closes on a line of the same
character at least as long, with nothing after it, so a ```` block can show a ``` example. A fence
may be indented (a listing inside a list item), and a backtick fence's info string has no backtick
(```` ```a` ```` is inline code, not a fence).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")

TEXT, OPEN, CODE, CLOSE = "text", "open", "code", "close"


class Fences:
    """Fed the lines in order, says what each is; `inside` is true between an opening and its close."""

    def __init__(self) -> None:
        self.fence = ""

    @property
    def inside(self) -> bool:
        return bool(self.fence)

    def kind(self, line: str) -> str:
        m = FENCE.match(line)
        if self.fence:
            mark = m.group(1) if m else ""
            if mark and mark[0] == self.fence[0] and len(mark) >= len(self.fence) and not m.group(2).strip():
                self.fence = ""
                return CLOSE
            return CODE
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            self.fence = m.group(1)
            return OPEN
        return TEXT


def text_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(index, line) of every line outside fenced code."""
    fences = Fences()
    for i, line in enumerate(lines):
        if fences.kind(line) == TEXT:
            yield i, line
