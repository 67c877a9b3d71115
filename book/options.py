"""Book options: the `print:` and `epub:` sections of book.yaml → typed `PrintOptions` / `EpubOptions`.

Each option is declared once, here, with its type, default, one line of documentation and what a
change to it invalidates (`parts`: every part is converted again; `pdf`, `epub`: that output is
written again; `cover`: the printer's cover spread, `book cover`, decides on it). The loader validates a section against its table when book.yaml is read, so a bad
value or a misspelt key is reported at once with its line (and a "did you mean"), and the README's
option table is generated from the same tables (`python -m book.options`).
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from book.errors import Problem

# Chinese book sizes (开本) and ISO sizes, in millimetres.
TRIM_SIZES: dict[str, tuple[float, float]] = {
    "a4": (210, 297),
    "a5": (148, 210),
    "a6": (105, 148),
    "b5": (176, 250),
    "16开": (185, 260),
    "大16开": (210, 285),
    "32开": (130, 184),
    "大32开": (140, 203),
}


@dataclass(frozen=True)
class Option:
    """One option of a book.yaml section."""

    key: str
    kind: str  # "number" | "integer" | "boolean" | "text" | "trim" | "file"
    default: Any
    doc: str
    invalidates: tuple[str, ...]  # what a change re-does: "parts", "pdf", "epub", "cover"
    minimum: float | None = None


PRINT: tuple[Option, ...] = (
    Option(
        "trim", "trim", "A5", "trim size: A4, A5, A6, B5, 16开, 大16开, 32开, 大32开, or `WxH` in mm", ("pdf", "epub")
    ),  # fmt: skip
    Option("font_size", "number", 10.5, "body size in points", ("pdf",), minimum=4),
    Option(
        "chars_per_line",
        "integer",
        None,
        "characters per line of the type area (default: as many as fit)",
        ("pdf",),
        minimum=10,
    ),  # fmt: skip
    Option("gutter", "number", 5, "extra inner (spine-side) margin, mm", ("pdf",), minimum=0),
    Option("min_margin", "number", 12, "smallest side margin when fitting the line, mm", ("pdf",), minimum=0),
    Option("top", "number", 20, "top margin, mm", ("pdf",), minimum=0),
    Option("bottom", "number", 20, "bottom margin, mm", ("pdf",), minimum=0),
    Option("bleed", "number", 3, "bleed around the trim in the print profile, mm", ("pdf",), minimum=0),
    Option("marks", "boolean", False, "crop and registration marks in the print profile", ("pdf",)),
    Option("icc_profile", "file", None, "CMYK output-intent profile (default: Ghostscript's default CMYK)", ("pdf",)),
    Option("watermark", "boolean", False, "草稿 watermark on draft parts in every profile", ("pdf",)),
    Option(
        "page_references",
        "boolean",
        True,
        "a link to another chapter is followed by its page (（见第 12 页）)",
        ("pdf",),
    ),  # fmt: skip
    Option(
        "page_reference_format",
        "text",
        None,
        "the page reference's text, `{page}` standing for the number (default: the language's, 见第/見第)",
        ("pdf",),
    ),  # fmt: skip
    Option(
        "isbn",
        "text",
        None,
        "the print edition's ISBN, if not given as top-level `isbn:` (the EPUB's page list names it)",
        ("pdf", "epub"),
    ),  # fmt: skip
    # The press and the printer's cover (book.cover).
    Option(
        "output_intent",
        "text",
        None,
        "press condition: JC200103, FOGRA39, FOGRA51 or SWOP (the cover's default JC200103; the interior keeps"
        " `icc_profile`'s unless set)",
        ("pdf", "cover"),
    ),
    Option(
        "paper",
        "text",
        "70g 胶版纸",
        "interior stock by weight: 胶版纸, 轻型纸, 纯质纸, 铜版纸, 哑粉纸; sets the caliper",
        ("cover",),
    ),
    Option("caliper_mm", "number", None, "one leaf (two pages), mm; overrides `paper`", ("cover",), minimum=0),
    Option("spine_extra_mm", "number", 0, "added to the spine for the cover board and glue, mm", ("cover",), minimum=0),
    Option("spine_text_min_mm", "number", 5, "narrowest spine that carries text, mm", ("cover",), minimum=0),
    Option("cover_bleed", "number", None, "the cover's bleed, mm (default: `bleed`)", ("cover",), minimum=0),
    Option("cover_marks", "boolean", None, "crop and fold marks on the cover (default: `marks`)", ("cover",)),
    Option(
        "cover_background", "file", None, "image behind the front cover, inside the book's folder", ("cover", "epub")
    ),  # fmt: skip
    Option("barcode_scale", "number", 0.9, "EAN-13 size, 0.8–2.0 (1.0: 0.33 mm modules)", ("cover",), minimum=0.8),
    # GB/T 15834 choices the typography stage makes for both outputs.
    Option(
        "number_range",
        "text",
        "～",
        "a number range's mark, `～` (10～100) or `—`; years always take — (2023—2024)",
        ("parts",),
    ),
    Option(
        "quotes",
        "text",
        None,
        "quotation marks, `“”` or `「」` (default: the language's); the other style is converted",
        ("parts",),
    ),
)
EPUB: tuple[Option, ...] = (
    Option("cover", "file", None, "cover image for the EPUB (also accepted as top-level `cover:`)", ("epub",)),
    Option("isbn", "text", None, "the e-book's own ISBN (e-ISBN), beside its unique identifier", ("epub",)),
)


@dataclass(frozen=True)
class PrintOptions:
    """`print:` — the print PDF's page (see `PRINT` for each option's documentation)."""

    trim: tuple[float, float] = TRIM_SIZES["a5"]
    font_size: float = 10.5
    chars_per_line: int | None = None
    gutter: float = 5.0
    min_margin: float = 12.0
    top: float = 20.0
    bottom: float = 20.0
    bleed: float = 3.0
    marks: bool = False
    icc_profile: Path | None = None
    watermark: bool = False
    page_references: bool = True
    page_reference_format: str | None = None
    isbn: str | None = None
    output_intent: str | None = None
    paper: str = "70g 胶版纸"
    caliper_mm: float | None = None
    spine_extra_mm: float = 0.0
    spine_text_min_mm: float = 5.0
    cover_bleed: float | None = None
    cover_marks: bool | None = None
    cover_background: str | None = None
    barcode_scale: float = 0.9
    number_range: str = "～"
    quotes: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # option → book.yaml line


@dataclass(frozen=True)
class EpubOptions:
    """`epub:` — the EPUB's own options (see `EPUB`)."""

    cover: str | None = None
    isbn: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False)


