"""A clean build's EPUBCheck started with the build: the build's start → a JVM warmed on a small EPUB
while the parts are converted and laid out, which checks the build's EPUB the moment it is written.

Why: most of a new JVM's EPUBCheck is spent before it looks at the book. OpenJDK 17 with the command
line's options (C1 only, the serial collector, the class-data archive), a private server
(EpubCheckServer.java) given cds.SMALL_OPF's one-chapter EPUB and then the sample's 0.60 MB EPUB:
9.3 s of CPU for the small one, 1.3 s for the book, against 9.3 s for the book on the command line
(load 4). So the JVM's ~9 s (class loading, the schemas, Jing's and Saxon's set-up) go where a core
is idle — the parts and the PDF's largest part laid out by one worker while the other waits — and
after the EPUB is written only the book's own check is left on the critical path. The small EPUB
is the toolchain's own two-chapter book where `make tools` has built it (book.tools.warmup), so
that the book's check meets no schema or check for the first time (cds.warmup_epub has figures).

The server is this build's own: a socket in a private temporary folder, not the user's shared one
(book.check.daemon), started with the command line's options, and stopped when the build ends. It
is started only where a build is likely to check a new EPUB and has no warm server to ask: no EPUB
of an earlier build in the output folder (a first build, or one after `make clean`), EPUBCheck
wanted, Java there, the server compiled (`make tools`), a core to spare (`spare_core`) and few parts
for the layout to keep both cores busy with (`few_parts`). Any failure (no bind, a crash, an
Error in the check, a timeout) answers None and the caller runs the command line, as before.
`BOOK_EPUBCHECK_DAEMON=0` turns it off with the shared server: every check in a JVM of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from book.check import daemon
from book.check.cds import class_path, share_options, warmup_epub
from book.check.epubcheck import JVM_OPTIONS
from book.engine.workers import cores, process_cpu, spare_core

IDLE_SECONDS = 900  # a bound if the build dies without stopping it: a 30-chapter book's EPUB comes at ~60 s
# At nice 19, so the warm-up takes only the CPU the build leaves: at nice 0 it took its share of
# both cores from the parts, the parent's import of WeasyPrint and the chapter's layout, which is
# what the EPUB waits for. The sample, 8 interleaved clean builds on an idle 2-core machine: 9.03 s
# median wall (8.23–9.47), 14.7 s CPU, against 9.82 s (8.65–10.52), 15.9 s at nice 0.
NICE = 19
# Where others keep the cores busy (a shared machine: the bench's, 5 developers on 2 cores, load 5,
# once left a JVM at nice 5 0.1–0.2 of a core, done 35 s after the PDF), a JVM asked for the book's
# verdict that gets less than STARVED_SHARE of a core over STARVED_SECONDS is stopped, and the
# command line checks the EPUB at the usual priority instead.
STARVED_SECONDS = 5.0
STARVED_SHARE = 0.1


# Parts per core up to which the layout leaves a core idle. With more, the pool stays full to the
# end of the layout (longest first) and the warm-up only takes the workers' CPU, beside them in
# memory: the 30-chapter book, 2 interleaved runs at load 11–14, 296–361 s wall and 157–160 s CPU
# against 420 s, 169 s, but 491–532 MB peak PSS against 392 MB. The sample (2 parts) is the case
# it is for: its one chapter is laid out alone for ~3 s of CPU while the other core waits.
PARTS_PER_CORE = 2


def few_parts(config: Path) -> bool:
    """Whether the book has few enough parts for the layout to leave a core idle."""
    from book.errors import BookError
    from book.source.config import load_config

    try:
        return len(load_config(config).sources) <= PARTS_PER_CORE * cores()
    except (BookError, OSError):
        return False  # the build reports it


def wanted(out: Path, formats: tuple[str, ...], check: bool, config: Path | None = None) -> bool:
    """Whether a build into `out` should start EPUBCheck early: it checks an EPUB, the folder holds
    no EPUB of an earlier build (whose edit would use the shared warm server, or the cached verdict),
    a core is spare and the book (`config`) has few parts."""
    if not (check and "epub" in formats and daemon.enabled() and shutil.which("java") and spare_core()):
        return False
    try:
        if any(Path(out).glob("*.epub")):
            return False
    except OSError:
        return False
    return config is None or few_parts(config)


class EarlyCheck:
    """EPUBCheck's server started now and warmed on a small EPUB in the background; `check()` asks
    it for the verdict on the build's EPUB, `stop()` ends it."""

    def __init__(self, jar: Path, home: Path, tmp: Path) -> None:
        self.jar, self.tmp = jar, tmp
        self.sock = tmp / "sock"
        small = warmup_epub(tmp / "small.epub")  # the toolchain's own small book, where made
        cp = os.pathsep.join(map(str, [*class_path(jar), home]))
        cmd = ["java", *JVM_OPTIONS, "-XX:+ExitOnOutOfMemoryError", *share_options(jar), "-cp", cp, daemon.MAIN,
               str(self.sock), str(IDLE_SECONDS)]  # fmt: skip
        nice = shutil.which("nice")  # the command, not os.nice in a preexec_fn: this process has threads
        if nice:
            cmd = [nice, "-n", str(NICE), *cmd]
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.tmp
        )
        # The warm-up request, sent once the JVM listens; the book's request queues behind it.
        self.warming = threading.Thread(target=self._warm, args=(small,), daemon=True)
        self.warming.start()

    def _connect(self) -> socket.socket | None:
        """A connection once the server listens (None if it died or never bound)."""
        deadline = time.monotonic() + daemon.START_TIMEOUT
        while time.monotonic() < deadline and self.proc is not None and self.proc.poll() is None:
            conn = daemon.dial(self.sock) if self.sock.exists() else None
            if conn is not None:
                return conn
            time.sleep(0.02)
        return None

    def _warm(self, small: Path) -> None:
        conn = self._connect()
        if conn is not None:
            daemon.request(conn, small, self.tmp / "warm-up.json", wait=False)

    def check(self, epub: Path, report: Path) -> int | None:
        """EPUBCheck's exit code for `epub`, its JSON report at `report`; None on any failure (or
        the JVM starved: stopped, see STARVED_SECONDS, also while it has yet to listen)."""
        answered = threading.Event()
        threading.Thread(target=self._watch, args=(answered,), daemon=True).start()
        try:
            self.warming.join(daemon.START_TIMEOUT)
            conn = self._connect()
            return None if conn is None else daemon.request(conn, epub, report)
        finally:
            answered.set()

    def _watch(self, answered: threading.Event, every: float = 0.5) -> None:
        """Stop the JVM if it gets less than STARVED_SHARE of a core over STARVED_SECONDS while
        the book's verdict is awaited (its request then fails, and the command line runs)."""
        proc = self.proc
        if proc is None:
            return
        seen: list[tuple[float, float]] = []
        while not answered.wait(every):
            used = process_cpu(proc.pid)
            if used is None:
                return
            now = time.monotonic()
            seen.append((now, used))
            while len(seen) > 1 and now - seen[1][0] >= STARVED_SECONDS:
                seen.pop(0)
            start, first = seen[0]
            if now - start >= STARVED_SECONDS and used - first < STARVED_SHARE * (now - start):
                proc.kill()
                return

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:  # killed: it holds nothing to save, and the build waits for its exit
            proc.kill()
            proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start(jar: Path) -> EarlyCheck | None:
    """EPUBCheck's server started for this build, or None: not compiled, the socket's name too long,
    or a warm shared server running already (the build asks that one, as before)."""
    home = daemon.server_dir(jar)
    if home is None or not (home / f"{daemon.MAIN}.class").is_file():
        return None
    shared = daemon.socket_path(jar)
    if shared is not None and shared.exists():  # not daemon.connect: its lock waits for a server starting
        conn = daemon.dial(shared)
        if conn is not None:
            conn.close()  # the server reads an empty request and goes on waiting
            return None
    tmp = Path(tempfile.mkdtemp(prefix="book-epubcheck-"))  # 0700: only the user can connect
    if len(os.fsencode(tmp / "sock")) > daemon.SOCKET_LIMIT:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    try:
        return EarlyCheck(jar, home, tmp)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
