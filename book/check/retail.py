"""Retail checks: the built EPUB, interior and cover → findings a store or a printer would reject.

The EPUB's cover must be as large as the stores ask; the ISBN in the EPUB's metadata must be the
print one or the EPUB's own e-ISBN (`epub.isbn`); the cover's spine must match the interior's
current page count (an interior that grew since the cover was made fails); the cover's barcode,
read back from the PDF's vector paths, must carry the book's ISBN. `book check` prints them.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from book.check.epub import OPF_NS, _package, _resolve
from book.check.pdf import check_pdf_print
from book.check.printed import concat, point
from book.model import BookConfig, CheckResult

COVER_LONG_SIDE = 1600  # px: Apple, Kobo, 京东读书 and 当当云阅读 ask for at least this
COVER_SHORT_SIDE = 1000  # px: Amazon's minimum short side
SPINE_TOLERANCE_MM = 0.1


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: tuple[float, ...]


def filled_rects(path: Path) -> list[Rect]:
    """Every filled rectangle (`re` … `f`) of the first page, in page space, with its fill colour."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        page = pdf.pages[0]
        instructions = pikepdf.parse_content_stream(page)
    rects: list[Rect] = []
    ctm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    fill: tuple[float, ...] = (0.0,)
    path_rects: list[tuple[float, float, float, float]] = []

    for operands, operator in instructions:
        op = str(operator)
        if op == "q":
            stack.append((ctm, fill))
        elif op == "Q" and stack:
            ctm, fill = stack.pop()
        elif op == "cm":
            ctm = concat(tuple(float(v) for v in operands), ctm)
        elif op in ("k", "sc", "scn", "g", "rg"):
            fill = tuple(float(v) for v in operands if not isinstance(v, pikepdf.Name))
        elif op == "re":
            x, y, w, h = (float(v) for v in operands)
            (x1, y1), (x2, y2) = point(ctm, x, y), point(ctm, x + w, y + h)
            path_rects.append((min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1)))
        elif op in ("f", "F", "f*", "B", "B*"):
            rects += [Rect(*r, fill) for r in path_rects]
            path_rects = []
        elif op in ("n", "S", "s"):
            path_rects = []
    return rects


def barcode_modules(rects: list[Rect]) -> str | None:
    """The module string of the EAN-13 drawn among `rects`: the largest row of K-only bars."""
    mm = 72 / 25.4
    bars = [r for r in rects if r.fill[-4:] == (0.0, 0.0, 0.0, 1.0) and r.w < 3 * mm and r.h > 10 * mm]
    rows: dict[float, list[Rect]] = {}
    for r in bars:
        rows.setdefault(round(r.y + r.h, 1), []).append(r)
    if not rows:
        return None
    row = max(rows.values(), key=len)
    if len(row) < 20:
        return None
    row.sort(key=lambda r: r.x)
    module = min(r.w for r in row)
    start, end = row[0].x, max(r.x + r.w for r in row)
    count = round((end - start) / module)
    out = []
    for i in range(count):
        centre = start + (i + 0.5) * module
        out.append("1" if any(r.x <= centre <= r.x + r.w for r in row) else "0")
    return "".join(out)


def decode_ean13(modules: str) -> str | None:
    """95 modules → the 13 digits, or None when the pattern is no valid EAN-13."""
    from barcode.charsets import ean

    if len(modules) != 95 or modules[:3] != ean.EDGE or modules[45:50] != ean.MIDDLE or modules[92:] != ean.EDGE:
        return None
    lookup = {code: (digit, kind) for kind, codes in ean.CODES.items() for digit, code in enumerate(codes)}
    left, right = modules[3:45], modules[50:92]
    digits, parity = "", ""
    for i in range(6):
        found = lookup.get(left[i * 7 : i * 7 + 7])
        if found is None or found[1] == "C":
            return None
        digits += str(found[0])
        parity += found[1]
    if parity not in ean.LEFT_PATTERN:
        return None
    first = str(ean.LEFT_PATTERN.index(parity))
    for i in range(6):
        found = lookup.get(right[i * 7 : i * 7 + 7])
        if found is None or found[1] != "C":
            return None
        digits += str(found[0])
    from book.cover.isbn import check_digit13

    code = first + digits
    return code if check_digit13(code[:12]) == code[12] else None


# --- checks --------------------------------------------------------------------------------------


def check_epub_cover_size(epub: Path) -> CheckResult:
    """The cover image's long side ≥ 1600 px and short side ≥ 1000 px."""
    from PIL import Image

    with zipfile.ZipFile(epub) as z:
        opf_path, opf = _package(z)
        items = list(opf.iterfind(".//opf:manifest/opf:item", OPF_NS))
        cover = next((i for i in items if "cover-image" in (i.get("properties") or "").split()), None)
        if cover is None:
            return CheckResult("retail cover", False, "the EPUB has no cover image")
        with Image.open(io.BytesIO(z.read(_resolve(opf_path, cover.get("href"))))) as im:
            w, h = im.size
    long, short = max(w, h), min(w, h)
    ok = long >= COVER_LONG_SIDE and short >= COVER_SHORT_SIDE
    summary = f"cover {w}×{h} px" + (
        "" if ok else f": stores ask for ≥ {COVER_LONG_SIDE} px on the long side and ≥ {COVER_SHORT_SIDE} on the short"
    )
    return CheckResult("retail cover", ok, summary)


