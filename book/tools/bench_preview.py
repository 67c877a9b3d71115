"""A `book preview` session → seconds from saving a source to the server announcing the reload, and
to the reader page showing the new text.

The preview server tells its pages about each build attempt with a server-sent event `build`
whose data carries the build's `version` and `ok` (book/preview.py, `/events`); the page reloads on
it. The time measured is from the moment the edited source is written and closed to the moment
that event for the next version arrives: the watcher's debounce, the rebuild and the
announcement, everything the author waits for after pressing save. The CPU time and the peak PSS
of the server's process tree (its part workers included) are polled from /proc meanwhile.

The announcement is not what the author sees: the page still has to fetch the book and lay the
chapter out. With Debian's Chromium present, the reader page is also open in headless Chromium
(Playwright) at the edited chapter, and the second figure runs from the save to the page marking
the new version as shown (`body[data-ready]`, set by preview/reader.js once the chapter is drawn).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from book.tools.bench_measure import MemorySampler, Run, process_cpu, tree_pids
from book.tools.screenshots import CHROMIUM, CHROMIUM_FLAGS  # the reader page as `make screenshots` opens it

# Seconds for the first build or one reload, then the session is abandoned. Generous: the first build
# of the 30-chapter book with no cache took 83 s at a load of 14 on the 2-core machine.
TIMEOUT = 900.0
WATCH_SETTLE = 1.0  # seconds between the watcher's start and the first edit (inotify set up)


def tree_cpu(root: int) -> float:
    """User + system seconds of the live process tree under `root`, reaped children included."""
    return sum(process_cpu(pid) for pid in tree_pids(root))


class Session:
    """`book preview --no-open --port 0` in its own process group, listening to its `/events`."""

    def __init__(self, config: Path, out: Path, env: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, "-m", "book", "preview", "--config", str(config), "--out", str(out),
               "--port", "0", "--no-open"]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, text=True,
        )  # fmt: skip
        self.conn: http.client.HTTPConnection | None = None
        self.stream = None
        self.version = -1
        self.url = ""
        self.parts: list[dict] = []
        self.page = None  # the reader page in headless Chromium (Reader), when the machine has one
        self.log: list[str] = []  # the server's stderr, drained so that it never blocks on a full pipe
        self.watching = threading.Event()
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)
            if line.startswith("preview: watching"):
                self.watching.set()

    def start(self) -> None:
        """Wait for the first build (the server prints its URL after it) and subscribe to events."""
        self.url = url = self._url()
        parts = urlparse(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        self.conn.request("GET", "/events")
        self.stream = self.conn.getresponse()
        first = self.next_build(time.monotonic() + TIMEOUT)
        if not first.get("ok"):
            raise RuntimeError(f"the preview's first build failed:\n{first.get('error', '')}")
        self.version, self.parts = first["version"], first.get("parts", [])
        # The watcher starts in its own thread after the first build: an edit saved before it
        # watches would never be seen.
        if not self.watching.wait(TIMEOUT):
            raise RuntimeError("book preview does not watch its sources:\n" + "".join(self.log[-5:]))
        time.sleep(WATCH_SETTLE)

    def _url(self) -> str:
        found: list[str] = []

        def read() -> None:
            for line in self.proc.stdout:  # the one line on stdout: "preview: http://127.0.0.1:PORT/"
                if line.startswith("preview: http"):
                    found.append(line.split(" ", 1)[1].strip())
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(TIMEOUT)
        if not found:
            raise RuntimeError("book preview did not start:\n" + "".join(self.log[-5:]))
        return found[0]

    def next_build(self, deadline: float) -> dict:
        """The data of the next `build` event (keep-alive comments skipped), before `deadline`."""
        event = None
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError(f"book preview announced no build in {TIMEOUT:.0f} s")
            line = self.stream.readline()
            if not line:
                raise RuntimeError("book preview closed its event stream")
            line = line.decode("utf-8").rstrip("\r\n")
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "build":
                return json.loads(line.split(":", 1)[1])

    def reload(self, edit: Callable[[], None]) -> tuple[Run, Run | None]:
        """Apply `edit` (writes a source) and time it until the server announces the next build, and
        until the reader page shows it (None without a reader page)."""
        load = os.getloadavg()[0]
        cpu = tree_cpu(self.proc.pid)
        sampler = MemorySampler(self.proc.pid)
        try:
            edit()
            start = time.perf_counter()
            deadline = time.monotonic() + TIMEOUT
            while True:
                status = self.next_build(deadline)
                if status["version"] > self.version:
                    break
            wall = time.perf_counter() - start
            shown = self.page.wait_for(status["version"], deadline) - start if self.page is not None else None
        finally:
            sampler.stop()
        peak_rss, peak_pss = sampler.peaks()
        self.version = status["version"]
        if not status.get("ok"):
            raise RuntimeError(f"the preview's rebuild failed:\n{status.get('error', '')}")
        cpu = tree_cpu(self.proc.pid) - cpu
        run = Run(wall, cpu, peak_rss / 2**20, 0.0, peak_pss / 2**20, load=load)
        return run, (Run(shown, cpu, run.peak_rss_mb, 0.0, run.peak_pss_mb, load=load) if shown is not None else None)

    def close(self) -> None:
        if self.page is not None:
            self.page.close()
        if self.conn is not None:
            self.conn.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.drain.join(timeout=5)  # the server is gone: its stderr is at its end
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Session:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Reader:
    """The reader page in headless Chromium, opened at one chapter, waiting for versions to show."""

    READY = "Number(document.body ? document.body.dataset.ready : 0)"

    def __init__(self, url: str, href: str) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
            self.page = self._browser.new_page(viewport={"width": 1200, "height": 1000})
            self.page.set_default_timeout(TIMEOUT * 1000)
            self.page.goto(f"{url}?at={href}&device=eink")
            self.page.wait_for_selector("body[data-ready]")
        except BaseException:
            self.close()
            raise

    def wait_for(self, version: int, deadline: float) -> float:
        """The clock when the page shows `version` (polled every 5 ms)."""
        left = max(1.0, deadline - time.monotonic())
        self.page.wait_for_function(f"() => {self.READY} >= {version}", polling=5, timeout=left * 1000)
        return time.perf_counter()

    def close(self) -> None:
        try:
            if getattr(self, "_browser", None) is not None:
                self._browser.close()
        finally:
            self._pw.stop()


def reader_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).is_file()


def save_to_reload(
    config: Path,
    out: Path,
    edits: list[Callable[[], None]],
    env: dict[str, str] | None = None,
    edited: Path | None = None,
) -> tuple[list[Run], list[Run]]:
    """One preview session; for each edit, the time from the save to the announced reload, and to
    the page showing it (with the reader open at the chapter of `edited`, when Chromium is here)."""
    with Session(config, out, env) as session:
        if edited is not None and reader_available():
            hrefs = [p["href"] for p in session.parts if p.get("source") and Path(p["source"]) == edited.resolve()]
            session.page = Reader(session.url, hrefs[0] if hrefs else "")
        runs = [session.reload(edit) for edit in edits]
    return [r for r, _ in runs], [s for _, s in runs if s is not None]
