"""Layout check: a built print PDF (and the book's page geometry) → what is set beyond the type area or the trim.

The PDF is measured, not the layout's intentions: the words' boxes come from poppler's
`pdftotext -bbox`, the images' from their placement in the content streams (pikepdf, the current
transformation matrix followed through `q`/`Q`/`cm` and into forms). A word is beyond the type area
when it reaches past its left or right edge (running heads and folios sit above and below it, in
the margins, so only the trim bounds text vertically); an image when any side passes the type area.
Each finding names its page and, where the overflowing word is found in a source, the line.
"""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from book.check.page_keys import page_keys
from book.check.printed import concat
from book.engine.cache import Cache, digest, toolchain_fingerprint
from book.engine.workers import cores
from book.model import BookConfig, Build, CheckResult, Part
from book.pdf.furniture import Geometry, geometry
from book.text import HALF_AT_END

TOLERANCE = 1.0  # pt: rounding in the layout and a glyph's side bearing
WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)</word>')
LAYOUT_PAGES = "layout-pages"  # cache stage: page digest → what was found on that page
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


@dataclass(frozen=True)
class Overflow:
    """One thing set beyond where it may be, on a 1-based page, by `by` points."""

    page: int
    kind: str  # "text" | "image"
    beyond: str  # "type area" | "trim"
    by: float
    text: str = ""

    def describe(self) -> str:
        what = f"text '{self.text[:40]}'" if self.kind == "text" else "an image"
        return f"page {self.page}: {what} runs {self.by:.1f} pt past the {self.beyond}"


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float


def page_boxes(pdf_path: Path) -> list[tuple[Box, Box]]:
    """Per page: (trim box, media box) in PDF points, origin bottom-left."""
    import pikepdf

    boxes = []
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            media = [float(v) for v in page.obj.MediaBox]
            trim = [float(v) for v in page.obj.get("/TrimBox", page.obj.MediaBox)]
            boxes.append((Box(*trim), Box(*media)))
    return boxes


def type_area(trim: Box, geo: Geometry, number: int) -> Box:
    """The type area of page `number` (1 = a recto, its gutter on the left)."""
    left = geo.inner if number % 2 else geo.outer
    x0 = trim.x0 + left
    return Box(x0, trim.y0 + geo.bottom, x0 + geo.type_width, trim.y1 - geo.top)


def image_boxes(pdf_path: Path, only: set[int] | None = None) -> list[list[Box]]:
    """Per page: the box of every image drawn on it (images inside forms included); with `only`,
    the pages of those 0-based indexes only (the others: empty)."""
    import pikepdf

    found: list[list[Box]] = []
    with pikepdf.open(pdf_path) as pdf:
        for i, page in enumerate(pdf.pages):
            boxes: list[Box] = []
            if only is not None and i not in only:
                found.append(boxes)
                continue
            _walk(page.obj, page.obj.get("/Resources"), (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), boxes, 0)
            found.append(boxes)
    return found


def _walk(stream: object, resources: object, ctm: tuple[float, ...], boxes: list[Box], depth: int) -> None:
    import pikepdf

    if depth > 8:
        return
    stack: list[tuple[float, ...]] = []
    xobjects = resources.get("/XObject", {}) if isinstance(resources, pikepdf.Dictionary) else {}
    for operands, operator in pikepdf.parse_content_stream(stream, "q Q cm Do"):
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else ctm
        elif op == "cm":
            ctm = concat(tuple(float(v) for v in operands), ctm)
        elif op == "Do" and operands:
            xo = xobjects.get(str(operands[0])) if xobjects else None
            if xo is None:
                continue
            if xo.get("/Subtype") == "/Image":
                corners = [(x * ctm[0] + y * ctm[2] + ctm[4], x * ctm[1] + y * ctm[3] + ctm[5])
                           for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]  # fmt: skip
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                boxes.append(Box(min(xs), min(ys), max(xs), max(ys)))
            elif xo.get("/Subtype") == "/Form":
                matrix = tuple(float(v) for v in xo.get("/Matrix", [1, 0, 0, 1, 0, 0]))
                _walk(xo, xo.get("/Resources", resources), concat(matrix, ctm), boxes, depth + 1)


