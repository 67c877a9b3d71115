"""GB/T 15834/15835 rules of the typography stage (book.typography.numbers), one table per rule."""

from __future__ import annotations

import pytest
from lxml import etree

from book.source.lint import lint_text
from book.typography.numbers import apply_gb_rules, typeset_range_field
from book.typography.text import apply_text_rules

WJ = "\u2060"


def typeset(html: str, marks: tuple[str, str, str, str] = ("“", "”", "‘", "’"), number_mark: str = "～") -> str:
    root = etree.fromstring(f"<p>{html}</p>")
    apply_gb_rules(root, marks, number_mark)
    apply_text_rules(root, marks)
    return etree.tostring(root, encoding="unicode")[3:-4].replace(WJ, "")


RANGES = [
    ("时期 2023-2024", "时期 2023—2024"),
    ("时期 2023 - 2024", "时期 2023—2024"),
    ("2023-2024年，与", "2023—2024 年，与"),
    ("成本降低 10-100 倍", "成本降低 10～100 倍"),
    ("增长 10%-20%", "增长 10%～20%"),
    ("LLaMA 2（2023-07）发布", "LLaMA 2（2023-07）发布"),  # a date
    ("来源：2024-08-31", "来源：2024-08-31"),  # a date
    ("电话 010-1234", "电话 010-1234"),
    ("超越 GPT-3 的模型", "超越 GPT-3 的模型"),
    ("LLaMA-13B 很强", "LLaMA-13B 很强"),
    ("Released 2023-2024", "Released 2023-2024"),  # Latin only
    ("见 <code>1-2</code> 行", "见 <code>1-2</code> 行"),
]


@pytest.mark.parametrize(("source", "expected"), RANGES)
def test_ranges(source: str, expected: str) -> None:
    assert typeset(source) == expected


def test_number_range_mark_is_a_book_choice() -> None:
    assert typeset("降低 10-100 倍", number_mark="—") == "降低 10—100 倍"
    assert typeset("时期 2023-2024", number_mark="—") == "时期 2023—2024"
    assert typeset_range_field("2023-2024") == "2023—2024"
    assert typeset_range_field("2023-07") == "2023-07"


SPACED_HYPHENS = [
    ("跟随 OpenAI - 闭源 API 模式", "跟随 OpenAI——闭源 API 模式"),
    ("开源路线 - 建立生态", "开源路线——建立生态"),
    ("智谱 AI - ChatGLM 系列：", "智谱 AI——ChatGLM 系列："),
    ("计算 3 - 2 的值", "计算 3 - 2 的值"),  # arithmetic
    ("A - B", "A - B"),  # Latin only
]


@pytest.mark.parametrize(("source", "expected"), SPACED_HYPHENS)
def test_spaced_hyphens(source: str, expected: str) -> None:
    assert typeset(source) == expected


LATIN_PUNCT = [
    ("OpenAI: GPT-3 API, ChatGPT 领先", "OpenAI：GPT-3 API，ChatGPT 领先"),
    ("模型规模：7B, 13B, 70B", "模型规模：7B，13B，70B"),
    ("超越 GPT-3 (175B)", "超越 GPT-3（175B）"),
    ("vs ChatGPT (GPT-3.5): 接近水平", "vs ChatGPT（GPT-3.5）：接近水平"),
    ("After LLaMA (2023-2024)：", "After LLaMA（2023—2024）："),
    ("你好?", "你好？"),
    ("在 12:30 开会", "在 12:30 开会"),
    ("超过 60,000 个", "超过 60,000 个"),
    ("f(x) 的值", "f(x) 的值"),
    ("《LLaMA: Open and Efficient Models》。", "《LLaMA: Open and Efficient Models》。"),  # a title
    ("他写道 this is the way, and it works 很好", "他写道 this is the way, and it works 很好"),  # Latin prose
    (
        "见 <a href='https://a.b/c?d=1'>https://a.b/c?d=1</a> 页",
        '见 <a href="https://a.b/c?d=1">https://a.b/c?d=1</a> 页',
    ),
    ("调用 <code>f(a, b)</code> 即可", "调用 <code>f(a, b)</code> 即可"),
]


@pytest.mark.parametrize(("source", "expected"), LATIN_PUNCT)
def test_latin_punctuation_in_chinese_sentences(source: str, expected: str) -> None:
    assert typeset(source) == expected


QUOTES = [
    (("“", "”", "‘", "’"), "他说「你好」和『好』", "他说“你好”和‘好’"),
    (("「", "」", "『", "』"), "他说“你好”和‘好’", "他说「你好」和『好』"),
    (("「", "」", "『", "』"), "他说“don’t”", "他说「don’t」"),  # an apostrophe stays
]


@pytest.mark.parametrize(("marks", "source", "expected"), QUOTES)
def test_one_quotation_style_per_book(marks: tuple[str, str, str, str], source: str, expected: str) -> None:
    assert typeset(source, marks) == expected


def test_rules_are_idempotent() -> None:
    for source, _ in RANGES + SPACED_HYPHENS + LATIN_PUNCT:
        once = typeset(source)
        assert typeset(once) == once


EDITORIAL = [
    ("亏损超过$130亿 (2022年)", "'$130亿': a currency sign"),
    ("合计30+亿月活用户", "'30+亿': '+' for 'more than'"),
]


@pytest.mark.parametrize(("line", "message"), EDITORIAL)
def test_editorial_matters_are_linted_not_rewritten(line: str, message: str) -> None:
    found = [str(f) for f in lint_text(f"第一行\n{line}\n", "ch.md")]
    assert any(f.startswith("ch.md:2: " + message) for f in found), found
    assert "$130亿" in typeset("超过$130亿") or "30+亿" in typeset("合计30+亿")
