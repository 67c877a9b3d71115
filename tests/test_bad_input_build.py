"""Odd but valid manuscripts build into a correct, EPUBCheck-clean EPUB (built in-process, EPUB only)."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from book.check.epubcheck import run_epubcheck
from book.errors import BookError, Diagnostics
from tests.conftest import write_chapter

XHTML = {"x": "http://www.w3.org/1999/xhtml"}
CH = """---
chapter_number: {n}
title: "第{n}章"
created_date: 2025-10-17
---

# Chapter {n}: 第{n}章

"""


def build_epub(book: Path, out: Path | None = None, strict: bool = False) -> tuple[Path, Diagnostics]:
    """Build only the EPUB of a test book, in-process."""
    from book.epub.package import package_epub as write_epub
    from book.pipeline import prepare

    diag = Diagnostics(strict=strict, echo=False)
    build = prepare(book / "book.yaml", out or book / "build", diag)
    return write_epub(build).path, diag


def content(epub: Path, name: str = "ch01.xhtml") -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read(f"EPUB/{name}"))


def assert_clean(epub: Path) -> None:
    result = run_epubcheck(epub)
    assert result.ok, "\n".join(result.details[:20])


def test_crlf_gives_byte_identical_xhtml(book_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    text = CH.format(n=1) + "第一段，\n接着一行。\n\n- 甲\n- 乙\n\n```\ncode\n```\n\n> 引文\n"
    write_chapter(book_dir, "a.md", text)
    lf, _ = build_epub(book_dir, tmp_path_factory.mktemp("lf"))
    write_chapter(book_dir, "a.md", ("\ufeff" + text).replace("\n", "\r\n").encode("utf-8"))
    crlf, diag = build_epub(book_dir, tmp_path_factory.mktemp("crlf"))
    with zipfile.ZipFile(lf) as a, zipfile.ZipFile(crlf) as b:
        assert a.read("EPUB/ch01.xhtml") == b.read("EPUB/ch01.xhtml")
    assert lf.read_bytes() == crlf.read_bytes()
    assert not diag.problems


def test_gbk_source_builds_same_text_as_utf8(book_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    text = CH.format(n=1) + "中文正文，“引号”与《书名》。\n"
    write_chapter(book_dir, "a.md", text)
    utf8, _ = build_epub(book_dir, tmp_path_factory.mktemp("u"))
    write_chapter(book_dir, "a.md", text.replace("\n", "\r\n").encode("gbk"))
    gbk, diag = build_epub(book_dir, tmp_path_factory.mktemp("g"))
    assert utf8.read_bytes() == gbk.read_bytes()
    assert [w.message for w in diag.warnings] == ["file is GB18030/GBK, not UTF-8; decoded as GB18030"]


REFS = "\n".join(
    f"- Author{i}, A., Other, B., et al. ({1990 + i % 35}). 第{i}篇论文的标题: A Study. *Journal {i % 7}*. "
    f"https://arxiv.org/abs/{2000 + i}.{i:05d}"
    for i in range(500)
)
ODD = {
    # chapter number → (case, body)
    1: ("control characters", "甲\x01乙\x0c丙\x1b[31m丁&#8;\n\n\ufffe戊\n"),
    2: ("empty headings", "## 空的一节\n\n## 有内容的一节\n\n正文。\n\n## \n\n### 结尾的空标题\n"),
    3: ("lists nested 50 deep", "\n".join(f"{'  ' * (2 * i)}- 第{i + 1}层" for i in range(50)) + "\n\n正文。\n"),
    4: ("500 references", "正文。\n\n**参考文献** (Chapter References):\n" + REFS + "\n"),
    5: ("front matter only", None),
}


@pytest.fixture(scope="module")
def odd_book(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One book whose chapters are each an odd input, built once and checked once by EPUBCheck."""
    book = tmp_path_factory.mktemp("odd")
    (book / "chapters").mkdir()
    (book / "book.yaml").write_text(
        "title: 怪书\nauthors: [作者]\ndate: 2025-01-01\nchapters:\n  - chapters/*.md\n", encoding="utf-8"
    )
    for n, (_, body) in ODD.items():
        text = f"---\nchapter_number: {n}\ntitle: 第{n}章\n---\n" if body is None else CH.format(n=n) + body
        write_chapter(book, f"{n}.md", text)
    epub, diag = build_epub(book)

    def warnings(n: int) -> list[str]:
        return [w.message for w in diag.warnings if w.path.endswith(f"chapters/{n}.md")]

    return {"epub": epub, "warnings": warnings}


def test_odd_inputs_build_epubcheck_clean(odd_book: dict) -> None:
    assert_clean(odd_book["epub"])


