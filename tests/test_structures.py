"""Unit tests for the structures stage: opener, bilingual headings, callouts, boxes, references,
footnotes, bold-line headings and block ids (CONTRACTS 2 and 7), through the real pipeline."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from book.errors import Diagnostics
from book.parts.process import process_part
from book.parts.structures import footnotes_for_print
from book.source.config import load_config
from book.source.manifest import build_manifest
from tests.conftest import write_chapter

FM = """---
chapter_number: {n}
title: "{title}"
title_en: "An English Title"
period: "2020-2021"
technical_concepts: [open-weights, lora]
anecdote_count: {anecdotes}
---

"""


def chapter(book: Path, body: str, n: int = 9, title: str = "测试的一章", anecdotes: int = 1) -> Path:
    return write_chapter(book, f"{n:02d}.md", FM.format(n=n, title=title, anecdotes=anecdotes) + body)


def process(book: Path, index: int = 0):
    diag = Diagnostics(echo=False)
    config = load_config(book / "book.yaml")
    manifest = build_manifest(config, diag)
    rp, _ = process_part(config, manifest.parts[index], diag, book / "build")
    root = etree.fromstring(f'<root xmlns:epub="http://www.idpf.org/2007/ops">{rp.body}</root>')
    return rp, root, diag


def warnings(diag: Diagnostics) -> list[str]:
    return [str(w) for w in diag.warnings]


def test_opener_merges_the_chapter_h1_once(book_dir: Path) -> None:
    chapter(book_dir, "# Chapter 9: 测试的一章\n\n## 引言 (Introduction)\n\n正文。\n")
    rp, root, diag = process(book_dir)
    h1s = root.findall(".//h1")
    assert len(h1s) == 1 and h1s[0].get("class") == "opener-title"
    assert "Chapter 9" not in rp.body
    assert root.find(".//p[@class='opener-label']").text == "第九章"
    assert root.find(".//p[@class='opener-title-en']").text == "An English Title"
    # key concepts written only as slugs (open-weights, lora) are not terms: the opener leaves them out (issue 18)
    assert root.findall(".//ul[@class='opener-concepts']/li") == []
    assert not any("disagrees" in w for w in warnings(diag))


def test_opener_warns_when_the_heading_number_disagrees(book_dir: Path) -> None:
    chapter(book_dir, "# Chapter 7: 测试的一章\n\n正文。\n")
    rp, root, diag = process(book_dir)
    assert len(root.findall(".//h1")) == 1
    assert any("disagrees with chapter_number 9" in w and ":10:" in w for w in warnings(diag))


def test_bilingual_heading_nav_title_is_chinese(book_dir: Path) -> None:
    chapter(book_dir, "## 引言 (Introduction)\n\n正文。\n\n### 小节（Part One）\n\n文。\n")
    rp, root, _ = process(book_dir)
    h2 = root.find(".//h2")
    assert h2.text == "引言" and h2.get("data-nav-title") == "引言"
    assert h2.find("span[@class='heading-en']").text == "Introduction"
    assert [h.title for h in rp.headings[1:]] == ["引言", "小节"]


def test_anecdote_callouts_at_any_level(book_dir: Path) -> None:
    body = (
        "## 一节\n\n文。\n\n### 💡 轶事：第一个故事\n\n故事**正文**。\n\n- 一点\n\n## 💡 轶事：第二个故事\n\n第二段。\n\n"
        "## 另一节\n\n#### 💡 轶事 深处的故事\n\n第三段。\n"
    )
    chapter(book_dir, body, anecdotes=2)
    rp, root, diag = process(book_dir)
    callouts = root.findall(".//section[@class='callout callout-anecdote']")
    assert len(callouts) == 3
    for c in callouts:
        assert c.get("role") == "note" and c.get("id")
        title = c.find("*[@class='callout-title']")
        assert title.find(".//span[@class='callout-label']").xpath("string()").endswith("轶事")
        assert c.find("div[@class='callout-body']/p") is not None
    assert [c.find("*[@class='callout-title']").tag for c in callouts] == ["h3", "h2", "h4"]
    titles = [c.find(".//span[@class='callout-heading']").xpath("string()") for c in callouts]
    assert titles == ["第一个故事", "第二个故事", "深处的故事"]
    assert callouts[0].find(".//li") is not None  # the list stays inside the callout
    assert "另一节" in [h.title for h in rp.headings]
    assert rp.counts["anecdotes"] == 3
    assert any("anecdote_count: 2, the text has 3" in w for w in warnings(diag))


def test_takeaways_box_and_reference_list(book_dir: Path) -> None:
    body = (
        "## 小结\n\n总结。\n\n**本章要点** (Key Takeaways):\n- 第一点\n- 第二点\n\n"
        "**参考文献** (Chapter References):\n"
        "- Hu, E. J., Shen, Y., et al. (2021). LoRA: Low-Rank Adaptation. *ICLR 2022*. https://arxiv.org/abs/2106.09685\n"
        "- 一条写得不规范的文献\n"
    )
    path = chapter(book_dir, body)
    rp, root, diag = process(book_dir)
    box = root.find(".//section[@class='summary-box takeaways']")
    assert [li.text for li in box.findall(".//li")] == ["第一点", "第二点"]
    assert box.find("p[@class='box-title']").xpath("string()").startswith("本章要点")
    refs = root.find(".//section[@class='references']")
    assert refs.get("data-typography") == "off" and refs.get("role") == "doc-bibliography"
    items = refs.findall(".//li")
    assert items[0].get("class") == "reference" and items[0].find("span[@class='ref-label']").text == "[1]"
    # GB/T 7714 through citeproc: upper-case surnames, the type code, the access date
    assert "".join(items[0].itertext()).startswith("[1] HU E J, SHEN Y, et al. LoRA: Low-Rank Adaptation[C/OL]")
    link = items[0].find("a[@class='ref-url']")
    assert link.get("href") == "https://arxiv.org/abs/2106.09685" and link.find("wbr") is not None
    assert "".join(link.itertext()) == "https://arxiv.org/abs/2106.09685"
    assert items[1].get("class") == "reference unparsed" and items[1].text == "一条写得不规范的文献"
    line = next(w for w in warnings(diag) if "does not parse" in w)
    lineno = path.read_text(encoding="utf-8").split("\n").index("- 一条写得不规范的文献") + 1
    assert f"09.md:{lineno}:" in line
    assert rp.counts["references"] == 2 and rp.counts["references_unparsed"] == 1
    assert rp.references[0]["URL"] == "https://arxiv.org/abs/2106.09685"
    assert rp.references[1]["note"] == "一条写得不规范的文献"


def test_footnotes_become_epub_footnotes_and_print_spans(book_dir: Path) -> None:
    chapter(book_dir, "## 节\n\n正文有注[^a]，再来。\n\n下一段。\n\n[^a]: 注释的内容。\n")
    rp, root, _ = process(book_dir)
    ns = "{http://www.idpf.org/2007/ops}type"
    aside = root.find(".//aside")
    assert aside.get(ns) == "footnote" and aside.get("role") == "doc-footnote"
    ref = root.find(".//a[@role='doc-noteref']")
    assert ref.get(ns) == "noteref" and ref.get("href") == "#" + aside.get("id")
    assert aside.getprevious().tag == "p" and "正文有注" in aside.getprevious().xpath("string()")
    assert root.find(".//section[@role='doc-endnotes']") is None
    assert "↩" not in rp.body
    printed = html.fragment_fromstring(footnotes_for_print(rp.body), create_parent="div")
    span = printed.find(".//span[@class='footnote']")
    assert span is not None and "注释的内容" in span.xpath("string()")
    assert span.getparent().tag == "p" and not printed.findall(".//aside")


def test_block_ids_contract(book_dir: Path) -> None:
    body = "## 节\n\n第一段。\n\n- 项\n\n> 引文\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n### 💡 轶事：故事\n\n故事段。\n"
    chapter(book_dir, body)
    _, root, _ = process(book_dir)
    content = root.find(".//div[@class='content']")
    ps = content.findall(".//p")
    assert [p.get("id") for p in ps] == [f"ch09-p{i}" for i in range(1, len(ps) + 1)]
    for tag in ("li", "h2", "h3", "table", "blockquote", "section"):
        for el in content.iter(tag):
            assert el.get("id"), tag
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))


def test_bold_lines_become_headings_only_in_parts_without_headings(book_dir: Path) -> None:
    (book_dir / "news.txt").write_text(
        "---\ntitle: 新闻\nauthor: 记者\ndate: 2024-08-31\n---\n\n导语。\n\n**小标题一**\n\n正文。\n\n**不是标题**：正文。\n\n感谢阅读！推广\n",
        encoding="utf-8",
    )
    cfg = book_dir / "book.yaml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8") + "appendices:\n  - path: news.txt\n    trim_after: 感谢阅读！\n",
        encoding="utf-8",
    )
    chapter(book_dir, "## 节\n\n**加粗的一行**\n\n- 项\n")
    rp, root, _ = process(book_dir, 1)
    assert [h.xpath("string()") for h in root.findall(".//div[@class='content']/h2")] == ["小标题一"]
    assert "小标题一" in [h.title for h in rp.headings]
    assert "推广" not in rp.body
    source = root.find(".//p[@class='source-line']").xpath("string()")
    assert "记者" in source and "2024-08-31" in source
    rp_ch, root_ch, _ = process(book_dir, 0)
    assert root_ch.find(".//div[@class='content']//h3") is None  # a chapter keeps its bold lines


def test_callout_ends_before_the_takeaways_and_a_rule(book_dir: Path) -> None:
    body = "## 节\n\n#### 💡 轶事：最后的故事\n\n故事。\n\n---\n\n尾声。\n\n**本章要点** (Key Takeaways):\n- 一\n"
    chapter(book_dir, body)
    _, root, _ = process(book_dir)
    callout = root.find(".//section[@class='callout callout-anecdote']")
    assert "尾声" not in callout.xpath("string()")
    assert callout.find(".//section[@class='summary-box takeaways']") is None
    assert root.find(".//section[@class='summary-box takeaways']") is not None
    assert callout.getnext().tag == "hr"


_BLOCKS = st.sampled_from(
    [
        "## 节 (Section)", "### 💡 轶事：故事", "#### 💡 轶事 深处", "**本章要点** (Key Takeaways):\n- 一\n- 二",
        "**参考文献** (Chapter References):\n- A, B. (2020). T. *C*. https://e.org/x\n- 坏的条目", "**粗体行**",
        "正文[^f]。", "> 引文", "| a | b |\n|---|---|\n| 1 | 2 |", "---", "- 列表\n  - 嵌套", "普通段落。",
    ]
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=st.lists(_BLOCKS, min_size=1, max_size=12))
def test_any_mix_of_conventions_gives_well_formed_ids(book_dir: Path, blocks: list[str]) -> None:
    body = "\n\n".join(blocks) + ("\n\n[^f]: 注。\n" if any("[^f]" in b for b in blocks) else "\n")
    chapter(book_dir, body)
    rp, root, _ = process(book_dir)
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    content = root.find(".//div[@class='content']")
    ps = content.findall(".//p")
    assert [p.get("id") for p in ps] == [f"ch09-p{i}" for i in range(1, len(ps) + 1)]
    assert rp.counts["anecdotes"] == sum(1 for b in blocks if "💡" in b)
    for a in root.iter("a"):
        href = a.get("href") or ""
        assert not href.startswith("#") or href[1:] in ids
