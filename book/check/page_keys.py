"""A PDF's pages → one digest per page of everything drawn on it (its dictionary, content streams,
forms, fonts and images, followed through indirect references).

Two pages with the same digest extract the same words at the same places and draw the same images
the same way, so what the layout check found on one holds for the other: an edit to one chapter
of a long book re-measures that chapter's pages only (book.check.layout). Object numbers are not
part of a digest (they shift when anything before them changes); `/Parent` is left out (it leads
to the page tree, not to what the page draws).
"""

from __future__ import annotations

import hashlib
from typing import Any

SKIP = ("/Parent",)
INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def page_keys(pdf: Any) -> list[str]:
    """Per page of an open pikepdf document: a hex digest of what the page draws."""
    import pikepdf

    memo: dict[tuple[int, int], bytes] = {}

    def feed(h: Any, obj: Any, depth: int) -> None:
        if depth > 32:  # a loop of forms: a page that deep is never drawn the same by accident
            h.update(b"<deep>")
            return
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            h.update(indirect(obj, depth))
            return
        direct(h, obj, depth)

    def indirect(obj: Any, depth: int) -> bytes:
        og = obj.objgen
        if og not in memo:
            memo[og] = b"<loop>"  # until computed: a reference back to itself hashes as a loop
            sub = hashlib.sha256()
            direct(sub, obj, depth)
            memo[og] = sub.digest()
        return memo[og]

    def direct(h: Any, obj: Any, depth: int) -> None:
        if isinstance(obj, pikepdf.Stream):  # its bytes, then its dictionary as any other
            data = obj.read_raw_bytes()
            h.update(b"S%d:" % len(data) + data)
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            h.update(b"D")
            for key in sorted(obj.keys()):
                if key not in SKIP:
                    h.update(key.encode() + b"=")
                    feed(h, obj[key], depth + 1)
        elif isinstance(obj, pikepdf.Array):
            h.update(b"A%d:" % len(obj))
            for item in obj:
                feed(h, item, depth + 1)
        else:  # a scalar: pikepdf hands numbers and booleans over as Python's
            data = obj.unparse() if isinstance(obj, pikepdf.Object) else repr(obj).encode()
            h.update(b"O%d:" % len(data) + data)

    keys = []
    for page in pdf.pages:
        h = hashlib.sha256()
        direct(h, page.obj, 0)
        for key in INHERITED:  # what the page takes from the page tree
            if key not in page.obj:
                node = page.obj.get("/Parent")
                while node is not None and key not in node:
                    node = node.get("/Parent")
                if node is not None:
                    h.update(key.encode() + b"<-")
                    feed(h, node[key], 1)
        keys.append(h.hexdigest())
    return keys
