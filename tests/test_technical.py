"""Technical content through the CLI: code listings (font, highlighting, wrapping inside the type
area), images (type sniffed from the bytes, no caption that only says "image", scaled to the page),
formulas (MathML in the EPUB, outlined SVG in the PDF), diagrams, data tables and the PDF's own
layout check; one chapter holds them all and is built once."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from book.check.epubcheck import run_epubcheck
from book.parts.images import caption_of, stored_suffix
from book.pdf.furniture import geometry
from book.source.config import load_config
from tests.conftest import have, run_cli

LONG = "    result = compute_something(" + ", ".join(f"argument_{i}" for i in range(14)) + ")  # 很长的中文注释"
TOKEN = "a_very_long_identifier_without_any_break_opportunity_" * 2
CHAPTER = f"""# 第一章 代码

正文一段，介绍下面的代码。

```python
# 中文注释：计算
def f(x):
{LONG}
    return "abc" + 1
```

缩进的代码块：

    indented block
    第二行

行内代码 `{TOKEN}` 应当折行。

![image](photo.jpg)

![一张真正的图](plain.png)
"""

CHAPTER += r"""
缩放定律：损失 $L(N) = (N_c/N)^{\alpha_N}$ 随参数量下降，注意力为

$$\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right)V$$ {#eq-attention}

坏的公式 $\frac{a$ 照样印出。

```dot
digraph G { rankdir=LR; 数据 -> 预训练 -> 微调; }
```

<img src="huge.png" width="3000" height="4200" alt="一张比页面还大的图">

| 模型 | 参数量 | 训练数据 | 上下文 | 发布年份 | 机构 | 层数 | 隐藏维度 | 注意力头 | 词表大小 |
|---|---|---|---|---|---|---|---|---|---|
| GPT-2 | 1.5B | 40GB | 1024 | 2019 | OpenAI | 48 | 1600 | 25 | 50257 |
| GPT-3 | 175B | 570GB | 2048 | 2020 | OpenAI | 96 | 12288 | 96 | 50257 |
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    book = tmp_path_factory.mktemp("technical")
    (book / "book.yaml").write_text(
        "title: 测试之书\nauthors: [作者]\ndate: 2025-01-01\nchapters:\n  - chapters/*.md\n", encoding="utf-8"
    )
    (book / "chapters").mkdir()
    (book / "chapters" / "01.md").write_text(CHAPTER, encoding="utf-8")
    Image.new("RGB", (60, 40), (200, 30, 30)).save(book / "chapters" / "photo.jpg", format="PNG")
    Image.new("RGB", (60, 40), (30, 30, 200)).save(book / "chapters" / "plain.png", format="PNG")
    Image.new("L", (300, 420), 128).save(book / "chapters" / "huge.png", format="PNG")
    proc = run_cli("build", "--no-check", "--config", str(book / "book.yaml"), "--out", str(book / "build"))
    assert proc.returncode == 0, proc.stderr
    return book, proc


def chapter_xhtml(book: Path) -> str:
    with zipfile.ZipFile(book / "build" / "book.epub") as z:
        return z.read("EPUB/ch01.xhtml").decode("utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not have("java"), reason="EPUBCheck needs Java")
def test_epubcheck_clean(built: tuple[Path, subprocess.CompletedProcess]) -> None:
    result = run_epubcheck(built[0] / "build" / "book.epub")
    assert result.ok, "\n".join(result.details[:20])


@pytest.mark.slow
def test_listing_is_highlighted_and_the_mono_face_embedded(built: tuple[Path, subprocess.CompletedProcess]) -> None:
    book, _ = built
    xhtml = chapter_xhtml(book)
    assert '<span class="kw">def</span>' in xhtml
    assert 'class="code-line"' in xhtml  # the indented block's lines
    with zipfile.ZipFile(book / "build" / "book.epub") as z:
        assert "EPUB/fonts/NotoSansMonoCJKsc-Regular.otf" in z.namelist()
    fonts = subprocess.run(["pdffonts", str(book / "build" / "book.pdf")], capture_output=True, text=True).stdout
    assert any("Mono" in line and " yes " in line for line in fonts.splitlines()), fonts


@pytest.mark.slow
@pytest.mark.skipif(not have("pdftotext"), reason="needs poppler-utils")
def test_long_code_line_stays_inside_the_type_area(built: tuple[Path, subprocess.CompletedProcess]) -> None:
    book, _ = built
    geo = geometry(load_config(book / "book.yaml"))
    pdf = book / "build" / "book.pdf"
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    bleed = geo.bleed_mm * 72 / 25.4
    checked = 0
    for number, page in enumerate(re.findall(r"<page .*?</page>", bbox, re.S), start=1):
        if "compute_something" not in page:
            continue
        left = geo.inner if number % 2 else geo.outer  # a recto has its gutter on the left
        words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', page)
        code = [(float(a) - bleed, float(b) - bleed, w) for a, b, w in words if "argument_" in w or TOKEN[:10] in w]
        for x0, x1, w in code:
            assert left - 0.5 <= x0 and x1 <= left + geo.type_width + 0.5, (w, x0, x1, left, geo.type_width)
        checked += len(code)
    assert checked >= 14


@pytest.mark.slow
def test_png_named_jpg_is_stored_as_png_with_a_warning(built: tuple[Path, subprocess.CompletedProcess]) -> None:
    book, proc = built
    assert re.search(r"01\.md:\d+: warning: image photo\.jpg is a PNG file named 'photo\.jpg'", proc.stderr)
    with zipfile.ZipFile(book / "build" / "book.epub") as z:
        images = [n for n in z.namelist() if n.startswith("EPUB/images/") and "cover" not in n]
    assert images and all(n.endswith(".png") for n in images if not n.endswith(".svg")), images


@pytest.mark.slow
def test_alt_saying_only_image_is_no_caption(built: tuple[Path, subprocess.CompletedProcess]) -> None:
    xhtml = chapter_xhtml(built[0])
    assert "<figcaption>image</figcaption>" not in xhtml
    assert 'alt="image"' in xhtml  # still the image's alternative text
    assert "<figcaption>一张真正的图</figcaption>" in xhtml


def test_caption_rules() -> None:
    for alt in ("image", "Image", "图片", "img", "photo.jpg", "photo"):
        assert caption_of(alt, "images/photo.jpg") == "", alt
    assert caption_of(" 一张真正的图 ", "images/photo.jpg") == "一张真正的图"


def test_stored_suffix_follows_the_bytes() -> None:
    assert stored_suffix(Path("a.jpg"), "image/png", "png") == "png"
    assert stored_suffix(Path("a.JPEG"), "image/jpeg", "jpg") == "jpeg"
    assert stored_suffix(Path("a.png"), "image/png", "png") == "png"


# --- formulas, diagrams, images scaled, tables, the layout check (the same build) --------------------


def pdf_text(book: Path) -> str:
    return subprocess.run(["pdftotext", str(book / "build" / "book.pdf"), "-"], capture_output=True, text=True).stdout


@pytest.mark.slow
def test_formulas_are_mathml_in_the_epub_and_no_dollar_is_printed(
    built: tuple[Path, subprocess.CompletedProcess],
) -> None:
    book, proc = built
    xhtml = chapter_xhtml(book)
    assert xhtml.count('<math xmlns="http://www.w3.org/1998/Math/MathML"') == 2
    assert re.search(
        r'<div (class="equation" id="ch01-eq-attention"|id="ch01-eq-attention" class="equation")>\s*<math [^>]*display="block"',
        xhtml,
    )
    assert re.search(
        r'<span class="eq-number"[^>]*>\(1-\d\)</span>\s*</div>', xhtml
    )  # numbered by the cross-references
    with zipfile.ZipFile(book / "build" / "book.epub") as z:
        opf = z.read("EPUB/content.opf").decode()
    assert re.search(r'<item href="ch01.xhtml"[^>]*properties="mathml"', opf), opf
    # the formula that does not parse: one warning at its line, printed as code
    line = CHAPTER.splitlines().index("坏的公式 $\\frac{a$ 照样印出。") + 1
    assert re.search(rf"01\.md:{line}: warning: formula does not parse: \\frac\{{a — ", proc.stderr), proc.stderr
    assert '<code class="math-source">\\frac{a</code>' in xhtml
    assert "ERROR:" not in proc.stderr  # ziamath logs to the root logger: it must not set up logging for all
    if have("pdftotext"):
        text = pdf_text(book)
        assert "$" not in text and "\\alpha" not in text and "softmax" not in text  # drawn, not typed


@pytest.mark.slow
@pytest.mark.skipif(not have("dot"), reason="needs Debian's graphviz")
def test_dot_fence_is_a_vector_figure(built: tuple[Path, subprocess.CompletedProcess]) -> None:
    book, _ = built
    xhtml = chapter_xhtml(book)
    assert re.search(r'<figure class="figure diagram graphviz"[^>]*><img src="images/[0-9a-f]{16}\.svg"', xhtml)
    assert "digraph" not in xhtml
    with zipfile.ZipFile(book / "build" / "book.epub") as z:
        assert any(n.endswith(".svg") and n.startswith("EPUB/images/") for n in z.namelist())
    if have("pdftotext"):
        assert "预训练" in pdf_text(book) and "digraph" not in pdf_text(book)  # the labels are text in the PDF


@pytest.mark.slow
def test_pdf_layout_check_finds_nothing_past_the_type_area(
    built: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    import dataclasses

    from book.check.layout import LAYOUT_PAGES, measure
    from book.engine.cache import Cache

    book, proc = built
    assert "past the" not in proc.stderr
    geo = geometry(load_config(book / "book.yaml"))
    pdf = book / "build" / "book.pdf"
    assert measure(pdf, geo) == []
    # and it does see: a type area 8 characters narrower puts the listing's words, the table and the image past it
    narrow = measure(pdf, dataclasses.replace(geo, chars=geo.chars - 8))
    assert {o.kind for o in narrow} == {"text", "image"}, narrow[:5]
    # through the cache: measured, then kept per page, then a third of the pages measured again
    cache = Cache(tmp_path / "cache")
    narrower = dataclasses.replace(geo, chars=geo.chars - 8)
    assert measure(pdf, narrower, cache) == narrow
    known = cache.load(LAYOUT_PAGES, "pages")
    cache.store(LAYOUT_PAGES, "pages", {k: v for n, (k, v) in enumerate(known.items()) if n % 3})
    assert measure(pdf, narrower, cache) == narrow == measure(pdf, narrower, cache)


@pytest.mark.slow
def test_huge_html_img_and_the_wide_table(built: tuple[Path, subprocess.CompletedProcess]) -> None:
    xhtml = chapter_xhtml(built[0])
    img = re.search(r'<img src="images/[0-9a-f]+\.png" width="3000" alt="一张比页面还大的图"/>', xhtml)
    assert img, "the height attribute goes, the width is capped by the stylesheet"
    assert re.search(r'<p class="image-alone"[^>]*><img src="images/[0-9a-f]+\.png" width="3000"', xhtml)
    assert re.search(r'<table[^>]* class="wide very-wide">', xhtml)
    assert '<th class="keep">机构</th>' in xhtml and '<th class="keep num">注意力头</th>' in xhtml
    assert '<td class="num">1.5B</td>' in xhtml and '<th class="keep num">参数量</th>' in xhtml
    assert "<td>OpenAI</td>" in xhtml
