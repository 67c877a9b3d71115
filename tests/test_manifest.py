"""Unit tests for reading sources and validating the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from book.errors import BookError, Diagnostics
from book.source.config import load_config
from book.source.manifest import build_manifest
from book.source.read import trim_body
from book.text import chinese_numeral
from tests.conftest import write_chapter

CH = """---
chapter_number: {n}
title: "第{n}章的标题"
title_en: "Title"
status: draft
created_date: 2025-10-17
---

# Chapter {n}: 标题

正文。
"""


def manifest_of(book: Path, strict: bool = False):
    diag = Diagnostics(strict=strict, echo=False)
    return build_manifest(load_config(book / "book.yaml"), diag), diag


@pytest.mark.parametrize(
    "n,expected",
    [
        (1, "一"),
        (8, "八"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (38, "三十八"),
        (101, "一百零一"),
        (110, "一百一十"),
    ],
)
def test_chinese_numerals(n: int, expected: str) -> None:
    assert chinese_numeral(n) == expected


def test_chapters_ordered_by_number_and_dates_normalised(book_dir: Path) -> None:
    write_chapter(book_dir, "b.md", CH.format(n=2))
    write_chapter(book_dir, "a.md", CH.format(n=10))
    m, _ = manifest_of(book_dir)
    assert [p.number for p in m.chapters] == [2, 10]
    assert m.chapters[1].label == "第十章"
    assert m.chapters[0].meta["created_date"] == "2025-10-17"


def test_missing_required_field_names_file_and_field(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", "---\ntitle: 无编号\n---\n正文\n")
    with pytest.raises(BookError) as exc:
        manifest_of(book_dir)
    msg = str(exc.value)
    assert "chapters/a.md:2" in msg and "chapter_number" in msg


def test_ill_typed_field_names_its_line(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", "---\ntitle: 标题\nchapter_number: 八\n---\n正文\n")
    with pytest.raises(BookError) as exc:
        manifest_of(book_dir)
    assert "chapters/a.md:3" in str(exc.value) and "whole number" in str(exc.value)


def test_yaml_error_is_positioned_in_the_file(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", "---\nchapter_number: 1\ntitle: [unclosed\n---\n正文\n")
    with pytest.raises(BookError) as exc:
        manifest_of(book_dir)
    assert "chapters/a.md:" in str(exc.value) and "YAML" in str(exc.value)


def test_unknown_key_warns_with_suggestion(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).replace("status: draft", "status: draft\nchapter_nubmer: 3"))
    _, diag = manifest_of(book_dir)
    assert any("chapter_nubmer" in w.message and "chapter_number" in w.hint for w in diag.warnings)


def test_duplicate_chapter_numbers_fail(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=3))
    write_chapter(book_dir, "b.md", CH.format(n=3))
    with pytest.raises(BookError, match="also used by"):
        manifest_of(book_dir)


def test_all_problems_collected_before_stopping(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", "---\ntitle: 甲\n---\n正文\n")
    write_chapter(book_dir, "b.md", "---\nchapter_number: 2\n---\n正文\n")
    with pytest.raises(BookError) as exc:
        manifest_of(book_dir)
    assert len(exc.value.problems) == 2


def test_bom_and_crlf_read_like_lf(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", ("\ufeff" + CH.format(n=1)).replace("\n", "\r\n").encode("utf-8"))
    m, _ = manifest_of(book_dir)
    assert m.chapters[0].title == "第1章的标题"
    assert "\r" not in m.chapters[0].body


def test_gb18030_decoded_with_warning(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).encode("gb18030"))
    m, diag = manifest_of(book_dir)
    assert m.chapters[0].title == "第1章的标题"
    assert any("GB18030" in w.message for w in diag.warnings)


def test_trim_drops_footer_and_trailing_rules() -> None:
    body = "正文。\n\n---\n---\n感谢阅读！更多文章\n"
    kept, dropped = trim_body(body, "感谢阅读！")
    assert kept == "正文。\n" and dropped > 0
