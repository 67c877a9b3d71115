"""Book structure (issue 15): front and back matter, parts, chapter labels, multi-file chapters,
`book init` and the SUMMARY.md / _quarto.yml imports, Markdown traps and text conservation."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from book.errors import BookError, Diagnostics
from book.model import Part
from book.source.config import load_config
from book.source.imports import parse_quarto, parse_summary, to_yaml
from book.source.labels import format_label, parse_pattern
from book.source.manifest import build_manifest
from tests.conftest import run_cli

LIST_FOOTER = """# 清单

正文第一段。

-------
- 第一项说明
- 第二项说明
- 第三项说明
-------

    这是一个缩进的段落，作者用四个空格开头，本意是首行缩进。

结尾的一段。
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# --- labels and book.yaml ---------------------------------------------------------------------------


def test_label_patterns() -> None:
    assert format_label("第{n}章", 12) == "第十二章"
    assert format_label("第 {n:02d} 天", 3) == "第 03 天"
    assert format_label("Chapter {n:d}", 7) == "Chapter 7"
    assert format_label("", 3) == ""
    assert parse_pattern("none", "第{n}章") == ("", None)
    assert parse_pattern(False, "第{n}章") == ("", None)
    assert parse_pattern(None, "第{n}章") == ("第{n}章", None)
    assert parse_pattern("第{x}章", "第{n}章")[1] is not None
    assert "no '{n}'" in parse_pattern("第章", "第{n}章")[1]
    assert parse_pattern("{n:q}", "第{n}章")[1] is not None


@pytest.mark.parametrize(
    "extra, line, what",
    [
        ("chapter_label: '第{x}章'\n", 4, "chapter_label"),
        ("parts: 第一部分\n", 4, "'parts' must be a list"),
        ("parts:\n  - chapters: [a.md]\n", 4, "has no title"),
        ("parts:\n  - title: 甲\n    chapters:\n      - nowhere.md\n", 7, "matches no file"),
    ],
)
def test_structure_errors_are_positioned(tmp_path: Path, extra: str, line: int, what: str) -> None:
    write(tmp_path, {"a.md": "# 甲\n\n正文。\n", "book.yaml": "title: 书\nauthors: [某]\nchapters: [a.md]\n" + extra})
    with pytest.raises(BookError) as exc:
        load_config(tmp_path / "book.yaml")
    shown = [str(p) for p in exc.value.problems]
    assert any(f"book.yaml:{line}: error:" in s and what in s and " — " in s for s in shown), shown


def test_manifest_of_a_structured_book(tmp_path: Path) -> None:
    write(tmp_path, {
        "book.yaml": "title: 书\nauthors: [某]\nchapter_label: '第 {n:02d} 天'\nfrontmatter: [preface.md]\n"
                     "parts:\n  - title: 上篇\n    chapters: [one.md, two]\n  - title: 下篇\n    chapters: [three.md]\n"
                     "backmatter: [after.md]\n",
        "preface.md": "# 前言\n\n序的文字。\n", "one.md": "# 起步\n\n一。\n",
        "two/README.md": "# 进阶\n\n二的引言。\n", "two/b.md": "# 小节乙\n\n乙的文字。\n\n第五行。\n",
        "three.md": "# 深入\n\n三。\n", "after.md": "# 后记\n\n完。\n",
    })  # fmt: skip
    m = build_manifest(load_config(tmp_path / "book.yaml"), Diagnostics(echo=False))
    assert [(p.id, p.kind, p.label, p.division) for p in m.parts] == [
        ("fm1", "frontmatter", "", ""),
        ("ch01", "chapter", "第 01 天", "part1"),
        ("ch02", "chapter", "第 02 天", "part1"),
        ("ch03", "chapter", "第 03 天", "part2"),
        ("bm1", "backmatter", "", ""),
    ]
    assert [(d.id, d.label, d.title) for d in m.divisions] == [
        ("part1", "第一部分", "上篇"),
        ("part2", "第二部分", "下篇"),
    ]
    two = m.parts[2]
    assert "## 小节乙" in two.body and two.title == "进阶"  # the section's h1 is a section of the chapter
    line = two.body_line + two.body[: two.body.index("第五行")].count("\n")
    assert two.origin(line) == (str(tmp_path / "two" / "b.md"), 5)


