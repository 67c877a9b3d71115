"""Built EPUB and PDF → typography findings per rule, measured on the outputs themselves.

EPUB checks read every XHTML document with lxml (inline runs as the typography stage sees them,
protected text masked). PDF checks use poppler: `pdffonts` (faces), `pdftotext -layout` (line
starts/ends for kinsoku) and `pdftotext -bbox-layout` (line right edges for justification).
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

from lxml import etree

from book.text import CLOSING, FULLWIDTH_PUNCT, HALF_AT_END, HAN, LATIN_END, LATIN_START, OPENING, STOPS, WJ
from book.typography.coverage import missing_chars
from book.typography.text import local, runs

Findings = dict[str, list[str]]
RULES = {
    "1-language": "document language is not zh-Hans/zh-CN or a non-SC CJK face is used",
    "2-typefaces": "a required face (Song/Hei) is missing from the PDF",
    "5-justify": "a justified line is not flush with the measure",
    "6-kinsoku": "a line starts with closing punctuation or ends with an opening mark",
    "7-dashes": "`--`/`...` left in Chinese text or a dash pair outside its unbreakable span",
    "8-quotes": "ASCII quotation mark in Chinese text",
    "9-punct": "ASCII punctuation after a Han character",
    "10-spacing": "Han–Latin boundary without exactly one space, or a space by full-width punctuation",
    "11-compress": "adjacent full-width punctuation not compressed",
    "12-emphasis": "Chinese emphasis without emphasis dots",
    "13-newline": "whitespace between two Han characters",
    "14-tofu": "character no font can draw",
    "15-headings": "a heading is the last line of a page",
}
ASCII_AFTER_HAN = re.compile(f"[{HAN}][,;:?!]|[{HAN}]\\.(?=\\s|$|[{HAN}])")
UNSPACED = re.compile(f"[{HAN}][{WJ}]?[{LATIN_START}]|[{LATIN_END}][{HAN}]")
DOUBLED = re.compile(f"[{HAN}][ \t\n]{{2,}}[{LATIN_START}]|[{LATIN_END}][ \t\n]{{2,}}[{HAN}]")
SPACE_BY_PUNCT = re.compile(
    f"[{re.escape(FULLWIDTH_PUNCT.replace('·', ''))}] +\\S| +[{re.escape(FULLWIDTH_PUNCT.replace('·', ''))}]"
)
PAIRABLE = OPENING + CLOSING + STOPS


def _empty() -> Findings:
    return {k: [] for k in RULES}


def _masked(run: object) -> str:
    return "".join("\ufffc" if ch.locked else ch.c for ch in run.chars)  # type: ignore[attr-defined]


def _has_class(el: etree._Element | None, cls: str) -> bool:
    return el is not None and cls in (el.get("class") or "").split()


def check_xhtml(root: etree._Element, where: str, found: Findings) -> None:
    """Findings for one XHTML document (or a part body)."""
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    if local(root.tag) == "html" and not lang.lower().startswith(("zh-hans", "zh-cn")):
        found["1-language"].append(f"{where}: lang={lang!r}")
    body = next((el for el in root.iter() if local(el.tag) == "body"), root)
    for run in runs(body):
        text = _masked(run)
        inner = text.strip()
        for m in ASCII_AFTER_HAN.finditer(text):
            found["9-punct"].append(f"{where}: {text[max(0, m.start() - 8) : m.end() + 8]!r}")
        if re.search(f"[{HAN}]", text):
            for m in re.finditer("\"|(?<![A-Za-z0-9])'|'(?![A-Za-z])", text):
                found["8-quotes"].append(f"{where}: {text[max(0, m.start() - 8) : m.end() + 8]!r}")
        for m in re.finditer(f"[{HAN}][ {WJ}]*(?:--|\\.\\.\\.)|(?:--|\\.\\.\\.)[ ]*[{HAN}]", text):
            found["7-dashes"].append(f"{where}: {m.group()!r}")
        for pattern in (UNSPACED, DOUBLED):
            for m in pattern.finditer(text):
                found["10-spacing"].append(f"{where}: {text[max(0, m.start() - 6) : m.end() + 6]!r}")
        for m in SPACE_BY_PUNCT.finditer(inner):
            found["10-spacing"].append(f"{where}: space by punctuation {inner[max(0, m.start() - 6) : m.end() + 6]!r}")
        for m in re.finditer(f"[{HAN}][ \t\n]+[{HAN}]", text):
            found["13-newline"].append(f"{where}: {m.group()!r}")
        chars = run.chars
        for i in range(len(chars) - 1):
            a, b = chars[i], chars[i + 1 if chars[i + 1].c != WJ or i + 2 >= len(chars) else i + 2]
            if a.c in PAIRABLE and b.c in PAIRABLE and not a.locked:
                seg = run.segs[a.seg]
                if not (seg.attr == "text" and _has_class(seg.node, "cjk-halt")):
                    found["11-compress"].append(f"{where}: {a.c + b.c!r}")
        for m in re.finditer("——|……", text):
            seg = run.segs[chars[m.start()].seg]
            if not (seg.attr == "text" and _has_class(seg.node, "cjk-dash")):
                found["7-dashes"].append(f"{where}: {m.group()!r} outside span.cjk-dash")
    for em in body.iter():
        if local(em.tag) != "em":
            continue
        text = "".join(em.itertext())
        if re.search(f"[{HAN}]", text):
            dotted = "".join(
                "".join(s.itertext()) for s in em.iter() if local(s.tag) == "span" and _has_class(s, "cjk-dot")
            )
            if not _has_class(em, "cjk-em") or len(dotted) != len(re.findall(f"[{HAN}]", text)):
                found["12-emphasis"].append(f"{where}: {text!r}")
    for c in missing_chars("".join(body.itertext())):
        found["14-tofu"].append(f"{where}: U+{ord(c):04X} {c!r}")


def epub_findings(path: Path) -> Findings:
    found = _empty()
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if not name.endswith(".xhtml"):
                continue
            root = etree.fromstring(z.read(name))
            for gap in root.iter("{http://www.w3.org/1999/xhtml}span"):
                if _has_class(gap, "cjk-gap"):  # the EPUB's unstretchable Han–Latin space (book.epub.spacing)
                    gap.text = " "
            check_xhtml(root, name, found)
    return found


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def pdf_findings(path: Path, font_size_pt: float = 10.5) -> Findings:
    found = _empty()
    fonts = _run("pdffonts", str(path))
    for line in fonts.splitlines()[2:]:
        name = line.split()[0] if line.split() else ""
        if "CJK" in name and re.search(r"CJK-(JP|KR|TC|HK)|CJK(jp|kr|tc|hk)", name):
            found["1-language"].append(f"{path.name}: font {name}")
    for face in ("Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC"):
        if face not in fonts:
            found["2-typefaces"].append(f"{path.name}: {face} not embedded")
    layout = _run("pdftotext", "-layout", str(path), "-").replace(WJ, "")
    for n, line in enumerate(layout.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        if len(s) <= 2 and len(line) - len(line.lstrip()) > 8:
            continue  # a mark after a compressed one in another face: pdftotext gives it its own row, same baseline
        if s[0] in CLOSING + STOPS + "·" or s.startswith("——"):
            found["6-kinsoku"].append(f"{path.name}:{n}: starts {s[:12]!r}")
        if s[-1] in OPENING:
            found["6-kinsoku"].append(f"{path.name}:{n}: ends {s[-12:]!r}")
    plain = _run("pdftotext", str(path), "-").replace(WJ, "")
    for m in ASCII_AFTER_HAN.finditer(plain):
        found["9-punct"].append(f"{path.name}: {plain[max(0, m.start() - 8) : m.end() + 8]!r}")
    for m in re.finditer(f'[{HAN}]"|"[{HAN}]', plain):
        found["8-quotes"].append(f"{path.name}: {plain[max(0, m.start() - 8) : m.end() + 8]!r}")
    for m in UNSPACED.finditer(plain):
        found["10-spacing"].append(f"{path.name}: {plain[max(0, m.start() - 6) : m.end() + 6]!r}")
    found["5-justify"] = unflush_lines(path, font_size_pt)
    found["15-headings"] = stranded_headings(path, font_size_pt)
    return found


def stranded_headings(path: Path, font_size_pt: float = 10.5) -> list[str]:
    """Pages whose last text line (above the folio) is set larger than the body: a heading."""
    em = font_size_pt
    xml = re.sub(r"<!DOCTYPE[^>]*>", "", _run("pdftotext", "-bbox-layout", str(path), "-"))
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(recover=True))
    ns = "{http://www.w3.org/1999/xhtml}"
    bad: list[str] = []
    for pno, page in enumerate(root.iter(f"{ns}page"), 1):
        lines = sorted(
            ([float(ln.get(k, 0)) for k in ("yMin", "yMax")], "".join(w.text or "" for w in ln.iter(f"{ns}word")))
            for ln in page.iter(f"{ns}line")
        )
        text_lines = [(y, t) for y, t in lines if not re.fullmatch(r"[0-9ivxlcdm]+", t)]  # drop the folio
        if len(text_lines) < 2:
            continue  # a title or opener page
        (y0, y1), text = text_lines[-1]
        if y1 - y0 > 1.6 * em:
            bad.append(f"{path.name} p{pno}: ends with heading {text[:20]!r}")
    return bad


MARKER = re.compile(r"^(?:[•◦▪‣·–\-◆◇■□●○▶▸►★☆✓✔]|\d+[.)]|[a-z][.)])$")


def unflush_lines(path: Path, font_size_pt: float = 10.5) -> list[str]:
    """Justified body lines that end short of the measure by more than 0.05 em.

    poppler gives lines, not paragraphs, so a line counts as a paragraph's last (exempt) when the
    next line is not its continuation: it starts indented (a new paragraph's 2 em), with a list
    marker, at another size (a heading), or on the next page. The measure's right edge is the
    page's rightmost line end; a blockquote's is 2 em inside it; a boxed block's (the padded
    本章要点 box) is the edge its own lines share: the lines that start where it starts end there.
    A list marker drawn apart from its text (`li::before`, absolutely positioned) is poppler's own
    line: it is joined to the text line on its row, so the item still starts with its marker.
    """
    em = font_size_pt
    xml = _run("pdftotext", "-bbox-layout", str(path), "-")
    xml = re.sub(r"<!DOCTYPE[^>]*>", "", xml)
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(recover=True))
    ns = "{http://www.w3.org/1999/xhtml}"
    bad: list[str] = []
    for pno, page in enumerate(root.iter(f"{ns}page"), 1):
        lines = []
        for ln in page.iter(f"{ns}line"):
            words = [w.text or "" for w in ln.iter(f"{ns}word")]
            box = [float(ln.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax")]
            lines.append((box, words))
        lines = _join_markers(lines, em)
        lines.sort(key=lambda item: (round(item[0][1], 1), item[0][0]))
        if len(lines) < 2:
            continue
        right = _edge([b[2] for b, _ in lines], em)
        lefts = [round(b[0], 1) for b, _ in lines]
        indent = min(lefts) + 2 * em  # a paragraph's first line starts here
        # a block set narrower than the measure (a padded box): the edge shared by the lines that
        # start at the same x, when at least two of them end there (a lone short line sets no edge)
        own: dict[float, float] = {}
        for left in set(lefts):
            group = [b[2] for b, _ in lines if abs(b[0] - left) < 0.1 * em]
            edge = _edge(group, em)
            if sum(abs(e - edge) <= 0.05 * em for e in group) >= 2:
                own[left] = edge

        def body_size(b: list[float]) -> bool:
            return abs((b[3] - b[1]) - 1.44 * em) < 0.1 * em

        for (b, words), (nb, nwords) in zip(lines, lines[1:], strict=False):
            if not body_size(b) or not body_size(nb):
                continue  # headings are not justified; a line before one ends its paragraph
            if nb[1] - b[1] > 2.2 * em or nb[1] <= b[1] + 0.5 * em:
                continue  # not the next line of the same column (a figure or a table between)
            if MARKER.match(words[0] if words else ""):
                continue  # a list item's first line: its continuation is indented past the marker
            if nb[0] > b[0] + 0.1 * em or MARKER.match(nwords[0] if nwords else "") or abs(nb[0] - indent) < 0.1 * em:
                continue  # the next line starts a paragraph (2 em indent) or a list item
            edge = own.get(round(b[0], 1), right)
            end = b[2]
            if words and words[-1][-1:] in HALF_AT_END and abs(end - 0.5 * em - edge) <= 0.05 * em:
                end -= 0.5 * em  # a line-end mark set half-width (justify's compression): poppler counts its full em
            short = min(abs(e - end) for e in (right, right - 2 * em, edge))
            if short > 0.05 * em and right - end < 4 * em:
                bad.append(f"{path.name} p{pno}: {(edge - b[2]) / em:.3f} em short: {''.join(words)[:24]!r}")
    return bad


def _edge(ends: list[float], em: float) -> float:
    """The median end of the lines near the rightmost one (one line that overshoots, such as an
    unbreakable URL, must not move the edge)."""
    near = sorted(e for e in ends if e > max(ends) - em)
    return near[len(near) // 2]


def _join_markers(lines: list[tuple[list[float], list[str]]], em: float) -> list[tuple[list[float], list[str]]]:
    """A lone list marker (its own poppler line) joined to the text line on its row, right of it."""
    markers = [i for i, (_, w) in enumerate(lines) if len(w) == 1 and MARKER.match(w[0])]
    joined: set[int] = set()
    out = [(list(b), list(w)) for b, w in lines]
    for i in markers:
        mb, mw = lines[i]
        row = [
            j
            for j, (b, w) in enumerate(lines)
            if j != i and j not in markers and b[0] >= mb[2] and b[0] - mb[2] < 2 * em
            and abs((b[1] + b[3]) / 2 - (mb[1] + mb[3]) / 2) < 0.5 * em
        ]  # fmt: skip
        if not row:
            continue
        j = min(row, key=lambda k: lines[k][0][0])
        b, w = out[j]
        out[j] = ([mb[0], b[1], b[2], b[3]], mw + w)  # the text's row and size, the marker's start
        joined.add(i)
    return [line for i, line in enumerate(out) if i not in joined]


def counts(found: Findings) -> dict[str, int]:
    return {k: len(v) for k, v in found.items()}
