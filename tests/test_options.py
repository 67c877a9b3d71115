"""`print:` and `epub:` options: typed and checked at load, documented once, invalidating only what they decide."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from book import options, pipeline
from book.errors import BookError, Diagnostics
from book.source.config import load_config
from tests.conftest import ROOT, write_chapter

CHAPTER = "---\nchapter_number: 1\ntitle: 标题\n---\n\n正文。\n"


def config_with(book_dir: Path, section: str) -> Path:
    path = book_dir / "book.yaml"
    path.write_text(path.read_text(encoding="utf-8") + section, encoding="utf-8")
    write_chapter(book_dir, "01.md", CHAPTER)
    return path


def test_options_are_typed_with_defaults(book_dir: Path) -> None:
    config = load_config(config_with(book_dir, "print:\n  trim: 16开\n  font_size: 11\n  marks: true\n"))
    assert config.print.trim == (185, 260) and config.print.font_size == 11.0 and config.print.marks is True
    assert config.print.bleed == 3.0 and config.print.chars_per_line is None and config.epub.cover is None


def test_a_misspelt_option_is_named_at_its_line_with_the_closest_key(book_dir: Path) -> None:
    diag = Diagnostics(echo=False)
    load_config(config_with(book_dir, "print:\n  trim: A5\n  font_szie: 11\n"), diag)
    [warning] = diag.warnings
    assert warning.line == 8 and "unknown option 'print.font_szie'" in warning.message
    assert warning.hint == "did you mean 'font_size'?"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("print:\n  font_size: big\n", "'font_size' must be a number"),
        ("print:\n  trim: huge\n", "'trim' must be a trim size"),
        ("print:\n  marks: 1\n", "'marks' must be true or false"),
        ("print:\n  chars_per_line: 3\n", "'chars_per_line' must be at least 10"),
        ("print:\n  icc_profile: none.icc\n", "icc_profile none.icc not found"),
    ],
)
def test_a_bad_value_is_an_error_at_load_with_its_line(book_dir: Path, section: str, message: str) -> None:
    with pytest.raises(BookError) as err:
        load_config(config_with(book_dir, section))
    [problem] = err.value.problems
    assert message in problem.message and problem.line == 7, problem


def test_readme_table_is_made_from_the_declarations() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- options:begin -->\n", 1)[1].split("<!-- options:end -->", 1)[0]
    assert table == options.markdown_table(), "regenerate it with `python -m book.options`"
    declared = {o.key for o in options.PRINT} | {"lines"}
    assert declared == {f.name for f in dataclasses.fields(options.PrintOptions)}


def test_a_print_option_does_not_invalidate_the_parts(book_dir: Path, tmp_path: Path) -> None:
    path = config_with(book_dir, "print:\n  font_size: 10.5\n")
    before = load_config(path)
    part = pipeline.build_manifest(before, Diagnostics(echo=False)).parts[0]
    path.write_text(path.read_text(encoding="utf-8").replace("10.5", "11"), encoding="utf-8")
    after = load_config(path)
    assert pipeline.part_key(before, part) == pipeline.part_key(after, part)
    assert pipeline.config_key(before, "pdf") != pipeline.config_key(after, "pdf")
    assert pipeline.config_key(before, "epub") == pipeline.config_key(after, "epub")
