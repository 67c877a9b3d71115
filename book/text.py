"""Shared text facts: character classes, XML validity, Chinese numerals, and where text is in a source.

Every stage that classifies characters or names a source line uses this module, so a class such as
"Han" or "control characters XML forbids" has one definition, and a diagnostic's line number is
found one way wherever it is reported.
"""

from __future__ import annotations

import re
from typing import Any, cast


class _LazyPattern:
    """A regular expression compiled at its first use (then its methods are the compiled ones).

    The classes below span the supplementary planes, and compiling one takes 4–6 ms: the five took
    25 ms of a 0.3 s no-change rebuild, which imports this module and matches nothing.
    """

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source, self._flags = source, flags

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_source", "_flags"):  # pickle's and copy's probes
            raise AttributeError(name)
        compiled = re.compile(self._source, self._flags)
        for attr in ("search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer", "pattern"):
            self.__dict__[attr] = getattr(compiled, attr)
        return getattr(compiled, name)


def lazy_compile(source: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile`, deferred to the pattern's first use (for module-level patterns)."""
    return cast("re.Pattern[str]", _LazyPattern(source, flags))


# Han and the other ideographic/kana characters the typography rules treat as CJK text.
HAN = (
    "\u2e80-\u2eff\u2f00-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
)
HAN_RE = lazy_compile(f"[{HAN}]")
# Only the unified ideographs (and their extensions): what a Chinese word processor counts as 字.
IDEOGRAPH_RE = lazy_compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Full-width punctuation of GB/T 15834: no Han–Latin space next to these.
OPENING = "“‘（《〈【「『〔〖"
CLOSING = "”’）》〉】」』〕〗"
STOPS = "、，。；：？！"
# Marks whose ink is in their first half: set half-width at a line's end (justify's compression),
# while poppler's word boxes still count their full em.
HALF_AT_END = CLOSING + STOPS
FULLWIDTH_PUNCT = OPENING + CLOSING + STOPS + "—…·～"
WJ = "\u2060"  # WORD JOINER: forbids a line break here (kinsoku) and is invisible
LATIN_START = "A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff$€£#@"
LATIN_END = "A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff%°"

_URL_CHAR = f"[^\\s<>\"'，。、；：？！“”‘’（）《》【】「」{HAN}]"
URL_RE = lazy_compile(
    f"(?:https?|ftp)://{_URL_CHAR}+|www\\.[A-Za-z0-9-]+\\.{_URL_CHAR}+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)

# XML 1.0 forbids these (and lone surrogates cannot be written as UTF-8); Word and WeChat exports
# carry them, and YAML's "\x08" escapes can put them in any value.
XML_INVALID = lazy_compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters no XML document (or UTF-8 file) may contain."""
    return XML_INVALID.sub("", text)


CN_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 18 → 十八, 25 → 二十五, 108 → 一百零八 (as chapter labels are written)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        if rest == 0:
            tail = ""
        elif rest < 10:
            tail = "零" + CN_DIGITS[rest]
        elif rest >= 20:
            tail = chinese_numeral(rest)
        else:
            tail = "一" + chinese_numeral(rest)
        return CN_DIGITS[n // 100] + "百" + tail
    return str(n)


# --- where text is in a source ----------------------------------------------------------------------


def line_at(text: str, index: int, first_line: int = 1) -> int:
    """The file line of character `index` of `text`, which starts on line `first_line`."""
    return first_line + text.count("\n", 0, max(0, index))


def find_line(text: str, needle: str, first_line: int = 1) -> int | None:
    """The line where `needle` is written: tried whole, with `&` as the HTML entity, then by its
    first 40 characters (a converted block rarely survives whole); None when not found."""
    needle = needle.strip()
    for probe in (needle, needle.replace("&", "&amp;"), needle[:40]):
        if not probe:
            return None
        index = text.find(probe)
        if index >= 0:
            return line_at(text, index, first_line)
    return None


def key_line(text: str, key: str, first_line: int = 1, *, indented: bool = False) -> int | None:
    """The line of a YAML `key:` in `text` (book.yaml or front matter); None when not written."""
    indent = r"[ \t-]*" if indented else ""
    m = re.search(rf"^{indent}['\"]?{re.escape(key)}['\"]?\s*:", text, re.M)
    return line_at(text, m.start(), first_line) if m else None


class Locator:
    """Successive occurrences of a pattern in a text, as file lines: the n-th finding of a pattern
    is reported at the n-th place it is written (then at the first, when it is written fewer times)."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.text = text
        self.first_line = first_line
        self.cursor: dict[str, int] = {}

    def line(self, pattern: str) -> int | None:
        compiled = re.compile(pattern, re.I)
        m = compiled.search(self.text, self.cursor.get(pattern, 0)) or compiled.search(self.text)
        if m is None:
            return None
        self.cursor[pattern] = m.end()
        return line_at(self.text, m.start(), self.first_line)


# CJK text no math font (STIX Two Math, ziamath's) has glyphs for: Han, kana, CJK and full-width
# punctuation, Hangul. A formula carrying it cannot be drawn whole by book.pdf.mathsvg.
CJK_TEXT_RE = lazy_compile(f"[{HAN}\u3000-\u303f\uff00-\uffef\u1100-\u11ff\uac00-\ud7af]")
