"""Diagrams stage: ```dot / ```graphviz / ```mermaid fences in a part's tree → SVG figures.

Graphviz (Debian's `dot`) and Mermaid (its npm CLI `mmdc` in `.tools/mermaid`, driving Debian's
Chromium) draw the fence as SVG; the SVG is stored in the build's image cache under the hash of the
tool, its options and the fence, so an unchanged diagram is drawn once, and becomes an image of the
part like any other (an SVG file in the EPUB, vectors in the PDF). A book is untrusted input:
Graphviz runs in its safe mode (no files read), with a time bound, and the SVG keeps only drawing
(no scripts, links, foreign objects or external images). Where the tool is missing or fails, the
fence stays a code listing, with one warning naming its line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from book.engine.atomic import write_bytes
from book.errors import Diagnostics
from book.locale import locale_for
from book.model import ImageRef, Part

LANGUAGES = {"dot": "graphviz", "graphviz": "graphviz", "mermaid": "mermaid"}
TIMEOUT = 30  # seconds for one diagram
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# `make tools` installs it from scripts/mermaid's lock file; BOOK_MERMAID_CLI names another one.
MMDC = Path(
    os.environ.get("BOOK_MERMAID_CLI") or PROJECT_ROOT / ".tools" / "mermaid" / "node_modules" / ".bin" / "mmdc"
)
CJK_FONT = "Noto Sans CJK SC"
# Labels in the book's sans face at about the body's size (Graphviz's 14 pt read large beside 10.5 pt
# text); a graph's own fontname/fontsize still win.
GRAPHVIZ_OPTIONS = (f"-Gfontname={CJK_FONT}", f"-Nfontname={CJK_FONT}", f"-Efontname={CJK_FONT}",
                    "-Nfontsize=10", "-Efontsize=9", "-Gfontsize=10")  # fmt: skip
SVG_NS = "http://www.w3.org/2000/svg"
XLINK = "{http://www.w3.org/1999/xlink}href"
# What an SVG image may hold: drawing, text and their definitions. Everything else is dropped.
UNSAFE = {"script", "foreignObject", "image", "iframe", "object", "embed", "audio", "video", "animate", "set"}


class DiagramError(Exception):
    """The tool is missing, timed out or refused the diagram."""


def fences(root: etree._Element) -> list[tuple[etree._Element, str, str]]:
    """Every (block to replace, tool, source) for a diagram fence under `root`."""
    found = []
    for pre in root.iter("pre"):
        classes = (pre.get("class") or "").split()
        code = pre.find("code")
        classes += (code.get("class") or "").split() if code is not None else []
        tool = next((LANGUAGES[c] for c in classes if c in LANGUAGES), None)
        if tool is None:
            continue
        parent = pre.getparent()
        block = parent if parent is not None and "sourceCode" in (parent.get("class") or "").split() else pre
        found.append((block, tool, "".join((code if code is not None else pre).itertext())))
    return found


def graphviz(source: str) -> bytes:
    """`dot -Tsvg` of a source, in safe mode, CJK labels measured in the book's sans face."""
    exe = shutil.which("dot")
    if exe is None:
        raise DiagramError("Graphviz is not installed (Debian's 'graphviz')")
    with tempfile.TemporaryDirectory() as empty:
        # SERVER_NAME puts Graphviz in its safe mode; GV_FILE_PATH confines what it may read to
        # an empty folder (an `image=` or `shapefile=` attribute reads nothing of the machine).
        env = {"PATH": os.environ.get("PATH", ""), "SERVER_NAME": "book", "GV_FILE_PATH": empty,
               "HOME": empty, "LANG": "C.UTF-8"}  # fmt: skip
        return _run([exe, "-Tsvg", *GRAPHVIZ_OPTIONS], source, env)