def test_a_self_numbered_book_keeps_its_numbers(tmp_path: Path) -> None:
    write(tmp_path, {"book.yaml": "title: 书\nauthors: [某]\nchapter_label: none\nchapters: [a.md]\n",
                     "a.md": "# 第一章 起源\n\n正文。\n"})  # fmt: skip
    (part,) = build_manifest(load_config(tmp_path / "book.yaml"), Diagnostics(echo=False)).parts
    assert (part.label, part.title) == ("", "第一章 起源")


# --- imports ----------------------------------------------------------------------------------------


def test_summary_md(tmp_path: Path) -> None:
    write(tmp_path, {
        "src/SUMMARY.md": "# Summary\n\n[前言](README.md)\n\n# 基础篇\n\n- [安装](install.md)\n"
                          "- [概念](concepts/README.md)\n    - [镜像](concepts/image.md)\n"
                          "        - [层](concepts/layers.md)\n- [草稿]()\n\n# 实战篇\n\n* [部署](deploy.md)\n\n"
                          "---\n\n[后记](afterword.md)\n",
        **{f"src/{n}": "# 标题\n\n正文。\n" for n in ("README.md", "install.md", "concepts/README.md",
                                                     "concepts/image.md", "concepts/layers.md", "deploy.md",
                                                     "afterword.md")},
        "book.toml": '[book]\ntitle = "容器之书"\nauthors = ["某人"]\nlanguage = "zh-TW"\n',
    })  # fmt: skip
    out = parse_summary(tmp_path / "src" / "SUMMARY.md", tmp_path)
    assert out.frontmatter == ["src/README.md"] and out.backmatter == ["src/afterword.md"]
    assert out.parts == [
        {"title": "基础篇", "chapters": ["src/install.md", {"files": ["src/concepts/README.md", "src/concepts/image.md",
                                                                   "src/concepts/layers.md"]}]},
        {"title": "实战篇", "chapters": ["src/deploy.md"]},
    ]  # fmt: skip
    (draft,) = out.warnings
    assert draft.line == 11 and "草稿" in draft.message and draft.severity == "warning"
    text = to_yaml(out, "x", "SUMMARY.md")
    assert "title: 容器之书" in text and "language: zh-Hant" in text and "chapter_label" not in text


def test_quarto_yml(tmp_path: Path) -> None:
    write(tmp_path, {
        "_quarto.yml": "project:\n  type: book\nbook:\n  title: 量化\n  author: 某人\n  chapters:\n    - index.qmd\n"
                       "    - part: 基础\n      chapters:\n        - a.qmd\n        - b.qmd\n    - part: 应用\n"
                       "      chapters: [c.qmd]\n    - references.qmd\n  appendices:\n    - x.qmd\n",
        "index.qmd": "# 前言 {.unnumbered}\n\n正文。\n", "a.qmd": "# 第 1 天 开始\n\n甲。\n",
        "b.qmd": "# 第 2 天 继续\n\n乙。\n", "c.qmd": "# 第 3 天 应用\n\n丙。\n",
        "references.qmd": "# 参考文献 {.unnumbered}\n", "x.qmd": "# 附录\n\n丁。\n",
    })  # fmt: skip
    out = parse_quarto(tmp_path / "_quarto.yml", tmp_path)
    assert out.frontmatter == ["index.qmd"] and out.backmatter == ["references.qmd"]
    assert out.parts == [{"title": "基础", "chapters": ["a.qmd", "b.qmd"]}, {"title": "应用", "chapters": ["c.qmd"]}]
    assert out.appendices == ["x.qmd"] and out.authors == ["某人"]
    assert out.self_numbered and "chapter_label: none" in to_yaml(out, "x", "_quarto.yml")


def test_init_never_overwrites_book_yaml(tmp_path: Path) -> None:
    (tmp_path / "book.yaml").write_text("title: 旧\n", encoding="utf-8")
    proc = run_cli("init", str(tmp_path))
    assert proc.returncode == 1 and "book.yaml: error: already exists" in proc.stderr
    assert (tmp_path / "book.yaml").read_text(encoding="utf-8") == "title: 旧\n"


