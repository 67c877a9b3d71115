"""A formula with CJK text: warned at its line, kept as MathML in the EPUB, its TeX in print."""

from __future__ import annotations

from pathlib import Path

from book.parts import conservation
from book.pdf import mathsvg
from tests.test_technical_units import converted


def test_cjk_in_a_formula_is_warned_and_printed_as_tex(tmp_path: Path) -> None:
    out, diag = converted("一\n\n速度 $v = \\text{距离} / t$ 与 $x^2$。\n\n$$\\text{面積} = a b$$\n")
    assert out.count("<math ") == 3 and "距离" in out  # the EPUB's MathML keeps the words
    said = [str(p) for p in diag.problems]
    assert len(said) == 2 and [p.line for p in diag.problems] == [3, 5], said
    assert said[0].startswith(
        "chapters/01.md:3: warning: formula has CJK text ziamath cannot draw — v = \\text{距离} / t"
    )
    printed = mathsvg.swap(out, "black", tmp_path)
    assert '<code class="math-source">v = \\text{距离} / t</code>' in printed
    assert '<code class="math-source display">\\text{面積} = a b</code>' in printed
    assert printed.count('class="math-svg') == 1  # x^2 is still drawn


def test_a_paragraph_with_formulas_is_not_text_lost() -> None:
    md = "速度公式 $v = \\text{距离} / t$ 与 $x^2$ 都在这里。\n"
    out, _ = converted(md)
    assert conservation._text_of_block(md) in conservation._rendered_text(out)
