"""The scholarly apparatus: numbered labels and cross-references, the pinyin index, citations in
GB/T 7714 — one two-chapter book built once through the CLI, and unit tests on the small functions."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pypdf
import pytest
from lxml import etree

from book.errors import BookError
from book.model import BookConfig, Manifest, Part, RenderedPart
from book.parts import crossref, index
from book.parts.htmltree import parse_fragment
from tests.conftest import run_cli

BIB = (Path(__file__).parent / "data" / "three-refs.bib").read_text(encoding="utf-8")

FILLER = "这是一段用来占据版面的文字，让后面的内容落到别的页上。" * 10

ONE = f"""\
# 基础 {{#ch-basics}}

[人工智能]{{.index}}的历史很长，[图灵]{{.index}}是先驱。

{FILLER}

## 方法 {{#sec-method}}

![一只猫](cat.png){{#fig-cat}}

{FILLER}

{FILLER}

| 名称 | 值 |
|---|---|
| 参数 | 7B |

: 模型规模 {{#tbl-size}}

$$E=mc^2$$ {{#eq-energy}}

[神经网络]{{.index}}与[深度学习]{{.index}}，[阿里巴巴]{{.index}}。

{FILLER}

[重庆]{{.index}}的[开源]{{.index sub="许可证"}}社区。
"""

TWO = """\
# 应用

如@fig-cat所示，@tbl-data 与 @tbl-size 不同；@eq-energy 是公式，@sec-method 讲方法，见@ch-basics。

深度学习的研究很多[@zhang2020]。注意力机制见文献[@vaswani2017]，技术报告见文献[@openai2023]。

[LLaMA]{.index key="llama"}由 [Meta]{.index} 发布，[人工智能]{.index}再次兴起，[百度]{.index}也有模型。
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from PIL import Image

    book = tmp_path_factory.mktemp("apparatus")
    Image.new("RGB", (1600, 500), (90, 120, 200)).save(book / "cat.png", dpi=(300, 300))
    (book / "refs.bib").write_text(BIB, encoding="utf-8")
    (book / "glossary.yaml").write_text("公式: 用数学符号写成的等式。\n方法: 做事的办法。\n", encoding="utf-8")
    (book / "one.md").write_text(ONE, encoding="utf-8")
    (book / "two.md").write_text(TWO.replace("@tbl-data 与 ", ""), encoding="utf-8")
    (book / "book.yaml").write_text(
        "title: 学术之书\nauthors: [作者]\ndate: 2025-01-01\nchapters: [one.md, two.md]\n"
        "bibliography: refs.bib\ncrossref: {page: true, lists: [figures, tables]}\nglossary: glossary.yaml\n",
        encoding="utf-8",
    )
    out = book / "out"
    proc = run_cli("build", "--config", str(book / "book.yaml"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    reader = pypdf.PdfReader(out / "book.pdf")
    pages = {label: page.extract_text() for label, page in zip(reader.page_labels, reader.pages, strict=True)}
    return {"book": book, "out": out, "log": proc.stderr, "pages": pages}


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _page_of(pages: dict[str, str], needle: str, skip: str = "") -> str:
    """The folio of the first body page (arabic) whose text has `needle` (and not `skip`)."""
    for label, text in pages.items():
        flat = _flat(text)
        if label.isdigit() and needle in flat and not (skip and skip in flat):
            return label
    raise AssertionError(f"{needle!r} is on no page")


@pytest.mark.slow
def test_references_print_number_and_correct_page(built: dict) -> None:
    assert "warning:" not in built["log"], built["log"]
    assert "PASS epubcheck" in built["log"]
    pages = built["pages"]
    flat = {k: _flat(v) for k, v in pages.items()}
    referring = next(t for k, t in flat.items() if "如图1-1" in t)
    targets = {"图1-1": "图1-1一只猫", "表1-1": "表1-1模型规模", "式(1-1)": "(1-1)", "第1.1节": "1.1方法"}
    for ref, where in targets.items():
        m = re.search(re.escape(ref) + r"（第(\d+)页）", referring)
        assert m, (ref, referring)
        # the formula is drawn (no text); its number beside it is text, and differs from the reference
        skip = ref if ref.startswith("式") else ""
        assert m.group(1) == _page_of(pages, where, skip=skip), ref
    assert re.search(r"第一章（第(\d+)页）", referring).group(1) == "1"


@pytest.mark.slow
def test_lists_of_figures_and_tables(built: dict) -> None:
    front = "".join(_flat(t) for k, t in built["pages"].items() if not k.isdigit())
    assert "插图目录" in front and "表格目录" in front
    m = re.search(r"图1-1一只猫\.+(\d+)", front)
    assert m and m.group(1) == _page_of(built["pages"], "图1-1一只猫")


@pytest.mark.slow
def test_index_sorted_by_pinyin_with_the_pdf_pages(built: dict) -> None:
    with zipfile.ZipFile(built["out"] / "book.epub") as z:
        xhtml = z.read("EPUB/back-index.xhtml")
    tree = etree.fromstring(xhtml)
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    letters = [h.text for h in tree.iterfind(".//h:h2", ns)]
    assert letters == ["西文", "A", "B", "C", "K", "R", "S", "T"]
    terms = ["".join(s.itertext()) for s in tree.iterfind(".//h:span[@class='index-term']", ns)]
    assert terms == [
        "LLaMA",
        "Meta",
        "阿里巴巴",
        "百度",
        "重庆",
        "开源",
        "许可证",
        "人工智能",
        "深度学习",
        "神经网络",
        "图灵",
    ]
    assert len(set(terms) - {"许可证"}) == 10
    assert b'epub:type="index"' in xhtml and b'epub:type="index-locator"' in xhtml
    last = max((k for k in built["pages"] if k.isdigit()), key=int)
    index_text = _flat(built["pages"][last]).removesuffix(last)  # without the page's folio
    assert "索引" in index_text
    for term in ("图灵", "神经网络", "重庆", "LLaMA", "百度"):
        page = _page_of(built["pages"], term, skip="索引")
        assert re.search(re.escape(term) + re.escape(page) + r"(?!\d)", index_text), (term, page, index_text)
    first, second = _page_of(built["pages"], "人工智能", skip="索引"), _page_of(built["pages"], "再次兴起")
    assert f"人工智能{first},{second}" in index_text or f"人工智能{first}–{second}" in index_text


@pytest.mark.slow
def test_bibliography_in_gbt7714(built: dict) -> None:
    with zipfile.ZipFile(built["out"] / "book.epub") as z:
        text = re.sub(r"<[^>]+>", "", z.read("EPUB/ch02.xhtml").decode())
    assert "张三, 李四. 深度学习在自然语言处理中的应用[J]. 计算机学报, 2020, 43(5): 801-815." in text
    assert "VASWANI A, SHAZEER N, PARMAR N, et al. Attention Is All You Need" in text
    assert "[EB/OL]" in text and "[2024-05-01]" in text


@pytest.mark.slow
def test_glossary_with_first_uses_linked(built: dict) -> None:
    with zipfile.ZipFile(built["out"] / "book.epub") as z:
        glossary = z.read("EPUB/back-glossary.xhtml").decode()
        two = z.read("EPUB/ch02.xhtml").decode()
        nav = z.read("EPUB/toc.xhtml").decode()
    assert 'epub:type="glossary"' in glossary and glossary.index("方法") < glossary.index("公式")  # fang < gong
    assert (
        len(
            re.findall(
                r'<a class="glossary-link" epub:type="glossref" role="doc-glossref" href="back-glossary.xhtml#[^"]+">公式</a>',
                two,
            )
        )
        == 1
    )
    assert 'epub:type="index" href="back-index.xhtml' in nav and 'epub:type="glossary"' in nav


# --- unit tests -------------------------------------------------------------------------------------


def _part(body: str, pid: str = "ch03", kind: str = "chapter", number: int | None = 3, name: str = "c.md") -> Part:
    return Part(pid, kind, Path(name), "题", "第三章", number, {}, body, 1)


TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _config(tmp_path: Path) -> BookConfig:
    return BookConfig(
        tmp_path, tmp_path / "book.yaml", "书", "", ("某",), "zh-Hans", "x", "", "", "", "", "s", (), (TEMPLATES,), ()
    )


def test_protect_takes_references_from_citeproc() -> None:
    body = "见@fig-a与[@tbl-b]，[@smith2020]，mail a@fig-x.com\n\n```\n@fig-code\n```\n`@eq-c`\n"
    out = crossref.protect(body)
    assert '[]{.crossref ref="fig-a"}与[]{.crossref ref="tbl-b"}' in out
    assert "[@smith2020]" in out and "a@fig-x.com" in out and "\n@fig-code\n" in out and "`@eq-c`" in out
    assert "{#eq-x .equation}" in crossref.protect("$$x=1$$ {#eq-x}")


def test_numbering_is_chapter_relative_and_appendix_lettered(tmp_path: Path) -> None:
    html = (
        '<section id="ch03-s1"><h2>甲</h2><figure id="ch03-fig-a"><img src="a.png"/><figcaption>猫</figcaption></figure>'
        '<figure id="ch03-fig-b"><img src="b.png"/></figure><table id="ch03-tbl-c"><caption>表</caption></table></section>'
        '<section id="ch03-sec-d"><h2>乙</h2><div id="ch03-eq-e" class="equation"><span class="eq-number"></span></div></section>'
    )
    root = parse_fragment(html)
    labels = crossref.number(root, _part(""), _config(tmp_path))
    assert {lab["label"]: lab["text"] for lab in labels} == {
        "fig-a": "图 3-1", "fig-b": "图 3-2", "tbl-c": "表 3-1", "sec-d": "第 3.2 节", "eq-e": "式 (3-1)",
    }  # fmt: skip
    assert "".join(root.find(".//figcaption").itertext()) == "图 3-1 猫"
    appendix = crossref.number(
        parse_fragment('<figure id="appa-fig-z"></figure>'), _part("", "appa", "appendix", None), _config(tmp_path)
    )
    assert appendix[0]["text"] == "图 A-1"


def test_unknown_and_twice_defined_labels_are_positioned_errors(tmp_path: Path) -> None:
    config = _config(tmp_path)
    a = _part("![x](x.png){#fig-cat}\n\n文字\n", "ch01", number=1, name="a.md")
    b = _part("![y](y.png){#fig-dog}\n\n见 @fig-cta。\n", "ch02", number=2, name="b.md")
    ra = RenderedPart(
        "ch01",
        "chapter",
        "ch01.xhtml",
        "",
        "",
        "",
        labels=[{"label": "fig-cat", "id": "ch01-fig-cat", "text": "图 1-1"}],
    )
    rb = RenderedPart(
        "ch02", "chapter", "ch02.xhtml", "", "", '<p>见 <span class="crossref" data-ref="fig-cta"></span>。</p>'
    )
    with pytest.raises(BookError) as exc:
        crossref.resolve(config, Manifest(config, [a, b]), [ra, rb])
    assert str(exc.value.problems[0]) == "b.md:3: error: unknown label @fig-cta — did you mean @fig-cat?"
    c = _part("文字\n\n![z](z.png){#fig-cat}\n", "ch03", number=3, name="c.md")
    with pytest.raises(BookError) as exc:
        crossref.resolve(config, Manifest(config, [a, c]), [ra])
    assert str(exc.value.problems[0]).startswith("c.md:3: error: label {#fig-cat} is defined twice (also at a.md:1)")
    rb.body = '<p><span class="crossref" data-ref="fig-cat"></span></p>'
    crossref.resolve(config, Manifest(config, [a, b]), [ra, rb])
    assert rb.body == '<p><a class="crossref" href="ch01.xhtml#ch01-fig-cat">图 1-1</a></p>'


def test_pinyin_sort_and_groups() -> None:
    words = ["重庆", "阿里巴巴", "长城", "北京", "安全", "Zeta", "alpha"]
    ordered = sorted(words, key=index.sort_key)
    assert ordered[:2] == ["alpha", "Zeta"] or ordered.index("alpha") < ordered.index("Zeta")
    han = [w for w in ordered if not w.isascii()]
    assert han == ["阿里巴巴", "安全", "北京", "长城", "重庆"]  # a-li < an-quan; chang < chong
    assert [index.group_of(w) for w in ("重庆", "长城", "LLaMA", "3D")] == ["C", "C", "", ""]


def test_page_ranges_merge() -> None:
    runs = index.merge_pages(["12", "13", "14", "14", "17", "iii", "18", "19"])
    assert [index.page_text(a, b) for a, b, _ in runs] == ["12–14", "17", "iii", "18–19"]
    body = '<span class="index-locators" data-targets="a b c d"><a href="x">第一章</a></span>'
    printed = index.print_locators(body, {"a": "3", "b": "4", "c": "5", "d": "9"})
    assert printed == '<a href="#a">3–5</a>, <a href="#d">9</a>'


def test_glossary_first_use_and_front_matter_index(tmp_path: Path) -> None:
    import dataclasses

    from book.parts import glossary

    (tmp_path / "g.yaml").write_text("开源:\n  definition: 公开源代码。\n  keys: [open-source]\n", encoding="utf-8")
    config = dataclasses.replace(_config(tmp_path), glossary=tmp_path / "g.yaml", index_front_matter=True)
    part = _part("", "ch01", number=1)
    part.meta = {"technical_concepts": ["open-source"]}
    body = '<section><h2>开源</h2><p id="ch01-p1">讲开源，再讲开源。</p></section>'
    rp = RenderedPart("ch01", "chapter", "ch01.xhtml", "", "第一章", body)
    back = glossary.apply(config, Manifest(config, [part]), [rp])
    assert back is not None and 'id="back-glossary-g1"' in back.body and "公开源代码。" in back.body
    assert rp.body.count('class="glossary-link"') == 1 and "<h2>开源</h2>" in rp.body  # not in the heading
    assert rp.index_terms == [{"term": "开源", "key": "", "sub": "", "id": "ch01-fm1"}]
    assert 'id="ch01-fm1">开源</span>，再讲' not in rp.body and 'id="ch01-fm1">开源</span>。' in rp.body


def test_glossary_and_index_come_from_templates_a_book_can_override(tmp_path: Path) -> None:
    import dataclasses

    from book.parts import glossary, index

    own = tmp_path / "my-templates"
    own.mkdir()
    (own / "back-opener.html.j2").write_text('<header id="{{ id }}"><h1 class="mine">{{ title }}</h1></header>\n')
    (tmp_path / "g.yaml").write_text("方法: 做事的办法。\n", encoding="utf-8")
    config = dataclasses.replace(_config(tmp_path), glossary=tmp_path / "g.yaml", template_dirs=(own, TEMPLATES))
    body = '<p id="ch01-p1">讲<span class="index-term-ref" id="ch01-i1">方法</span>。</p>'
    rp = RenderedPart("ch01", "chapter", "ch01.xhtml", "", "第一章", body, index_terms=[
        {"term": "方法", "key": "", "sub": "", "id": "ch01-i1"}])  # fmt: skip
    back = glossary.apply(config, Manifest(config, [_part("", "ch01", number=1)]), [rp])
    assert back is not None and '<h1 class="mine">术语表</h1>' in back.body and "<dd" in back.body
    ix = index.build_part(config, [rp])
    assert ix is not None and '<h1 class="mine">索引</h1>' in ix.body
    assert '<a epub:type="index-locator" href="ch01.xhtml#ch01-i1">第一章</a>' in ix.body  # markup, not escaped
