"""Preview: the book's sources → a live EPUB shown in a local e-reader page (epub.js), rebuilt on edit.

`book preview` builds the EPUB, serves `preview/index.html` (epub.js and JSZip from the npm packages
installed into `preview/node_modules`, never a CDN) on 127.0.0.1 and watches everything the build
reads (sources, images, cover, templates, styles, bibliography: book.tools.preview_inputs). Each edit rebuilds the EPUB in-process; the page hears about it through server-sent
events and reloads at the location it had. A failed build is printed in the terminal and shown in
the page, while the last good book stays on screen.
"""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from book.errors import BookError, Diagnostics
from book.model import PROJECT_ROOT, Build
from book.source.config import load_config
from book.tools.localserver import LocalHandler, LocalHTTPServer

PAGE_DIR = PROJECT_ROOT / "preview"
VENDOR = {
    "epub.min.js": PAGE_DIR / "node_modules" / "epubjs" / "dist" / "epub.min.js",
    "jszip.min.js": PAGE_DIR / "node_modules" / "jszip" / "dist" / "jszip.min.js",
}
BOOK_FILES = "/book/current/"  # the current book's files, the way the reader page opens it
PREVIEW_DIR = ".preview"  # in the output folder: the preview's EPUB
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".map": "application/json"}  # fmt: skip


@dataclass
class BuildResult:
    """What the page needs to know about one build attempt."""

    version: int
    ok: bool
    epub: bytes | None = None  # the last good book, kept when a later build fails
    error: str = ""
    seconds: float = 0.0
    title: str = ""
    parts: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # the book's files → ETags (book.tools.preview_files)

    def status(self) -> dict:
        return {"version": self.version, "ok": self.ok, "error": self.error, "seconds": round(self.seconds, 3),
                "title": self.title, "parts": self.parts, "has_book": self.epub is not None,
                "files": self.files}  # fmt: skip


def build_epub(
    config_path: Path, out: Path, seen: Callable[[Build], None] | None = None, *, cached: bool = True
) -> tuple[bytes, str, list[dict[str, str]]]:
    """One EPUB build (no EPUBCheck: the preview favours speed); raises BookError on user errors.

    `seen`, when given, is shown the prepared build (what it read, for the watcher; its parts, for
    the print pages). `cached=False` packages the EPUB without the output cache (`rebuild`'s)."""
    from book.pipeline import prepare, write_epub

    diag = Diagnostics()
    build = prepare(config_path, out, diag)
    # No page map: the preview lays out no PDF. Stored, not deflated (a fifth of a one-chapter
    # rebuild of 30 chapters), and beside the build's outputs rather than over `make epub`'s.
    # An edit's book is one the cache has not seen, and its file is served from the bytes read back
    # just below: a crash loses a file the next build writes again (`write_epub`'s `cached=False`).
    path = write_epub(build, out / PREVIEW_DIR / build.epub_path.name, compress=False, cached=cached).path
    if seen is not None:
        seen(build)
    diag.raise_if_errors()
    sources = {p.id: str(p.source) for p in build.manifest.parts}  # chapters and appendices
    parts = [{"id": p.id, "href": p.filename, "title": p.title, "label": p.label, "kind": p.kind,
              "source": sources.get(p.id, "")} for p in build.parts]  # fmt: skip
    return path.read_bytes(), build.config.title, parts


def warm() -> None:
    """What the first edit would otherwise wait for, done while the author reads: the part stage's
    and the EPUB's modules (a first build from the cache imports none of them), the fonts' coverage
    (nine fontconfig matches and their cmaps) and the EPUB's faces (seven more). The first save's
    reload took half as long again as the next ones. What is alive then lives as long as the
    server: frozen, the collector no longer walks it on every rebuild (a full collection during a
    30-chapter rebuild: 66 ms, frozen 38 ms)."""
    try:
        from book.parts import process  # noqa: F401
        from book.typography.coverage import coverage

        coverage()
        # A first build from the cache packages no EPUB: the first edit imported ebooklib and
        # cssselect2 and asked fontconfig for each face (0.3 s after `make`).
        from book.epub import fonts, package  # noqa: F401

        for spec in fonts.FACES:
            fonts.locate(spec.pattern, spec.family)
    except Exception:  # noqa: BLE001 - only a head start: the edit does all this itself if it must
        pass
    gc.collect()
    gc.freeze()


