"""Labels: a `chapter_label:` / `part_label:` pattern and a number → the label printed (第十二章, 第 03 天).

`{n}` is the number in Chinese numerals (第{n}章 → 第十二章); `{n:…}` with a format spec is the
number in digits as Python formats it (`{n:d}` → 12, `{n:02d}` → 03), so a book whose chapters
are days or lessons is labelled as it numbers itself; `none` (or `false`, or an empty text) prints no
label, for books whose headings already carry their numbers.
"""

from __future__ import annotations

from book.text import chinese_numeral

NONE_WORDS = ("none", "no", "off", "false", "")


class _Number(int):
    """A chapter number that formats as Chinese numerals without a spec, as digits with one."""

    def __format__(self, spec: str) -> str:
        return chinese_numeral(int(self)) if not spec else format(int(self), spec)


def format_label(pattern: str, n: int) -> str:
    """The label of number `n` under `pattern` ("" for no label)."""
    return pattern.format(n=_Number(n)) if pattern else ""


def parse_pattern(value: object, default: str) -> tuple[str, str | None]:
    """A book.yaml label value → (pattern, problem or None); `None` (key absent) → `default`."""
    if value is None:
        return default, None
    if value is False:
        return "", None
    if not isinstance(value, str):
        return default, f"must be text such as '第{{n}}章' or 'none', not {type(value).__name__}"
    if value.strip().lower() in NONE_WORDS:
        return "", None
    if "{n" not in value:
        return default, f"'{value}' has no '{{n}}' for the number"
    try:
        format_label(value, 12)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        return default, f"'{value}' is not a label pattern ({exc})"
    return value, None
