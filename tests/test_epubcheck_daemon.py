"""EPUBCheck's server (book.check.daemon) and the schedule that decides when a build uses it."""

from __future__ import annotations

import shutil
import socket
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from book.check import cds, daemon, schedule
from book.check.epubcheck import EpubCheckRun, epubcheck_jar
from book.engine.cache import Cache
from tests.test_bench import fake_java, jvm_runs


def test_an_edit_is_incremental_a_clean_build_is_not() -> None:
    assert schedule.incremental(1, 30) and schedule.incremental(2, 8) and schedule.incremental(0, 5)
    assert not schedule.incremental(30, 30) and not schedule.incremental(8, 30) and not schedule.incremental(2, 7)
    assert not schedule.incremental(0, 0)  # nothing looked up: no earlier build to speak of
    log = [("part", "a", True), ("part", "b", False), ("pdf-part", "a", False), ("part", "c", True)]
    assert schedule.misses(log, "part") == (1, 3) and schedule.misses(log, "pdf-part") == (1, 1)
    assert schedule.server_mode(True) == "start" and schedule.server_mode(False) == "use"
    assert not schedule.few_redone(None, "part")  # --no-cache: nothing known, a clean build's order


def test_a_build_reads_its_own_cache_log(tmp_path: Path) -> None:
    cache = Cache(tmp_path / ".cache")
    for i in range(30):
        cache.note("part", str(i), i != 15)  # one chapter edited
        cache.note("pdf-part", str(i), False)  # but every part laid out again (a stylesheet edited)
    assert schedule.few_redone(cache, "part") and not schedule.few_redone(cache, "pdf-part")


def test_without_a_server_the_command_line_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No compiled server for this `java` (or the server turned off): the CLI's JVM, once."""
    log = fake_java(tmp_path, monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(daemon.ENV, "1")
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK")
    for mode in ("start", "use", "no"):
        run = EpubCheckRun(epub, server=mode)
        assert run.result().ok and run.answer is None
    assert len(jvm_runs(log)) == 3
    monkeypatch.setenv(daemon.ENV, "0")
    assert daemon.connect(epubcheck_jar(), start=True) is None


def test_a_long_socket_path_means_no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ("x" * 120)))
    home = daemon.server_dir(epubcheck_jar())
    if home is None:
        pytest.skip("no java")
    home.mkdir(parents=True)
    (home / f"{daemon.MAIN}.class").write_bytes(b"")
    assert daemon.socket_path(epubcheck_jar()) is None


# --- a real server (javac and Java 16+), its own cache folder, stopped at the end ---------------------


@pytest.fixture(scope="module")
def server_cache() -> Iterator[Path]:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("needs javac and java")
    root = Path(tempfile.mkdtemp(prefix="bk", dir="/tmp"))  # short: a socket's name holds 108 bytes
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(root))
    mp.setenv(daemon.ENV, "1")
    try:
        assert daemon.compile_server(epubcheck_jar()) is not None
        yield root
    finally:
        for proc in daemon.STARTED:  # no server outlives the tests
            proc.kill()
            proc.wait()
        daemon.STARTED.clear()
        mp.undo()
        shutil.rmtree(root, ignore_errors=True)


def bad_epub(path: Path) -> Path:
    """The small EPUB with a chapter link to a file that is not there (an error) and no dc:date."""
    good = cds.small_epub(path.with_name("small.epub"))
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("c1.xhtml"):
                data = data.replace(b"<p>", b'<p><a href="missing.xhtml">x</a>')
            out.writestr(info, data)
    return path


@pytest.mark.slow
def test_the_server_gives_the_command_lines_verdict_then_idles_out(server_cache: Path, tmp_path: Path) -> None:
    jar = epubcheck_jar()
    good = cds.small_epub(tmp_path / "good.epub")
    bad = bad_epub(tmp_path / "bad.epub")
    path = daemon.socket_path(jar)
    assert path is not None and not path.exists()
    assert daemon.warm_up(jar, good, idle=4)  # started, warming up on `good`
    assert len(daemon.STARTED) == 1
    verdicts = []
    for epub in (bad, good):  # an error found leaves nothing behind for the next check
        served = EpubCheckRun(epub, server="use")
        verdicts.append(served.result())
        assert served.answer is not None  # from the server, not the fallback
    assert len(daemon.STARTED) == 1  # one server served them all
    proc = daemon.STARTED[0]
    by_cli = [EpubCheckRun(epub).result() for epub in (bad, good)]
    assert verdicts == by_cli
    assert not verdicts[0].ok and any("missing.xhtml" in d for d in verdicts[0].details) and verdicts[1].ok
    proc.wait(timeout=30)  # idle for 4 s: gone, and its socket with it
    assert not path.exists()
    assert daemon.check(jar, good, tmp_path / "r.json") is None  # none runs: the caller runs the CLI


