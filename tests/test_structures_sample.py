"""Integration: every book structure appears in both outputs of the sample book, and a new chapter
written in the same conventions gets the same treatment (EPUB XHTML via lxml, PDF via pdftotext)."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from book.check.epubcheck import run_epubcheck
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.integration
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


def xhtml(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read(f"EPUB/{name}"))


def pdf_text(pdf: Path) -> str:
    """The PDF's text with all whitespace removed (letter-spaced titles come out spaced)."""
    out = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


def classes(el: etree._Element) -> list[str]:
    return (el.get("class") or "").split()


def shown(el: etree._Element) -> str:
    """An element's text as a reader sees it: the EPUB's Han–Latin gap spans as spaces."""
    parts = [el.text or ""]
    for child in el:
        parts.append(" " if child.get("class") == "cjk-gap" else shown(child))
        parts.append(child.tail or "")
    return "".join(parts)


def test_chapter_opener_and_headings(sample_build: dict) -> None:
    doc = xhtml(sample_build["epub"], "ch08.xhtml")
    h1s = doc.findall(".//x:h1", NS)
    assert len(h1s) == 1 and "Meta 的开源革命" in shown(h1s[0])  # typeset: ¼em gap Latin–Han
    assert doc.findtext(".//x:p[@class='opener-label']", namespaces=NS) == "第八章"
    assert "Open Source Revolution" in doc.findtext(".//x:p[@class='opener-title-en']", namespaces=NS)
    assert "2023—2024" in "".join(doc.find(".//x:p[@class='opener-period']", NS).itertext())  # GB/T 15835
    # the sample's technical_concepts are slugs (open_source_llm): the opener prints none, never a slug
    assert not doc.findall(".//x:ul[@class='opener-concepts']/x:li", NS)
    assert "Chapter 8" not in etree.tostring(doc, encoding="unicode")
    intro = doc.find(".//x:h2[@data-nav-title='引言']", NS)
    assert intro.find("x:span[@class='heading-en']", NS).text == "Introduction"


def test_anecdotes_takeaways_references_tables(sample_build: dict) -> None:
    doc = xhtml(sample_build["epub"], "ch08.xhtml")
    callouts = [s for s in doc.iterfind(".//x:section", NS) if "callout-anecdote" in classes(s)]
    assert len(callouts) == 2
    assert all(c.get("role") == "note" and c.find("x:div[@class='callout-body']", NS) is not None for c in callouts)
    heads = ["".join(c.find(".//*[@class='callout-heading']").itertext()) for c in callouts]
    assert heads[0].startswith("意外的泄露") and heads[1].startswith("Zuckerberg")
    box = doc.find(".//x:section[@class='summary-box takeaways']", NS)
    assert len(box.findall(".//x:li", NS)) == 6
    refs = doc.find(".//x:section[@class='references']", NS)
    assert refs.get("data-typography") == "off"
    entries = refs.findall(".//x:li", NS)
    assert len(entries) == 8 and all(e.get("class") == "reference" for e in entries)
    links = refs.findall(".//x:a[@class='ref-url']", NS)
    assert len(links) == 5 and all(a.get("href").startswith("https://") for a in links)
    assert len(doc.findall(".//x:table", NS)) == 3


def test_block_ids_in_sample(sample_build: dict) -> None:
    """The rendered part numbers its paragraphs and blocks (the print page map and the editor read
    them); the EPUB keeps those of them that something links to, and the page breaks' own."""
    from book.errors import Diagnostics
    from book.pipeline import prepare

    build = prepare(ROOT / "book.yaml", sample_build["out"], Diagnostics())  # from the build's cache
    ch08 = next(p for p in build.parts if p.id == "ch08")
    content = etree.fromstring(f"<div xmlns='{NS['x']}' xmlns:epub='{NS['epub']}'>{ch08.body}</div>".encode()).find(
        ".//x:div[@class='content']", NS
    )
    ps = content.findall(".//x:p", NS)
    assert [p.get("id") for p in ps] == [f"ch08-p{i}" for i in range(1, len(ps) + 1)]
    for tag in ("li", "h2", "h3", "table", "section"):
        assert all(el.get("id") for el in content.iterfind(f".//x:{tag}", NS)), tag
    epub = xhtml(sample_build["epub"], "ch08.xhtml")
    kept = [el.get("id") for el in epub.iter() if re.fullmatch(r"ch08-[pb]\d+", el.get("id") or "")]
    linked = set(re.findall(r'href="[^"#]*#(ch08-[pb]\d+)"', "".join(p.body for p in build.parts)))
    assert set(kept) == linked and len(kept) < len(ps) / 10
    assert len(epub.findall(".//x:p", NS)) >= len(ps)


def test_news_article_appendix(sample_build: dict) -> None:
    doc = xhtml(sample_build["epub"], "appa.xhtml")
    assert shown(doc.find(".//x:p[@class='opener-label']", NS)) == "附录 A"
    source = "".join(doc.find(".//x:p[@class='source-line']", NS).itertext())
    assert "ByteAILab" in source and "2024-08-31" in source
    h2 = [shown(h).replace("\u2060", "") for h in doc.iterfind(".//x:div[@class='content']/x:h2", NS)]
    assert h2 == ["历时 18 个月，Llama 成长为开源模型标杆", "评论两极分化：真·假开源"]
    figures = [f for f in doc.iterfind(".//x:figure", NS) if "figure" in classes(f)]
    assert len(figures) == 8  # placeholders offline (as on the build machines), embedded images online
    text = etree.tostring(doc, encoding="unicode")
    assert "感谢阅读" not in text and "gptnb" not in text
    nav = xhtml(sample_build["epub"], "toc.xhtml")
    assert "评论两极分化：真·假开源" in ["".join(a.itertext()) for a in nav.iterfind(".//x:a", NS)]