SECTIONS: dict[str, tuple[tuple[Option, ...], type]] = {"print": (PRINT, PrintOptions), "epub": (EPUB, EpubOptions)}


def trim_size(value: Any) -> tuple[float, float] | None:
    """A named size (A5, 16开, 大32开…) or `WxH` / `[W, H]` in millimetres → (w, h) in mm; None if neither."""
    if isinstance(value, str):
        key = value.strip().lower().replace("mm", "")
        if key in TRIM_SIZES:
            return TRIM_SIZES[key]
        for sep in ("x", "×", "*"):
            if sep in key:
                try:
                    w, h = (float(v) for v in key.split(sep))
                except ValueError:
                    return None
                return (w, h) if w > 0 and h > 0 else None
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value):
        return float(value[0]), float(value[1])
    return None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def section_lines(text: str, section: str) -> dict[str, int]:
    """The book.yaml line of each key written under `section:` (its indented block)."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(rf"^['\"]?{re.escape(section)}['\"]?\s*:", line):
            inside = True
            continue
        if inside:
            if line.strip() and not line[0].isspace() and not line.lstrip().startswith("#"):
                break
            m = re.match(r"^[ \t]+['\"]?([^\s'\":#][^'\":]*?)['\"]?\s*:", line)
            if m:
                lines.setdefault(m.group(1), number)
    return lines


def parse_section(section: str, data: dict[str, Any], text: str, shown: str, root: Path) -> tuple[Any, list[Problem]]:
    """One section's mapping → its options object and the problems found (errors and warnings)."""
    table, cls = SECTIONS[section]
    known = {o.key: o for o in table}
    lines = section_lines(text, section)
    problems: list[Problem] = []
    values: dict[str, Any] = {}

    def err(key: str, message: str, hint: str) -> None:
        problems.append(Problem(shown, lines.get(key), f"{section}: {message}", hint))

    for raw_key, value in data.items():
        key = str(raw_key)
        option = known.get(key)
        if option is None:
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known options: {', '.join(known)}"
            problems.append(Problem(shown, lines.get(key), f"unknown option '{section}.{key}'", hint, "warning"))
            continue
        if value is None:
            continue
        parsed = _parse(option, value, root)
        if parsed is _BAD:
            err(key, f"'{key}' must be {_WHAT[option.kind]}, not {value!r}", f"e.g. {key}: {_example(option)}")
            continue
        if option.minimum is not None and parsed < option.minimum:
            err(key, f"'{key}' must be at least {option.minimum:g}, not {value!r}", f"e.g. {key}: {_example(option)}")
            continue
        if option.kind == "file":
            resolved = (root / str(parsed)).resolve()  # links resolved: a book reads only its own files
            if not resolved.is_relative_to(root.resolve()):
                err(key, f"{key} {parsed} is outside the book's folder", "copy it into the book's folder")
                continue
            if section == "print" and not resolved.is_file():
                err(key, f"{key} {parsed} not found", "give a path relative to book.yaml")
                continue
        values[key] = parsed
    if "icc_profile" in values:
        values["icc_profile"] = (root / str(values["icc_profile"])).resolve()
    return cls(**values, lines=lines), problems


