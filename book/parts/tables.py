"""Tables stage: a part's data tables → the same tables marked for setting (short headers, numeric
columns, wide and long tables).

- a header cell of at most SHORT_HEADER characters (`参数量`, `注意力头`) is `keep`: it never breaks
  inside its word (CJK text may break between any two characters; a narrow column did);
- a column whose body cells are all numbers (`1.5B`, `12,288`, `85.02%`, `¥300`) is `num`: set right,
  in tabular figures, its header too — unless the author aligned the column (Pandoc's `style`);
- a table of WIDE_COLUMNS or more columns is `wide` (a smaller size, tighter cells), of
  VERY_WIDE_COLUMNS or more `very-wide`;
- a table of more than LONG_ROWS rows is `long`: it may break across pages, its header repeated.
"""

from __future__ import annotations

import re

from lxml import etree

SHORT_HEADER = 4
WIDE_COLUMNS = 7
VERY_WIDE_COLUMNS = 10
LONG_ROWS = 20
NUMBER = re.compile(
    r"^[+\-−±~≈<>≤≥]?\s*[$¥€£]?\s*\d[\d,，]*(?:\.\d+)?(?:[eE][+\-−]?\d+)?\s*(?:%|‰|[A-Za-z]{1,3}|[万亿千百]|倍|x|×)?$"
)


def _add(el: etree._Element, cls: str) -> None:
    classes = (el.get("class") or "").split()
    if cls not in classes:
        el.set("class", " ".join([*classes, cls]))


def _text(el: etree._Element) -> str:
    return "".join(el.itertext()).strip()


def _rows(table: etree._Element, section: str) -> list[list[etree._Element]]:
    rows = []
    for group in table.iter(section):
        for tr in group.iter("tr"):
            rows.append([c for c in tr if c.tag in ("td", "th")])
    return rows


def is_number(text: str) -> bool:
    return bool(NUMBER.match(text.replace("\u2009", "").replace("\u00a0", " ")))


def mark(table: etree._Element) -> None:
    """Mark one table's short headers, numeric columns and size."""
    head, body = _rows(table, "thead"), _rows(table, "tbody")
    if not body and not head:
        body = [[c for c in tr if c.tag in ("td", "th")] for tr in table.iter("tr")]
    for row in head:
        for cell in row:
            if 0 < len(_text(cell).replace(" ", "")) <= SHORT_HEADER:
                _add(cell, "keep")
    columns = max((len(r) for r in head + body), default=0)
    spanned = any(c.get("colspan") not in (None, "1") for r in head + body for c in r)
    if not spanned:
        for i in range(columns):
            cells = [r[i] for r in body if i < len(r)]
            values = [_text(c) for c in cells if _text(c) not in ("", "-", "—", "–")]
            if not values or not all(is_number(v) for v in values):
                continue
            if any("text-align" in (c.get("style") or "") for c in cells):
                continue  # the author aligned it
            for c in cells + [r[i] for r in head if i < len(r)]:
                _add(c, "num")
    if columns >= WIDE_COLUMNS:
        _add(table, "wide")
    if columns >= VERY_WIDE_COLUMNS:
        _add(table, "very-wide")
    if len(body) > LONG_ROWS:
        _add(table, "long")


def apply(root: etree._Element) -> None:
    """Mark every table under `root`."""
    for table in root.iter("table"):
        mark(table)
