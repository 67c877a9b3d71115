"""Smoke test of the benchmark itself (BENCH_QUICK: 1–2 short chapters, one run; no timing asserts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from book import cache as cache_mod
from book.bench import chapter_text, excerpt, measure
from book.cache import Cache
from book.check import EpubCheckRun, run_epubcheck
from tests.conftest import ROOT, run_cli, write_chapter


def test_generated_chapters_are_renumbered_and_retitled() -> None:
    seed = (ROOT / "seeds" / "08-meta-open-source.md").read_text(encoding="utf-8")
    text = chapter_text(seed, 17, quick=True)
    assert "chapter_number: 17\n" in text
    assert "（其17）" in text.split("---\n")[1]
    assert "# Chapter 17:" in text
    assert len(excerpt("a\n\nb" * 5000, 100)) <= 101


def test_measure_reports_cpu_and_rss() -> None:
    run = measure([sys.executable, "-c", "x = bytearray(50_000_000); sum(range(2_000_000))"])
    assert run.wall > 0 and run.cpu > 0
    assert run.max_rss_mb >= 45 and run.peak_rss_mb >= run.max_rss_mb


def test_quick_bench_writes_json_and_plot(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_QUICK": "1", "BENCH_RUNS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "book", "bench", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert set(data["scenarios"]) == {"sample_clean", "sample_nochange", "book_clean_pdf", "book_edit"}
    for s in data["scenarios"].values():
        assert s["ours"]["wall_s"] > 0 and s["ours"]["pages"] > 0
    assert data["growth"]["chapters"] == [1, 2]
    assert len(data["targets"]) == 6
    assert data["scenarios"]["book_clean_pdf"]["ours"]["peak_pss_mb"] > 0
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "no-change rebuild" in proc.stdout


# --- EPUBCheck: JVM options and the verdict cache (a stand-in `java` counts the runs) -------------

FAKE_JAVA = """#!/bin/sh
echo "$@" >> "{log}"
while [ $# -gt 0 ]; do
  if [ "$1" = --json ]; then shift; {write} > "$1"; fi
  shift
done
"""
REPORT = """printf '{"checker": {"checkerVersion": "5.3.0"}, "messages": []}'"""


def fake_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: str = REPORT) -> Path:
    """A `java` first on PATH that logs its arguments and writes a clean EPUBCheck report."""
    bin_dir, log = tmp_path / "bin", tmp_path / "java.log"
    bin_dir.mkdir()
    java = bin_dir / "java"
    java.write_text(FAKE_JAVA.format(log=log, write=write), encoding="utf-8")
    java.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log.touch()
    return log


def jvm_runs(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines()


def test_epubcheck_verdict_cached_by_epub_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = fake_java(tmp_path, monkeypatch)
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK one")
    cache = Cache(tmp_path / ".cache")
    first = EpubCheckRun(epub, cache=cache).result()
    assert first.ok and first.name == "epubcheck 5.3.0"
    again = EpubCheckRun(epub, cache=cache)
    assert again.proc is None  # no JVM started
    assert again.result() == first
    assert len(jvm_runs(log)) == 1
    assert [hit for stage, _, hit in cache.log if stage == "epubcheck"] == [False, True]
    epub.write_bytes(b"PK two")  # other bytes: checked again
    EpubCheckRun(epub, cache=cache).result()
    assert len(jvm_runs(log)) == 2
    assert "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar" in jvm_runs(log)[0]


def test_epubcheck_without_cache_always_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`book check` (no cache), `--no-cache` (a disabled cache): every run starts the JVM."""
    log = fake_java(tmp_path, monkeypatch)
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK")
    for _ in range(2):
        assert run_epubcheck(epub).ok
        assert run_epubcheck(epub, cache=cache_mod.disabled()).ok
    assert len(jvm_runs(log)) == 4


def test_epubcheck_failure_to_report_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = fake_java(tmp_path, monkeypatch, write="true")  # an empty report, as from a JVM killed mid-write
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK")
    cache = Cache(tmp_path / ".cache")
    for _ in range(2):
        result = run_epubcheck(epub, cache=cache)
        assert not result.ok and "no report" in result.summary
    assert len(jvm_runs(log)) == 2


def test_build_with_print_option_changed_reuses_epubcheck(book_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit that changes nothing in the EPUB (a `print:` option) rebuilds it but does not re-check it."""
    log = fake_java(book_dir, monkeypatch)
    write_chapter(book_dir, "01.md", "---\nchapter_number: 1\ntitle: 开端\n---\n\n第一段文字。\n")
    out = book_dir / "build"
    args = ("build", "--format", "epub", "--config", str(book_dir / "book.yaml"), "--out", str(out))
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    epub = (out / "test.epub") if (out / "test.epub").exists() else next(out.glob("*.epub"))
    before = epub.read_bytes()
    config = book_dir / "book.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "print:\n  font_size: 11\n", encoding="utf-8")
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" not in proc.stderr  # a real rebuild, not the replay of the last one
    assert epub.read_bytes() == before
    assert len(jvm_runs(log)) == 1
    assert "PASS epubcheck 5.3.0" in proc.stderr
