"""book.pdf.weasy.pseudos: markers' and notes' pseudo-element styles computed when asked for, the same PDF."""

from __future__ import annotations

from pathlib import Path

from book.pdf.parallel import render_part_pdf
from book.pdf.weasy import install, pseudos
from tests.conftest import weasyprint_own

CSS = """@page { size: A6; margin: 12mm 10mm; }
body { font-family: "Noto Serif CJK SC", serif; font-size: 10pt; line-height: 1.6; }
ol { list-style-position: outside; } li::marker { color: #a00; font-weight: bold; }
.note { float: footnote; } .note::footnote-call { color: #00a; } .note::footnote-marker { font-weight: bold; }
h2.item { display: list-item; list-style: square inside; }
"""
HTML = f"""<html lang="zh-CN"><body>
<h2 class="item" id="h">第一节</h2><p>正文一段<span class="note">脚注一。</span>，又一段<span class="note">脚注二。</span>。</p>
<ol>{"".join(f"<li>第 {i} 项</li>" for i in range(1, 13))}</ol>
<ul><li>甲</li><li style="list-style: none">乙</li></ul><p>不是列表项的段落。</p>
</body></html>"""


def _render(tmp_path: Path) -> bytes:
    return render_part_pdf(HTML, [CSS], str(tmp_path) + "/", {"source_date_epoch": 1735689600}).pdf


def test_deferred_pseudo_styles_write_the_same_pdf(tmp_path: Path) -> None:
    from weasyprint.css import StyleFor

    install()
    patched = _render(tmp_path)
    with weasyprint_own(pseudos, StyleFor, "set_computed_styles", "__call__"):
        own = _render(tmp_path)
    assert StyleFor.__call__ is not pseudos.ORIGINALS["__call__"]
    assert own == patched


def test_a_pseudo_style_is_computed_only_when_asked_for(tmp_path: Path) -> None:
    from weasyprint import HTML as Document
    from weasyprint.css import get_all_computed_styles

    install()
    html = Document(string=HTML, base_url=str(tmp_path) + "/")
    style_for = get_all_computed_styles(html, user_stylesheets=[_css(tmp_path)])
    computed = style_for.get_computed_styles()
    elements = {el.tag: el for el in html.etree_element.iter()}
    li, p = elements["li"], elements["p"]
    assert not any(pseudo in pseudos.DEFERRED for _, pseudo in computed)  # none computed yet
    assert (p, "marker") in style_for.__dict__[pseudos.ATTRIBUTE]
    marker = style_for(li, "marker")
    assert marker["font_weight"] == 700 and marker.parent_style is computed[li, None]
    assert style_for(li, "marker") is marker  # computed once
    assert (li, "marker") not in style_for.__dict__[pseudos.ATTRIBUTE]
    assert style_for(p, "before") is None  # no rule, as before


def _css(tmp_path: Path):  # type: ignore[no-untyped-def]
    from weasyprint import CSS as Sheet

    return Sheet(string=CSS, base_url=str(tmp_path) + "/")
