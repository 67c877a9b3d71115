"""The line audit (book.check.line_audit) on the sample PDF, and the layout check's allowance for a
line-end mark set half-width (book.check.layout)."""

from __future__ import annotations

import pytest

from book.check import line_audit
from book.check.printed import Glyph, Line
from tests.conftest import have


def test_line_figures_on_constructed_glyphs() -> None:
    def g(x: float, c: str, extra: float = 0.0, advance: float = 10.0) -> Glyph:
        return Glyph(x, 0, 10, "Song", c, advance, extra)

    a = line_audit.LineAudit()
    # 汉字 with a 0.2 em gap, then a 0.8 em step to a Latin word, then a halted comma
    line = Line(0, [g(0, "汉", 2), g(12, "字"), g(30, "A", 0, 6), g(36, "I"), g(46, "，", -5), g(51, "好")])
    line_audit._line_figures(a, line)
    assert a.loose_lines == 1 and a.loose_without_space == 0  # the Latin word's space could have taken it
    assert a.han_gap_max == pytest.approx(0.2) and a.han_latin_max == pytest.approx(0.8)
    assert a.compressed == 1


@pytest.mark.skipif(not have("pdftotext"), reason="needs poppler-utils")
def test_sample_lines(sample_build: dict) -> None:
    a = line_audit.audit_lines_pdf(sample_build["pdf"])
    assert not a.name_breaks, a.summary()  # no Datab-ricks, Zuck-erberg
    assert a.compressed >= 50, a.summary()  # the stage's adjacent pairs and the lines' fits
    # the loose lines left all have spaces: an unbreakable name or Latin word follows them
    assert a.loose_lines <= 4 and a.loose_without_space == 0, a.summary()
    assert a.han_gap_max < 0.25, a.summary()


def test_layout_check_allows_a_halted_mark_at_the_margin() -> None:
    from book.check.layout import Box, halted_at_end

    area = Box(50.0, 50.0, 100.0, 500.0)
    assert halted_at_end(Box(90.0, 100.0, 105.0, 110.5), area, "用户，")  # 5 pt past, half of 10.5 pt
    assert not halted_at_end(Box(90.0, 100.0, 107.0, 110.5), area, "用户，")  # more than half an em
    assert not halted_at_end(Box(90.0, 100.0, 105.0, 110.5), area, "用户")  # no mark: it is past
    assert not halted_at_end(Box(45.0, 100.0, 105.0, 110.5), area, "用户，")  # past the left edge too
