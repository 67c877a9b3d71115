"""A `book preview` session → seconds from saving a source to the server announcing the reload.

The preview server tells its pages about each build attempt with a server-sent event `build`
whose data carries the build's `version` and `ok` (book/preview.py, `/events`); the page reloads on
it. The time measured is from the moment the edited source is written and closed to the moment
that event for the next version arrives: the watcher's debounce, the rebuild and the
announcement, everything the author waits for after pressing save. The CPU time and the peak PSS
of the server's process tree (its part workers included) are polled from /proc meanwhile.
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

from book.tools.bench_measure import Run, tree_memory, tree_pids

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Seconds for the first build or one reload, then the session is abandoned. Generous: the first build
# of the 30-chapter book with no cache took 83 s at a load of 14 on the 2-core machine.
TIMEOUT = 900.0
WATCH_SETTLE = 1.0  # seconds between the watcher's start and the first edit (inotify set up)


def tree_cpu(root: int) -> float:
    """User + system seconds of the live process tree under `root`, reaped children included."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            pass
    return total / TICKS


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
        url = self._url()
        parts = urlparse(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        self.conn.request("GET", "/events")
        self.stream = self.conn.getresponse()
        self.version = self.next_build(time.monotonic() + TIMEOUT)["version"]
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

    def reload(self, edit: Callable[[], None]) -> Run:
        """Apply `edit` (writes a source) and time it until the server announces the next build."""
        peak_rss = peak_pss = 0
        stop = threading.Event()

        def poll() -> None:
            nonlocal peak_rss, peak_pss
            while not stop.is_set():
                rss, pss = tree_memory(self.proc.pid)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
                stop.wait(0.05)

        load = os.getloadavg()[0]
        cpu = tree_cpu(self.proc.pid)
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            edit()
            start = time.perf_counter()
            deadline = time.monotonic() + TIMEOUT
            while True:
                status = self.next_build(deadline)
                if status["version"] > self.version:
                    break
            wall = time.perf_counter() - start
        finally:
            stop.set()
            poller.join()
        self.version = status["version"]
        if not status.get("ok"):
            raise RuntimeError(f"the preview's rebuild failed:\n{status.get('error', '')}")
        cpu = tree_cpu(self.proc.pid) - cpu
        return Run(wall, cpu, peak_rss / 2**20, 0.0, peak_pss / 2**20, load=load)

    def close(self) -> None:
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


def save_to_reload(
    config: Path, out: Path, edits: list[Callable[[], None]], env: dict[str, str] | None = None
) -> list[Run]:
    """One preview session; for each edit, the time from the save to the announced reload."""
    with Session(config, out, env) as session:
        return [session.reload(edit) for edit in edits]