def epub_isbns(epub: Path) -> list[str]:
    """The ISBNs (13 digits) among the EPUB's dc:identifier and dc:source values."""
    from book.cover.isbn import InvalidISBN, parse

    with zipfile.ZipFile(epub) as z:
        _, opf = _package(z)
    found = []
    for tag in ("identifier", "source"):
        for el in opf.iterfind(f".//dc:{tag}", OPF_NS):
            text = re.sub(r"^urn:isbn:", "", (el.text or "").strip(), flags=re.I)
            try:
                found.append(parse(text).digits)
            except InvalidISBN:
                continue
    return found


def check_epub_isbn(config: BookConfig, epub: Path) -> CheckResult:
    """The EPUB carries the print ISBN, or its own valid e-ISBN (`epub.isbn`) and no other."""
    from book.cover.isbn import InvalidISBN, parse

    try:
        written = config.isbn or config.print.isbn  # as the EPUB's page list names its source
        print_isbn = parse(written).digits if written else None
        e_value = config.epub.isbn
        e_isbn = parse(e_value).digits if e_value else None
    except InvalidISBN as exc:
        return CheckResult("retail isbn", False, exc.args[0])
    found = epub_isbns(epub)
    if print_isbn is None and e_isbn is None:
        return CheckResult("retail isbn", True, "no ISBN configured" + (f"; the EPUB carries {found}" if found else ""))
    problems = []
    if e_isbn and e_isbn == print_isbn:
        problems.append("epub.isbn is the print ISBN: an e-book needs its own, or leave epub.isbn out")
    wanted = {e_isbn} if e_isbn else {print_isbn}
    stray = [f for f in found if f not in wanted | {print_isbn}]
    if stray:
        problems.append(f"the EPUB carries ISBN {', '.join(stray)}, which is neither the print nor the e-ISBN")
    if not wanted & set(found):
        problems.append(f"the EPUB's metadata lacks ISBN {next(iter(wanted))}")
    summary = f"EPUB ISBN {', '.join(found) or 'none'}; print {print_isbn or '—'}, e-ISBN {e_isbn or '—'}"
    return CheckResult("retail isbn", not problems, "; ".join(problems) or summary, problems)


def check_cover(config: BookConfig, cover: Path, interior: Path | None) -> list[CheckResult]:
    """The cover PDF: PDF/X-4 basics, the spine against the interior's pages, the barcode's digits."""
    import pikepdf

    from book.cover import press
    from book.cover.spread import book_isbn, interior_pages, spread

    results = [CheckResult("cover " + r.name.removeprefix("pdf "), r.ok, r.summary, r.details)
               for r in [check_pdf_print(cover)]]  # fmt: skip
    with pikepdf.open(cover) as pdf:
        trim = [float(v) for v in pdf.pages[0].obj.TrimBox]
        made_for = str(pdf.docinfo.get("/BookInteriorPages", "?"))
        oi = (pdf.Root.get("/OutputIntents") or [None])[0]
        identifier = str(oi.get("/OutputConditionIdentifier", "")) if oi is not None else ""
    width_mm = (trim[2] - trim[0]) / 72 * 25.4
    if interior is not None and interior.is_file():
        pages = interior_pages(interior)
        want = spread(config, pages)
        spine = width_mm - 2 * want.trim_w
        ok = abs(spine - want.spine) <= SPINE_TOLERANCE_MM
        summary = f"spine {spine:.2f} mm for {pages} pages of {want.caliper:g} mm leaves" + (
            ""
            if ok
            else f": the interior needs {want.spine:.2f} mm (the cover was made for {made_for} pages)"
            " — run `make cover`"
        )
        results.append(CheckResult("cover spine", ok, summary))
    else:
        results.append(CheckResult("cover spine", False, "no interior PDF to measure the spine against: run `make`"))
    intent = press.output_intent(config)
    if intent is not None and identifier != intent.identifier:
        results.append(CheckResult("cover intent", False, f"output intent {identifier!r}, book.yaml asks for "
                                   f"{intent.identifier} — run `make cover`"))  # fmt: skip
    code = book_isbn(config)
    if code is not None:
        modules = barcode_modules(filled_rects(cover))
        drawn = decode_ean13(modules) if modules else None
        ok = drawn == code.digits
        results.append(CheckResult("cover barcode", ok, f"EAN-13 {drawn} read from the bars" + (
            "" if ok else f", book.yaml says {code.digits} — run `make cover`")))  # fmt: skip
    return results


def check_retail(config: BookConfig, out: Path) -> list[CheckResult]:
    """Every retail check whose files exist in `out`."""
    results: list[CheckResult] = []
    epub, interior, cover = (out / f"{config.slug}{s}" for s in (".epub", ".pdf", "-cover.pdf"))
    if epub.is_file():
        results += [check_epub_cover_size(epub), check_epub_isbn(config, epub)]
    if cover.is_file():
        results += check_cover(config, cover, interior)
    elif config.isbn or config.print.isbn:
        results.append(CheckResult("cover", False, f"{cover} not found: run `make cover`"))
    return results
