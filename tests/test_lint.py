"""`book lint`: manuscript problems reported as file:line: message."""

from __future__ import annotations

from book.source.lint import lint_text
from tests.conftest import run_cli, write_chapter


def test_lint_findings_with_lines() -> None:
    body = '第一行没问题。\n观点,但是\n链接--只是...表单\n他说"好\n`a,b`和https://x.org/a,b里没有问题\n'
    found = [str(f) for f in lint_text(body, "ch.md", 10)]
    assert "ch.md:11: ASCII ',' after a Han character: use the full-width mark" in found
    assert any(f.startswith("ch.md:12:") and "'--'" in f for f in found)
    assert any(f.startswith("ch.md:12:") and "'...'" in f for f in found)
    assert any(f.startswith("ch.md:13:") and "unpaired" in f for f in found)
    assert not any(f.startswith(("ch.md:10:", "ch.md:14:")) for f in found)


def test_lint_skips_code_fences() -> None:
    assert lint_text("```\n中文,代码\n```\n", "x.md") == []


def test_book_lint_cli(book_dir) -> None:
    write_chapter(book_dir, "01.md", "---\nchapter_number: 1\ntitle: 第一章\n---\n\n# 第一章\n\n观点,但是\n")
    proc = run_cli("lint", "--config", str(book_dir / "book.yaml"), cwd=book_dir)
    assert proc.returncode == 0, proc.stderr
    assert "chapters/01.md:8: ASCII ','" in proc.stdout
    strict = run_cli("lint", "--strict", "--config", str(book_dir / "book.yaml"), cwd=book_dir)
    assert strict.returncode == 1
