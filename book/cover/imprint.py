"""The copyright page's data (版权页, GB/T 12450): book.yaml + the book's word count → the CIP block and
the imprint lines (版本记录), every text through the typography stage.

The CIP block (GB/T 12451) is printed only from the publisher's `cip:` data — it is assigned by the
national library, never made up. The imprint gives 书名, 作者 (left out when no author is known),
出版发行, 印刷, 开本 (the paper sheet and its fraction, from the trim: 880 mm × 1230 mm 1/32 for A5),
印张 (filled in by the PDF stage once the page count is known: `book.pdf.imprint`), 字数 (Han
characters + Latin words, in 千字), 版次, 印次, 书号 (the ISBN, check digit validated) and 定价.
Nothing internal (the `urn:uuid` identifier) is printed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from book.cover import isbn as isbn_mod
from book.errors import BookError, Problem, display_path
from book.locale import locale_for
from book.model import BookConfig
from book.text import key_line
from book.typography import typeset_string

# Trim (mm) → the full sheet it is cut from and how many pages of it make one 印张 (开数).
FORMATS: dict[tuple[int, int], tuple[str, int]] = {
    (185, 260): ("787 mm × 1092 mm", 16),
    (130, 184): ("787 mm × 1092 mm", 32),
    (210, 285): ("889 mm × 1194 mm", 16),
    (140, 203): ("850 mm × 1168 mm", 32),
    (210, 297): ("880 mm × 1230 mm", 16),
    (148, 210): ("880 mm × 1230 mm", 32),
    (105, 148): ("880 mm × 1230 mm", 64),
    (176, 250): ("1000 mm × 1400 mm", 32),
}


def book_format(trim: tuple[float, float]) -> tuple[str, int]:
    """(开本 as printed, 开数): a named size's sheet, else the trim in mm and the fraction of a
    787 × 1092 sheet nearest its area (a power of two)."""
    key = (round(trim[0]), round(trim[1]))
    if key in FORMATS:
        sheet, kai = FORMATS[key]
        return f"{sheet} 1/{kai}", kai
    kai = 2 ** max(2, round(math.log2(787 * 1092 / ((trim[0] + 6) * (trim[1] + 6)))))
    return f"{trim[0]:g} mm × {trim[1]:g} mm", kai


def sheets(pages: int, kai: int) -> str:
    """印张: pages ÷ 开数, rounded up to a quarter sheet (a signature), as printed (1.5, 12.25)."""
    quarters = math.ceil(pages * 4 / kai) if pages > 0 else 0
    value = quarters / 4
    return f"{value:g}"


def thousand_words(words: int) -> str:
    """字数 in 千字: rounded, at least 1."""
    return str(max(1, round(words / 1000)))


def validated_isbn(config: BookConfig) -> isbn_mod.ISBN | None:
    """The print ISBN (`isbn:` or `print.isbn`), check digit verified; an error at its book.yaml line."""
    written = config.isbn or config.print.isbn or ""
    if not written:
        return None
    try:
        return isbn_mod.parse(written)
    except isbn_mod.InvalidISBN as exc:
        message, hint = exc.args if len(exc.args) == 2 else (str(exc), "")
        key = "isbn" if config.isbn else "print"
        try:
            text = config.config_path.read_text(encoding="utf-8")
        except OSError:
            text = ""
        raise BookError(Problem(display_path(config.config_path), key_line(text, key) if text else None,
                                message, hint)) from None  # fmt: skip


def _impression(config: BookConfig, t: Any) -> str:
    if config.impression:
        return config.impression
    m = re.match(r"(.*?)第\s*1\s*版", config.edition)
    return f"{m.group(1)}{t['imprint_first_impression']}" if m else ""


def cip_lines(config: BookConfig, isbn: isbn_mod.ISBN | None, t: Any) -> list[str]:
    """The CIP block's lines (GB/T 12451), or none without the publisher's `cip:` data."""
    cip = config.cip
    if not cip:
        return []
    title = config.title + (f"：{config.subtitle}" if config.subtitle else "")
    authors = "，".join(config.authors)
    line = title + (f" / {authors}{t['by']}" if authors else "")
    place = cip.get("place", "")
    year_month = ".".join(config.date.split("-")[:2]) if config.date else ""
    published = "，".join(x for x in (config.publisher, year_month) if x)
    if place or published:
        line += f". —{place}{'：' if place and published else ''}{published}"
    lines = [line]
    if isbn is not None:
        lines.append(isbn.display)
    index = [f"Ⅰ. ①{config.title[:1]}…"]
    if config.authors:
        index.append(f"Ⅱ. ①{config.authors[0][:1]}…")
    subjects = cip.get("subjects") or ()
    if subjects:
        index.append("Ⅲ. " + " ".join(f"{'①②③④⑤⑥⑦⑧⑨'[i]}{s}" for i, s in enumerate(subjects[:9])))
    if cip.get("classification"):
        index.append(f"Ⅳ. ①{cip['classification']}")
    lines.append(" ".join(index))
    if cip.get("number"):
        year = cip.get("year") or (config.date[:4] if config.date else "")
        lines.append(t["cip_number"].format(year=year, number=cip["number"]))
    return lines


def imprint(config: BookConfig, words: int) -> dict[str, Any]:
    """What copyright.html.j2 prints: `cip` lines, `rows` (label, value, class), `rights`."""
    t = locale_for(config.language)
    isbn = validated_isbn(config)
    fmt, kai = book_format(config.print.trim)
    title = config.title + (f"：{config.subtitle}" if config.subtitle else "")
    rows: list[tuple[str, str, str]] = [(t["imprint_title"], title, "")]  # label, value, class
    if config.authors:
        rows.append((t["imprint_author"], "　".join(config.authors), ""))
    if config.publisher:
        rows.append((t["imprint_publisher"], config.publisher, ""))
    if config.printer:
        rows.append((t["imprint_printer"], config.printer, ""))
    rows.append((t["imprint_format"], fmt, ""))
    rows.append((t["imprint_sheets"], "", "sheets"))  # the PDF stage fills it in (book.pdf.imprint)
    if words:
        rows.append((t["imprint_words"], t["imprint_words_unit"].format(n=thousand_words(words)), ""))
    if config.edition:
        rows.append((t["imprint_edition"], config.edition, ""))
    impression = _impression(config, t)
    if impression:
        rows.append((t["imprint_impression"], impression, ""))
    if isbn is not None:
        rows.append((t["imprint_isbn"], isbn.display, "isbn"))
    if config.price:
        price = config.price.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
        rows.append((t["imprint_price"], t["imprint_price_unit"].format(price=price), ""))
    typeset = [
        {"label": label, "value": typeset_string(value) if value and cls != "isbn" else value, "class": cls}
        for label, value, cls in rows
    ]
    return {
        "kai": kai,
        "cip_heading": t["cip_heading"],
        # the CIP data keeps its catalogue punctuation (". —", "…", "—" between subject terms)
        "cip": cip_lines(config, isbn, t),
        "rows": typeset,
        "rights": typeset_string(config.rights) if config.rights else "",
    }
