"""Faults during a build: a failed, interrupted or killed build leaves the previous outputs
byte-identical, concurrent builds into one folder take turns, and no output is written in place."""

from __future__ import annotations

import builtins
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from book.engine.atomic import Staging, write_bytes
from book.engine.lock import build_lock, remove_leftovers
from tests.conftest import ROOT, sigint_default, write_chapter

CH = """---
chapter_number: {n}
title: "第{n}章"
created_date: 2025-10-17
---

## 一节

{text}
"""


def small_book(book: Path, text: str = "正文。") -> None:
    for n in (1, 2):
        write_chapter(book, f"{n}.md", CH.format(n=n, text=(text + "\n\n") * 400))


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".") and p.name not in (".lock", ".cache"))


def cli(book: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        # --no-cache: every build really renders its PDF, so a signal can land in that step
        [sys.executable, "-m", "book", "build", "--no-check", "--no-cache", "--config", str(book / "book.yaml"),
         "--out", str(out), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default,
    )  # fmt: skip


def wait_for(predicate, proc: subprocess.Popen, what: str) -> None:
    """Poll until `predicate()` holds; fail if the process ends first."""
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"build ended before {what}: {proc.stderr.read()}")
        time.sleep(0.005)


def in_pdf_step(out: Path, old: set[Path]) -> bool:
    """This build has staged its reports, which come just before the PDF (`old`: earlier builds')."""
    return any(
        p.is_file() and not any(p.parent.glob("*.pdf"))
        for p in out.glob(".staging-*/references.json")
        if p.parent not in old
    )


def staging_dirs(out: Path) -> set[Path]:
    return set(out.glob(".staging-*"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A small book built once (EPUB and PDF), then its sources changed so a rebuild would differ."""
    book = tmp_path_factory.mktemp("book")
    (book / "chapters").mkdir()
    (book / "book.yaml").write_text(
        "title: 测试之书\nauthors: [作者]\ndate: 2025-01-01\nslug: t\nchapters:\n  - chapters/*.md\n", encoding="utf-8"
    )
    small_book(book)
    out = tmp_path_factory.mktemp("out")
    proc = cli(book, out)
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    before = outputs(out)
    assert set(before) == {"t.epub", "t.pdf", "manifest.json", "references.json"}
    small_book(book, "改过的正文，比原来长一些。" * 3)
    return {"book": book, "out": out, "before": before}


@pytest.mark.integration
@pytest.mark.parametrize("sig,code", [(signal.SIGKILL, -9), (signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_build_stopped_during_pdf_leaves_previous_outputs(built: dict, sig: int, code: int) -> None:
    out = built["out"]
    old = staging_dirs(out)
    proc = cli(built["book"], out)
    wait_for(lambda: in_pdf_step(out, old), proc, "the PDF step")
    proc.send_signal(sig)
    _, err = proc.communicate()
    assert proc.returncode == code, err
    after = outputs(out)
    assert after["t.epub"] == built["before"]["t.epub"]
    assert after["t.pdf"] == built["before"]["t.pdf"]
    if sig != signal.SIGKILL:
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == "interrupted; previous outputs are untouched"
        assert leftovers(out) == []  # unwound: staging folder and temporary files removed


@pytest.mark.integration
def test_next_build_after_a_kill_cleans_up_and_succeeds(built: dict) -> None:
    out = built["out"]
    old = staging_dirs(out)
    proc = cli(built["book"], out)
    wait_for(lambda: in_pdf_step(out, old), proc, "the PDF step")
    proc.kill()
    proc.wait()
    assert leftovers(out)  # the killed build's staging folder is still there
    proc = cli(built["book"], out, "--format", "epub")
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert leftovers(out) == []
    assert outputs(out)["t.epub"] != built["before"]["t.epub"]  # the changed sources, now built
    with zipfile.ZipFile(out / "t.epub") as z:
        assert z.testzip() is None


@pytest.mark.integration
def test_failed_build_leaves_previous_outputs(built: dict, tmp_path: Path) -> None:
    out = built["out"]
    good = outputs(out)
    bad = built["book"] / "chapters" / "3.md"
    bad.write_text("---\nchapter_number: 八\ntitle: 坏\n---\n正文\n", encoding="utf-8")
    try:
        proc = cli(built["book"], out)
        _, err = proc.communicate()
    finally:
        bad.unlink()
    assert proc.returncode == 1 and "3.md:2: error: 'chapter_number' must be a whole number" in err
    assert "Traceback" not in err
    assert outputs(out) == good and leftovers(out) == []


@pytest.mark.integration
def test_strict_failure_after_rendering_writes_nothing(built: dict) -> None:
    out = built["out"]
    good = outputs(out)
    warn = built["book"] / "chapters" / "3.md"
    warn.write_text("---\nchapter_number: 3\ntitle: 三\nchapter_nubmer: 3\n---\n正文\n", encoding="utf-8")
    try:
        proc = cli(built["book"], out, "--strict", "--format", "epub")
        _, err = proc.communicate()
    finally:
        warn.unlink()
    assert proc.returncode == 1 and "3.md:4: error: unknown front-matter key 'chapter_nubmer'" in err
    assert outputs(out) == good and leftovers(out) == []


@pytest.mark.integration
def test_concurrent_build_waits_for_the_lock(built: dict) -> None:
    out = built["out"]
    good = outputs(out)
    with build_lock(out):
        proc = cli(built["book"], out, "--format", "epub")
        line = proc.stderr.readline()  # blocks until the second build reports it is waiting
        assert line.startswith("waiting for another build writing to")
        assert proc.poll() is None
        assert outputs(out) == good  # nothing written while the lock is held
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    with zipfile.ZipFile(out / "t.epub") as z:
        assert z.testzip() is None


@pytest.mark.integration
def test_two_builds_started_at_once_both_succeed_with_whole_outputs(built: dict) -> None:
    out = built["out"]
    procs = [cli(built["book"], out, "--format", "epub") for _ in range(2)]
    results = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    with zipfile.ZipFile(out / "t.epub") as z:
        assert z.testzip() is None and z.namelist()[0] == "mimetype"
    assert leftovers(out) == []


def test_no_output_is_ever_opened_under_its_final_name(built: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file a build writes in `out` is a temporary or staged file, renamed into place."""
    from book import cli as book_cli

    out = built["out"]
    written: list[Path] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+"):
            written.append(Path(file).resolve())
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            written.append(Path(path).resolve())
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    code = book_cli.main(["build", "--no-check", "--config", str(built["book"] / "book.yaml"), "--out", str(out)])
    monkeypatch.undo()
    assert code == 0
    in_out = [p.relative_to(out.resolve()) for p in written if p.is_relative_to(out.resolve())]
    assert in_out
    for rel in in_out:
        first = rel.parts[0]
        assert (
            first in (".lock", ".cache")  # the stage cache writes its entries atomically (book.engine.cache)
            or first.startswith(".staging-")
            or (first.startswith(".") and first.endswith(".tmp"))
        ), rel
    assert set(outputs(out)) == {"t.epub", "t.pdf", "manifest.json", "references.json"}


# --- units ----------------------------------------------------------------------------------------


def test_staging_commits_all_or_nothing(tmp_path: Path) -> None:
    write_bytes(tmp_path / "a.epub", b"old")
    with Staging(tmp_path) as stage:
        write_bytes(stage.path(tmp_path / "a.epub"), b"new")
        assert (tmp_path / "a.epub").read_bytes() == b"old"
    assert (tmp_path / "a.epub").read_bytes() == b"old" and leftovers(tmp_path) == []
    with Staging(tmp_path) as stage:
        write_bytes(stage.path(tmp_path / "a.epub"), b"new")
        write_bytes(stage.path(tmp_path / "a.pdf"), b"pdf")
        assert stage.commit() == [tmp_path / "a.epub", tmp_path / "a.pdf"]
    assert outputs(tmp_path) == {"a.epub": b"new", "a.pdf": b"pdf"} and leftovers(tmp_path) == []
    with pytest.raises(ValueError), Staging(tmp_path) as stage:
        stage.path(tmp_path / "sub" / "x")


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path) -> None:
    from book.engine.atomic import atomic_path

    write_bytes(tmp_path / "x.pdf", b"good")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.pdf") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("renderer crashed")
    assert (tmp_path / "x.pdf").read_bytes() == b"good" and leftovers(tmp_path) == []


def test_leftovers_of_killed_builds_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".staging-abc").mkdir()
    (tmp_path / ".staging-abc" / "t.epub").write_bytes(b"x")
    (tmp_path / ".t.pdf.1234.tmp").write_bytes(b"x")
    (tmp_path / "t.pdf").write_bytes(b"keep")
    (tmp_path / ".hidden-user-file").write_bytes(b"keep")
    removed = remove_leftovers(tmp_path)
    assert sorted(p.name for p in removed) == [".staging-abc", ".t.pdf.1234.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden-user-file", "t.pdf"]


