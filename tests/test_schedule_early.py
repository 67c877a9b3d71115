"""The build's critical path: the longest task handed out first (book.engine.order), and a clean
build's EPUBCheck JVM started with the build and asked as soon as the EPUB exists (book.check.early)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from book import pipeline
from book.check import daemon, early
from book.check.epubcheck import EpubCheckRun, epubcheck_jar
from book.engine import workers
from book.engine.cache import Cache
from book.engine.memo import memo_map
from book.engine.order import largest_first
from tests.test_bench import fake_java, jvm_runs
from tests.test_epubcheck_daemon import bad_epub
from tests.test_pipeline import book  # noqa: F401 (the fixture)

CLEAN = {"checker": {"checkerVersion": "5.3.0"}, "messages": []}


def test_the_largest_goes_first_and_ties_keep_their_order() -> None:
    assert largest_first(["aa", "b", "cccc", "dd"], len) == [2, 0, 3, 1]
    assert largest_first([], len) == []


class Recorder:
    """An executor that runs `map` here and remembers the order it was handed the calls in."""

    def __init__(self) -> None:
        self.order: list[Any] = []

    def map(self, fn: Any, *columns: Any) -> Iterator[Any]:
        rows = list(zip(*columns, strict=True))
        self.order = [r[0] for r in rows]
        return iter([fn(*r) for r in rows])


def twice(text: str) -> str:
    return text * 2


def test_memo_map_hands_the_pool_the_largest_first_and_answers_in_call_order(tmp_path: Path) -> None:
    pool = Recorder()
    calls = [("a",), ("ccc",), ("bb",)]
    assert memo_map(Cache(tmp_path), "s", twice, calls, pool, size=lambda c: len(c[0])) == ["aa", "cccccc", "bbbb"]
    assert pool.order == ["ccc", "bb", "a"]
    pool = Recorder()
    memo_map(Cache(tmp_path / "2"), "s", twice, calls, pool)  # no size: the order given, as before
    assert pool.order == ["a", "ccc", "bb"]


# --- the early JVM: when, and what the check does with it -------------------------------------------


def test_an_early_jvm_only_for_a_first_build_that_checks_an_epub(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(daemon.ENV, "1")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/java")
    monkeypatch.setattr(early, "cores", lambda: 2)
    monkeypatch.setattr(workers, "cores", lambda: 2)
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (2.0, 2.0, 2.0))
    monkeypatch.setattr(workers, "_running", lambda: 3)  # two others running besides the build
    out = tmp_path / "build"
    assert not early.wanted(out, ("epub", "pdf"), True)  # no core to spare: the JVM after the layout
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (1.2, 2.0, 2.0))
    assert early.wanted(out, ("epub", "pdf"), True)  # no folder yet
    assert not early.wanted(out, ("epub", "pdf"), False) and not early.wanted(out, ("pdf",), True)
    out.mkdir()
    (out / "book.epub").write_bytes(b"PK")  # an earlier build's: an edit, the shared server's case
    assert not early.wanted(out, ("epub", "pdf"), True)
    monkeypatch.setenv(daemon.ENV, "0")
    assert not early.wanted(tmp_path / "other", ("epub",), True)


def test_an_early_jvm_only_for_a_book_of_few_parts(book: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(early, "cores", lambda: 2)
    assert early.few_parts(book / "book.yaml")  # three chapters on two cores: one waits at the end
    monkeypatch.setattr(early, "cores", lambda: 1)
    assert not early.few_parts(book / "book.yaml")
    assert not early.few_parts(tmp_path / "missing.yaml")  # the build reports it


def test_no_early_jvm_without_the_compiled_server(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert early.start(epubcheck_jar()) is None


def test_a_warm_shared_server_is_asked_instead(monkeypatch) -> None:
    root = Path(tempfile.mkdtemp(prefix="bk", dir="/tmp"))  # short: a socket's name holds 108 bytes
    try:
        monkeypatch.setenv("XDG_CACHE_HOME", str(root))
        home = daemon.server_dir(epubcheck_jar())
        if home is None:
            pytest.skip("no java")
        home.mkdir(parents=True)
        (home / f"{daemon.MAIN}.class").write_bytes(b"")
        with socket.socket(socket.AF_UNIX) as shared:
            shared.bind(str(home / "sock"))
            shared.listen(1)
            assert early.start(epubcheck_jar()) is None
    finally:
        shutil.rmtree(root, ignore_errors=True)


class StubEarly:
    """Stands in for book.check.early.EarlyCheck: answers from a canned report, or fails."""

    def __init__(self, answer: int | None = 0) -> None:
        self.answer, self.asked, self.stopped = answer, [], False

    def check(self, epub: Path, report: Path) -> int | None:
        self.asked.append(epub)
        if self.answer is not None:
            report.write_text(json.dumps(CLEAN), encoding="utf-8")
        return self.answer

    def stop(self) -> None:
        self.stopped = True


def test_the_check_asks_the_early_jvm_and_starts_none(tmp_path: Path, monkeypatch) -> None:
    log = fake_java(tmp_path, monkeypatch)
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK")
    stub = StubEarly()
    run = EpubCheckRun(epub, early=stub)
    result = run.result()
    assert result.ok and result.name == "epubcheck 5.3.0" and run.answer == 0 and run.proc is None
    assert stub.asked == [epub] and jvm_runs(log) == []


def test_a_failed_early_check_falls_back_to_the_command_line(tmp_path: Path, monkeypatch) -> None:
    log = fake_java(tmp_path, monkeypatch)
    epub = tmp_path / "book.epub"
    epub.write_bytes(b"PK")
    run = EpubCheckRun(epub, early=StubEarly(answer=None))
    assert run.result().ok and run.proc is not None
    assert len(jvm_runs(log)) == 1


def _watched(code: str, monkeypatch, seconds: float) -> tuple[subprocess.Popen[bytes], threading.Thread]:
    monkeypatch.setattr(early, "STARVED_SECONDS", 1.0)
    proc = subprocess.Popen([sys.executable, "-c", code])
    stand_in = early.EarlyCheck.__new__(early.EarlyCheck)
    stand_in.proc = proc
    answered = threading.Event()
    watch = threading.Thread(target=stand_in._watch, args=(answered, 0.1), daemon=True)
    watch.start()
    watch.join(seconds)
    answered.set()
    watch.join(5)
    return proc, watch


def test_a_starved_early_jvm_is_stopped_for_the_command_line(monkeypatch) -> None:
    """A JVM awaited for the verdict that gets (next to) no CPU, as at nice 19 on a busy machine."""
    proc, watch = _watched("import time; time.sleep(60)", monkeypatch, 10)
    try:
        assert proc.wait(5) != 0 and not watch.is_alive()  # killed, and the request then fails
    finally:
        proc.kill()


def test_a_working_early_jvm_is_left_to_answer(monkeypatch) -> None:
    proc, watch = _watched(
        "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass", monkeypatch, 2.5
    )
    try:
        assert proc.poll() is None and not watch.is_alive()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow  # a whole build of three chapters: 5–14 s on the shared machine
def test_a_clean_build_checks_its_epub_in_the_early_jvm_before_the_stitch(
    book: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch,
) -> None:
    from book.pdf import parallel

    stub, events = StubEarly(), []
    monkeypatch.setattr(early, "wanted", lambda out, formats, check, config: True)
    monkeypatch.setattr(early, "start", lambda jar: events.append("jvm") or stub)
    real_start, real_stitch = EpubCheckRun.start, parallel.stitch

    def start(self: EpubCheckRun) -> None:
        events.append("check")
        real_start(self)

    monkeypatch.setattr(EpubCheckRun, "start", start)
    monkeypatch.setattr(parallel, "stitch", lambda *a, **k: events.append("stitch") or real_stitch(*a, **k))
    monkeypatch.setattr(pipeline, "prepare", _spied(pipeline.prepare, events))
    outcome = pipeline.build(pipeline.BuildRequest(book / "book.yaml", tmp_path / "out", ("epub", "pdf")))
    assert outcome.epubcheck is not None and outcome.epubcheck.ok
    assert events[:2] == ["jvm", "prepare"]  # the JVM before the parts
    assert events.index("check") < events.index("stitch")  # asked as soon as the EPUB is written
    assert len(stub.asked) == 1 and stub.asked[0].name == outcome.epub.path.name and stub.stopped


def _spied(fn: Any, events: list[str]) -> Any:
    def spy(*a: Any, **k: Any) -> Any:
        events.append("prepare")
        return fn(*a, **k)

    return spy


# --- a real JVM (javac and Java 16+), its own cache folder -------------------------------------------


@pytest.mark.slow
def test_the_early_jvm_gives_the_verdict_and_is_gone_after(tmp_path: Path, monkeypatch) -> None:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("needs javac and java")
    root = Path(tempfile.mkdtemp(prefix="bk", dir="/tmp"))
    try:
        monkeypatch.setenv("XDG_CACHE_HOME", str(root))
        monkeypatch.setenv(daemon.ENV, "1")
        monkeypatch.setattr(early, "NICE", 0)  # at 19 the tests beside it on both cores would starve it
        assert daemon.compile_server(epubcheck_jar()) is not None
        jvm = early.start(epubcheck_jar())
        assert jvm is not None and jvm.proc is not None
        proc, folder = jvm.proc, jvm.tmp
        try:
            run = EpubCheckRun(bad_epub(tmp_path / "bad.epub"), early=jvm)
            result = run.result()
        finally:
            jvm.stop()
        assert not result.ok and any("missing.xhtml" in d for d in result.details)
        assert result.name == "epubcheck 5.3.0" and run.proc is None  # the server's report, not a fallback
        assert proc.poll() is not None and not folder.exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- the 版权页's 印张 laid out beside the table of contents ----------------------------------------


def test_the_imprint_ahead_covers_each_toc_length_up_to_the_guess_once() -> None:
    from book.pdf import imprint_ahead

    html = '<dd><span class="imprint-sheets" data-kai="32"></span></dd>'
    # 20 pages without the TOC: a TOC of 1–4 pages makes 22 or 24 (0.75 sheet), of 5–6 pages 26 (1)
    found = imprint_ahead.candidates(html, 20, 6)
    assert [f.split(">")[2].split("<")[0] for f in found] == ["0.75", "1"]
    assert imprint_ahead.candidates(html, 20, 0) == [] and imprint_ahead.candidates("<p>no</p>", 20, 4) == []


# --- the EPUB's page breaks put into the bodies gapped during the layout ----------------------------

BODIES = [
    '<section id="c"><p id="a">中文 Latin 文字</p><p id="b">English 中文 and 更多 text</p></section>',
    '<ul><li id="l1">第一 item</li><li id="l2">second 第二</li></ul>',  # a marker inside a list item
    '<p>前 <span id="t">term</span> 后 <a href="#x">see</a> 文</p><nav><ol><li id="n">目 A</li></ol></nav>',
    "<p id='q'>no gaps here</p>",  # nothing to gap: the body comes back as it was, the marker unclosed
]


@pytest.mark.parametrize("body", BODIES)
def test_breaks_in_the_gapped_body_are_the_gapped_body_with_breaks(body: str) -> None:
    from book.epub import spacing
    from book.epub.package import insert_pagebreaks

    marks = [("7", "a"), ("8", "b"), ("9", "l2"), ("10", "t"), ("11", "n"), ("12", "c")]
    before, found = insert_pagebreaks(body, marks, set())
    gapped = spacing.fixed_spaces(body)
    after, found_after = insert_pagebreaks(gapped, marks, set(), self_closing=gapped != body)
    assert after == spacing.fixed_spaces(before) and found_after == found


def _breaks_by_search(body: str, marks: list[tuple[str, str]]) -> list[int]:
    """Where the markers went before the one-pass index: a search of the body per mark."""
    from book.epub.package import _MARK_INSIDE

    found = []
    for _, target in marks:
        m = re.search(r'<([A-Za-z][\w:-]*)\b[^>]*?\sid="' + re.escape(target) + r'"[^>]*>', body)
        if m is None:
            continue
        pos = m.end() if m.group(1).lower() in _MARK_INSIDE else m.start()
        before = body[:pos]
        navs, closed = [n.start() for n in re.finditer(r"<nav\b", before)], before.count("</nav>")
        found.append(navs[closed] if len(navs) > closed else pos)
    return found


@pytest.mark.parametrize("body", [*BODIES, '<nav id="n0"><ol><li id="i">a</li></ol></nav><nav><p id="z">b</p></nav>'])
def test_the_one_pass_index_puts_each_marker_where_a_search_did(body: str) -> None:
    from book.epub.package import insert_pagebreaks

    marks = [("1", "a"), ("2", "l1"), ("3", "n"), ("4", "i"), ("5", "z"), ("6", "n0"), ("7", "missing"), ("8", "a")]
    expected = _breaks_by_search(body, marks)
    out, found = insert_pagebreaks(body, marks, set())
    assert len(found) == len(expected)
    # each marker's offset in the output, less the markers before it, is where the search put it
    spans = list(re.finditer(r'<span epub:type="pagebreak"[^>]*></span>', out))
    shift, got = 0, []
    for m in spans:
        got.append(m.start() - shift)
        shift += len(m.group(0))
    assert got == sorted(expected)
