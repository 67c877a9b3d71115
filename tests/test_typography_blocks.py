"""The typography stage's block memo (book.typography.blocks): an edit re-typesets its blocks only,
an option or code change re-typesets all, and the result is always the whole-tree result."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from book import typography
from book.errors import Diagnostics
from book.model import Part
from book.parts.htmltree import parse_fragment, to_xhtml
from book.typography import blocks
from tests.conftest import ROOT
from tests.test_typography import fragments

PART = Part("ch01", "chapter", Path("chapters/01.md"), "标题", "第一章", 1, {}, "正文 ✅ 2023-2024", 1)
CURLY, CORNER = ("“", "”", "‘", "’"), ("「", "」", "『", "』")

# Every kind of block the rules treat apart: quotes across inline elements, emphasis dots, a long
# heading's phrases and its navigation title, Kai quotes in a blockquote and a callout, italic Han,
# emoji (dropped and replaced), code, a protected block, numbers, a section's own navigation title.
CHAPTER = (
    '<section id="s1" class="level2" data-nav-title="第一节 2023-2024">\n'
    '<h2 data-nav-title="开源与闭源 - 两条路线">开源与闭源之争，2023-2024年的两条路线</h2>\n'
    '<p>他说"<strong>开放</strong>科学"。<em>重要</em>的是GPT-4(o)和10-100倍...</p>\n'
    "<ul>\n<li>✅ 成本低廉</li>\n<li>性能 ⭐ 领先, 但是 OpenAI - 闭源</li>\n</ul>\n"
    '<blockquote><p>他说："好。"</p></blockquote>\n'
    '<section class="level3" id="s1-1">\n<h3>小节</h3>\n'
    '<p>代码<code>a -- b "x"</code>之后<cite>《论语》注</cite>。</p>\n'
    '<div data-typography="off"><p>原样"保留"...</p></div>\n'
    "</section>\n"
    "</section>\n"
    '<section class="callout callout-anecdote" id="s2"><h2>轶事</h2><p>“引号”在楷体里。</p></section>\n'
    "<p>最后一段：2023-2024年，「引号」要统一。</p>\n"
)


def typeset(html: str, memo_dir: Path | None, quotes: tuple[str, str, str, str] = CURLY) -> tuple[str, dict, list]:
    root = parse_fragment(html)
    diag = Diagnostics(echo=False)
    counts = typography.apply(root, PART, diag, quotes, "～", memo_dir)
    return to_xhtml(root, inner=True), counts, [str(p) for p in diag.problems]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tags of the trees the rules were applied to: blocks, a whole tree, or a section's empty
    stand-in (`-section`)."""
    seen: list[str] = []
    real = typography.apply_rules

    def spy(root, *args):  # noqa: ANN001, ANN202 - apply_rules' own shape
        seen.append(root.tag if len(root) or root.text else f"-{root.tag}")
        return real(root, *args)

    monkeypatch.setattr(typography, "apply_rules", spy)
    return seen


def block_calls(seen: list[str]) -> int:
    return sum(1 for tag in seen if not tag.startswith("-"))


def test_the_chapter_is_cut_into_its_blocks() -> None:
    found = blocks.blocks(parse_fragment(CHAPTER))
    assert found is not None
    # the callout is a block of its own (its Kai quotes read it), the plain sections are not
    assert [el.tag for el in found] == ["h2", "p", "ul", "blockquote", "h3", "p", "div", "section", "p"]


def test_incremental_equals_whole(tmp_path: Path) -> None:
    whole = typeset(CHAPTER, None)
    assert typeset(CHAPTER, tmp_path) == whole  # every block typeset and kept
    assert typeset(CHAPTER, tmp_path) == whole  # every block from the memo
    assert "colour emoji" in whole[2][0] and whole[1]["emoji"] == 2
    assert 'data-nav-title="第一节 2023—2024"' in whole[0]  # a section's own attribute is typeset too


