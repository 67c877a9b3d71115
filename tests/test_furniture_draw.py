"""Drawn furniture (book.pdf.furniture_draw): composed from a template, equal to WeasyPrint's own pages."""

from __future__ import annotations

import io
import re

import pikepdf
import pytest

from book.pdf import document, furniture, furniture_draw
from book.pdf.furniture import Sheet
from book.pdf.parallel import render_part_pdf
from book.source.config import load_config

NUMBER = re.compile(rb"-?\d+\.\d+")


def _sheets() -> list[Sheet]:
    """Two parts, the second's folios over two and three digits (96 to 113), a division's blank title
    page between them and a blank verso; parts start on a recto."""
    sheets = [Sheet("opener", folio="1")]
    sheets += [Sheet("body", head="书名" if i % 2 else "第一章 开头", folio=str(i + 1)) for i in range(1, 6)]
    sheets += [Sheet("none"), Sheet("none")]  # a blank verso, a division's title page
    sheets += [Sheet("opener", folio="96")]
    for i in range(9, 27):
        sheets.append(Sheet("body", head="书名" if i % 2 else "附录A 结尾：副题", folio=str(i + 88)))
    return sheets


@pytest.fixture(scope="module")
def laid_out(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("drawn")
    (root / "book.yaml").write_text(
        "title: 书名\nauthors: [作者]\ndate: 2025-01-01\nchapters:\n  - chapters/*.md\n", encoding="utf-8"
    )
    (root / "chapters").mkdir()
    (root / "chapters" / "01.md").write_text("# 第一章\n\n正文。\n", encoding="utf-8")
    config = load_config(root / "book.yaml")
    geo = furniture.geometry(config)
    options = {**document.render_options("print"), "source_date_epoch": 1735689600}

    def lay_out(sheets: list[Sheet]) -> bytes:
        html, css = furniture.furniture_document(config, geo, sheets, document.K_BLACK)
        return render_part_pdf(html, [css, document.colour_css(geo, "print")], str(root) + "/", options).pdf

    sheets = _sheets()
    return {"sheets": sheets, "template": lay_out(furniture_draw.template(sheets).sheets), "full": lay_out(sheets)}


def test_the_template_has_each_variant_on_its_side_and_a_page_per_character() -> None:
    sheets = _sheets()
    plan = furniture_draw.template(sheets)
    assert len(plan.sheets) <= 2 * (len(plan.pages) + len(plan.chars) + 1)
    assert len(plan.pages) == 4  # the openers, the versos, each part's rectos
    for (kind, side, head), page in plan.pages.items():
        assert page % 2 == side and plan.sheets[page].kind == kind and plan.sheets[page].head == head
    assert sorted(plan.chars) == list("0123456789")
    for c, page in plan.chars.items():
        assert page % 2 == 0 and plan.sheets[page].folio == c
    assert plan.sheets[plan.double].folio == "00" and plan.double % 2 == 0
    assert furniture_draw.template([Sheet("none")] * 3).sheets == []


def test_every_page_drawn_is_weasyprints_own(laid_out: dict) -> None:
    sheets = laid_out["sheets"]
    drawn = furniture_draw.compose(laid_out["template"], sheets)
    assert drawn is not None and len(drawn) == len(sheets)
    exact = 0
    with pikepdf.open(io.BytesIO(laid_out["full"])) as full:
        for i, (sheet, d) in enumerate(zip(sheets, drawn, strict=True)):
            if sheet.kind == "none":
                assert d is None
                continue
            assert d is not None
            want = full.pages[i].obj.Contents.read_bytes()
            if d[1] == want:
                exact += 1
                continue
            # Otherwise only a right-hand folio's x, in its sixth decimal (a millionth of a pixel).
            assert NUMBER.sub(b"#", d[1]) == NUMBER.sub(b"#", want), i
            gaps = [abs(float(a) - float(b)) for a, b in zip(NUMBER.findall(d[1]), NUMBER.findall(want), strict=True)]
            assert max(gaps) <= 1.01e-6, (i, max(gaps))
    assert exact >= 0.75 * sum(s.kind != "none" for s in sheets)


def test_a_template_that_does_not_reproduce_itself_is_refused(laid_out: dict) -> None:
    sheets = laid_out["sheets"]
    plan = furniture_draw.template(sheets)
    with pikepdf.open(io.BytesIO(laid_out["template"])) as doc:
        page = doc.pages[plan.double].obj
        stream = page.Contents.read_bytes()
        # As if the font kerned the pair: the folio of two characters ends 40/1000 em further.
        tj = list(furniture_draw.TEXT.finditer(stream))[-1]
        kerned = stream[: tj.start(4)] + tj.group(4) + b"-40" + stream[tj.end(4) :]
        page.Contents = pikepdf.Stream(doc, kerned)
        out = io.BytesIO()
        doc.save(out)
    assert furniture_draw.compose(out.getvalue(), sheets) is None
    assert furniture_draw.compose(laid_out["template"], sheets[:5]) is None  # not this run's template


def test_pydyf_numbers() -> None:
    assert furniture_draw._number(12.0) == b"12"
    assert furniture_draw._number(501.930742) == b"501.930742"
    assert furniture_draw._number(0.5) == b"0.5"
