"""ISBN: book.yaml's `isbn:` (or `epub.isbn`) → a validated ISBN-13 and its EAN-13 bars.

An ISBN is checked (digits, prefix 978/979, check digit; an ISBN-10 is turned into its ISBN-13)
before anything is drawn. The bars come from python-barcode's EAN-13 encoder (its module string);
the cover draws them itself as vector rectangles in K only, so no rasterised or RGB barcode reaches
the press.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from barcode import EAN13

# EAN-13 geometry at 100 % magnification (ISO/IEC 15420): module, bar height, quiet zones.
MODULE_MM = 0.33
BAR_HEIGHT_MM = 22.85
QUIET_LEFT, QUIET_RIGHT = 11, 7
GUARD_EXTRA_MODULES = 5  # guard bars reach down into the digits


class InvalidISBN(ValueError):
    """What is wrong with an ISBN, and what to write instead (ValueError's args: message, hint)."""


@dataclass(frozen=True)
class ISBN:
    digits: str  # 13 digits
    written: str  # as given, hyphens kept (printed above the bars)

    @property
    def display(self) -> str:
        """`ISBN 978-7-…` with the writer's hyphens, or the bare 13 digits."""
        return "ISBN " + (self.written if re.fullmatch(r"97[89](-\d+){3}-\d", self.written) else self.digits)

    @property
    def urn(self) -> str:
        return f"urn:isbn:{self.digits}"

    def modules(self) -> str:
        """The 95-module bar pattern ('1' = bar) as python-barcode encodes it."""
        return encode(self.digits)


def check_digit13(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def check_digit10(first9: str) -> str:
    value = (11 - sum(int(d) * (10 - i) for i, d in enumerate(first9)) % 11) % 11
    return "X" if value == 10 else str(value)


def parse(value: object) -> ISBN:
    """Text (hyphens and spaces allowed) → ISBN; raises InvalidISBN(message, hint)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidISBN("the ISBN must be text", 'write isbn: "978-7-…"')
    written = str(value).strip()
    compact = re.sub(r"[\s-]", "", written.upper().removeprefix("ISBN").removeprefix(":").strip())
    if re.fullmatch(r"\d{9}[\dX]", compact):
        if compact[9] != check_digit10(compact[:9]):
            raise InvalidISBN(
                f"ISBN-10 {written} has the check digit {compact[9]}, not {check_digit10(compact[:9])}",
                "check the number on the CIP data",
            )
        body = "978" + compact[:9]
        return ISBN(body + check_digit13(body), written)
    if not re.fullmatch(r"\d{13}", compact):
        raise InvalidISBN(f"{written!r} is not an ISBN (13 digits)", 'write isbn: "978-7-…" as on the CIP data')
    if compact[:3] not in ("978", "979"):
        raise InvalidISBN(f"ISBN {written} does not start with 978 or 979", "an ISBN-13 is a 978/979 EAN")
    expected = check_digit13(compact[:12])
    if compact[12] != expected:
        raise InvalidISBN(
            f"ISBN {written} has the check digit {compact[12]}, not {expected}", "check the number on the CIP data"
        )
    return ISBN(compact, written)


def encode(digits: str) -> str:
    """13 digits → the EAN-13 module string (95 modules: guards, 12 digits of 7 modules)."""
    code = EAN13(digits[:12])
    if code.get_fullcode() != digits:  # python-barcode recomputes the check digit
        raise InvalidISBN(f"python-barcode encodes {code.get_fullcode()}, not {digits}", "report this")
    return code.build()[0]


def bars(modules: str) -> list[tuple[int, int]]:
    """(first module, width in modules) of each bar."""
    return [(m.start(), m.end() - m.start()) for m in re.finditer("1+", modules)]


def guard_modules() -> set[int]:
    """Modules of the start, centre and end guards (drawn longer)."""
    return {0, 1, 2, 45, 46, 47, 48, 49, 92, 93, 94}