def test_lock_without_waiting_is_a_one_line_error(tmp_path: Path) -> None:
    from book.errors import BookError

    code = (
        "import sys; from book.engine.lock import build_lock\n"
        "try:\n  with build_lock(sys.argv[1], wait=False): pass\n"
        "except Exception as e: print(e); sys.exit(1)\n"
    )
    with build_lock(tmp_path):
        proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1 and "another build is writing to this folder — wait for it to end" in proc.stdout
    assert BookError  # the CLI prints it like any other problem


def test_unusable_output_folder_is_one_line(tmp_path: Path) -> None:
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "book.yaml").write_text("title: 书\nauthors: [甲]\nchapters:\n  - chapters/*.md\n", encoding="utf-8")
    small_book(book)
    (tmp_path / "file").write_text("not a folder")
    proc = cli(book, tmp_path / "file" / "out")
    _, err = proc.communicate()
    assert proc.returncode == 1 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.endswith("error: cannot use the output folder: Not a directory — choose another --out")


def test_a_file_that_need_not_survive_a_crash_is_replaced_without_a_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from book.engine.cache import Cache

    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    write_bytes(tmp_path / "out.epub", b"one")
    assert len(synced) == 1  # an output: synced before the rename
    write_bytes(tmp_path / "out.epub", b"two", durable=False)
    cache = Cache(tmp_path / "cache")
    cache.put("stage", "k" * 64, b"entry")  # a cache entry: its HMAC catches a torn one
    assert len(synced) == 1
    assert (tmp_path / "out.epub").read_bytes() == b"two" and cache.get("stage", "k" * 64) == b"entry"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
