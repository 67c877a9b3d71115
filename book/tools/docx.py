"""DOCX for the editor: Pandoc's reference document → the Chinese one the editor's DOCX is styled by.

The content is the author's Markdown (book.tools.docxsource), so the editor marks up the text the
author wrote and the changes can be carried back to it. Pandoc's own reference document is restyled
with python-docx: body in 宋体, headings in 黑体 (the `w:eastAsia` font slot, which Word and WPS use
for Chinese, with faces every Chinese Windows and WPS has), Chinese language and a two-character
first-line indent.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from book.engine.atomic import atomic_path

SERIF, SANS = "宋体", "黑体"  # SimSun, SimHei
LATIN_SERIF, LATIN_SANS = "Times New Roman", "Arial"
BODY_STYLES = ("Normal", "Body Text", "First Paragraph", "Compact", "Block Text", "Footnote Text", "Caption",
               "Table Caption", "Image Caption", "Definition", "Definition Term")  # fmt: skip
HEADING_STYLES = ("Title", "Subtitle", *(f"Heading {n}" for n in range(1, 7)))


def _set_fonts(style, latin: str, east_asian: str) -> None:  # type: ignore[no-untyped-def]
    from docx.oxml.ns import qn

    style.font.name = latin  # ascii + hAnsi
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:  # pragma: no cover - font.name creates it
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east_asian)
    for theme_attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme_attr), None)  # a theme font would win over the named one


def reference_docx(target: Path, language: str = "zh-CN") -> Path:
    """Pandoc's default reference.docx, restyled for Chinese (written atomically)."""
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Pt

    from book.parts.convert import pandoc_binary

    raw = subprocess.run(
        [pandoc_binary(), "--print-default-data-file", "reference.docx"], capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "reference.docx"
        src.write_bytes(raw)
        doc = docx.Document(str(src))
    names = {s.name: s for s in doc.styles}
    for name in BODY_STYLES:
        if name in names:
            _set_fonts(names[name], LATIN_SERIF, SERIF)
    for name in HEADING_STYLES:
        if name in names:
            _set_fonts(names[name], LATIN_SANS, SANS)
            names[name].font.color.rgb = None
    # Chinese language for proofing, on the document defaults every style inherits.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            lang = rpr.find(qn("w:lang"))
            if lang is None:
                lang = rpr.makeelement(qn("w:lang"), {})
                rpr.append(lang)
            lang.set(qn("w:eastAsia"), language)
    for name in ("Body Text", "First Paragraph"):
        if name in names:
            pf = names[name].paragraph_format
            pf.first_line_indent = Pt(21)  # two ideographs at 10.5 pt (五号)
            ind = pf._element.get_or_add_pPr().get_or_add_ind()
            ind.set(qn("w:firstLineChars"), "200")  # Word/WPS: two characters whatever the size
    if "Normal" in names:
        names["Normal"].font.size = Pt(10.5)
    with atomic_path(target) as tmp_target:
        doc.save(str(tmp_target))
    return target
