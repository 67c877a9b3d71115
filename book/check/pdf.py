"""PDF checks: a built PDF → findings on its fonts (pdffonts) and, for print, PDF/X-4 boxes and colour."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from book.locale import locale_for
from book.model import CheckResult


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


def check_pdf_fonts(path: Path, language: str = "zh-Hans") -> CheckResult:
    """Every font embedded, none Type 3, and every CJK face the book's own (SC, or TC/HK for zh-Hant)."""
    region = locale_for(language).region
    wrong = [r for r in ("SC", "TC", "HK", "JP", "KR") if r != region]
    if not shutil.which("pdffonts"):
        return CheckResult("pdffonts", False, "pdffonts not found: install poppler-utils")
    rows = pdffonts(path)
    problems = []
    for r in rows:
        if r["emb"] != "yes":
            problems.append(f"{r['name']} is not embedded")
        if r["type"].startswith("Type 3"):
            problems.append(f"{r['name']} is a Type 3 font")
        if any(tag in r["name"] for tag in wrong) and "CJK" in r["name"]:
            what = "a Simplified Chinese" if region == "SC" else f"the book's ({region})"
            problems.append(f"{r['name']} is not {what} face")
    summary = (
        f"{len(rows)} fonts, all embedded, no Type 3, {region} faces only" if not problems else "; ".join(problems)
    )
    return CheckResult("pdffonts", not problems, summary, problems)


RGB_OPERATORS = {"rg", "RG"}
GRID_MIN = 0.95  # share of body lines on the line grid below which `book check` fails (issue 18)


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


def check_pdf_print(path: Path, language: str = "zh-Hans") -> CheckResult:
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
    fonts = check_pdf_fonts(path, language)
    if not fonts.ok:
        problems += fonts.details
    w, h = (trim[2] - trim[0], trim[3] - trim[1]) if trim else (0, 0)
    summary = (
        f"{pages} pages, trim {w:.2f}×{h:.2f} pt, PDF/X-4 CMYK output intent, no DeviceRGB, fonts embedded"
        if not problems
        else "; ".join(problems[:6])
    )
    return CheckResult("pdf print", not problems, summary, problems)


def check_pdf(path: Path, language: str = "zh-Hans") -> list[CheckResult]:
    """Every validator of the print PDF (`book check` calls this when it exists), for the book's language."""
    from book.check.faces import check_pdf_faces
    from book.check.line_audit import audit_lines, check_line_audit
    from book.check.page_audit import audit_pages, check_page_audit
    from book.check.printed import read_pages

    pages = read_pages(path)  # once for both audits: reading every glyph is most of their time
    audit = audit_pages(pages)

    return [
        check_pdf_fonts(path, language),
        check_pdf_print(path, language),
        check_pdf_faces(path, language),
        check_page_audit(path, grid=GRID_MIN, audit=audit),
        check_line_audit(path, audit_lines(pages, audit)),
    ]
