"""Preview: the book's sources → a live EPUB shown in a local e-reader page (epub.js), rebuilt on edit.

`book preview` builds the EPUB, serves `preview/index.html` (epub.js and JSZip from the npm packages
installed into `preview/node_modules`, never a CDN) on 127.0.0.1 and watches the sources, templates
and styles. Each edit rebuilds the EPUB in-process; the page hears about it through server-sent
events and reloads at the location it had. A failed build is printed in the terminal and shown in
the page, while the last good book stays on screen.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import traceback
import webbrowser
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from book.errors import BookError, Diagnostics
from book.model import PROJECT_ROOT
from book.source.config import load_config
from book.tools.localserver import LocalHandler, LocalHTTPServer

PAGE_DIR = PROJECT_ROOT / "preview"
VENDOR = {
    "epub.min.js": PAGE_DIR / "node_modules" / "epubjs" / "dist" / "epub.min.js",
    "jszip.min.js": PAGE_DIR / "node_modules" / "jszip" / "dist" / "jszip.min.js",
}
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

    def status(self) -> dict:
        return {"version": self.version, "ok": self.ok, "error": self.error, "seconds": round(self.seconds, 3),
                "title": self.title, "parts": self.parts, "has_book": self.epub is not None}  # fmt: skip


def build_epub(config_path: Path, out: Path) -> tuple[bytes, str, list[dict[str, str]]]:
    """One EPUB build (no EPUBCheck: the preview favours speed); raises BookError on user errors."""
    from book.pipeline import prepare, write_epub

    diag = Diagnostics()
    build = prepare(config_path, out, diag)
    path = write_epub(build).path  # no page map: the preview lays out no PDF
    diag.raise_if_errors()
    parts = [{"id": p.id, "href": p.filename, "title": p.title, "label": p.label, "kind": p.kind}
             for p in build.parts]  # fmt: skip
    return path.read_bytes(), build.config.title, parts


class Previewer:
    """Holds the current build, rebuilds on demand and tells the listening pages."""

    def __init__(self, config_path: str | Path, out: str | Path, *, log=print) -> None:
        self.config_path = Path(config_path).resolve()
        self.out = Path(out)
        self.log = log
        self.lock = threading.Lock()
        self.changed = threading.Condition()
        self.state = BuildResult(version=0, ok=False, error="not built yet")

    def rebuild(self) -> BuildResult:
        start = time.perf_counter()
        try:
            data, title, parts = build_epub(self.config_path, self.out)
        except BookError as exc:
            err = "\n".join(str(p) for p in exc.problems)
            data = None
        except Exception:  # a bug: keep the traceback, but keep serving the last good book
            err = traceback.format_exc()
            data = None
        elapsed = time.perf_counter() - start
        with self.lock:
            prev = self.state
            if data is not None:
                new = BuildResult(prev.version + 1, True, data, "", elapsed, title, parts)
                self.log(f"preview: built in {elapsed:.2f}s (version {new.version})")
            else:
                new = BuildResult(prev.version + 1, False, prev.epub, err, elapsed, prev.title, prev.parts)
                self.log(f"preview: build failed, keeping the last good book:\n{err}")
            self.state = new
        with self.changed:
            self.changed.notify_all()
        return new

    def watch_paths(self) -> list[Path]:
        """The book's sources, its config, and every template and style folder in use."""
        config = load_config(self.config_path)
        root = config.root
        files = [f for s in config.sources for f in (s.files or (s.path,))]  # a folder chapter's sections too
        dirs = {f.parent for f in files} | {d for d in (*config.template_dirs, *config.style_dirs)}
        # Folders rather than files, since editors often replace a file instead of writing it; but never
        # the book's root recursively (it holds build/, .venv/, node_modules/): files there are watched alone.
        watched = {d for d in dirs if d.is_dir() and d != root}
        watched |= {self.config_path} | {f for f in files if f.parent == root}
        return sorted(watched)

    def watch(self, stop: threading.Event) -> None:
        from watchfiles import watch

        out = self.out.resolve()
        watched = self.watch_paths()
        self.log("preview: watching " + ", ".join(str(p) for p in watched))

        def relevant(_change: object, path: str) -> bool:
            p = Path(path)
            return not p.name.startswith(".") and not p.resolve().is_relative_to(out) and "__pycache__" not in p.parts

        for changes in watch(*watched, watch_filter=relevant, stop_event=stop, debounce=200, rust_timeout=500):
            names = ", ".join(sorted({Path(p).name for _, p in changes}))
            self.log(f"preview: changed {names}; rebuilding")
            self.rebuild()


def _handler(previewer: Previewer, stop: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(LocalHandler):  # Host checked, slow clients cut off, the path decoded (book.tools.localserver)
        protocol_version = "HTTP/1.1"

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
                return self._send(json.dumps(previewer.state.status()).encode(), "application/json")
            if path.startswith("/book/") and path.endswith(".epub"):
                epub = previewer.state.epub
                if epub is None:
                    return self._send(b"no good build yet", "text/plain", HTTPStatus.NOT_FOUND)
                return self._send(epub, "application/epub+zip")
            if path == "/events":
                return self._events()
            self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

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
            seen = -1
            try:
                while not stop.is_set():
                    state = previewer.state
                    if state.version != seen:
                        seen = state.version
                        self.wfile.write(f"event: build\ndata: {json.dumps(state.status())}\n\n".encode())
                    else:
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


def run(config_path: str | Path, out: str | Path, *, port: int = 8000, open_browser: bool = True) -> int:
    """`book preview`: build, serve and watch until Ctrl-C."""
    if not all(p.is_file() for p in VENDOR.values()):
        print("preview/node_modules is missing — run `make preview/node_modules` (npm ci in preview/)", file=sys.stderr)
        return 1
    previewer = Previewer(config_path, out, log=lambda m: print(m, file=sys.stderr, flush=True))
    previewer.rebuild()
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
