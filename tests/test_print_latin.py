"""Latin runs tagged for hyphenation in the print body (book.pdf.latin) and long boxes allowed to
split (book.pdf.keeps.mark_long_boxes)."""

from __future__ import annotations

from pathlib import Path

from book.pdf.keeps import box_lines, mark_long_boxes
from book.pdf.latin import tag_latin


def test_runs_and_long_words_are_tagged() -> None:
    out = tag_latin("<p>Meta 发布之后，open source large models 成为 Transformer 的对手。</p>")
    assert '<span lang="en">open source large models</span>' in out
    assert "成为 Transformer 的" in out  # a capitalised word in Chinese text is a name: not tagged
    assert "Meta 发布" in out  # a short single word stays as it is


def test_names_code_urls_and_headings_are_left_alone() -> None:
    body = (
        '<h2>Open source model</h2><p>LLaMA、OpenAI 与 GPT-4，见 <a href="https://x.org/a">https://x.org/a</a>'
        " 与 <code>pip install foo bar</code>、readme.txt 和 example.com/path here。</p>"
        "<pre>some long listing text</pre><p>AT&amp;T 公司</p>"
    )
    out = tag_latin(body)
    assert out.count('lang="en"') == 0, out


def test_links_with_words_and_list_items() -> None:
    out = tag_latin('<ul><li>见 <a href="#x">the paper here</a></li><li>Hugging Face’s model-card</li></ul>')
    assert '<a href="#x"><span lang="en">the paper here</span></a>' in out
    assert 'Hugging Face’s <span lang="en">model-card</span>' in out


def test_names_and_terms_are_never_tagged() -> None:
    body = (
        '<p>在 Databricks 上用 PyTorch 与 GPT-4 做 distributed training，<a class="glossary-link" href="#g">'
        "throughput</a> 很高；throughput 与 Megatron-LM、GPT-3.5-turbo，On-premises 部署。</p>"
    )
    out = tag_latin(body)
    assert '<span lang="en">distributed training</span>' in out
    assert "Databricks 上" in out and "PyTorch 与 GPT-4 做" in out and "；throughput 与" in out
    for name in ("Megatron-LM", "GPT-3.5-turbo", "On-premises"):  # not broken at the hyphen either
        assert f'<span class="keep-name">{name}</span>' in out


def test_names_never_hyphenate_in_weasyprint() -> None:
    """Databricks, PyTorch and GPT-4 in a narrow justified column with the book's styles: never broken."""
    from weasyprint import CSS, HTML

    from book.pdf import weasy

    weasy.install()
    styles = Path(__file__).resolve().parent.parent / "styles"
    text = "在 Databricks 上训练 PyTorch 模型，对比 GPT-4 与 Megatron-LM 的 distributed training 效果。" * 8
    html = (
        "<html lang='zh-Hans'><body style='width: 70px; font-size: 12px; text-align: justify'>"
        f"<div class='content'>{tag_latin(f'<p>{text}</p>')}</div></body></html>"
    )
    doc = HTML(string=html).render(stylesheets=[CSS(filename=str(styles / "grid.css"))])
    lines: list[str] = []

    def walk(box: object) -> None:
        if type(box).__name__ == "LineBox":
            lines.append("".join(_texts(box)))
        for child in getattr(box, "children", []):
            walk(child)

    walk(doc.pages[0]._page_box)
    ends = [ln.rstrip() for ln in lines]
    assert any(e.endswith("\u2010") for e in ends), ends  # the plain words do hyphenate here
    import re

    broken = [re.search(r"[\w.-]*$", e[:-1]).group(0) for e in ends if e.endswith(("\u2010", "-"))]
    assert all(b[:1].islower() for b in broken), broken  # only the plain words: no name, no Megatron-
    for name in ("Databricks", "PyTorch", "GPT-4", "Megatron-LM"):
        assert sum(name in ln for ln in lines) >= 3, (name, lines)


def _texts(box: object) -> list[str]:
    out = [box.text] if type(box).__name__ == "TextBox" else []  # type: ignore[attr-defined]
    for child in getattr(box, "children", []):
        out += _texts(child)
    return out


def test_long_boxes_are_marked() -> None:
    para = "<p>" + "这是方框里的一行文字" * 3 + "</p>"
    short = f'<section class="callout" id="a"><div class="callout-body">{para * 3}</div></section>'
    long = f'<section class="summary-box takeaways" id="b"><section>{para * 14}</section></section>'
    out = mark_long_boxes(short + long)
    assert box_lines(para) == 1
    assert 'class="callout" id="a"' in out and 'class="summary-box takeaways box-long"' in out


def test_tagged_words_hyphenate_in_weasyprint() -> None:
    from weasyprint import HTML

    from book.pdf import weasy

    weasy.install()
    words = "internationalization responsibilities characteristically " * 6
    html = (
        "<html lang='zh-Hans'><body style='width: 120px; font-size: 12px; text-align: justify'>"
        f"<div class='content'>{tag_latin(f'<p>开源：{words}</p>')}</div></body></html>"
    )
    css = '.content p [lang="en"] { hyphens: auto; }'
    from weasyprint import CSS

    doc = HTML(string=html).render(stylesheets=[CSS(string=css)])
    texts: list[str] = []

    def walk(box: object) -> None:
        for child in getattr(box, "children", []):
            if type(child).__name__ == "TextBox":
                texts.append(child.text)
            walk(child)

    walk(doc.pages[0]._page_box)
    assert any(t.endswith("\u2010") for t in texts), texts


def test_split_box_repeats_its_title() -> None:
    from weasyprint import CSS, HTML

    from book.pdf import weasy
    from book.pdf.weasy.continued import continued_mark

    assert weasy.install() is True
    assert continued_mark("zh-Hant") == "（續）" and continued_mark("zh-Hans") == "（续）"
    paras = "".join(f"<p>第{i}段文字</p>" for i in range(30))
    html = (
        "<html lang='zh-Hans' style='font-size: 10px; line-height: 2'><body><div class='content'>"
        f"<section class='callout'><h3 class='callout-title' id='t'>轶事标题</h3><div class='callout-body'>{paras}</div>"
        "</section></div></body></html>"
    )
    css = "@page { size: 200px 300px; margin: 20px; } h3 { bookmark-level: 2; margin: 0; font-size: 10px; }"
    doc = HTML(string=html).render(stylesheets=[CSS(string=css)])
    assert len(doc.pages) >= 2

    def texts(box: object) -> list[str]:
        out = [box.text] if type(box).__name__ == "TextBox" else []  # type: ignore[attr-defined]
        for child in getattr(box, "children", []):
            out += texts(child)
        return out

    first, second = ("".join(texts(p._page_box)) for p in doc.pages[:2])
    assert "轶事标题" in first and "（续）" not in first
    assert second.startswith("轶事标题（续）"), second[:40]
    assert len(doc.make_bookmark_tree()) == 1  # the copy is not a second outline entry
