"""Smoke test of the benchmark itself (BENCH_QUICK: 1–2 short chapters, one run; no timing asserts)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from book.check.epubcheck import EpubCheckRun, run_epubcheck
from book.engine import cache as cache_mod
from book.engine.cache import Cache
from book.tools import bench_history
from book.tools.bench import chapter_text, edit_paragraph, excerpt
from book.tools.bench_measure import measure
from book.tools.bench_preview import save_to_reload
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


def test_edit_changes_one_paragraph_of_the_body(tmp_path: Path) -> None:
    source = tmp_path / "ch.md"
    lines = ["---", "title: 这一行是前言里的标题而不是正文的段落哦", "---", "", "# 第一章：标题标题标题标题标题标题标题标题",
             "", "第一段正文，足够长的一段中文文字，用来测试修改。", "", "- 列表项目列表项目列表项目列表项目列表项目列表",
             "", "第二段正文，足够长的一段中文文字，用来测试修改。", "", "第三段正文，足够长的一段中文文字，用来测试修改。", ""]  # fmt: skip
    source.write_bytes("\r\n".join(lines).encode("utf-8"))
    edit_paragraph(source, 0)
    edit_paragraph(source, 1)
    after = source.read_bytes().decode("utf-8").split("\r\n")  # line endings kept
    changed = [n for n, (a, b) in enumerate(zip(lines, after, strict=True)) if a != b]
    assert changed == [10]
    assert after[10] == lines[10] + "基准测试第1次修改了这一段。基准测试第2次修改了这一段。"


def old_result() -> dict:
    return {"machine": {"cores": 2}, "runs": 3, "quick": False, "scenarios": {"sample_clean": {}}}


def entry(commit: str, wall: float, quick: bool = False) -> dict:
    figures = {"wall_s": wall, "cpu_s": wall, "peak_pss_mb": 100.0}
    books = {
        b: {k: dict(figures) for k in ("clean", "edit", "nochange", "preview", "plain")} for b in ("sample", "book")
    }
    return {"format": bench_history.FORMAT, "commit": commit, "date": "2026-01-01T00:00:00+00:00", "quick": quick,
            "books": books}  # fmt: skip


def test_history_is_appended_and_never_lost(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(old_result()), encoding="utf-8")  # the single-result format of before
    bench_history.append(path, entry("aaa", 1.0))
    history = bench_history.append(path, entry("bbb", 2.0))
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["history"] == history
    assert [e["commit"] for e in history] == ["unknown", "aaa", "bbb"]
    assert history[0]["scenarios"] == old_result()["scenarios"] and history[0]["format"] == 1
    assert list(tmp_path.iterdir()) == [path]  # written atomically: no temporary file left


def test_unreadable_history_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    path.write_text('{"history": [', encoding="utf-8")  # cut short
    history = bench_history.append(path, entry("ccc", 1.0))
    assert [e["commit"] for e in history] == ["ccc"]
    (aside,) = tmp_path.glob("bench.json.unreadable-*")
    assert aside.read_text(encoding="utf-8") == '{"history": ['


def test_plot_shows_the_history(tmp_path: Path) -> None:
    history = [old_result(), entry("aaa", 1.0), entry("bbb", 1.5, quick=True), entry("ccc", 2.0)]
    bench_history.plot(history, tmp_path / "bench.png")
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_commit_names_the_checkout() -> None:
    assert re.fullmatch(r"[0-9a-f]{12}(\+dirty)?|unknown", bench_history.commit(ROOT))


def test_preview_reload_is_timed_to_the_servers_event_and_to_the_page(book_dir: Path) -> None:
    source = write_chapter(
        book_dir, "01.md", "---\nchapter_number: 1\ntitle: 开端\n---\n\n" + "第一段文字，" * 8 + "\n"
    )
    edits = [lambda i=i: edit_paragraph(source, i) for i in range(2)]
    runs, shown = save_to_reload(book_dir / "book.yaml", book_dir / "build", edits, edited=source)
    assert len(runs) == 2 and all(0 < r.wall < 60 and r.peak_pss_mb > 0 for r in runs)
    assert "基准测试第2次" in source.read_text(encoding="utf-8")
    # The reader page shows each version after the server announced it.
    assert len(shown) == 2 and all(s.wall >= r.wall for s, r in zip(shown, runs, strict=True))


@pytest.mark.slow
def test_quick_bench_appends_to_history_and_plots(tmp_path: Path) -> None:
    (tmp_path / "bench.json").write_text(json.dumps(old_result()), encoding="utf-8")
    env = {**os.environ, "BENCH_QUICK": "1", "BENCH_RUNS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "book", "bench", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    history = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))["history"]
    assert len(history) == 2 and history[0]["scenarios"] == old_result()["scenarios"]
    new = history[-1]
    assert new["quick"] is True and new["commit"] and new["date"]
    assert set(new["books"]) == {"sample", "book"}
    for book in new["books"].values():
        assert set(book) >= {"clean", "edit", "nochange", "preview", "shown", "plain"}
        for k in ("clean", "edit", "nochange", "preview", "shown"):
            assert book[k]["wall_s"] > 0 and book[k]["cpu_s"] >= 0
        assert book["clean"]["pages"] > 0 and book["clean"]["pages_per_cpu_s"] > 0
        assert book["clean"]["peak_pss_mb"] > 0 and book["clean"]["wall_vs_plain"] > 0
        assert book["edit"]["wall_vs_clean"] > 0
    assert len(new["targets"]) == 7
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "nochange" in proc.stdout and "preview" in proc.stdout and "page shown" in proc.stdout


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
    assert "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms64m" in jvm_runs(log)[0]


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


def test_epubcheck_servers_are_found_counted_and_stopped() -> None:
    from book.check.cds import cache_dir
    from book.tools.bench_measure import measure, process_cpu, servers, stop_servers

    # a stand-in with the server's class name and a socket in the user's cache on its command line,
    # burning a little CPU; and one whose socket is elsewhere (another cache's), left running
    code = "import time\nt = time.process_time()\nwhile time.process_time() - t < 5: pass\ntime.sleep(60)"
    sock = str(cache_dir().parent / "epubcheck-server" / "x" / "sock")
    fake = subprocess.Popen([sys.executable, "-c", code, "EpubCheckServer", sock])
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "EpubCheckServer", "/elsewhere/sock"]
    )
    try:
        deadline = time.monotonic() + 10
        while fake.pid not in servers() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.pid in servers()
        # a build that runs while a server works counts the server's CPU as its own; it lasts until
        # the server has worked 0.1 s (on a loaded machine a fixed 2 s gave it less than that)
        flag = Path(tempfile.mkdtemp()) / "done"
        build = [sys.executable, "-c", f"import os, time\nwhile not os.path.exists({str(flag)!r}): time.sleep(0.02)"]
        runs: list[Any] = []
        measuring = threading.Thread(target=lambda: runs.append(measure(build)))
        measuring.start()
        started = process_cpu(fake.pid)
        while process_cpu(fake.pid) - started < 0.15 and time.monotonic() < deadline + 60:
            time.sleep(0.05)
        flag.touch()
        measuring.join(60)
        assert runs and runs[0].cpu >= 0.1
        stop_servers()
        assert fake.wait(timeout=10) != 0 and fake.pid not in servers()
        assert other.poll() is None and other.pid in servers()
    finally:
        for proc in (fake, other):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
