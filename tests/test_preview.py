"""Preview: the server, the watcher and the reader page, end to end in headless Chromium (Playwright)."""

from __future__ import annotations

import io
import json
import shutil
import socket
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html as lxml_html

from book.tools.preview import VENDOR, Previewer, PreviewServer, bind
from tests.conftest import ROOT, run_cli, sigint_default, write_chapter

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip
# The opener template needs these keys on this branch (StrictUndefined), so the tiny books give them.
FRONT = "---\nchapter_number: 1\ntitle: 第一章\ntitle_en: One\nperiod: 2024\ntechnical_concepts: [a]\n---\n\n"
WAIT_MS = 60_000  # generous: the machine is shared; every wait is bounded


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def test_port_taken_falls_back_to_a_free_one() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        httpd = bind(taken)
        try:
            assert httpd.server_address[1] not in (taken, 0)
        finally:
            httpd.server_close()


def test_failed_build_keeps_the_last_good_book(book_dir: Path) -> None:
    src = write_chapter(book_dir, "01.md", FRONT + "正文第一段。\n")
    logs: list[str] = []
    pv = Previewer(book_dir / "book.yaml", book_dir / "build", log=logs.append)
    first = pv.rebuild()
    assert first.ok and first.epub and first.epub.startswith(b"PK")
    src.write_text(FRONT.replace("number: 1", "number: one") + "正文。\n", encoding="utf-8")
    second = pv.rebuild()
    assert not second.ok
    assert second.epub == first.epub
    assert "01.md" in second.error and "chapter_number" in second.error
    assert any("build failed" in line for line in logs)