class Previewer:
    """Holds the current build, rebuilds on demand and tells the listening pages."""

    def __init__(self, config_path: str | Path, out: str | Path, *, log=print, pdf: bool = False) -> None:
        self.config_path = Path(config_path).resolve()
        self.out = Path(out)
        self.log = log
        self.lock = threading.Lock()
        self.changed = threading.Condition()
        self.state = BuildResult(version=0, ok=False, error="not built yet")
        self.read: list[Path] = []  # what the last build read: the watcher follows it
        self.print_pages = None  # `--pdf`: the edited part's print pages (book.tools.preview_pdf)
        if pdf:
            from book.tools.preview_pdf import PrintPages

            self.print_pages = PrintPages(on_ready=self._notify, log=log)
        self._bodies: dict[str, str] = {}
        self._edited = ""
        # The watched files as the last build began to read them (book.tools.preview_inputs.stamp),
        # carried onto the watch list it ended with: the watcher rebuilds when they differ.
        self.expected: dict | None = None

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def _seen(self, build: Build) -> None:
        from book.tools.preview_inputs import read_paths

        self.read = read_paths(build.config, build.deps)
        if self.print_pages is not None:
            from book.tools.preview_pdf import edited_part

            self._edited, self._bodies = edited_part(build, self._bodies, self._edited)
            if self._edited:
                self.print_pages.request(build, self._edited)

    def status(self) -> dict:
        """The last build's status, with the print pages' when `--pdf` made some."""
        status = self.state.status()
        status["pdf"] = self.print_pages.status() if self.print_pages is not None else None
        return status

    def rebuild(self) -> BuildResult:
        from book.tools.preview_inputs import expected_stamp, stamp

        start = time.perf_counter()
        skip = self.out.resolve()
        old = self.watch_paths()
        before = stamp(old, skip)
        try:
            # The first book from the cache (a preview started after `make`); the edits' without it.
            data, title, parts = build_epub(self.config_path, self.out, self._seen, cached=self.state.epub is None)
        except BookError as exc:
            err = "\n".join(str(p) for p in exc.problems)
            data = None
        except Exception:  # a bug: keep the traceback, but keep serving the last good book
            err = traceback.format_exc()
            data = None
        elapsed = time.perf_counter() - start
        now = self.watch_paths()
        self.expected = expected_stamp(before, old, stamp(now, skip) if now != old else {}, now)
        with self.lock:
            prev = self.state
            if data is not None:
                from book.tools.preview_files import etags

                new = BuildResult(prev.version + 1, True, data, "", elapsed, title, parts, etags(data))
                self.log(f"preview: built in {elapsed:.2f}s (version {new.version})")
            else:
                new = BuildResult(prev.version + 1, False, prev.epub, err, elapsed, prev.title, prev.parts, prev.files)
                self.log(f"preview: build failed, keeping the last good book:\n{err}")
            self.state = new
        self._notify()
        return new

    def watch_paths(self) -> list[Path]:
        """Everything the build reads (book.tools.preview_inputs): the last build's list, else the config's."""
        if self.read:
            return sorted(self.read)
        from book.tools.preview_inputs import read_paths

        try:
            return read_paths(load_config(self.config_path))
        except BookError:  # a book.yaml that does not load yet: watch it until it does
            return [self.config_path]

    def watch(self, stop: threading.Event) -> None:
        from watchfiles import watch

        from book.tools.preview_inputs import stamp

        out = self.out.resolve()

        def relevant(_change: object, path: str) -> bool:
            p = Path(path)
            return not p.name.startswith(".") and not p.resolve().is_relative_to(out) and "__pycache__" not in p.parts

        while not stop.is_set():
            watched = self.watch_paths()
            self.log("preview: watching " + ", ".join(str(p) for p in watched))
            # Events alone can miss a save: one made while the watcher restarts on a new watch list
            # is seen by nobody, and watchfiles empties its change set when a wait times out. So
            # each quiet half second (an empty yield) the files are compared with what the last
            # build began from, and any difference is rebuilt too.
            # step: a save is reported once 20 ms pass without a new change (watchfiles' 50 ms
            # default was a twentieth of the reload); debounce caps a stream of changes at 200 ms.
            for changes in watch(*watched, watch_filter=relevant, stop_event=stop, debounce=200, step=20,
                                 rust_timeout=500, yield_on_timeout=True):  # fmt: skip
                if changes:
                    names = ", ".join(sorted({Path(p).name for _, p in changes}))
                    self.log(f"preview: changed {names}; rebuilding")
                elif stamp(watched, out) != self.expected:
                    self.log("preview: a change the watcher did not report; rebuilding")
                else:
                    continue
                self.rebuild()
                if self.watch_paths() != watched:  # a new image or file named: watch it too
                    break


