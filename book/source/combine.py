"""Multi-file chapters: a chapter's section files → one `Source` whose body is theirs in order.

A folder chapter (mdBook's nested items, GitBook's sub-pages) is one chapter: its first file (the
folder's README.md / index.md, or the first listed) gives the front matter and the title, each
later file is a section. Their headings move down one level when the file opens with an `# h1`,
so a section's own title becomes an `##` of the chapter. The body keeps every line where it was
relative to its file, and `Source.segments` records where each file starts, so a problem is
reported at the file and line the author wrote (`Part.origin`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from book.errors import Diagnostics
from book.model import SourceSpec
from book.source.fences import text_lines
from book.source.infer import ATX
from book.source.read import Source, read_source


def demote(body: str) -> str:
    """Every ATX heading one level down (outside code fences), when the text has an `# h1`."""
    lines = body.split("\n")
    spots = [(i, len(h.group(1))) for i, line in text_lines(lines) if (h := ATX.match(line))]
    if not any(level == 1 for _, level in spots):
        return body
    for i, level in spots:
        if level < 6:
            lines[i] = lines[i].replace("#", "##", 1)
    return "\n".join(lines)


# A relative target of an inline link or image, a reference definition or an HTML src/href.
TARGET = re.compile(r"(\]\(\s*<?|^\s{0,3}\[[^\]]+\]:\s*<?|\b(?:src|href)=[\"'])([^\s)>\"'#][^\s)>\"']*)", re.M)
ABSOLUTE = re.compile(r"^(?:[a-zA-Z][\w+.-]*:|/|#)")


def rebase_links(body: str, written_in: Path, read_from: Path) -> str:
    """Relative link and image targets of a section file in another folder, made relative to the
    chapter's first file (the part is converted as if it were there)."""

    def one(m: re.Match[str]) -> str:
        target = m.group(2)
        if ABSOLUTE.match(target):
            return m.group(0)
        moved = os.path.relpath(os.path.normpath(written_in / target), read_from)
        return m.group(1) + Path(moved).as_posix()

    return TARGET.sub(one, body)


def read_combined(spec: SourceSpec, diag: Diagnostics) -> Source:
    """The section files of `spec.files` read one by one and put together as one chapter's source."""
    first = read_source(dataclasses.replace(spec, path=spec.files[0], files=()), diag)
    body = first.body
    segments = []
    for path in spec.files[1:]:
        src = read_source(dataclasses.replace(spec, path=path, files=()), diag)
        if not body.endswith("\n"):
            body += "\n"
        body += "\n"  # a blank line: the next file's first block starts a block of its own
        section = demote(src.body)
        if path.parent.resolve() != spec.files[0].parent.resolve():
            section = rebase_links(section, path.parent, spec.files[0].parent)
        title = src.meta.get("title") if src.front_matter else None
        start = first.body_line + body.count("\n")
        if isinstance(title, str) and title.strip() and not section.lstrip().startswith("#"):
            body += f"## {title.strip()}\n\n"  # the section's title from its front matter
            start += 2
        segments.append((start, str(path), src.body_line))
        body += section
    return dataclasses.replace(first, body=body, segments=tuple(segments))