def test_control_characters_never_reach_the_xhtml(odd_book: dict) -> None:
    text = "".join(content(odd_book["epub"], "ch01.xhtml").itertext()).replace(" ", "")  # Han–Latin spacing
    assert "甲乙丙[31m丁" in text and "戊" in text
    assert len(odd_book["warnings"](1)) == 2  # the raw characters, and the character reference


def test_heading_with_nothing_under_it(odd_book: dict) -> None:
    # `## ` alone is a heading without text: kept out of the navigation (an empty nav link is an error)
    assert odd_book["warnings"](2) == ["a heading (<h2>) has no text; it is left out of the table of contents"]
    doc = content(odd_book["epub"], "ch02.xhtml")
    heads = ["".join(h.itertext()) for h in doc.findall(".//x:h2", XHTML) + doc.findall(".//x:h3", XHTML)]
    assert {"空的一节", "有内容的一节", "结尾的空标题"} <= set(heads)


def test_lists_nested_fifty_deep(odd_book: dict) -> None:
    doc = content(odd_book["epub"], "ch03.xhtml")
    deepest = max(len(list(li.iterancestors("{http://www.w3.org/1999/xhtml}ul"))) for li in doc.iter("{*}li"))
    assert len(doc.findall(".//x:li", XHTML)) == 50
    assert deepest == 50
    assert odd_book["warnings"](3) == []


def test_reference_list_with_500_entries(odd_book: dict) -> None:
    doc = content(odd_book["epub"], "ch04.xhtml")
    text = "".join(doc.itertext())
    low = text.lower()  # GB/T 7714 sets surnames in capitals (AUTHOR7)
    assert all(re.search(rf"author{i}(?!\d)", low) for i in range(500))
    assert len(doc.findall(".//x:li", XHTML)) >= 500
    assert odd_book["warnings"](4) == []


def test_chapter_with_only_front_matter_builds(odd_book: dict) -> None:
    assert any("no text after its front matter" in w for w in odd_book["warnings"](5))
    assert content(odd_book["epub"], "ch05.xhtml").find(".//x:h1", XHTML) is not None


def test_sources_are_never_modified(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).replace("\n", "\r\n").encode("gbk") + "正文\r\n".encode("gbk"))
    write_chapter(book_dir, "b.md", "\ufeff" + CH.format(n=2) + "<script>x</script>\x01\n")
    (book_dir / "book.yaml").write_text(
        (book_dir / "book.yaml").read_text(encoding="utf-8")
        + "appendices:\n  - path: news.txt\n    trim_after: 感谢\n",
        encoding="utf-8",
    )
    (book_dir / "news.txt").write_text("---\ntitle: 新闻\n---\n\n正文。\n\n感谢阅读\n", encoding="utf-8")

    def hashes() -> dict[str, tuple[str, int]]:
        return {
            str(p.relative_to(book_dir)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(book_dir.rglob("*"))
            if p.is_file() and "build" not in p.relative_to(book_dir).parts
        }

    before = hashes()
    epub, _ = build_epub(book_dir)
    assert epub.exists()
    assert hashes() == before


@pytest.mark.integration
@pytest.mark.slow
def test_five_megabyte_chapter_builds_clean(book_dir: Path) -> None:
    para = "人工智能的历史可以追溯到二十世纪中叶，图灵提出了机器能否思考的问题。" * 4 + "\n\n"
    chunks, size, i = [CH.format(n=1)], 0, 0
    while size < 5 * 1024 * 1024:
        if i % 50 == 0:
            chunks.append(f"## 第{i // 50 + 1}节\n\n")
        chunks.append(para)
        size += len(para.encode("utf-8"))
        i += 1
    src = write_chapter(book_dir, "a.md", "".join(chunks))
    assert src.stat().st_size >= 5 * 1024 * 1024
    epub, diag = build_epub(book_dir)
    # Built whole; the only word about it is the size warning (book.bounds: over 2 MB).
    assert [p.message.split(":")[0] for p in diag.problems] == ["chapter is 5.0 MB"], diag.problems
    with zipfile.ZipFile(epub) as z:
        raw = z.read("EPUB/ch01.xhtml")
    assert len(raw) > 5 * 1024 * 1024
    assert raw.count("图灵提出了机器能否思考的问题".encode()) == 4 * i  # every paragraph, whole
    assert_clean(epub)


def test_nesting_deeper_than_the_parsers_keep_is_an_error_not_lost_text(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1) + ">" * 300 + " 深处的话\n")
    with pytest.raises(BookError) as exc:
        build_epub(book_dir)
    (problem,) = exc.value.problems
    assert problem.path.endswith("chapters/a.md") and re.search(r"nested 30\d levels deep", problem.message)
    assert "flatten it to at most 200 levels" in str(problem)
