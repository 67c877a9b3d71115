"""Typography stage: a part's HTML tree → the same tree with CJK typesetting rules applied.

Rules follow W3C clreq and GB/T 15834-2011. Code, URLs and the reference list are protected.
"""

from __future__ import annotations

from lxml import etree

from book.errors import Diagnostics
from book.manifest import Part


def apply(root: etree._Element, part: Part, diag: Diagnostics) -> dict[str, int]:
    """Apply every rule in place; return how many changes each rule made."""
    return {}
