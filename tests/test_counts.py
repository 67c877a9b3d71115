"""Counts: measured per part, compared with the front matter's claims, printed by `book manifest`."""

from __future__ import annotations

import io
import json
from pathlib import Path

from book.errors import Diagnostics
from book.parts.counts import measure, mismatches, print_counts
from book.parts.htmltree import parse_fragment
from book.source.config import load_config
from book.source.manifest import build_manifest
from tests.conftest import ROOT, run_cli, write_chapter


def test_measure_counts_han_latin_headings_lists() -> None:
    root = parse_fragment(
        "<h2>标题 Title</h2><p>中文字符 and two words, 2024年。</p><ul><li>一</li><li>二</li></ul>"
        '<section class="callout callout-anecdote"><h3>轶事</h3></section><img src="images/a.png"/>'
        '<img src="images/a.png"/><figure class="figure image-placeholder"><div>x</div></figure>'
    )
    c = measure(root)
    assert c["han"] == 2 + 4 + 1 + 1 + 1 + 2  # 标题 中文字符 年 一 二 轶事
    assert c["latin_words"] == 5  # Title and two words 2024 (x is in the placeholder)
    assert c["latin_words"] == len(["Title", "and", "two", "words", "2024"])
    assert c["headings"] == 2 and c["list_items"] == 2 and c["anecdotes"] == 1
    assert c["images"] == 2  # one distinct embedded image, one placeholder
    assert c["words"] == c["han"] + c["latin_words"]


def test_mismatches_only_beyond_tolerance() -> None:
    counts = {"anecdotes": 2, "words": 1000}
    assert set(mismatches({"anecdote_count": 3, "word_count": 1050}, counts)) == {"anecdote_count"}
    assert set(mismatches({"anecdote_count": 2, "word_count": 2000}, counts)) == {"word_count"}
    assert mismatches({}, counts) == {}


def test_manifest_command_prints_the_counts_table(tmp_path: Path) -> None:
    proc = run_cli("manifest", "--config", str(ROOT / "book.yaml"), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for needle in ("ch08", "appa", "第八章", "附录A", "2 ≠ 3", "8 (0)", "感谢阅读"):
        assert needle in out, needle
    assert "anecdote_count: 3, the text has 2" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parts"][0]["counts"]["han"] > 5000


def test_manifest_json_flag(tmp_path: Path) -> None:
    proc = run_cli("manifest", "--json", "--config", str(ROOT / "book.yaml"), "--out", str(tmp_path))
    data = json.loads(proc.stdout)
    assert data["parts"][0]["counts"]["anecdotes"] == 2


def test_claims_match_no_warning(book_dir: Path) -> None:
    write_chapter(
        book_dir, "01.md",
        "---\nchapter_number: 1\ntitle: 一\nanecdote_count: 1\nword_count: 8\n---\n\n## 💡 轶事：故事\n\n四个汉字。\n",
    )  # fmt: skip
    from book.parts.process import process_part

    diag = Diagnostics(echo=False)
    config = load_config(book_dir / "book.yaml")
    manifest = build_manifest(config, diag)
    rp, _ = process_part(config, manifest.parts[0], diag, book_dir / "build")
    manifest.parts[0].counts = rp.counts
    assert rp.counts["anecdotes"] == 1 and not diag.warnings
    buf = io.StringIO()
    print_counts(manifest, buf)
    assert "1 = 1" in buf.getvalue()