def mermaid(source: str) -> bytes:
    """`mmdc` of a source (Mermaid's CLI, headless Chromium without a sandbox it cannot have here)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not MMDC.exists() or chromium is None:
        raise DiagramError("Mermaid's CLI is not installed (make tools) or Chromium is missing")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "puppeteer.json"
        config.write_text(f'{{"executablePath": "{chromium}", "args": ["--no-sandbox"]}}', encoding="utf-8")
        src, out = Path(tmp) / "in.mmd", Path(tmp) / "out.svg"
        src.write_text(source, encoding="utf-8")
        env = {**os.environ, "HOME": tmp, "PUPPETEER_SKIP_DOWNLOAD": "true"}
        # Labels as SVG text: HTML labels are <foreignObject>s, which no SVG image may keep.
        look = Path(tmp) / "mermaid.json"
        look.write_text('{"htmlLabels": false, "flowchart": {"htmlLabels": false}, '
                        f'"fontFamily": "{CJK_FONT}, sans-serif"}}', encoding="utf-8")  # fmt: skip
        _run([str(MMDC), "-q", "-p", str(config), "-c", str(look), "-i", str(src), "-o", str(out),
              "-b", "transparent"], "", env)  # fmt: skip
        if not out.is_file():
            raise DiagramError("Mermaid wrote no SVG")
        return out.read_bytes()


def tools_present() -> str:
    """Which drawing tools this machine has, for the part cache's key."""
    return f"dot={bool(shutil.which('dot'))} mmdc={MMDC.exists()}"


def _run(args: list[str], source: str, env: dict[str, str]) -> bytes:
    try:
        done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        raise DiagramError(f"{Path(args[0]).name} took over {TIMEOUT} s") from None
    except OSError as exc:
        raise DiagramError(f"{Path(args[0]).name} did not start ({exc.strerror})") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiagramError(f"{Path(args[0]).name} refused it: {said[0][:160] if said else done.returncode}")
    return done.stdout


def clean_svg(data: bytes) -> bytes:
    """The drawing only: no scripts, foreign objects, images, event attributes or links out."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    root = etree.fromstring(data, parser)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        name = etree.QName(el).localname
        if name in UNSAFE:
            el.getparent().remove(el)
            continue
        for attr in list(el.attrib):
            local = etree.QName(attr).localname
            value = el.get(attr) or ""
            if local.startswith("on") or (local == "href" and not value.startswith("#")):
                del el.attrib[attr]
        if name == "a":  # a link's drawing stays, the link goes
            el.tag = f"{{{SVG_NS}}}g"
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def draw(tool: str, source: str, cache_dir: Path) -> Path:
    """The cached SVG of one diagram, drawn if it is not there yet."""
    key = hashlib.sha256(f"{tool}\0{GRAPHVIZ_OPTIONS}\0{source}".encode()).hexdigest()[:24]
    path = cache_dir / f"diagram-{key}.svg"
    if not path.is_file():
        svg = graphviz(source) if tool == "graphviz" else mermaid(source)
        try:
            write_bytes(path, clean_svg(svg))
        except etree.XMLSyntaxError:
            raise DiagramError("the tool wrote no readable SVG") from None
    return path


def apply(root: etree._Element, part: Part, diag: Diagnostics, cache_dir: Path | None, language: str) -> list[ImageRef]:
    """Replace every diagram fence by its figure; return the SVG images the part now embeds."""
    found = fences(root)
    if not found:
        return []
    folder = cache_dir or Path(tempfile.gettempdir()) / "book-image-cache"
    refs: list[ImageRef] = []
    for block, tool, source in found:
        first = part.line_of(source.strip().splitlines()[0]) if source.strip() else None
        line = first - 1 if first and first > 1 else first  # the fence's own line, above its first
        try:
            path = draw(tool, source, folder)
        except DiagramError as exc:
            diag.warn(part.source, line, f"{tool} diagram left as code: {exc}",
                      "install the tool (make setup), or fix the diagram's source")  # fmt: skip
            continue
        ref = ImageRef(path, f"images/{path.stem.removeprefix('diagram-')[:16]}.svg", "image/svg+xml")
        figure = etree.Element("figure", {"class": f"figure diagram {tool}"})
        etree.SubElement(
            figure, "img", {"src": ref.href, "alt": block.get("data-alt") or locale_for(language)["diagram"]}
        )
        caption = block.get("data-caption") or block.get("title")
        if caption:
            etree.SubElement(figure, "figcaption").text = caption
        figure.tail = block.tail
        block.getparent().replace(block, figure)
        if all(r.href != ref.href for r in refs):
            refs.append(ref)
    return refs