def _handler(previewer: Previewer, stop: threading.Event) -> type[BaseHTTPRequestHandler]:
    from book.tools.preview_files import EpubFiles

    files = EpubFiles()

    class Handler(LocalHandler):  # Host checked, slow clients cut off, the path decoded (book.tools.localserver)
        protocol_version = "HTTP/1.1"
        # A response is its head and then its body, two small writes: with Nagle's algorithm the body
        # waited for the client's delayed ACK of the head, 40 ms on every file of a kept-alive connection.
        disable_nagle_algorithm = True

        def _send(self, body: bytes, ctype: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - the base class's name
            path = self.url_path
            if path in ("/", "/index.html"):
                return self._file(PAGE_DIR / "index.html")
            if path.startswith("/static/"):
                return self._file(PAGE_DIR / path.removeprefix("/static/"))
            if path.startswith("/vendor/"):
                target = VENDOR.get(path.removeprefix("/vendor/"))
                if target is None or not target.is_file():
                    msg = b"reader library missing: run `make preview/node_modules` (npm ci in preview/)"
                    return self._send(msg, "text/plain; charset=utf-8", HTTPStatus.NOT_FOUND)
                return self._file(target)
            if path == "/status":
                return self._send(json.dumps(previewer.status()).encode(), "application/json")
            if path == "/pdf/current.pdf":
                pages = previewer.print_pages
                if pages is None or pages.pdf is None:
                    return self._send(b"no print pages yet", "text/plain", HTTPStatus.NOT_FOUND)
                return self._send(pages.pdf, "application/pdf")
            if path.startswith(BOOK_FILES):
                return self._entry(path.removeprefix(BOOK_FILES))
            if path.startswith("/book/") and path.endswith(".epub"):
                epub = previewer.state.epub
                if epub is None:
                    return self._send(b"no good build yet", "text/plain", HTTPStatus.NOT_FOUND)
                return self._send(epub, "application/epub+zip")
            if path == "/events":
                return self._events()
            self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

        def _entry(self, name: str) -> None:
            """One file of the current book (book.tools.preview_files), revalidated by its ETag."""
            entry = files.get(previewer.state.epub, name)
            if entry is None:
                return self._send(b"not in the book", "text/plain", HTTPStatus.NOT_FOUND)
            fresh = self.headers.get("If-None-Match") == entry.etag
            self.send_response(HTTPStatus.NOT_MODIFIED if fresh else HTTPStatus.OK)
            self.send_header("Content-Type", entry.ctype)
            self.send_header("ETag", entry.etag)
            self.send_header("Cache-Control", "no-cache")  # kept, but asked for again on every use
            self.send_header("Content-Length", "0" if fresh else str(len(entry.body)))
            self.end_headers()
            if not fresh:
                self.wfile.write(entry.body)

        def _file(self, target: Path) -> None:
            target = target.resolve()
            if not target.is_relative_to(PAGE_DIR.resolve()) or not target.is_file():
                return self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)
            self._send(target.read_bytes(), STATIC_TYPES.get(target.suffix, "application/octet-stream"))

        def _events(self) -> None:
            """Server-sent events: one `build` event per build attempt, plus keep-alive comments."""
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            seen, seen_pdf = -1, 0
            try:
                while not stop.is_set():
                    state = previewer.state
                    pdf = previewer.print_pages.version if previewer.print_pages is not None else 0
                    sent = False
                    if state.version != seen:
                        seen, sent = state.version, True
                        self.wfile.write(f"event: build\ndata: {json.dumps(previewer.status())}\n\n".encode())
                    if pdf != seen_pdf:
                        seen_pdf, sent = pdf, True
                        self.wfile.write(f"event: pdf\ndata: {json.dumps(previewer.status())}\n\n".encode())
                    if not sent:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    with previewer.changed:
                        previewer.changed.wait(timeout=5)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                pass

    return Handler