_BAD = object()
_WHAT = {
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "text": "text",
    "trim": f"a trim size ({', '.join(TRIM_SIZES)} or millimetres like 148x210)",
    "file": "a file path",
}


def _parse(option: Option, value: Any, root: Path) -> Any:
    kind = option.kind
    if kind == "number":
        return float(value) if _is_number(value) else _BAD
    if kind == "integer":
        return value if isinstance(value, int) and not isinstance(value, bool) else _BAD
    if kind == "boolean":
        return value if isinstance(value, bool) else _BAD
    if kind == "text":
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else _BAD
    if kind == "trim":
        size = trim_size(value)
        return size if size is not None else _BAD
    if kind == "file":
        return str(value) if isinstance(value, str) and value.strip() else _BAD
    raise AssertionError(kind)


def _example(option: Option) -> str:
    if option.default is not None:
        return str(option.default).lower() if isinstance(option.default, bool) else str(option.default)
    return {"integer": "32", "file": "path/to/file", "text": "…"}.get(option.kind, "…")


def invalidating(section_options: Any, stage: str) -> dict[str, Any]:
    """The options of a section that decide `stage` ("parts", "pdf", "epub", "cover"): what its cache key hashes."""
    table, _ = SECTIONS["print" if isinstance(section_options, PrintOptions) else "epub"]
    wanted = {o.key for o in table if stage in o.invalidates}
    return {f.name: getattr(section_options, f.name) for f in fields(section_options) if f.name in wanted}


def markdown_table() -> str:
    """The README's option table, made from the declarations above."""
    rows = ["| option | type | default | what it sets | a change re-does |", "|---|---|---|---|---|"]
    for section, (table, _) in SECTIONS.items():
        for o in table:
            default = "—" if o.default is None else f"`{_example(o)}`"
            rows.append(f"| `{section}.{o.key}` | {o.kind} | {default} | {o.doc} | {', '.join(o.invalidates)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
