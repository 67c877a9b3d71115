"""PDF face check: a built PDF's font dictionaries → the faces outside the book's set, synthesised faces
and colour emoji.

WeasyPrint names each font after the face the CSS asked for (`Noto-Serif-CJK-SC-Bold`), not after
the file fontconfig found: where no file has the requested weight or style, fontconfig hands over the
regular file marked `embolden` or with an oblique `matrix`, and the PDF gets a font named Bold or
Italic whose program is the regular one (WeasyPrint 70 draws it regular; other renderers fake it).
So a face is synthesised when its name asks for bold or italic and its embedded program (OS/2
weight class, fsSelection/macStyle italic bits) is not. The chosen set is the CJK collections of
the book's region, LXGW WenKai, and Noto Serif / Noto Sans (with their symbol faces) for Latin.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from book.locale import locale_for
from book.model import CheckResult

# Pango's style words as they end a font description, with "-" for spaces (WeasyPrint's BaseFont).
BOLD_WORDS = ("Semi-Bold", "Bold", "Ultra-Bold", "Heavy", "Ultra-Heavy", "Black")
ITALIC_WORDS = ("Italic", "Oblique")
STYLE_WORDS = (
    "Thin", "Ultra-Light", "Light", "Semi-Light", "Book", "Medium", *BOLD_WORDS, *ITALIC_WORDS,
    "Condensed", "Semi-Condensed", "Expanded", "Small-Caps",
)  # fmt: skip
BOLD_WEIGHT = 600


def chosen_families(region: str) -> tuple[str, ...]:
    """The families (hyphenated as in BaseFont names) a book in `region` (SC, TC, HK) may print in."""
    return (
        f"Noto-Serif-CJK-{region}", f"Noto-Sans-CJK-{region}", f"Noto-Sans-Mono-CJK-{region}", "LXGW-WenKai",
        "Noto-Serif", "Noto-Sans", "Noto-Sans-Symbols", "Noto-Sans-Symbols2",
    )  # fmt: skip


@dataclass(frozen=True)
class Face:
    """One font dictionary of the PDF: what was asked for and what its program is."""

    name: str  # BaseFont without the subset tag
    family: str  # the name without Pango's style words
    asks_bold: bool
    asks_italic: bool
    weight: int | None  # OS/2 usWeightClass of the embedded program (None: unreadable)
    italic: bool | None
    colour: bool  # a colour (bitmap or COLR) program

    @property
    def synthesised(self) -> list[str]:
        fake = []
        if self.asks_bold and self.weight is not None and self.weight < BOLD_WEIGHT:
            fake.append("bold")
        if self.asks_italic and self.italic is False:
            fake.append("italic")
        return fake


def split_name(base_font: str) -> tuple[str, bool, bool]:
    """`/ABCDEF+Noto-Serif-CJK-SC-Bold-Italic` → ("Noto-Serif-CJK-SC", bold?, italic?)."""
    name = base_font.lstrip("/").split("+", 1)[-1]
    family, bold, italic = name, False, False
    changed = True
    while changed:
        changed = False
        for word in sorted(STYLE_WORDS, key=len, reverse=True):
            if family.endswith("-" + word):
                family = family[: -len(word) - 1]
                bold |= word in BOLD_WORDS
                italic |= word in ITALIC_WORDS
                changed = True
                break
    return family, bold, italic


def _program_style(descriptor: object) -> tuple[int | None, bool | None, bool]:
    """(weight class, italic, colour) of a font descriptor's embedded program."""
    from fontTools.ttLib import TTFont

    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
        stream = descriptor.get(key) if descriptor is not None else None  # type: ignore[attr-defined]
        if stream is None:
            continue
        try:
            font = TTFont(io.BytesIO(stream.read_bytes()), lazy=True)
            os2 = font["OS/2"] if "OS/2" in font else None
            head = font["head"] if "head" in font else None
            weight = int(os2.usWeightClass) if os2 is not None else None
            italic = None
            if os2 is not None or head is not None:
                italic = bool((os2 is not None and os2.fsSelection & 1) or (head is not None and head.macStyle & 2))
            colour = any(t in font for t in ("CBDT", "sbix", "COLR", "SVG "))
            return weight, italic, colour
        except Exception:  # noqa: BLE001 - a program fontTools cannot read: style unknown
            return None, None, False
    return None, None, False


def faces(path: Path) -> list[Face]:
    """Every distinct font of the PDF (Type 0 fonts through their descendant)."""
    import pikepdf

    found: dict[str, Face] = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font" or "/BaseFont" not in obj:
                continue
            if obj.get("/Subtype") == "/Type0":
                continue  # its descendant carries the descriptor
            base = str(obj.BaseFont)
            name = base.lstrip("/").split("+", 1)[-1]
            family, bold, italic = split_name(base)
            weight, is_italic, colour = _program_style(obj.get("/FontDescriptor"))
            colour = colour or "Emoji" in name
            found.setdefault(base, Face(name, family, bold, italic, weight, is_italic, colour))
    return sorted(found.values(), key=lambda f: f.name)


def face_problems(found: list[Face], region: str) -> list[str]:
    """Faces outside the chosen set, synthesised faces and colour emoji, one line each."""
    allowed = chosen_families(region)
    problems = []
    for f in found:
        if f.colour:
            problems.append(f"{f.name}: a colour emoji face in print — the typography stage replaces emoji")
        elif f.family not in allowed:
            problems.append(f"{f.name}: outside the book's faces ({', '.join(allowed)})")
        fake = f.synthesised
        if fake:
            problems.append(f"{f.name}: synthesised {' and '.join(fake)} (the file is weight {f.weight}"
                            f"{', upright' if 'italic' in fake else ''}) — install a real face or set it regular/upright")  # fmt: skip
    return problems


def check_pdf_faces(path: Path, language: str = "zh-Hans") -> CheckResult:
    """The print PDF's faces: only the chosen set, none synthesised, no colour emoji."""
    region = locale_for(language).region
    found = faces(path)
    problems = face_problems(found, region)
    summary = (
        f"{len(found)} faces, all in the book's set, none synthesised, no colour emoji"
        if not problems
        else "; ".join(problems[:4])
    )
    return CheckResult("pdf faces", not problems, summary, problems)
