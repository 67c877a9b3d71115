"""The chapter's free-text reference list (参考文献 as written, parsed by book.parts.references) →
the same entries formatted by the book's CSL (GB/T 7714-2015 numeric unless `csl:` says otherwise)
through Pandoc's citeproc, so every book prints the standard's form: type codes ([J] [EB/OL]),
upper-case Western surnames, et al. / 等, and the access date of an online entry.

The entries are cited in the order written, so the numeric style numbers them as the author did.
A free-text line has no access date; the part's `last_updated` (else its `created_date`, else the
book's `date`) stands for it, the day the chapter's sources were last looked at. An entry whose
source line says "et al." is given a fourth author for the style to cut to "et al."; the export
(`references.json`) keeps what was written. A line that did not parse is printed as written.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

from lxml import etree

from book.errors import BookError, Problem
from book.model import BookConfig, Part
from book.parts.references import Reference

ACCESS_KEYS = ("last_updated", "created_date")
PADDING = {"family": "Zzpadding", "given": "Z."}
PADDED = re.compile(r",? ZZPADDING Z")


def _accessed(part: Part, config: BookConfig) -> list[int] | None:
    for value in [*(part.meta.get(k) for k in ACCESS_KEYS), config.date]:
        text = str(value or "")[:10]
        if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit():
            return [int(text[:4]), int(text[5:7]), int(text[8:10])]
    return None


def citeproc_items(refs: list[Reference], part: Part, config: BookConfig) -> list[dict[str, Any]]:
    """The parsed entries as CSL-JSON for citeproc: access dates on online entries, et al. kept."""
    accessed = _accessed(part, config)
    items = []
    for ref in refs:
        if not ref.parsed:
            continue
        item = ref.csl()
        item.pop("note", None)
        if ref.et_al:
            # Padded past three, so the style cuts the list and writes et al.; the padding never prints.
            item["author"] = [*item["author"], *[PADDING] * max(1, 4 - len(item["author"]))]
        if item.get("URL") and accessed:
            item["accessed"] = {"date-parts": [accessed]}
        if item["type"] in ("post-weblog", "webpage") or (item.get("URL") and item["type"] == "article"):
            # GB/T 7714 §4.x: an online-only work is an electronic resource [EB/OL]; an arXiv preprint too.
            item["type"] = "webpage"
        if ref.is_latin:
            item["language"] = "en"
        items.append(item)
    return items


def format_entries(items: list[dict[str, Any]], part: Part, config: BookConfig) -> dict[str, tuple[str, str, bool]]:
    """citeproc's entries: id → (label "[1]", XHTML of the entry, Western entry)."""
    from book.engine.cache import digest
    from book.source.config import builtin_style

    if not items:
        return {}
    meta = json.dumps({"references": items, "link-citations": False}, ensure_ascii=False)
    body = f"---\n{meta}\n---\n\n" + " ".join(f"[@{i['id']}]" for i in items) + "\n"
    csl = config.csl or builtin_style("numeric")
    key = digest(body, csl)  # the style by its content
    if key not in _FORMATTED:
        _FORMATTED[key] = _formatted(body, csl, part)
        while len(_FORMATTED) > 64:
            del _FORMATTED[next(iter(_FORMATTED))]
    return dict(_FORMATTED[key])


# A reference list's entries as citeproc formatted them, by the list and the style: a long-running
# preview re-rendering an edited chapter ran Pandoc on its unchanged list again (a fifth of a second).
_FORMATTED: dict[str, dict[str, tuple[str, str, bool]]] = {}


def _formatted(body: str, csl: Any, part: Part) -> dict[str, tuple[str, str, bool]]:
    from book.parts.citations import ET_AL_ZH, HAN
    from book.parts.convert import BUNDLED_PANDOC, PANDOC_RTS
    from book.parts.htmltree import parse_fragment, to_xhtml
    from book.parts.references import url_with_breaks

    args = [str(BUNDLED_PANDOC), "--from=markdown", "--to=html5", "--wrap=none", "--sandbox", "--citeproc",
            f"--csl={csl}", *PANDOC_RTS]  # fmt: skip
    try:
        done = subprocess.run(args, input=body.encode("utf-8"), capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise BookError(Problem(str(part.source), None, "Pandoc took over 120 s on the reference list")) from None
    if done.returncode != 0:
        what = done.stderr.decode("utf-8", "replace").strip()[-200:]
        raise BookError(Problem(str(part.source), None, f"Pandoc could not format the reference list: {what}"))
    root = parse_fragment(done.stdout.decode("utf-8"))
    out: dict[str, tuple[str, str, bool]] = {}
    for entry in root.iter("div"):
        if "csl-entry" not in (entry.get("class") or "").split():
            continue
        label, right = "", entry
        for child in entry:
            cls = (child.get("class") or "").split() if isinstance(child.tag, str) else []
            if "csl-left-margin" in cls:
                label = "".join(child.itertext()).strip()
            elif "csl-right-inline" in cls or "csl-block" in cls:
                right = child
        for a in right.iter("a"):  # a long URL may break after its slashes and before its dots
            if a.text and a.text == a.get("href") and len(a) == 0:
                broken = parse_fragment(str(url_with_breaks(a.get("href") or "")))
                a.text = broken.text
                for piece in list(broken):
                    a.append(piece)
                a.set("class", "ref-url")
        html = PADDED.sub("", to_xhtml(right, inner=True).strip())
        latin = not HAN.search(ET_AL_ZH.sub("", PADDED.sub("", "".join(right.itertext()))))
        if latin:
            html = ET_AL_ZH.sub(", et al. ", html, count=1)
        out[(entry.get("id") or "").removeprefix("ref-")] = (label, html, latin)
    return out


def apply(root: etree._Element, refs: list[Reference], part: Part, config: BookConfig) -> None:
    """Each parsed entry of the reference lists the structures stage made → citeproc's entry, its
    number before it; the list's design, ids and classes stay (an unparsed entry stays as written)."""
    from book.parts.htmltree import parse_fragment

    if not refs:
        return
    formatted = format_entries(citeproc_items(refs, part, config), part, config)
    for section in [s for s in root.iter("section") if (s.get("class") or "").split() == ["references"]]:
        for li in section.iter("li"):
            found = formatted.get(li.get("id") or "")
            if found is None:
                continue
            label, html, latin = found
            new = parse_fragment(f'<span class="ref-label">{label}</span> {html}')
            for child in list(li):
                li.remove(child)
            li.text = new.text
            for child in list(new):
                li.append(child)
            if not latin and li.get("lang") == "en":
                del li.attrib["lang"]
