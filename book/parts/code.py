"""Code stage: a part's code listings (Pandoc's `pre`) → listings marked for print.

Each line of an unhighlighted listing (an indented block, a fence with no language) gets its own
span, as Pandoc's highlighter gives each line of the others, so both kinds wrap with a hanging
indent; a listing of at most SHORT_LINES lines is marked `short` so print keeps it on one page.
"""

from __future__ import annotations

from lxml import etree

SHORT_LINES = 12


def apply(root: etree._Element) -> None:
    """Mark every listing under `root`; its text is left exactly as Pandoc wrote it."""
    for pre in root.iter("pre"):
        code = pre.find("code")
        if code is None:
            continue
        if len(code) == 0 and code.text:
            lines = code.text.split("\n")
            code.text = None
            for i, line in enumerate(lines):
                span = etree.SubElement(code, "span", {"class": "code-line"})
                span.text = line
                span.tail = "\n" if i < len(lines) - 1 else None
        n = "".join(code.itertext()).count("\n") + 1
        if n <= SHORT_LINES:
            box = (
                pre.getparent()
                if pre.getparent() is not None and "sourceCode" in (pre.getparent().get("class") or "").split()
                else pre
            )
            box.set("class", ((box.get("class") or "") + " short").strip())
