"""Read stage: source files on disk → `Source` records (decoded text, front matter, body).

Decoding accepts what authors' tools write: UTF-8 with or without a BOM, CRLF or CR line endings,
and GB18030/GBK files from Windows (decoded with a warning). Front matter is parsed with
python-frontmatter; its YAML errors are re-positioned to the file's own line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from book.config import SourceSpec
from book.errors import BookError, Diagnostics, Problem, display_path

FENCE = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)
# XML 1.0 forbids these; Word and WeChat exports carry them.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Source:
    path: Path
    kind: str
    meta: dict[str, Any]
    body: str
    body_line: int  # 1-based line in the file where `body` starts
    key_lines: dict[str, int] = field(default_factory=dict)
    encoding: str = "utf-8"
    trimmed_lines: int = 0

    @property
    def shown(self) -> str:
        return display_path(self.path)


def decode(data: bytes, path: Path, diag: Diagnostics) -> tuple[str, str]:
    """Bytes → text with LF line endings; returns (text, encoding name)."""
    encoding = "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: exc.start].count(b"\n") + 1
            raise BookError(Problem(display_path(path), line, "file is not UTF-8 text", "save it as UTF-8")) from None
        encoding = "gb18030"
        diag.warn(path, None, "file is GB18030/GBK, not UTF-8; decoded as GB18030", "save it as UTF-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = XML_INVALID.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        diag.warn(path, line, f"control character U+{ord(bad.group()):04X} removed", "delete it from the source")
        text = XML_INVALID.sub("", text)
    return text, encoding


def _key_lines(fm_text: str, first_line: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    for i, line in enumerate(fm_text.split("\n")):
        m = re.match(r"([^\s#:][^:]*?)\s*:", line)
        if m and not line.startswith((" ", "\t", "-")):
            lines.setdefault(m.group(1).strip("'\""), first_line + i)
    return lines


def read_source(spec: SourceSpec, diag: Diagnostics) -> Source:
    """Read one source; raise BookError for what cannot be read at all."""
    path = spec.path
    shown = display_path(path)
    data = path.read_bytes()
    if not data.strip():
        raise BookError(Problem(shown, 1, "file is empty", "write the part or remove it from book.yaml"))
    text, encoding = decode(data, path, diag)
    if not text.startswith("---"):
        raise BookError(Problem(shown, 1, "no front matter", "start the file with a '---' line, YAML keys, and '---'"))
    m = FENCE.match(text)
    if not m:
        raise BookError(Problem(shown, 1, "front matter is not closed", "end it with a line of '---'"))
    fm_text = m.group(1) or ""
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BookError(
            Problem(shown, line, f"front matter is not valid YAML: {what}", "fix the YAML syntax")
        ) from None
    except ValueError as exc:  # python-frontmatter raises this for a non-mapping
        raise BookError(Problem(shown, 2, f"front matter is not a mapping: {exc}", "write key: value lines")) from None
    meta = post.metadata
    if not isinstance(meta, dict):
        raise BookError(Problem(shown, 2, "front matter is not a mapping", "write key: value lines"))
    body = text[m.end() :]
    body_line = text.count("\n", 0, m.end()) + 1
    trimmed = 0
    if spec.trim_after:
        body, trimmed = trim_body(body, spec.trim_after)
    return Source(
        path=path,
        kind=spec.kind,
        meta=dict(meta),
        body=body,
        body_line=body_line,
        key_lines=_key_lines(fm_text, 2),
        encoding=encoding,
        trimmed_lines=trimmed,
    )


THEMATIC_BREAK = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")


def trim_body(body: str, marker: str) -> tuple[str, int]:
    """Drop everything from the first line that starts with `marker`, then trailing rules and blanks."""
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if line.strip().startswith(marker):
            kept = lines[:i]
            while kept and (not kept[-1].strip() or THEMATIC_BREAK.match(kept[-1])):
                kept.pop()
            return "\n".join(kept) + "\n", len(lines) - len(kept)
    return body, 0