def test_a_rebuild_after_an_edit_lays_out_no_pdf(book_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview's EPUB has no page list, so an edit never waits for a WeasyPrint layout."""
    import book.pdf.layout

    def no_layout(*a: object, **k: object) -> None:
        raise AssertionError("the preview laid out the PDF")

    src = write_chapter(book_dir, "01.md", FRONT + "正文第一段。\n")
    pv = Previewer(book_dir / "book.yaml", book_dir / "build", log=lambda m: None)
    assert pv.rebuild().ok  # the first build draws the generated cover (cached from then on)
    monkeypatch.setattr(book.pdf.layout, "render_document", no_layout)
    src.write_text(FRONT + "正文第一段，改过了。\n", encoding="utf-8")
    again = pv.rebuild()
    assert again.ok and again.version == 2, again.error


def test_a_save_the_watcher_does_not_report_is_rebuilt(book_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save no event reports (made while the watcher restarts, or during a build) is still rebuilt:
    the watcher compares the files with what the last build began from each quiet half second."""
    import threading

    import watchfiles

    src = write_chapter(book_dir, "01.md", FRONT + "正文第一段。\n")
    pv = Previewer(book_dir / "book.yaml", book_dir / "build", log=lambda m: None)
    assert pv.rebuild().ok

    def deaf(*paths: object, stop_event: threading.Event, yield_on_timeout: bool = False, **kw: object) -> Iterator:
        while not stop_event.wait(0.05):  # hears no change at all: only its quiet spells, if asked
            if yield_on_timeout:
                yield set()

    monkeypatch.setattr(watchfiles, "watch", deaf)
    seen = pv._seen

    def save_during_the_build(build: object) -> None:  # the author saves again while version 2 builds
        seen(build)
        if pv.state.version == 1:
            src.write_text(FRONT + "第二次保存。\n", encoding="utf-8")

    monkeypatch.setattr(pv, "_seen", save_during_the_build)
    stop = threading.Event()
    watcher = threading.Thread(target=pv.watch, args=(stop,), daemon=True)
    watcher.start()
    try:
        src.write_text(FRONT + "第一次保存。\n", encoding="utf-8")
        deadline = time.monotonic() + WAIT_MS / 1000
        while pv.state.version < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pv.state.version == 3 and pv.state.ok, pv.state.error
        with zipfile.ZipFile(io.BytesIO(pv.state.epub)) as z:
            text = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml"))
        assert "第二次保存" in text
        time.sleep(0.5)  # ten quiet spells more: nothing changed since, so nothing is rebuilt
        assert pv.state.version == 3
    finally:
        stop.set()
        watcher.join(timeout=10)


def test_server_routes(book_dir: Path) -> None:
    write_chapter(book_dir, "01.md", FRONT + "正文第一段。\n")
    pv = Previewer(book_dir / "book.yaml", book_dir / "build", log=lambda m: None)
    pv.rebuild()
    with PreviewServer(pv, 0, watch=False) as server:
        status = json.loads(get(server.url + "status"))
        assert status["ok"] and status["version"] == 1 and status["title"] == "测试之书"
        epub = get(server.url + "book/1.epub")
        assert zipfile.ZipFile(io.BytesIO(epub)).read("mimetype") == b"application/epub+zip"
        assert b"epub.min.js" in get(server.url)
        with pytest.raises(urllib.error.HTTPError):
            get(server.url + "static/../../book.yaml")


def test_calibre_missing_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from book.tools import preview

    monkeypatch.setattr(preview.shutil, "which", lambda name: None)
    assert preview.open_in_calibre(Path("x.epub")) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "ebook-viewer" in err


def test_preview_without_node_modules_says_what_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from book.tools import preview

    monkeypatch.setattr(preview, "VENDOR", {"epub.min.js": tmp_path / "missing.js"})
    assert preview.run(ROOT / "book.yaml", tmp_path, port=0, open_browser=False) == 1


# --- the reader page in headless Chromium -------------------------------------------------------


@pytest.fixture
def book_copy(tmp_path: Path) -> Path:
    """A temporary copy of the sample book, so the edit test never touches the real sources."""
    shutil.copy(ROOT / "book.yaml", tmp_path / "book.yaml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path


@pytest.fixture
def server(book_copy: Path) -> Iterator[PreviewServer]:
    pv = Previewer(book_copy / "book.yaml", book_copy / "build", log=print)
    assert pv.rebuild().ok
    srv = PreviewServer(pv, 0).start()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def page() -> Iterator:
    assert Path(CHROMIUM).exists(), "headless Chromium missing: `make setup` installs Debian's chromium"
    assert all(p.is_file() for p in VENDOR.values()), "run `make preview/node_modules`"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=WAIT_MS)
        try:
            pg = browser.new_page(viewport={"width": 1200, "height": 1000})
            pg.set_default_timeout(WAIT_MS)
            yield pg
        finally:
            browser.close()


def first_paragraph(epub: bytes, filename: str) -> str:
    with zipfile.ZipFile(io.BytesIO(epub)) as z:
        name = next(n for n in z.namelist() if n.endswith("/" + filename) or n == filename)
        doc = lxml_html.fromstring(z.read(name))
    p = doc.xpath("//*[contains(concat(' ', @class, ' '), ' content ')]//p")[0]
    return " ".join(p.text_content().split())


FIRST_P_ON_SCREEN = """() => {
  const f = document.querySelector('#viewer iframe');
  const p = f.contentDocument.querySelector('.content p');
  const fr = f.getBoundingClientRect(), pr = p.getBoundingClientRect();
  const v = document.querySelector('#viewer').getBoundingClientRect();
  const x = fr.left + pr.left;
  return {text: p.textContent.split(/\\s+/).join(' ').trim(), visible: x >= v.left && x < v.right};
}"""


# The version the page shows. A reload replaces the document, and a poll that lands in the new one
# before its <body> is parsed finds no body: that must read as "not yet", not fail the wait.
READY = "Number(document.body ? document.body.dataset.ready : 0)"


def test_reader_shows_chapter_8_turns_a_page_and_reloads_after_an_edit(
    server: PreviewServer, book_copy: Path, page
) -> None:
    epub = server.previewer.state.epub
    assert epub is not None
    expected = first_paragraph(epub, "ch08.xhtml")
    start = time.perf_counter()
    page.goto(server.url + "?at=ch08.xhtml&device=eink")
    page.wait_for_selector("body[data-ready='1']")
    print(f"time to first page: {time.perf_counter() - start:.2f}s")
    assert page.locator("body").get_attribute("data-href") == "ch08.xhtml"
    shown = page.evaluate(FIRST_P_ON_SCREEN)
    assert shown["text"] == expected and shown["visible"]
    assert page.locator("#toc-list a").count() >= 3

    page.click("#next")
    page.wait_for_selector("body[data-page='2']")
    assert not page.evaluate(FIRST_P_ON_SCREEN)["visible"]

    # An edit to the source rebuilds the book; the page reloads at the same place. Its 览 and 段 are
    # new to the book, so the fonts change: the book is opened again, in a new frame.
    page.evaluate("() => { window.shownFrame = document.querySelector('#viewer iframe'); }")
    source = book_copy / "seeds" / "08-meta-open-source.md"
    source.write_text(source.read_text(encoding="utf-8") + "\n预览测试新增的一段。\n", encoding="utf-8")
    edited = time.perf_counter()
    # `>=`: an editor's save may reach the watcher as two events, i.e. two rebuilds.
    page.wait_for_function(f"() => {READY} >= 2")
    print(f"edit to reloaded page: {time.perf_counter() - edited:.2f}s")
    page.wait_for_function(
        f"() => {READY} >= 2 && document.body.dataset.page === '2' && document.body.dataset.href === 'ch08.xhtml'"
    )
    assert "预览测试新增的一段" in page.evaluate(
        "() => document.querySelector('#viewer iframe').contentDocument.body.textContent"
    )
    assert page.evaluate("() => window.shownFrame !== document.querySelector('#viewer iframe')")

    # An edit in characters the book has (its fonts stay) is drawn into the chapter's own frame.
    page.evaluate("() => { window.shownFrame = document.querySelector('#viewer iframe'); }")
    before = int(page.locator("body").get_attribute("data-ready"))
    source.write_text(source.read_text(encoding="utf-8") + "\n测试新增的一段预览。\n", encoding="utf-8")
    page.wait_for_function(f"() => {READY} > {before}")
    assert page.evaluate("() => window.shownFrame === document.querySelector('#viewer iframe')")
    assert "测试新增的一段预览" in page.evaluate("() => window.shownFrame.contentDocument.body.textContent")
    assert page.locator("body").get_attribute("data-page") == "2"

    # A broken source: the error shows in the page and the last good book stays on screen.
    good = page.locator("body").get_attribute("data-ready")
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("chapter_number: 8", "chapter_number: eight", 1), encoding="utf-8")
    page.wait_for_selector("#error:not([hidden])")
    assert "chapter_number" in page.locator("#error-text").inner_text()
    assert page.locator("body").get_attribute("data-ready") == good
    assert page.evaluate(FIRST_P_ON_SCREEN)["text"] == expected

    source.write_text(text, encoding="utf-8")
    page.wait_for_function(f"() => {READY} > {good}")
    assert page.locator("#error").is_hidden()


def test_cli_preview_help_lists_port() -> None:
    proc = run_cli("preview", "--help")
    assert proc.returncode == 0 and "--port" in proc.stdout and "calibre" in proc.stdout


def test_cli_preview_serves_and_stops(book_copy: Path) -> None:
    """`book preview` prints its URL on stdout, serves the status and stops on SIGINT."""
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "book", "preview", "--config", str(book_copy / "book.yaml"), "--port", "0", "--no-open"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, preexec_fn=sigint_default,
    )  # fmt: skip
    import threading

    # bounds the blocking readline below; generous, because the first build here is a cold build of
    # the sample (a fresh copy, no cache), which took over 100 s with both cores loaded
    watchdog = threading.Timer(300, proc.kill)
    watchdog.start()
    try:
        line = proc.stdout.readline()  # the server prints it once the first build is done
        assert line.startswith("preview: http://127.0.0.1:"), line
        status = json.loads(get(line.split()[1] + "status"))
        assert status["ok"] and any(p["id"] == "ch08" for p in status["parts"])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0  # shutting down joins the watcher, which may be mid-rebuild
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