# --- traps and conservation -------------------------------------------------------------------------


def _part(body: str) -> Part:
    return Part("ch01", "chapter", Path("t.md"), "清单", "第一章", 1, {}, body, 1)


def test_list_footer_and_indented_paragraph_survive() -> None:
    from book.parts import convert, traps

    diag = Diagnostics(echo=False)
    html = convert.markdown_to_html(traps.defuse(LIST_FOOTER, _part(LIST_FOOTER), diag), "ch01")
    for text in ("第一项说明", "第二项说明", "第三项说明", "结尾的一段"):
        assert text in html
    assert "<table" not in html and "<pre" not in html and html.count("<hr") == 2
    assert [(p.line, p.severity) for p in diag.problems] == [(11, "warning")]


def test_conservation_names_the_lost_block() -> None:
    from book.parts import conservation

    body = "# 题\n\n第一段文字在这里。\n\n第二段文字不见了。\n"
    diag = Diagnostics(echo=False)
    lost = conservation.check(_part(body), body, "<p>第一段文字在这里。</p><table><tr><td>第二段文字不见了</td></tr></table>",
                              "<p>第一段文字在这里。</p>", diag)  # fmt: skip
    assert lost == 1
    (p,) = diag.problems
    assert p.line == 5 and 'text lost: "第二段文字不见了。" became a table' in p.message


def test_conservation_reads_the_text_around_a_printed_url() -> None:
    from book.parts import conservation

    url = "https://example.com/" + "segment" * 12
    body = f"# 题\n\n一个很长的网址 {url} 不能断开。\n\n另一段 {url} 的后半丢了。\n"
    printed = f"<p>一个很长的网址 {url[:30]}\u200b{url[30:]} 不能断开。</p><p>另一段 {url}</p>"
    diag = Diagnostics(echo=False)
    assert conservation.check(_part(body), body, printed, printed, diag) == 1
    assert [p.line for p in diag.problems] == [5]  # the second: its text after the URL is gone


# --- through the CLI --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An mdBook book with parts, a multi-file chapter, a draft and the list footer, imported and built."""
    root = tmp_path_factory.mktemp("mdbook")
    write(root, {
        "src/SUMMARY.md": "# Summary\n\n[前言](README.md)\n\n# 基础篇\n\n- [安装](install.md)\n"
                          "- [概念](concepts/README.md)\n    - [镜像](concepts/image.md)\n- [草稿]()\n\n"
                          "# 实战篇\n\n- [清单](list.md)\n\n---\n\n[后记](afterword.md)\n",
        "src/README.md": "# 前言\n\n本书讲容器。\n",
        "src/install.md": "# 安装\n\n安装的方法，见[镜像](concepts/image.md)。\n",
        "src/concepts/README.md": "# 概念\n\n概念的引言。\n",
        "src/concepts/image.md": "# 镜像\n\n镜像由层组成。\n\n回到[安装](../install.md)，或[别处](../nowhere.md)。\n",
        "src/list.md": LIST_FOOTER,
        "src/afterword.md": "# 后记\n\n谢谢读者。\n",
        "book.toml": '[book]\ntitle = "容器之书"\nauthors = ["某人"]\n',
    })  # fmt: skip
    init = run_cli("init", str(root), "--from", str(root / "src" / "SUMMARY.md"))
    assert init.returncode == 0, init.stderr
    build = run_cli("build", "--config", str(root / "book.yaml"), "--out", str(root / "build"))
    assert build.returncode == 0, build.stderr
    return {"root": root, "init": init.stderr, "log": build.stderr, "epub": root / "build" / "book.epub",
            "pdf": root / "build" / "book.pdf"}  # fmt: skip