def test_a_server_that_dies_mid_check_falls_back_to_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_java(tmp_path, monkeypatch)
    root = Path(tempfile.mkdtemp(prefix="bk", dir="/tmp"))  # short: a socket's name holds 108 bytes
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    monkeypatch.setenv(daemon.ENV, "1")
    home = daemon.server_dir(epubcheck_jar())
    assert home is not None
    home.mkdir(parents=True)
    (home / f"{daemon.MAIN}.class").write_bytes(b"")  # compiled, as far as the client can tell
    path = daemon.socket_path(epubcheck_jar())
    assert path is not None
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK")
    # A stand-in that takes the request and hangs up without an answer, as a JVM the OOM killer ends.
    try:
        with socket.socket(socket.AF_UNIX) as fake:
            fake.bind(str(path))
            fake.listen()
            run = EpubCheckRun(epub, server="use")
            conn, _ = fake.accept()
            assert conn.recv(4096).endswith(b"book.epub\n")
            conn.close()
            result = run.result()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert run.answer is None and result.ok and len(jvm_runs(log)) == 1  # the CLI's JVM gave the verdict
    assert cds.CHECKER in jvm_runs(log)[0]  # the command line: EPUBCheck's own main class


def _variant(path: Path, change: tuple[bytes, bytes] | None) -> Path:
    """The small EPUB written at `path` (one address, as a book rebuilt in place), its chapter changed."""
    good = cds.small_epub(path.with_name("source.epub"))
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if change is not None and info.filename.endswith("c1.xhtml"):
                data = data.replace(*change, 1)
            out.writestr(info, data)
    return path


def _report_messages(report: Path) -> list[object]:
    import json

    return json.loads(report.read_text(encoding="utf-8"))["messages"]


@pytest.mark.slow
def test_a_server_that_remembers_clean_documents_reports_as_the_command_line(
    server_cache: Path, tmp_path: Path
) -> None:
    """book/check/RememberingValidator.java: the same book path checked again and again in one JVM,
    its chapter clean, then changed and still clean, then broken (schema, Schematron and reference
    errors, with their lines and columns), then clean again: each report's messages are the
    command line's, which checks every document in full."""
    from book.check import jars

    log = tmp_path / "remembered.log"
    mp = pytest.MonkeyPatch()
    mp.setenv("BOOK_EPUBCHECK_REMEMBERED_LOG", str(log))  # the server started below inherits it
    jar = epubcheck_jar()
    assert jars.make_jars(jar) is not None  # in this test's cache: with the remembering enum
    assert daemon.compile_server(jar) is not None
    epub = tmp_path / "book.epub"
    broken = (b"<p>", b'<p id="a"><a href="gone.xhtml">x</a><blink/>')
    steps = [None, None, (b"<p>", b"<p>\xe6\x94\xb9"), broken, broken, None, (b"<p>", b'<p id="b">')]
    expected_chapter = [["validated"], ["remembered"], ["replayed"], ["replayed"], ["remembered", "validated"],
                        ["replayed", "validated"], ["replayed"]]  # fmt: skip
    for n, change in enumerate(steps):
        _variant(epub, change)
        served = tmp_path / f"served-{n}.json"
        log.unlink(missing_ok=True)
        assert daemon.check(jar, epub, served, start=True) is not None  # the server answered
        seen = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        jars_messages = jars._messages(cds.class_path(jar), epub, tmp_path)
        assert jars_messages is not None
        assert _report_messages(served) == jars_messages, f"step {n}"
        chapter = sorted({line.split()[0] for line in seen if line.endswith("c1.xhtml")})
        nav = sorted({line.split()[0] for line in seen if line.endswith("nav.xhtml")})
        # Each of the chapter's schemas: the first visit validates; the same bytes are remembered;
        # changed bytes are recorded, then replayed to the schema; a schema that found an error
        # there validates the next time as on a first visit, and the others remember or replay.
        assert chapter == expected_chapter[n], f"step {n}: {seen}"
        assert nav == (["validated"] if n == 0 else ["remembered"]), f"step {n}: {seen}"
    mp.undo()
    assert sum(proc.poll() is None for proc in daemon.STARTED) == 1  # one server checked them all
