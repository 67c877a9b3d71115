"""book.pdf.weasy.styles and contexts: inherited and initial values taken directly, a part's layout
context emptied once it is written; the same styles and the same PDF as WeasyPrint's own code."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from book.pdf.parallel import render_part_pdf
from book.pdf.weasy import contexts, install, styles
from tests.conftest import weasyprint_own

# What takes WeasyPrint's general path: declared properties, a logical property standing for a
# physical one (in both directions), var(), an inherited calc() with a percentage, propagated text
# decorations, named pages, floats and display.
CSS = """@page { size: A6; margin: 12mm 10mm; } @page wide { size: A5 landscape; }
:root { --ink: #225; --gap: 3mm; }
body { font-family: "Noto Serif CJK SC", serif; font-size: 10pt; line-height: 1.6; color: var(--ink); }
.indent { text-indent: calc(10% + 1em); }
.logical { margin-inline-start: 8mm; padding-block-end: var(--gap); border-inline-end: 1pt solid; }
.under { text-decoration: underline; } .wide { page: wide; } .side { float: right; width: 20mm; }
ol { list-style-position: outside; } table { border-collapse: collapse; } td { border: 0.5pt solid; }
"""
HTML = """<html lang="zh-CN"><body>
<p class="indent">首行缩进的段落，<em>其中有强调</em>，<span class="under">有下划线的<b>加粗</b>文字</span>。</p>
<div class="logical"><p>逻辑属性的块。</p><p dir="rtl">从右到左 <span>abc</span></p></div>
<aside class="side">浮动</aside><ol><li>一</li><li>二<ul><li>二之一</li></ul></li></ol>
<table><tr><td>甲</td><td style="text-align: right">乙</td></tr></table>
<section class="wide"><h2>横页</h2><p>横页上的段落。</p></section>
</body></html>"""


def _render(tmp_path: Path) -> Any:
    return render_part_pdf(HTML, [CSS], str(tmp_path) + "/", {"source_date_epoch": 1735689600})


def _all_values(tmp_path: Path) -> list[tuple[str, str, Any]]:
    """Every property of every element's computed style, read in one order."""
    from weasyprint import CSS as Sheet
    from weasyprint import HTML as Document
    from weasyprint.css import get_all_computed_styles
    from weasyprint.css.properties import INITIAL_VALUES

    html = Document(string=HTML, base_url=str(tmp_path) + "/")
    style_for = get_all_computed_styles(html, user_stylesheets=[Sheet(string=CSS, base_url=str(tmp_path) + "/")])
    found = []
    for n, element in enumerate(html.etree_element.iter()):
        style = style_for(element)
        for key in INITIAL_VALUES:
            found.append((f"{n}:{element.tag}", key, _plain(style[key])))
    return found


def _plain(value: Any) -> Any:
    """A value comparable across two parses: CSS tokens (an unresolved calc()) by their text."""
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    return value.serialize() if hasattr(value, "serialize") else value


def test_every_property_computes_as_weasyprint_computes_it(tmp_path: Path) -> None:
    from weasyprint.css import ComputedStyle

    install()
    patched = _all_values(tmp_path)
    with weasyprint_own(styles, ComputedStyle, "__missing__"):
        own = _all_values(tmp_path)
    assert ComputedStyle.__missing__ is not styles.ORIGINALS["__missing__"]
    assert len(patched) == len(own) > 1000
    assert [p for p, o in zip(patched, own, strict=True) if p != o] == []


def test_the_same_pdf_with_weasyprints_own_styles(tmp_path: Path) -> None:
    from weasyprint.css import ComputedStyle

    install()
    patched = _render(tmp_path).pdf
    with weasyprint_own(styles, ComputedStyle, "__missing__"):
        own = _render(tmp_path).pdf
    assert own == patched


def test_a_physical_property_follows_its_logical_declaration(tmp_path: Path) -> None:
    # margin-inline-start is margin-left in ltr and margin-right in rtl: neither may take the initial 0
    values = {(where.split(":")[1], key): v for where, key, v in _all_values(tmp_path) if where.endswith(":div")}
    assert values["div", "margin_left"] != values["div", "margin_right"]
    assert values["div", "border_right_width"] > 0


def test_a_written_part_leaves_no_box_for_the_cyclic_collector(tmp_path: Path) -> None:
    install()
    _render(tmp_path)
    gc.collect()
    with contexts.recording() as made:
        result = _render(tmp_path)
    assert len(made) == 1 and made[0].__dict__ == {}  # emptied by the part once written
    assert result.page_count >= 2
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not {"TextBox", "LineBox", "BlockBox", "LayoutContext", "StyleFor"} & set(left)


def test_recording_collects_the_contexts_of_its_block_only(tmp_path: Path) -> None:
    from weasyprint import HTML as Document

    install()
    with contexts.recording() as outer:
        Document(string="<p>一</p>", base_url=str(tmp_path) + "/").render()
        with contexts.recording() as inner:
            Document(string="<p>二</p>", base_url=str(tmp_path) + "/").render()
        assert len(inner) == 1
    assert len(outer) == 2 and outer[1] is inner[0]
    contexts.release(outer)
    assert outer == [] and inner[0].__dict__ == {}
