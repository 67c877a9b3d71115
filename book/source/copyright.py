"""Copyright-page keys: `cip:` in book.yaml → the validated CIP data the 版权页 prints (book.cover.imprint).

The CIP block (图书在版编目数据, GB/T 12451) is the publisher's data, printed only as given; a key
the block does not know is a warning at its line, a value that is not text an error.
"""

from __future__ import annotations

from typing import Any

from book.source.yamlfile import Checker, suggest
from book.text import key_line, xml_safe

CIP_KEYS = ("place", "subjects", "classification", "number", "year")


def read_cip(c: Checker) -> dict[str, Any]:
    """`cip:` as a mapping of known keys (text, `subjects` a list of text); problems at their line."""
    raw = c.data.get("cip")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        c.err("cip", "'cip' must be a mapping", "write cip: {place: 北京, classification: TP18, number: 123456}")
        return {}
    found: dict[str, Any] = {}
    for key, value in raw.items():
        if str(key) not in CIP_KEYS:
            c.warn(key_line(c.text, str(key)), f"unknown key 'cip.{key}'", suggest(str(key), set(CIP_KEYS)))
            continue
        if key == "subjects":
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in items):
                c.err("cip", "'cip.subjects' must be a list of text", "write subjects: [人工智能—技术史]")
                continue
            found[key] = tuple(xml_safe(str(v)).strip() for v in items)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            found[key] = xml_safe(str(value)).strip()
        else:
            c.err("cip", f"'cip.{key}' must be text", f'write {key}: "…"')
    return found
