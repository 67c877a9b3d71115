"""Bad manuscripts and bad book.yaml files: each gives one positioned line, never a traceback.

Reading and validation run in-process (fast); a few cases go through the CLI to check the exit code,
the one-line format and the absence of a traceback.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest

from book.errors import BookError, Diagnostics
from book.source.config import load_config
from book.source.manifest import build_manifest
from tests.conftest import run_cli, write_chapter

CH = """---
chapter_number: {n}
title: "第{n}章的标题"
status: draft
created_date: 2025-10-17
---

# 标题

正文，第{n}章。
"""
# `path:line: severity: what is wrong — what to do` (line optional, hint optional)
ONE_LINE = re.compile(r"^\S[^\n]*?(?::\d+)?: (error|warning): [^\n]+$")


def manifest_of(book: Path, strict: bool = False):
    diag = Diagnostics(strict=strict, echo=False)
    return build_manifest(load_config(book / "book.yaml", diag), diag), diag


def problems(book: Path) -> list[str]:
    """Every error of a failing manifest, as printed."""
    with pytest.raises(BookError) as exc:
        manifest_of(book)
    lines = [str(p) for p in exc.value.problems]
    assert all(ONE_LINE.match(line) for line in lines), lines
    return lines


def one(book: Path) -> str:
    lines = problems(book)
    assert len(lines) == 1, lines
    return lines[0]


# --- front matter -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,where,what",
    [
        ("---\nchapter_number: 1\ntitle: [unclosed\n---\n正文\n", "a.md:4", "not valid YAML"),
        ("---\nchapter_number: 1\ntitle: a: b\n---\n正文\n", "a.md:3", "not valid YAML"),
        ("---\n- 一\n- 二\n---\n正文\n", "a.md:2", "not a mapping"),
        ("---\n就是一句话\n---\n正文\n", "a.md:2", "not a mapping"),
        ("---\nchapter_number: 1\ntitle: 标题\n\n正文没有结束线\n", "a.md:1", "not closed"),
        ("---\ntitle: 无编号\n---\n正文\n", "a.md:2", "lacks required field 'chapter_number'"),
        ("---\nchapter_number: 1\n---\n正文\n", "a.md:2", "lacks required field 'title'"),
        ("---\nchapter_number: 1\ntitle: ''\n---\n正文\n", "a.md:3", "'title' is empty"),
        ("---\nchapter_number: 1\ntitle: [甲, 乙]\n---\n正文\n", "a.md:3", "'title' must be text"),
        ("---\ntitle: 标题\nchapter_number: 八\n---\n正文\n", "a.md:3", "must be a whole number, not '八'"),
        ("---\ntitle: 标题\nchapter_number: 0\n---\n正文\n", "a.md:3", "must be at least 1, not 0"),
        ("---\ntitle: 标题\nchapter_number: -3\n---\n正文\n", "a.md:3", "must be at least 1"),
        ("---\ntitle: 标题\nchapter_number: 1000\n---\n正文\n", "a.md:3", "must be at most 999"),
        ("---\ntitle: 标题\nchapter_number: 2.5\n---\n正文\n", "a.md:3", "whole number"),
        ("---\ntitle: 标题\nchapter_number: true\n---\n正文\n", "a.md:3", "whole number"),
        ("---\ntitle: 标题\nchapter_number: 1\ncreated_date: 2025-13-45\n---\n正文\n", "a.md:4", "must be a date"),
        ("---\ntitle: 标题\nchapter_number: 1\nlast_updated: 昨天\n---\n正文\n", "a.md:4", "must be a date"),
        ("---\ntitle: 标题\nchapter_number: 1\nkey_events: {a: 1}\n---\n正文\n", "a.md:4", "must be a YAML list"),
        ("---\ntitle: 标题\nchapter_number: 1\nword_count: 很多\n---\n正文\n", "a.md:4", "whole number"),
    ],
)
def test_front_matter_problem_is_one_positioned_line(book_dir: Path, text: str, where: str, what: str) -> None:
    write_chapter(book_dir, "a.md", text)
    line = one(book_dir)
    assert where in line and what in line and " — " in line


def test_unknown_key_warns_with_suggestion_and_strict_makes_it_an_error(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).replace("status: draft", "status: draft\nchapter_nubmer: 3"))
    m, diag = manifest_of(book_dir)
    assert m.chapters[0].number == 1
    (w,) = [w for w in diag.warnings if "chapter_nubmer" in w.message]
    assert w.line == 5 and "did you mean 'chapter_number'?" in w.hint
    with pytest.raises(BookError, match="chapter_nubmer"):
        manifest_of(book_dir, strict=True)


def test_duplicate_front_matter_key_warns(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).replace("status: draft", "status: draft\ntitle: 又一个"))
    m, diag = manifest_of(book_dir)
    assert m.chapters[0].title == "又一个"
    assert any("appears twice" in w.message and w.line == 5 for w in diag.warnings)


def test_two_chapters_with_the_same_number(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=3))
    write_chapter(book_dir, "b.md", CH.format(n=3))
    line = one(book_dir)
    assert "b.md:2" in line and "chapter_number 3 is also used by" in line and "a.md" in line


def test_yaml_alias_bomb_is_bounded(book_dir: Path) -> None:
    lol = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lol += [f"{c}: &{c} [{', '.join(['*' + p] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    write_chapter(book_dir, "a.md", "---\nchapter_number: 1\ntitle: 炸弹\n" + "\n".join(lol) + "\n---\n正文\n")
    # Refused as it is parsed (book.config.BookLoader), before anything could expand it.
    assert any("a.md:5" in line and "YAML aliases (*a) are not allowed" in line for line in problems(book_dir))


def test_all_problems_collected_across_sources(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", "---\ntitle: 甲\n---\n正文\n")
    write_chapter(book_dir, "b.md", "---\nchapter_number: 八\ntitle: 乙\n---\n正文\n")
    write_chapter(book_dir, "c.md", b"")
    write_chapter(book_dir, "d.md", "---\ntitle: [\n---\n")
    lines = problems(book_dir)
    assert len(lines) == 4
    assert {re.search(r"(\w)\.md", x).group(1) for x in lines} == {"a", "b", "c", "d"}


# --- files and encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\n", "\ufeff\n".encode()])
def test_empty_file(book_dir: Path, data: bytes) -> None:
    write_chapter(book_dir, "a.md", data)
    line = one(book_dir)
    assert "a.md:1" in line and ("file is empty" in line or "no text" in line)


def test_front_matter_without_text_warns(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", "---\nchapter_number: 1\ntitle: 空章\n---\n")
    _, diag = manifest_of(book_dir)
    assert any("no text after its front matter" in w.message for w in diag.warnings)


def test_gb18030_decoded_with_warning_naming_the_encoding(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).encode("gb18030"))
    m, diag = manifest_of(book_dir)
    assert m.chapters[0].title == "第1章的标题" and "正文，第1章。" in m.chapters[0].body
    (w,) = diag.warnings
    assert "GB18030/GBK" in w.message and "save it as UTF-8" in w.hint


def test_gbk_from_windows_with_crlf(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=2).replace("\n", "\r\n").encode("gbk"))
    m, _ = manifest_of(book_dir)
    assert m.chapters[0].number == 2 and "\r" not in m.chapters[0].body


def test_utf16_with_bom_decoded_with_warning(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).encode("utf-16"))
    m, diag = manifest_of(book_dir)
    assert m.chapters[0].title == "第1章的标题"
    assert any("UTF-16" in w.message for w in diag.warnings)


@pytest.mark.parametrize("seed", range(5))
def test_random_binary_is_refused_not_mojibake(book_dir: Path, seed: int) -> None:
    rnd = random.Random(seed)
    data = b"\x89PNG\r\n\x1a\n" + bytes(rnd.getrandbits(8) for _ in range(4096))
    write_chapter(book_dir, "a.md", data)
    line = one(book_dir)
    assert "a.md:" in line and "not UTF-8 text" in line and "save it as UTF-8" in line


def test_big5_is_refused_rather_than_decoded_as_gbk(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).replace("标题", "標題與歷史").encode("big5"))
    assert "not UTF-8 text" in one(book_dir)


def test_utf8_bom_is_dropped(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", ("\ufeff" + CH.format(n=1)).encode("utf-8"))
    m, diag = manifest_of(book_dir)
    assert m.chapters[0].title == "第1章的标题" and not diag.problems


def test_control_characters_removed_with_positioned_warning(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1) + "坏\x00字\x0b符\x1f。\n")
    m, diag = manifest_of(book_dir)
    assert "坏字符。" in m.chapters[0].body
    (w,) = diag.warnings
    assert w.line == 11 and "U+0000 and 2 more removed" in w.message


def test_unreadable_source_is_one_line(book_dir: Path) -> None:
    p = write_chapter(book_dir, "a.md", CH.format(n=1))
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    p.chmod(0)
    try:
        assert "cannot read the file" in one(book_dir)
    finally:
        p.chmod(0o644)


# --- book.yaml ----------------------------------------------------------------------------------


def config_problems(book: Path, text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        (book / "book.yaml").write_bytes(text)
    else:
        (book / "book.yaml").write_text(text, encoding="utf-8")
    write_chapter(book, "a.md", CH.format(n=1))
    return problems(book)


BASE = "title: 书\nauthors: [作者]\nchapters:\n  - chapters/*.md\n"


@pytest.mark.parametrize(
    "text,where,what",
    [
        ("title: [书\nchapters: []\n", "book.yaml:2", "not valid YAML"),
        ("- 一\n- 二\n", "book.yaml:1", "must be a mapping"),
        ("就是一句话\n", "book.yaml:1", "must be a mapping"),
        ("", "book.yaml:1", "book.yaml is empty"),
        ("authors: [作者]\nchapters:\n  - chapters/*.md\n", "book.yaml", "lacks the book's 'title'"),
        ("title: ''\n" + BASE[9:], "book.yaml:1", "lacks the book's 'title'"),
        ("title: [书]\n" + BASE[9:], "book.yaml:1", "'title' must be text"),
        ("title: 书\nchapters:\n  - chapters/*.md\n", "book.yaml", "'authors' must be a name"),
        (BASE + "date: 2025-13-45\n", "book.yaml:5", "'date' must be a date"),
        (BASE + "slug: ../../etc/x\n", "book.yaml:5", "not a plain file name"),
        (BASE + "templates: ../../etc\n", "book.yaml:5", "leaves the book's folder"),
        (BASE + "styles: nowhere\n", "book.yaml:5", "is not a folder"),
        (BASE + "print: [a]\n", "book.yaml:5", "'print' must be a mapping"),
        (
            BASE.replace("  - chapters/*.md", "  - chapters/missing.md"),
            "book.yaml:3",
            "'chapters/missing.md' matches no file",
        ),
        ("title: 书\nauthors: [作者]\nchapters: 7\n", "book.yaml:3", "must be a list"),
        ("title: 书\nauthors: [作者]\nchapters:\n  - path: 3\n", "book.yaml:3", "has no path"),
        (BASE + "appendices:\n  - ../outside.md\n", "book.yaml:5", "leaves the book's folder"),
        (BASE + "appendices:\n  - /etc/passwd\n", "book.yaml:5", "leaves the book's folder"),
    ],
)
def test_broken_book_yaml_is_one_positioned_line(book_dir: Path, text: str, where: str, what: str) -> None:
    lines = config_problems(book_dir, text)
    assert len(lines) == 1, lines
    assert where in lines[0] and what in lines[0]


def test_book_yaml_not_utf8(book_dir: Path) -> None:
    (line,) = config_problems(book_dir, BASE.encode("gb18030"))
    assert "book.yaml:1" in line and "not UTF-8" in line


def test_book_yaml_missing(tmp_path: Path) -> None:
    with pytest.raises(BookError, match="config file not found — pass --config"):
        load_config(tmp_path / "book.yaml")


def test_book_yaml_unknown_key_suggests_spelling(book_dir: Path) -> None:
    (book_dir / "book.yaml").write_text(BASE + "titel: 书\nappendix: []\n", encoding="utf-8")
    write_chapter(book_dir, "a.md", CH.format(n=1))
    _, diag = manifest_of(book_dir)
    hints = {w.message: (w.line, w.hint) for w in diag.warnings}
    assert hints["unknown key 'titel'"] == (5, "did you mean 'title'?")
    assert hints["unknown key 'appendix'"] == (6, "did you mean 'appendices'?")


def test_symlinked_source_leaving_the_book_is_refused(book_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = tmp_path_factory.mktemp("outside") / "secret.md"
    secret.write_text(CH.format(n=9).replace("正文", "机密"), encoding="utf-8")
    write_chapter(book_dir, "a.md", CH.format(n=1))
    (book_dir / "chapters" / "b.md").symlink_to(secret)
    (line,) = problems(book_dir)
    assert "chapters/b.md' leaves the book's folder" in line


def test_symlinked_chapters_folder_leaving_the_book_is_refused(
    book_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "x.md").write_text(CH.format(n=9), encoding="utf-8")
    (book_dir / "book.yaml").write_text(BASE + "appendices:\n  - linked/x.md\n", encoding="utf-8")
    (book_dir / "linked").symlink_to(outside, target_is_directory=True)
    write_chapter(book_dir, "a.md", CH.format(n=1))
    (line,) = problems(book_dir)
    assert "leaves the book's folder" in line


# --- through the CLI: exit code, one line each, no traceback -----------------------------------


def test_cli_reports_every_problem_one_line_each_without_traceback(book_dir: Path) -> None:
    (book_dir / "book.yaml").write_text(BASE + "titel: x\n", encoding="utf-8")
    write_chapter(book_dir, "a.md", "---\ntitle: 甲\nchapter_number: 八\n---\n正文\n")
    write_chapter(book_dir, "b.md", b"\xff\xfe\x00\xd8garbage"[2:] + bytes(range(256)))
    write_chapter(book_dir, "c.md", "---\nchapter_number: 3\ntitle: 丙\n")
    proc = run_cli("manifest", "--config", str(book_dir / "book.yaml"), cwd=book_dir)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert all(ONE_LINE.match(x) for x in lines), lines
    assert len([x for x in lines if ": error: " in x]) == 3
    assert "book.yaml:5: warning: unknown key 'titel' — did you mean 'title'?" in lines


def test_cli_strict_turns_warnings_into_errors(book_dir: Path) -> None:
    write_chapter(book_dir, "a.md", CH.format(n=1).replace("status: draft", "status: draft\nchapter_nubmer: 3"))
    ok = run_cli("manifest", "--config", str(book_dir / "book.yaml"), cwd=book_dir)
    assert ok.returncode == 0 and "warning: unknown front-matter key 'chapter_nubmer'" in ok.stderr
    strict = run_cli("manifest", "--strict", "--config", str(book_dir / "book.yaml"), cwd=book_dir)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert "chapters/a.md:5: error: unknown front-matter key 'chapter_nubmer' — did you mean" in strict.stderr


def test_cli_missing_config_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("build", "--config", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "nope.yaml: error: config file not found — pass --config PATH to a book.yaml"