def bind(port: int) -> LocalHTTPServer:
    """A server on 127.0.0.1:port, or on a free port when that one is taken (port 0: always free)."""
    try:
        return LocalHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    except OSError:
        return LocalHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)


class PreviewServer:
    """The HTTP server and the watcher, in threads; `close()` stops both."""

    def __init__(self, previewer: Previewer, port: int = 8000, *, watch: bool = True) -> None:
        self.previewer = previewer
        self.stop = threading.Event()
        self.httpd = bind(port)
        self.httpd.RequestHandlerClass = _handler(previewer, self.stop)
        self.httpd.daemon_threads = True
        self.threads = [threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)]
        if watch:
            self.threads.append(threading.Thread(target=previewer.watch, args=(self.stop,), daemon=True))

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> PreviewServer:
        for t in self.threads:
            t.start()
        return self

    def close(self) -> None:
        self.stop.set()
        with self.previewer.changed:
            self.previewer.changed.notify_all()
        if self.threads[0].is_alive():  # shutdown() would wait forever on a server never started
            self.httpd.shutdown()
        self.httpd.server_close()
        for t in self.threads:
            if t.is_alive():
                t.join(timeout=5)

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def calibre_viewer() -> str | None:
    return shutil.which("ebook-viewer")


def open_in_calibre(epub: Path) -> int:
    """Open the EPUB in calibre's viewer; one line and exit 1 when calibre is not installed."""
    viewer = calibre_viewer()
    if viewer is None:
        print(
            "calibre's ebook-viewer is not installed — apt-get install calibre, or run `make preview`", file=sys.stderr
        )
        return 1
    print(f"opening {epub} in {viewer}", file=sys.stderr)
    return subprocess.call([viewer, str(epub)])


def run(
    config_path: str | Path, out: str | Path, *, port: int = 8000, open_browser: bool = True, pdf: bool = False
) -> int:
    """`book preview`: build, serve and watch until Ctrl-C (`pdf`: with the edited part's print pages)."""
    if not all(p.is_file() for p in VENDOR.values()):
        print("preview/node_modules is missing — run `make preview/node_modules` (npm ci in preview/)", file=sys.stderr)
        return 1
    previewer = Previewer(config_path, out, log=lambda m: print(m, file=sys.stderr, flush=True), pdf=pdf)
    previewer.rebuild()
    threading.Thread(target=warm, daemon=True).start()
    with PreviewServer(previewer, port) as server:
        # The one line on stdout: scripts and tests read the URL from it.
        print(f"preview: {server.url}", flush=True)
        if open_browser:
            webbrowser.open(server.url)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("preview: stopped", file=sys.stderr)
    return 0
