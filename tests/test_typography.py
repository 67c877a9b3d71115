"""Unit and property tests of the typography stage (issue 3 rules), one per rule."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from book import typography
from book.errors import Diagnostics
from book.model import Part
from book.parts.htmltree import parse_fragment, to_xhtml
from book.text import WJ

PART = Part("ch01", "chapter", Path("chapters/01.md"), "标题", "第一章", 1, {}, "正文", 1)


def typeset(html: str, part: Part = PART) -> str:
    root = parse_fragment(html)
    typography.apply(root, part, Diagnostics(echo=False))
    return to_xhtml(root, inner=True)


def plain(html: str) -> str:
    """Text of the typeset output without word joiners."""
    return "".join(parse_fragment(typeset(html)).itertext()).replace(WJ, "")


def test_rule8_quotes_pair_across_inline_elements() -> None:
    assert plain('<p>这个"意外"发生了</p>') == "这个“意外”发生了"
    assert plain('<p>他说"<strong>开放</strong>科学"。</p>') == "他说“开放科学”。"
    assert plain("<p>他说'好'。Meta's 模型</p>") == "他说‘好’。Meta's 模型"


def test_rule8_latin_paragraph_untouched() -> None:
    assert plain('<p>He said "yes".</p>') == 'He said "yes".'


def test_rule9_fullwidth_after_han() -> None:
    assert plain("<p>观点,但是;可以:为什么?好!</p>") == "观点，但是；可以：为什么？好！"
    assert plain("<p>FAIR (Facebook AI Research) 拥有</p>") == "FAIR（Facebook AI Research）拥有"
    assert plain("<p>函数 f(x) 的值</p>") == "函数 f(x) 的值"
    assert plain("<p>文件名是config.yaml吗</p>") == "文件名是 config.yaml 吗"


def test_rule9_protected_code_and_urls() -> None:
    out = typeset("<p>运行<code>a,b</code>或访问https://x.org/a,b看看,好</p>")
    assert "<code>a,b</code>" in out and "https://x.org/a,b" in out and "看看，好" in out
    off = typeset('<p data-typography="off">引用,文献"标题"</p>')
    assert off == '<p data-typography="off">引用,文献"标题"</p>'


def test_rule7_dashes_and_ellipses() -> None:
    out = typeset("<p>链接--只是...表单</p>")
    assert '<span class="cjk-dash">——</span>' in out and '<span class="cjk-dash">……</span>' in out
    assert plain("<p>链接--只是...表单</p>") == "链接——只是……表单"
    assert plain("<p>use --strict flag...</p>") == "use --strict flag..."


def test_rule10_spacing_normalised_both_ways() -> None:
    a = plain("<p>LLaMA-13B用7.4%参数超过GPT-3</p>")
    b = plain("<p>LLaMA-13B 用 7.4% 参数超过  GPT-3</p>")
    assert a == b == "LLaMA-13B 用 7.4% 参数超过 GPT-3"
    # a zh-Hans book prints one quotation style: the corner brackets become “ ” (book.typography.numbers)
    assert plain("<p>Meta 便秀了一把「Llama 系列」</p>") == "Meta 便秀了一把“Llama 系列”"
    assert plain("<p>使用 AI ，然后</p>") == "使用 AI，然后"


def test_rule10_space_goes_outside_inline_elements() -> None:
    assert typeset("<p><strong>AI</strong>可能</p>") == "<p><strong>AI</strong> 可能</p>"
    assert typeset("<p>用<code>pip</code>安装</p>") == "<p>用 <code>pip</code> 安装</p>"


def test_rule6_kinsoku_word_joiners() -> None:
    out = typeset("<p>无论是真的——还是·结果，<strong>开源</strong>：不限</p>")
    assert f"的{WJ}<span" in out and f"是{WJ}·" in out and f"</strong>{WJ}：" in out


def test_rule11_adjacent_punctuation_halt() -> None:
    out = typeset("<p>他说：“好。”（注）（二）</p>")
    assert '<span class="cjk-halt">：</span>“' in out
    assert '<span class="cjk-halt">。</span>' in out
    assert '<span class="cjk-halt">）</span>（' in out


def test_rule12_emphasis_dots() -> None:
    out = typeset("<p>这是<em>重点</em>，<em>English</em></p>")
    assert '<em class="cjk-em"><span class="cjk-dot">重</span><span class="cjk-dot">点</span></em>' in out
    assert "<em>English</em>" in out


def test_rule13_newline_inside_chinese_is_not_a_space() -> None:
    from book.parts.convert import markdown_to_html

    html = markdown_to_html("第一行\n第二行\n", "ch01", Path("x.md"))
    assert "第一行第二行" in html


def test_rule14_tofu_names_character_and_line() -> None:
    part = Part("ch01", "chapter", Path("chapters/01.md"), "标题", "第一章", 1, {}, "一\n二\n\U000f0001三", 5)
    diag = Diagnostics(echo=False)
    root = parse_fragment("<p>二\U000f0001三</p>")
    typography.apply(root, part, diag)
    [err] = diag.errors
    assert err.line == 7 and "U+F0001" in err.message


def test_rule15_long_heading_phrases() -> None:
    out = typeset("<h2>Meta的开源革命：LLaMA引爆AI民主化</h2>")
    assert '<span class="cjk-phrase">Meta 的开源革命：</span>' in out


def test_title_typeset() -> None:
    assert typography.typeset_string("Meta的开源革命：LLaMA引爆AI民主化") == "Meta 的开源革命：LLaMA 引爆 AI 民主化"


def test_counts_reported() -> None:
    counts = typography.apply(parse_fragment('<p>观点,"但是"</p>'), PART, Diagnostics(echo=False))
    assert counts["fullwidth"] == 1 and counts["quotes"] == 2


# ---- properties -------------------------------------------------------------------------------

ALPHABET = st.sampled_from(
    list("汉字中文开源模型AbcXyz019 ,.;:!?\"'()-.…——“”（），。：\n&<") + ["...", "--", "http://a.b/c,d"]
)
TEXT = st.lists(ALPHABET, max_size=40).map("".join)


@st.composite
def fragments(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        t = draw(TEXT)
        tag = draw(st.sampled_from(["", "em", "strong", "code", "a"]))
        esc = t.replace("&", "&amp;").replace("<", "&lt;")
        parts.append(f"<{tag}>{esc}</{tag}>" if tag else esc)
    return "<p>" + "".join(parts) + "</p>"


KEEP = re.compile(r"[\w]")


@settings(max_examples=150, deadline=None)
@given(fragments())
def test_property_wellformed_idempotent_lossless(html: str) -> None:
    once = typeset(html)
    etree.fromstring(f"<div>{once}</div>")  # well-formed XML
    assert typeset(once) == once  # idempotent
    before = "".join(KEEP.findall("".join(parse_fragment(html).itertext())))
    after = "".join(KEEP.findall("".join(parse_fragment(once).itertext())))
    assert before == after  # letters, digits and Han are never lost, added or reordered
    code_before = [c.text for c in parse_fragment(html).iter("code")]
    code_after = [c.text for c in parse_fragment(once).iter("code")]
    assert code_before == code_after  # protected text is untouched


def test_rule2_kai_quotes_take_the_song_face() -> None:
    out = typeset('<blockquote><p>例如"开放科学"的说法</p></blockquote><p>正文"引号"</p>')
    assert '<span class="cjk-quote">“</span>开放科学<span class="cjk-quote">”</span>' in out
    assert "正文“引号”" in out


def test_styles_declare_the_typefaces_and_measures() -> None:
    css = (Path(__file__).resolve().parent.parent / "styles" / "book.css").read_text(encoding="utf-8")
    assert re.search(r'html \{ font-family: "Noto Serif CJK SC"', css)  # Song body, CJK face first
    assert re.search(r'h1, h2, h3, h4, h5, h6[^{]*\{ font-family: "Noto Sans CJK SC"', css)  # Hei headings
    assert '"LXGW WenKai"' in css and "blockquote, .kai, .callout" in css  # Kai quotations and callouts
    assert "text-indent: 2em" in css and re.search(r"p \{ margin: 0;", css)  # indent, no paragraph space
    assert "line-height: 1.75" in css
    assert "text-emphasis: filled dot" in css and "font-style: normal" in css  # dots, never oblique


def test_lazy_patterns_compile_at_first_use_and_match_as_compiled() -> None:
    from book.text import HAN, lazy_compile

    lazy = lazy_compile(f"[{HAN}]+")
    assert "search" not in vars(lazy)  # nothing compiled at import
    compiled = re.compile(f"[{HAN}]+")
    text = "Latin 中文𠀀 words，标点"
    assert lazy.findall(text) == compiled.findall(text) == ["中文𠀀", "标点"]
    assert lazy.sub("#", text) == compiled.sub("#", text)
    assert lazy.pattern == compiled.pattern and "search" in vars(lazy)
    import copy
    import pickle

    for fresh in (lazy_compile("[甲乙]"), copy.deepcopy(lazy_compile("[甲乙]"))):  # copied before and after use
        assert pickle.loads(pickle.dumps(fresh)).findall("甲丙乙") == ["甲", "乙"]
        assert copy.deepcopy(fresh).findall("乙") == ["乙"]
