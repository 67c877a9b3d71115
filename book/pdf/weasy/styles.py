"""WeasyPrint speed patch: a property no declaration sets → its inherited or initial value at once.

WeasyPrint 70 computes an element's style one property at a time, the first time a box reads it
(`ComputedStyle.__missing__`). Most reads are of properties no rule sets on that element: an
inherited one takes its parent's computed value, any other its initial value. WeasyPrint's
`__missing__` reaches that answer only after its general path (the logical-property lookup, the
`var()` and math checks, the text-decoration and `page` cases), and on a 30-page chapter it ran
~79,000 times. The patch answers those two cases directly and sends every other read to WeasyPrint:
a property in the element's cascaded declarations (or its logical counterpart, for either
direction), the root element, the properties whose computation is special (`display`, `float`,
`position`, `page`, `text-decoration-*`), an initial value that must be computed, and an inherited
value that holds a math function. So every style holds the values it held, and the PDF is the same
bytes. Installed by `book.pdf.weasy.install()`. Idempotent.
"""

from __future__ import annotations

from typing import Any

_installed = False
ORIGINALS: dict[str, Any] = {}  # WeasyPrint's own method, for the tests' comparison

# Read through WeasyPrint's own path (weasyprint.css.ComputedStyle.__missing__, 70.0): they record
# specified values, propagate instead of inheriting, or take an ancestor's value.
SPECIAL = frozenset(("display", "float", "position", "page"))


def logical_names() -> dict[str, frozenset[str]]:
    """Each physical property → the logical ones that may stand for it (ltr or rtl, top to bottom)."""
    from weasyprint.css.computed_values import PHYSICAL_FUNCTIONS

    return {
        key: frozenset(function(block="ttb", inline=inline) for inline in ("ltr", "rtl"))
        for key, function in PHYSICAL_FUNCTIONS.items()
    }


def install() -> None:
    global _installed
    if _installed:
        return
    from weasyprint.css import ComputedStyle
    from weasyprint.css.functions import check_math
    from weasyprint.css.properties import INHERITED, INITIAL_NOT_COMPUTED, INITIAL_VALUES

    missing = ORIGINALS.setdefault("__missing__", ComputedStyle.__missing__)
    logical = logical_names()
    # Not inherited, not special and not computed: the initial value is the computed value.
    plain_initial = frozenset(
        key for key in INITIAL_VALUES if key not in INHERITED and key not in SPECIAL and key not in INITIAL_NOT_COMPUTED
    )

    def fast_missing(self: Any, key: str) -> Any:
        cascaded = self.cascaded
        parent = self.parent_style
        if key in cascaded or parent is None or key in SPECIAL or key[:16] == "text_decoration_":
            return missing(self, key)
        others = logical.get(key)
        if others is not None and not others.isdisjoint(cascaded):
            return missing(self, key)
        if key in INHERITED or key[:2] == "__":
            value = parent[key]
            if check_math(value):  # kept unresolved in the parent (a percentage): resolved again here
                return missing(self, key)
        elif key in plain_initial:
            value = INITIAL_VALUES[key]
        else:
            return missing(self, key)
        self[key] = value
        return value

    ComputedStyle.__missing__ = fast_missing
    _installed = True