def test_no_remote_resources_in_the_epub(sample_build: dict) -> None:
    with zipfile.ZipFile(sample_build["epub"]) as z:
        for name in z.namelist():
            if name.endswith(".xhtml"):
                assert not re.search(r'src="(?!images/)', z.read(name).decode()), name


def test_one_warning_per_distinct_image_and_claim_warnings(sample_build: dict) -> None:
    log = sample_build["log"]
    image_lines = [line for line in log.splitlines() if "remote image not embedded" in line]
    with zipfile.ZipFile(sample_build["epub"]) as z:
        # the cover (generated or given) is not one of the chapters' images
        embedded = {n for n in z.namelist() if n.startswith("EPUB/images/") and "cover" not in n}
    if not embedded:  # offline: 8 images, 7 distinct URLs, one warning each
        assert len(image_lines) == 7
    else:
        assert len(embedded) + len(image_lines) <= 7
    assert "anecdote_count: 3, the text has 2" in log


def test_manifest_and_csl_json_in_build(sample_build: dict) -> None:
    out = sample_build["out"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    ch08, appa = manifest["parts"]
    assert ch08["counts"]["anecdotes"] == 2 and ch08["claims"]["anecdote_count"] == 3
    assert any("anecdote_count" in m for m in ch08["mismatches"])
    assert ch08["counts"]["references"] == 8 and ch08["counts"]["references_unparsed"] == 0
    assert appa["counts"]["images"] == 8 and appa["trim_after"] == "感谢阅读！"
    csl = json.loads((out / "references.json").read_text(encoding="utf-8"))
    assert len(csl) == 8 and csl[0]["id"] == "ch08-ref1" and csl[0]["author"][0]["family"] == "Touvron"


def test_every_element_in_the_pdf(sample_build: dict) -> None:
    text = pdf_text(sample_build["pdf"])
    for needle in (
        "人工智能简史", "图书在版编目（CIP）数据", "2025年10月第1版", "目录", "第八章", "Introduction",
        "轶事意外的泄露", "轶事Zuckerberg", "本章要点", "KEYTAKEAWAYS", "参考文献", "TOUVRONH,LAVRILT,IZACARDG,etal.",
        "https://arxiv.org/abs/2302.13971", "附录A", "来源：ByteAILab", "历时18个月", "Image1",
    ):  # fmt: skip
        assert needle in text, needle
    assert "[EB/OL].(2023)[2025-10-17]." in text  # the 参考文献 in GB/T 7714-2015 form
    assert text.count("Meta的开源革命：LLaMA引爆AI民主化") <= 3  # toc, opener, running header at most
    assert "感谢阅读" not in text


CHAPTER = """---
chapter_number: 12
title: "新的一章：测试约定"
title_en: "A New Chapter"
period: "2030"
technical_concepts: [new-concept]
anecdote_count: 1
---

# Chapter 12: 新的一章：测试约定

## 开篇 (Opening)

正文第一段[^n]。

| 列一 | 列二 |
|------|------|
| 甲 | 乙 |

> 一段引文。

#### 💡 轶事：深层的故事

故事的正文。

**本章要点** (Key Takeaways):
- 要点一
- 要点二

**参考文献** (Chapter References):
- Smith, J., & Doe, A. (2030). A Future Paper. *Journal of Tests*. https://example.org/paper
- 无法解析的一条

[^n]: 脚注内容。
"""


def test_new_chapter_in_the_same_conventions(book_dir: Path) -> None:
    (book_dir / "chapters" / "12.md").write_text(CHAPTER, encoding="utf-8")
    out = book_dir / "build"
    proc = run_cli("build", "--config", str(book_dir / "book.yaml"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "reference entry does not parse" in proc.stderr and "12.md:32:" in proc.stderr
    epub = next(out.glob("*.epub"))
    assert run_epubcheck(epub).ok
    doc = xhtml(epub, "ch12.xhtml")
    assert doc.findtext(".//x:p[@class='opener-label']", namespaces=NS) == "第十二章"
    assert len(doc.findall(".//x:h1", NS)) == 1
    assert doc.find(".//x:section[@class='callout callout-anecdote']/x:h4", NS) is not None
    assert doc.find(".//x:section[@class='summary-box takeaways']", NS) is not None
    refs = doc.findall(".//x:section[@class='references']//x:li", NS)
    assert [r.get("class") for r in refs] == ["reference", "reference unparsed"]
    assert doc.find(".//x:aside[@epub:type='footnote']", NS) is not None
    assert doc.find(".//x:table", NS) is not None and doc.find(".//x:blockquote", NS) is not None
    text = pdf_text(next(out.glob("*.pdf")))
    for needle in (
        "第十二章",
        "轶事深层的故事",
        "本章要点",
        "参考文献",
        "SMITHJ,DOEA.",
        "无法解析的一条",
        "脚注内容",
        "列一",
    ):
        assert needle in text, needle
    csl = json.loads((out / "references.json").read_text(encoding="utf-8"))
    assert csl[0]["author"] == [{"family": "Smith", "given": "J."}, {"family": "Doe", "given": "A."}]