def halted_at_end(box: Box, area: Box, word: str) -> bool:
    """Whether `word` passes the type area's right edge only by the blank half of the mark ending it:
    pdftotext measures a mark by its full em, the line set it half-width."""
    half_em = 0.5 * (box.y1 - box.y0)  # a word box is as tall as its type's size
    return word[-1:] in HALF_AT_END and area.x0 - box.x0 <= TOLERANCE and box.x1 - area.x1 <= half_em + TOLERANCE


def words(pdf_path: Path, first: int | None = None, last: int | None = None) -> list[list[tuple[Box, str]]]:
    """Per page: every word's box (PDF points, origin bottom-left) and text, from pdftotext; with
    `first` and `last` (1-based, inclusive), of those pages only."""
    pages_arg = ["-f", str(first), "-l", str(last)] if first is not None and last is not None else []
    cmd = ["pdftotext", "-bbox", *pages_arg, str(pdf_path), "-"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    pages = []
    for m in PAGE.finditer(out):
        height = float(m.group(2))
        found = []
        for w in WORD.finditer(m.group(3)):
            x0, y0, x1, y1 = (float(w.group(i)) for i in range(1, 5))
            # pdftotext measures from the media box's top-left corner; `measure` moves it to PDF space
            found.append((Box(x0, height - y1, x1, height - y0), html.unescape(w.group(5))))
        pages.append(found)
    return pages


def measure(pdf_path: Path, geo: Geometry, cache: Cache | None = None) -> list[Overflow]:
    """Everything set beyond the type area or the trim, page by page.

    With `cache`, a page drawn exactly as one measured before (book.check.page_keys), on the same
    side of the spread, keeps what was found on it: only the pages an edit changed are measured.
    """
    if cache is None:
        return _measure(pdf_path, geo)
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        tool = toolchain_fingerprint()  # a changed check measures every page again
        keys = [digest(k, n % 2, repr(geo), TOLERANCE, tool) for n, k in enumerate(page_keys(pdf), 1)]
    known: dict[str, list[Overflow]] = cache.load(LAYOUT_PAGES, "pages") or {}
    todo = {i for i, k in enumerate(keys) if k not in known}
    fresh = _measure(pdf_path, geo, todo) if todo else []
    by_page: dict[int, list[Overflow]] = {}
    for o in fresh:
        by_page.setdefault(o.page - 1, []).append(o)
    found: list[Overflow] = []
    kept: dict[str, list[Overflow]] = {}
    for i, k in enumerate(keys):  # stored with page 0: the number is the page's place, not its content
        page = by_page.get(i, []) if i in todo else [dataclasses.replace(o, page=i + 1) for o in known[k]]
        kept[k] = [dataclasses.replace(o, page=0) for o in page]
        found.extend(page)
    if todo or len(kept) != len(known):
        cache.store(LAYOUT_PAGES, "pages", kept)
    return found


def _runs(pages: set[int]) -> list[tuple[int, int]]:
    """0-based page indexes → runs of consecutive pages (first, last), 1-based, inclusive."""
    runs: list[tuple[int, int]] = []
    for i in sorted(pages):
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i + 1, i + 1))
    return runs


