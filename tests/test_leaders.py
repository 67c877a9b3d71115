"""Leader dots drawn once and replayed (book.pdf.weasy.leaders): the same PDF as WeasyPrint's own."""

from __future__ import annotations

from pathlib import Path

from book.pdf.parallel import render_part_pdf
from book.pdf.weasy import install, leaders

CSS = "@page { size: A6; margin: 10mm; } li a::after { content: leader('.') attr(data-page); } a { color: black; }"
HTML = "<html lang='zh'><body><ul>{}</ul></body></html>".format(
    "".join(f"<li><a href='#x{i}' data-page='{i * 7}'>第{i}章 标题{'长' * (i % 5)}</a></li>" for i in range(40))
)


def test_leaders_replayed_write_the_same_pdf(tmp_path: Path) -> None:
    from weasyprint.draw import text

    install()
    leaders.install()  # idempotent
    patched = text.draw_first_line
    assert patched._book_replays
    options = {"source_date_epoch": 1735689600}
    calls = []

    def counting(*args: object) -> object:
        calls.append(1)
        return patched.__wrapped__(*args)

    try:
        text.draw_first_line = counting
        own = render_part_pdf(HTML, [CSS], str(tmp_path) + "/", options)
    finally:
        text.draw_first_line = patched
    replayed = render_part_pdf(HTML, [CSS], str(tmp_path) + "/", options)
    assert replayed.pdf == own.pdf
    assert len(calls) > 400  # WeasyPrint's own path drew every dot (about a dozen per entry)
