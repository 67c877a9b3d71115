"""Technical content, stage by stage on small inputs: formulas, tables, diagrams, SVG ink, captions
written below images, placeholders in final parts (fast: no PDF is laid out)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html

from book.check.placeholders import final_placeholders
from book.errors import Diagnostics
from book.parts import convert, diagrams, formulas, tables
from book.parts.htmltree import parse_fragment, to_xhtml
from book.parts.images import written_below
from book.pdf import mathsvg, svgink
from book.pdf.document import to_cmyk
from tests.conftest import have, run_cli, write_chapter


class FakePart:
    id = "ch01"
    source = Path("chapters/01.md")
    meta: dict = {}

    def __init__(self, body: str) -> None:
        self.body = body

    def line_of(self, needle: str) -> int | None:
        i = self.body.find(needle)
        return self.body.count("\n", 0, i) + 1 if i >= 0 else None


def converted(md: str) -> tuple[str, Diagnostics]:
    root = parse_fragment(convert.markdown_to_html(md, "ch01"))
    diag = Diagnostics(echo=False)
    formulas.apply(root, FakePart(md), diag)
    return to_xhtml(root, inner=True), diag


def test_dollars_are_formulas_but_prices_stay_text() -> None:
    out, diag = converted("价格 $5 和 $10，公式 $x^2$。\n\n$$a=b$$ {#eq-one}\n\n前 $$c$$ 后\n")
    assert "$5 和 $10" in out
    assert out.count("<math ") == 3
    assert '<div class="equation" id="ch01-eq-one"><math ' in out and '<span class="eq-number"></span></div>' in out
    assert '<span class="equation"><math ' in out  # inside a paragraph: a block span, the paragraph kept
    assert not diag.problems


def test_a_formula_that_does_not_parse_is_a_warning_and_code() -> None:
    out, diag = converted("一\n\n坏 $\\frac{a$ 与 $\\begin{matrix} a$。\n")
    assert '<code class="math-source">\\frac{a</code>' in out
    lines = [p.line for p in diag.problems]
    assert len(diag.problems) == 2 and lines == [3, 3]
    assert diag.problems[0].message.startswith("formula does not parse: \\frac{a — unexpected")


def test_the_formula_svg_sits_on_the_baseline(tmp_path: Path) -> None:
    body = converted("$x_\\alpha^2$ 与 $$\\frac{1}{2}$$\n")[0]
    printed = mathsvg.swap(body, "device-cmyk(0 0 0 1)", tmp_path)
    assert "<math" not in printed and printed.count('class="math-svg') == 2
    assert 'alt="x_\\alpha^2"' in printed
    assert "vertical-align:-0." in printed  # the subscript hangs below the baseline
    svg = next(tmp_path.glob("*.svg")).read_text()
    assert "<path" in svg and "<text" not in svg and 'fill="device-cmyk(0 0 0 1)"' in svg
    assert mathsvg.swap(body, "device-cmyk(0 0 0 1)", tmp_path) == printed  # cached by hash: the same


def table(rows: str, head: str) -> html.HtmlElement:
    t = html.fragment_fromstring(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    tables.mark(t)
    return t


def test_tables_keep_short_headers_and_set_numbers_right() -> None:
    t = table("<tr><td>甲</td><td>1,024</td><td>85.2%</td><td>x</td></tr><tr><td>乙</td><td>—</td><td>¥30</td>"
              "<td style='text-align: left'>3</td></tr>",
              "<th>名称</th><th>参数量</th><th>一个很长的表头名字</th><th>注</th>")  # fmt: skip
    heads = [th.get("class") for th in t.iter("th")]
    assert heads == ["keep", "keep num", "num", "keep"]
    assert [td.get("class") for td in t.iter("td")][:4] == [None, "num", "num", None]
    assert t.get("class") is None
    wide = table("<tr>" + "<td>1</td>" * 7 + "</tr>", "<th>列</th>" * 7)
    assert wide.get("class") == "wide"


def test_numbers() -> None:
    for v in ("1.5B", "12,288", "85.02%", "¥300", "-3", "40GB", "3万", "2019", "3e-4", "1.5E+3"):
        assert tables.is_number(v), v
    for v in ("OpenAI", "v1.2.3", "A100", "1-2"):
        assert not tables.is_number(v), v


def test_a_fence_without_its_tool_stays_code_with_one_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(diagrams, "MMDC", tmp_path / "no-mmdc")
    md = "正文\n\n```mermaid\ngraph TD; A-->B;\n```\n"
    root = parse_fragment(convert.markdown_to_html(md, "ch01"))
    diag = Diagnostics(echo=False)
    assert diagrams.apply(root, FakePart(md), diag, tmp_path, "zh-Hans") == []
    assert root.find(".//pre") is not None
    assert [(p.line, p.severity) for p in diag.problems] == [(3, "warning")]
    assert "mermaid diagram left as code" in diag.problems[0].message


@pytest.mark.skipif(not have("dot"), reason="needs Debian's graphviz")
def test_graphviz_reads_no_file_and_links_nowhere(tmp_path: Path) -> None:
    md = '```dot\ndigraph { a [image="/etc/hostname", URL="javascript:alert(1)"]; a -> b; }\n```\n'
    root = parse_fragment(convert.markdown_to_html(md, "ch01"))
    diag = Diagnostics(echo=False)
    refs = diagrams.apply(root, FakePart(md), diag, tmp_path, "zh-Hans")
    svg = refs[0].path.read_text() if refs else ""
    assert "<image" not in svg and "javascript" not in svg and "<a " not in svg


def test_svg_colours_for_print() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><path fill="black" stroke="#ff0000"/><g style="fill: white; stroke:transparent"/></svg>'
    out = svgink.print_svg(svg, to_cmyk)
    assert 'fill="device-cmyk(0 0 0 1.000)"' in out and "#ff0000" not in out and "stroke:none" in out
    assert out.startswith('<svg fill="device-cmyk(0 0 0 1.000)"')  # unfilled text inherits K black


def test_a_caption_written_below_the_image_is_not_repeated() -> None:
    root = html.fragment_fromstring("<div><figure><img src='a.png'/></figure><p>图 2-1 模型结构</p></div>")
    assert written_below(root[0], "模型结构")
    assert written_below(root[0], "图2-1：模型结构")
    assert not written_below(root[0], "训练数据的来源")


def test_final_parts_with_placeholders_stop_print(book_dir: Path) -> None:
    write_chapter(book_dir, "01.md", "---\nchapter_number: 1\ntitle: 终章\nstatus: final\n---\n\n# 终章\n\n正文。\n\n"
                  "![缺图](missing.png)\n")  # fmt: skip
    write_chapter(
        book_dir, "02.md", "---\nchapter_number: 2\ntitle: 草稿\nstatus: draft\n---\n\n# 草稿\n\n![缺](gone.png)\n"
    )
    proc = run_cli("build", "--no-check", "--config", str(book_dir / "book.yaml"), "--out", str(book_dir / "build"))
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "01.md:11: error: a final part would print an image placeholder" in errors[0]
    assert final_placeholders(['<figure class="figure image-placeholder" data-source="a.md:3" data-final="true">',
                               '<figure class="figure image-placeholder" data-source="b.md:4">']) == ["a.md:3"]  # fmt: skip
