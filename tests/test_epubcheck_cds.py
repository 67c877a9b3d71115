"""EPUBCheck's class-data archive (book.check.cds): used when it is there, never a failure when not."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from book.check import cds
from book.check.epubcheck import EpubCheckRun
from tests.test_bench import fake_java, jvm_runs


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def stub_epub(tmp_path: Path) -> Path:
    """A file for the stand-in JVM to be run on (it never reads it)."""
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK")
    return epub


def _jar(tmp_path: Path) -> Path:
    jar = tmp_path / "epubcheck.jar"
    jar.write_bytes(b"PK jar")
    return jar


def test_no_archive_runs_without_sharing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_home: Path) -> None:
    log = fake_java(tmp_path, monkeypatch)
    epub = stub_epub(tmp_path)
    jar = _jar(tmp_path)
    assert cds.share_options(jar) == ()
    assert EpubCheckRun(epub, jar).result().ok
    assert "SharedArchiveFile" not in jvm_runs(log)[0]
    assert "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms64m" in jvm_runs(log)[0]


def test_archive_present_is_used_and_empty_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_home: Path
) -> None:
    log = fake_java(tmp_path, monkeypatch)
    epub = stub_epub(tmp_path)
    jar = _jar(tmp_path)
    archive = cds.archive_path(jar)
    assert archive is not None and archive.is_relative_to(cache_home)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"")  # a dump cut short
    assert cds.share_options(jar) == ()
    archive.write_bytes(b"not really an archive")
    EpubCheckRun(epub, jar).result()
    line = jvm_runs(log)[-1]
    assert f"-XX:SharedArchiveFile={archive} -Xshare:auto -Xlog:cds=off" in line
    assert line.index("SharedArchiveFile") < line.index(cds.CHECKER)


def test_new_runtime_or_jar_looks_for_another_archive(tmp_path: Path, cache_home: Path) -> None:
    """A JVM or EPUBCheck upgrade never maps the old archive: its name is made from both identities."""
    jar = _jar(tmp_path)
    java = tmp_path / "java"
    java.write_bytes(b"one")
    first = cds.archive_path(jar, java)
    java.write_bytes(b"another runtime")
    assert cds.archive_path(jar, java) != first
    jar.write_bytes(b"PK another jar")
    assert cds.archive_path(jar, java) not in (first, None)


def test_jar_through_a_symlinked_folder_has_its_own_archive(tmp_path: Path, cache_home: Path) -> None:
    """The JVM checks the class path as given: a venv shared through a symlink got its target's
    archive, which the JVM refused once the folder it was made through was gone (CDS silently off)."""
    jar = _jar(tmp_path)
    java = tmp_path / "java"
    java.write_bytes(b"one")
    (tmp_path / "link").symlink_to(jar.parent, target_is_directory=True)
    through = tmp_path / "link" / jar.name
    assert through.resolve() == jar.resolve()
    assert cds.archive_path(through, java) != cds.archive_path(jar, java)


def test_failed_dump_leaves_no_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_home: Path) -> None:
    fake_java(tmp_path, monkeypatch)  # lists no classes, dumps nothing
    jar = _jar(tmp_path)
    assert cds.make_archive(jar) is None
    archive = cds.archive_path(jar)
    assert archive is not None and not archive.exists()
    assert cds.share_options(jar) == ()
    assert list(archive.parent.iterdir()) == []  # no temporary folder left behind


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime")
def test_real_jvm_ignores_corrupt_archive_quietly(tmp_path: Path, cache_home: Path) -> None:
    """What the JVM does with a damaged or foreign archive under these options: runs, says nothing."""
    jar = _jar(tmp_path)
    archive = cds.archive_path(jar)
    assert archive is not None
    archive.parent.mkdir(parents=True)
    archive.write_bytes(os.urandom(4096))
    proc = subprocess.run(
        ["java", *cds.share_options(jar), "-XX:+UseSerialGC", "-version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert "warning" not in proc.stderr.lower() and "cds" not in proc.stderr.lower()


def test_small_epub_is_an_epub(tmp_path: Path) -> None:
    import zipfile

    path = cds.small_epub(tmp_path / "s.epub")
    with zipfile.ZipFile(path) as z:
        assert z.namelist()[0] == "mimetype" and z.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert "OEBPS/nav.xhtml" in z.namelist()


def test_deferred_run_starts_when_asked_or_when_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_home: Path
) -> None:
    """The build writes the EPUB during the furniture round and starts the JVM once the workers are gone."""
    log = fake_java(tmp_path, monkeypatch)
    epub = stub_epub(tmp_path)
    run = EpubCheckRun(epub, start=False)
    assert run.proc is None and jvm_runs(log) == []
    run.start()
    run.start()  # once only
    assert run.result().ok and len(jvm_runs(log)) == 1
    assert EpubCheckRun(epub, start=False).result().ok  # never started: collecting it starts it
    assert len(jvm_runs(log)) == 2
    EpubCheckRun(epub, start=False).cancel()  # a build that failed before starting it
    assert len(jvm_runs(log)) == 2


def test_release_freed_memory_is_safe_to_call() -> None:
    from book.engine.memory import release_freed_memory

    garbage = [bytes(1000) for _ in range(10_000)]
    del garbage
    assert release_freed_memory() in (True, False)  # glibc: trimmed or nothing to trim; elsewhere False


def test_checker_crash_with_clean_report_is_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_home: Path
) -> None:
    """EPUBCheck that dies (StackOverflowError) writes a report with no messages and exits 1: never a PASS."""
    from book.engine.cache import Cache
    from tests.test_bench import REPORT

    log = fake_java(tmp_path, monkeypatch, write=REPORT)
    java = tmp_path / "bin" / "java"
    java.write_text(java.read_text(encoding="utf-8") + "exit 1\n", encoding="utf-8")
    epub = stub_epub(tmp_path)
    cache = Cache(tmp_path / ".cache")
    for _ in range(2):
        result = EpubCheckRun(epub, cache=cache).result()
        assert not result.ok and "exit 1" in result.summary
    assert len(jvm_runs(log)) == 2  # not cached


def test_spare_core_counts_others_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from book.engine import workers

    assert 1 <= workers._running()  # this thread, at least

    monkeypatch.setattr(workers, "cores", lambda: 2)
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (2.1, 2.0, 1.0))
    monkeypatch.setattr(workers, "_running", lambda: 1)  # only this thread runs: a build just ended
    assert workers.spare_core()
    monkeypatch.setattr(workers, "_running", lambda: 3)  # two others keep both cores busy
    assert not workers.spare_core()
    monkeypatch.setattr(workers, "_running", lambda: -1)  # no /proc/loadavg: the average alone
    assert not workers.spare_core()
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (0.4, 0.2, 0.1))  # others just began
    assert workers.spare_core()