def test_an_edit_retypesets_its_block_only(tmp_path: Path, calls: list[str]) -> None:
    typeset(CHAPTER, tmp_path)
    assert block_calls(calls) == 9
    calls.clear()
    edited = CHAPTER.replace("最后一段：", "最后一段，改过了：")
    out = typeset(edited, tmp_path)
    assert block_calls(calls) == 1  # the edited paragraph; the eight others came from the memo
    assert out == typeset(edited, None)
    memo = blocks.load(tmp_path, PART.id, str(PART.source))
    assert memo is not None and len(memo.entries) == 9  # the old paragraph's entry is gone


def test_an_option_or_code_change_retypesets_every_block(
    tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typeset(CHAPTER, tmp_path)
    calls.clear()
    corner = typeset(CHAPTER, tmp_path, CORNER)
    assert block_calls(calls) == 9
    assert corner == typeset(CHAPTER, None, CORNER) and "「" in corner[0]
    calls.clear()
    monkeypatch.setattr(blocks, "toolchain_fingerprint", lambda: "another version of the code")
    typeset(CHAPTER, tmp_path, CORNER)
    assert block_calls(calls) == 9


def test_text_between_blocks_is_typeset_whole(tmp_path: Path, calls: list[str]) -> None:
    html = '<section class="level2"><p>一段"话"。</p>段外的"文字"...<p>二</p></section>'
    assert blocks.blocks(parse_fragment(html)) is None
    assert typeset(html, tmp_path) == typeset(html, None)
    assert calls == ["div", "div"]  # the whole tree, both times


def test_a_block_that_does_not_parse_back_is_not_kept(tmp_path: Path) -> None:
    html = '<p>甲<svg xmlns="http://www.w3.org/2000/svg"><g></g></svg>乙"丙"</p><p>丁"戊"</p>'
    assert typeset(html, tmp_path) == typeset(html, None)
    memo = blocks.load(tmp_path, PART.id, str(PART.source))
    assert memo is not None and len(memo.entries) == 1  # the svg's `xmlns` would come back a namespace
    assert typeset(html, tmp_path) == typeset(html, None)


def test_a_real_chapter_incremental_equals_whole(tmp_path: Path) -> None:
    """The sample's chapter through the whole part stage: body, fixes and problems the same."""
    from book.parts.process import process_part
    from book.source.config import load_config
    from book.source.manifest import build_manifest

    shutil.copy2(ROOT / "book.yaml", tmp_path / "book.yaml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    config = load_config(tmp_path / "book.yaml", Diagnostics(echo=False))
    part = build_manifest(config, Diagnostics(echo=False)).parts[0]
    memo = tmp_path / "memo"
    results = []
    for memo_dir in (None, memo, memo):
        diag = Diagnostics(echo=False)
        rendered, fixes = process_part(config, part, diag, None, memo_dir)
        results.append((rendered.body, fixes, [str(p) for p in diag.problems]))
    assert results[0] == results[1] == results[2]
    assert results[0][1]["spacing"] > 100


BLOCK_TAGS = ["p", "h2", "h3", "blockquote", "li", "div"]


@st.composite
def chapters(draw: st.DrawFn) -> str:
    """Sections of blocks of random text (from test_typography's alphabet), some inside a callout."""
    sections = []
    for n in range(draw(st.integers(1, 3))):
        items = []
        for _ in range(draw(st.integers(1, 4))):
            tag = draw(st.sampled_from(BLOCK_TAGS))
            inner = fragments_inner(draw)
            items.append(f"<ul><li>{inner}</li></ul>" if tag == "li" else f"<{tag}>{inner}</{tag}>")
        cls = draw(st.sampled_from(["level2", "level3", "callout"]))
        sections.append(f'<section class="{cls}" id="s{n}">\n' + "\n".join(items) + "\n</section>")
    return "\n".join(sections) + "\n"


def fragments_inner(draw: st.DrawFn) -> str:
    return draw(fragments())[len("<p>") : -len("</p>")]


@settings(max_examples=60, deadline=None)
@given(chapters(), chapters())
def test_property_incremental_equals_whole(first: str, second: str) -> None:
    """Any chapter, typeset through a memo that already holds another's blocks, comes out as whole."""
    with tempfile.TemporaryDirectory() as memo:
        typeset(first, Path(memo))
        assert typeset(second, Path(memo)) == typeset(second, None)
        assert typeset(first + second, Path(memo)) == typeset(first + second, None)
