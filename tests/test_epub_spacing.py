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


def _by_runs(body: str) -> str:
    """The same conversion through the typography stage's Runs (one Ch per character): what
    fixed_gaps did before it read the text slots directly."""
    from lxml import etree

    from book.epub import spacing
    from book.typography.text import runs

    root = etree.fromstring(f'<div xmlns="{spacing.XHTML_NS}">{body}</div>'.encode())
    todo: dict[tuple[int, str], tuple[object, str, list[int]]] = {}
    for run in runs(root):
        for m in spacing.GAP_RE.finditer(run.text):
            if run.locked(m.start()):
                continue
            ch = run.chars[m.start()]
            seg = run.segs[ch.seg]
            offset = sum(1 for c in run.chars[: m.start()] if c.seg == ch.seg)
            todo.setdefault((id(seg.node), seg.attr), (seg.node, seg.attr, []))[2].append(offset)
    for node, attr, offsets in todo.values():
        spacing._split(root, node, attr, sorted(offsets))
    out = (root.text or "") + "".join(etree.tostring(child, encoding="unicode") for child in root)
    return out.replace(f' xmlns="{spacing.XHTML_NS}"', "")


def test_gaps_are_where_the_typography_stages_runs_put_them() -> None:
    bodies = [
        "<p>中<em></em> <strong>A</strong> 中 <span>B</span> 中</p><pre>中 A</pre><p data-typography='off'>中 A</p>",
        "<ul><li>中 A<ul><li>B 中</li></ul> 中</li></ul><p>中<!-- c --> A <br/>B 中</p>",
        "<p>见 https://example.com/中 a 与 <a href='https://x.org/'>https://x.org/ 中</a> 乙 <code>x 中</code> 中</p>",
        "<table><tr><td>甲 A</td><td>B 乙</td></tr></table><p><b><i>深 X</i></b> 浅 <kbd>K 中</kbd> 尾</p>",
    ]
    for body in bodies:
        assert fixed_spaces(body) == _by_runs(body), body