@pytest.mark.slow
def test_imported_book_builds_with_its_structure(imported: dict) -> None:
    import zipfile

    import pikepdf

    assert "SUMMARY.md:10: warning: draft chapter '草稿'" in imported["init"]
    assert "PASS epubcheck" in imported["log"]
    # The broken link in the multi-file chapter's second file is reported at that file's own line.
    assert re.search(r"concepts/image\.md:5: warning: link refused", imported["log"]), imported["log"]
    assert "text lost" not in imported["log"]
    slug = next(imported["root"].glob("build/*.epub")).stem
    epub = imported["root"] / "build" / f"{slug}.epub"
    nav = zipfile.ZipFile(epub).read("EPUB/toc.xhtml").decode()
    division = re.search(r'<li class="toc-division"><a href="part1\.xhtml#part1">.*?</li>\s*</ol>', nav, re.S)
    assert division and "第一部分" in division.group() and "ch02.xhtml" in division.group()  # the nav's part level
    assert nav.index("fm1.xhtml") < nav.index("part1.xhtml") < nav.index("part2.xhtml") < nav.index("bm1.xhtml")
    pdf = epub.with_suffix(".pdf")
    pages = [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                            text=True).stdout for i in range(1, len(pikepdf.open(pdf).pages) + 1)]  # fmt: skip
    preface = next(i for i, t in enumerate(pages) if "本书讲容器" in t)
    assert re.search(r"\bi+v?\b", pages[preface].split("本书讲容器")[-1])  # a roman folio on the front matter
    part_page = next(t for t in pages if "第一部分" in t and "基础篇" in t and "目" not in t)
    assert len(part_page.split()) == 2  # the part's title page carries its label and title only
    with pikepdf.open(pdf) as doc:
        labels = doc.Root.PageLabels.Nums
        assert str(labels[1].S) == "/r" and str(labels[3].S) == "/D"
    text = "".join(pages)
    for line in ("第一项说明", "第二项说明", "第三项说明", "这是一个缩进的段落", "结尾的一段"):
        assert line in text
    assert "镜像由层组成" in text and "概念的引言" in text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_init_then_make_builds(tmp_path: Path) -> None:
    proc = run_cli("init", str(tmp_path / "mybook"))
    assert proc.returncode == 0, proc.stderr
    made = subprocess.run(["make", "-C", str(tmp_path / "mybook")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert ": warning:" not in made.stderr and "PASS epubcheck" in made.stderr
    assert (tmp_path / "mybook" / "build" / "mybook.epub").is_file()
    assert (tmp_path / "mybook" / "build" / "mybook.pdf").is_file()


def test_the_sample_loses_no_text(sample_build: dict) -> None:
    """The conservation check on the sample (the shared session build): every block accounted for."""
    assert "text lost" not in sample_build["log"] and "indented paragraph" not in sample_build["log"]


def test_an_edition_is_converted_phrase_by_phrase(tmp_path: Path) -> None:
    from book.source.editions import edition

    write(tmp_path, {"book.yaml": "title: 软件简史\nauthors: [某]\neditions: [zh-TW]\nchapters: [a.md]\n"
                                  "parts:\n  - title: 内存\n    chapters: [b.md]\n",
                     "a.md": "# 鼠标\n\n软件的信息。\n", "b.md": "# 网络\n\n正文。\n"})  # fmt: skip
    config = load_config(tmp_path / "book.yaml")
    assert config.editions == ("zh-TW",)
    tw, manifest = edition(config, build_manifest(config, Diagnostics(echo=False)), "zh-TW")
    assert (tw.title, tw.language, manifest.divisions[0].title) == ("軟體簡史", "zh-TW", "記憶體")
    first = manifest.parts[0]
    assert (first.title, first.label, first.body.count("\n")) == ("滑鼠", "第一章", 3)  # lines kept
    assert "軟體的資訊" in first.body


@pytest.mark.parametrize("value, what", [("[zh-XX]", "unknown edition"), ("[zh-Hans]", "the book's own script")])
def test_edition_errors(tmp_path: Path, value: str, what: str) -> None:
    write(tmp_path, {"a.md": "# 甲\n", "book.yaml": f"title: 书\nauthors: [某]\nchapters: [a.md]\neditions: {value}\n"})
    with pytest.raises(BookError) as exc:
        load_config(tmp_path / "book.yaml")
    assert any("book.yaml:4: error:" in str(p) and what in str(p) for p in exc.value.problems)
