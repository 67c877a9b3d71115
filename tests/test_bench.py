"""Smoke test of the benchmark itself (BENCH_QUICK: 1–2 short chapters, one run; no timing asserts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from book.tools.bench import chapter_text, excerpt, measure
from tests.conftest import ROOT


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