def _chunks(runs: list[tuple[int, int]], n: int, least: int = 64) -> list[tuple[int, int]]:
    """Runs of pages cut into about `n` runs of equal length (none shorter than `least` pages)."""
    total = sum(last - first + 1 for first, last in runs)
    size = max(least, -(-total // max(1, n)))
    out = []
    for first, last in runs:
        while last - first + 1 > size:
            out.append((first, first + size - 1))
            first += size
        out.append((first, last))
    return out


def _measure(pdf_path: Path, geo: Geometry, only: set[int] | None = None) -> list[Overflow]:
    boxes = page_boxes(pdf_path)
    found: list[Overflow] = []
    text: list[list[tuple[Box, str]]] = [[] for _ in boxes]
    if shutil.which("pdftotext"):
        runs = _chunks(_runs(set(range(len(boxes))) if only is None else only), cores())
        # pdftotext takes ~15 ms a page: a long book's pages in one process per core
        with ThreadPoolExecutor(max_workers=max(1, min(len(runs), cores()))) as pool:
            for (first, last), got in zip(runs, pool.map(lambda r: words(pdf_path, *r), runs), strict=True):
                n = last - first + 1
                text[first - 1 : last] = got[:n] + [[] for _ in range(n - len(got[:n]))]
    images = image_boxes(pdf_path, only)
    for number, ((trim, media), page_words, page_images) in enumerate(zip(boxes, text, images, strict=False), 1):
        area = type_area(trim, geo, number)
        for raw, word in page_words:
            box = Box(raw.x0 + media.x0, raw.y0 + media.y0, raw.x1 + media.x0, raw.y1 + media.y0)
            past_trim = max(trim.x0 - box.x0, box.x1 - trim.x1, trim.y0 - box.y0, box.y1 - trim.y1)
            if past_trim > TOLERANCE:
                found.append(Overflow(number, "text", "trim", past_trim, word))
                continue
            past = max(area.x0 - box.x0, box.x1 - area.x1)
            if past > TOLERANCE and halted_at_end(box, area, word):
                continue  # a line-end mark set half-width (book.pdf.weasy.justify): its blank half is not drawn
            if past > TOLERANCE:
                found.append(Overflow(number, "text", "type area", past, word))
        for box in page_images:
            past_trim = max(trim.x0 - box.x0, box.x1 - trim.x1, trim.y0 - box.y0, box.y1 - trim.y1)
            past = max(area.x0 - box.x0, box.x1 - area.x1, area.y0 - box.y0, box.y1 - area.y1)
            if past_trim > TOLERANCE:
                found.append(Overflow(number, "image", "trim", past_trim))
            elif past > TOLERANCE:
                found.append(Overflow(number, "image", "type area", past))
    return found


def source_of(overflow: Overflow, parts: list[Part]) -> tuple[Path, int] | None:
    """The part and line where an overflowing word is written, when it is found in one source."""
    needle = overflow.text.strip()
    if len(needle) < 3:
        return None
    for part in parts:
        if needle in part.body:
            line = part.line_of(needle)
            if line:
                return part.source, line
    return None


def check_layout(pdf_path: Path, config: BookConfig) -> CheckResult:
    """`book check`: nothing in the print PDF beyond the type area or the trim."""
    found = measure(pdf_path, geometry(config, "print"))
    if not found:
        return CheckResult("pdf layout", True, "nothing beyond the type area or the trim")
    trim = sum(1 for o in found if o.beyond == "trim")
    summary = f"{len(found)} beyond the type area ({trim} beyond the trim)"
    return CheckResult("pdf layout", False, summary, [o.describe() for o in found[:50]])


LAYOUT_WARNINGS = 20  # past these, one line counts the rest


def warn_layout(build: Build, pdf: Path, measured: list[tuple[int, str, str, float, str]] | None = None) -> None:
    """The build's warnings for what its print PDF sets beyond the type area or the trim; with
    `measured`, as found while the parts were laid out (book.pdf.overflow), else measured on the PDF."""
    if measured is None:
        found = measure(pdf, geometry(build.config, "print"), build.cache)
    else:
        found = [Overflow(*o) for o in measured]
    for o in found[:LAYOUT_WARNINGS]:
        where = source_of(o, build.manifest.parts)
        hint = ("break the long word, URL or table row, or shorten it" if o.kind == "text"
                else "give the image a smaller width")  # fmt: skip
        build.diag.warn(where[0] if where else pdf, where[1] if where else None, o.describe(), hint)
    if len(found) > LAYOUT_WARNINGS:
        build.diag.warn(pdf, None, f"{len(found) - LAYOUT_WARNINGS} more things beyond the type area",
                        "run `book check` for the list")  # fmt: skip
