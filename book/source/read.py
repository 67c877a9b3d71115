"""Read stage: source files on disk → `Source` records (decoded text, front matter, body).

Decoding accepts what authors' tools write: UTF-8 with or without a BOM, CRLF or CR line endings,
UTF-16 with a BOM (Windows Notepad's "Unicode"), and GB18030/GBK files from Windows (decoded with a
warning naming the encoding, but only when the result is plausibly Chinese text: random bytes often
decode as GB18030 too, and the build must stop rather than print mojibake). Front matter is parsed
with the config's safe YAML loader; its errors are positioned at the file's own line numbers.

The front matter is split here rather than by python-frontmatter: its `loads` parses with its own
loader and keeps no positions, while a diagnostic needs the line of every key and of the body,
repeated keys must be reported and an impossible date must stay text for the validator to name;
its fence (`^-{3,}$`) would also end the front matter at a `-----` rule inside a YAML block.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from book.bounds import read_source_bytes
from book.errors import BookError, Diagnostics, Problem, display_path
from book.model import SourceSpec
from book.source.yamlfile import load_yaml_again
from book.text import XML_INVALID, key_line, lazy_compile

FENCE = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
# What Chinese prose is made of besides ASCII: Han, CJK and general punctuation, full-width forms.
CJK_TEXT = lazy_compile("[\u2000-\u206f\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
MAX_FRONT_MATTER = 64 * 1024


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
    front_matter: bool = True  # False: the file starts with its text (book.source.infer fills the fields)
    segments: tuple[tuple[int, str, int], ...] = ()  # a multi-file chapter's files (book.source.combine)

    @property
    def shown(self) -> str:
        return display_path(self.path)


def plausible_chinese(text: str) -> bool:
    """Is GB18030-decoded text really Chinese prose rather than bytes that happen to decode?

    Real GBK text is almost all GB2312 characters (the common set) and CJK punctuation, with no
    control characters; random or binary data decoded as GB18030 is scattered over rare characters,
    private-use code points and controls.
    """
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return False
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f")
    if controls > len(text) // 1000:
        return False
    common = 0
    for c in wide:
        try:
            c.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    cjk = sum(1 for c in wide if CJK_TEXT.match(c))
    # Level 1 of GB2312 (lead bytes 0xB0–0xD7) holds the 3755 most used Han characters: nearly all
    # of real prose, under half of random pairs.
    han = [c for c in wide if "\u4e00" <= c <= "\u9fff"]
    level1 = 0
    for c in han:
        try:
            level1 += 0xB0 <= c.encode("gb2312")[0] <= 0xD7
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * len(wide) and cjk >= 0.6 * len(wide) and level1 >= 0.8 * len(han) and len(han) >= 2


def _not_text(path: Path, data: bytes, start: int) -> BookError:
    line = data[:start].count(b"\n") + 1
    return BookError(
        Problem(display_path(path), line,
                f"file is not UTF-8 text (byte 0x{data[start]:02X} cannot be decoded; not GBK/GB18030 Chinese either)",
                "save it as UTF-8 text, or remove it from book.yaml if it is not a manuscript")
    )  # fmt: skip


def decode(data: bytes, path: Path, diag: Diagnostics) -> tuple[str, str]:
    """Bytes → text with LF line endings; returns (text, encoding name)."""
    encoding = "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _not_text(path, data, exc.start) from None
        encoding = "utf-16"
        diag.warn(path, None, "file is UTF-16, not UTF-8; decoded as UTF-16", "save it as UTF-8")
    else:
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise _not_text(path, data, exc.start) from None
            if not plausible_chinese(text):
                raise _not_text(path, data, exc.start) from None
            encoding = "gb18030"
            diag.warn(path, None, "file is GB18030/GBK, not UTF-8; decoded as GB18030", "save it as UTF-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):  # a BOM inside UTF-16, or a doubled one
        text = text[1:]
    bad = XML_INVALID.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        count = len(XML_INVALID.findall(text))
        what = f"control character U+{ord(bad.group()):04X}" + (f" and {count - 1} more" if count > 1 else "")
        diag.warn(path, line, f"{what} removed (not allowed in XML)", "delete it from the source")
        text = XML_INVALID.sub("", text)
    return text, encoding


def read_source(spec: SourceSpec, diag: Diagnostics) -> Source:
    """Read one source; raise BookError for what cannot be read at all."""
    path = spec.path
    shown = display_path(path)
    try:
        data = read_source_bytes(spec, diag)
    except OSError as exc:
        raise BookError(
            Problem(shown, None, f"cannot read the file: {exc.strerror}", "check that it exists and is readable")
        ) from None
    if not data.strip():
        raise BookError(Problem(shown, 1, "file is empty", "write the part or remove it from book.yaml"))
    text, encoding = decode(data, path, diag)
    if not text.strip():
        raise BookError(Problem(shown, 1, "file has no text", "write the part or remove it from book.yaml"))
    if not re.match(r"---[ \t]*\n", text):  # no front matter: the text is all body
        body, trimmed = trim_body(text, spec.trim_after) if spec.trim_after else (text, 0)
        return Source(path, spec.kind, {}, body, 1, encoding=encoding, trimmed_lines=trimmed, front_matter=False)
    m = FENCE.match(text)
    if not m:
        raise BookError(
            Problem(shown, 1, "front matter is not closed", "end it with a line of three dashes '---' before the text")
        )
    fm_text = m.group(1) or ""
    if len(fm_text) > MAX_FRONT_MATTER:
        raise BookError(Problem(shown, 2, "front matter is too long (over 64 KB)", "keep only metadata in it"))
    try:
        meta, duplicates = load_yaml_again(fm_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 2
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BookError(
            Problem(
                shown, line, f"front matter is not valid YAML: {what}", "fix the YAML syntax (quote values with ':')"
            )
        ) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise BookError(
            Problem(shown, 2, f"front matter is not a mapping of keys to values (it is a {type(meta).__name__})",
                    "write 'key: value' lines such as 'title: 标题'")
        )  # fmt: skip
    for key, line in duplicates:
        diag.warn(path, line + 1, f"front-matter key '{key}' appears twice; the last one wins", "keep only one")
    body = text[m.end() :]
    body_line = text.count("\n", 0, m.end()) + 1
    trimmed = 0
    if spec.trim_after:
        body, trimmed = trim_body(body, spec.trim_after)
    if not body.strip():
        diag.warn(path, body_line, "the part has no text after its front matter", "write the text or remove the file")
    return Source(
        path=path,
        kind=spec.kind,
        meta={str(k): v for k, v in meta.items()},
        body=body,
        body_line=body_line,
        key_lines={str(k): n for k in meta if (n := key_line(fm_text, str(k), 2)) is not None},
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
