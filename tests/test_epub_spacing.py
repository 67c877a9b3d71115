"""book.epub.spacing: Han–Latin spaces → cjk-gap spans, at the right place in every text slot."""

from __future__ import annotations

from book.epub.spacing import fixed_spaces

GAP = '<span class="cjk-gap"></span>'


def test_every_gap_of_every_slot_becomes_a_span_where_it_was() -> None:
    body = "<p>甲 A 乙 B <strong>丙 C 丁</strong> D 戊 E 己<em>庚 F</em> 辛</p>"
    assert fixed_spaces(body) == (
        f"<p>甲{GAP}A{GAP}乙{GAP}B{GAP}<strong>丙{GAP}C{GAP}丁</strong>{GAP}D{GAP}戊{GAP}E{GAP}己"
        f"<em>庚{GAP}F</em>{GAP}辛</p>"
    )


def test_a_long_paragraph_keeps_its_words_and_loses_only_the_gaps() -> None:
    body = "<p>" + "".join(f"第{i}段 Word{i} 文字<b>粗 B{i}</b> 尾" for i in range(300)) + "</p>"
    out = fixed_spaces(body)
    assert out.count(GAP) == 300 * 4
    assert out.replace(GAP, " ") == body


def test_a_url_and_code_keep_their_spaces() -> None:
    body = "<p>见 https://example.com/a 页，<code>x 的 y</code> 中</p>"
    out = fixed_spaces(body)
    assert "<code>x 的 y</code>" in out and "https://example.com/a" in out
