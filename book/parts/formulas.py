"""Formulas stage: a part's TeX formulas (Pandoc's `span.math` from `$…$` and `$$…$$`) → MathML in the tree.

Pandoc reads the formulas (`tex_math_dollars`) and writes them as TeX (`--mathjax` form, `\\(…\\)` and
`\\[…\\]`), which the sanitiser keeps as text; here every formula of the part goes through ONE Pandoc
call (`--mathml`, its texmath converter), and the MathML replaces the TeX. That MathML is the
formula in both outputs: the EPUB carries it, the PDF stage draws it as an SVG (book.pdf.mathsvg).

A display formula is set in a wrapper `.equation` (a `div` when it is its paragraph's only content,
else a block `span`), with an empty `span.eq-number` for the equation's number; `$$ … $$ {#eq-x}`
gives the wrapper the id `eq-x` (prefixed with the part's id like every id Pandoc writes, so
`[式](#eq-x)` links to it). A formula texmath cannot read is a warning at its line and is set as code
with its TeX, never dropped. A formula with CJK text (`\\text{中文}`) is warned about at its line: the
print's math font has no CJK glyphs, so the PDF sets it as its TeX (book.pdf.mathsvg).
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import lru_cache

from lxml import etree, html

from book.errors import Diagnostics
from book.model import Part
from book.text import CJK_TEXT_RE

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
LABEL = re.compile(r"^\s*\{#([A-Za-z_][\w.:-]*)\}")
DELIMITERS = {"inline": (r"\(", r"\)"), "display": (r"\[", r"\]")}
REASON = re.compile(r"^\s+((?:unexpected|expecting)[^\n]*)", re.M)


def _classes(el: etree._Element) -> list[str]:
    return (el.get("class") or "").split()


def formulas(root: etree._Element) -> list[tuple[etree._Element, str, bool]]:
    """Every (span, TeX, display?) Pandoc wrote under `root`, in document order."""
    found = []
    for span in root.iter("span"):
        cls = _classes(span)
        if "math" not in cls or len(span) or not ("inline" in cls or "display" in cls):
            continue
        kind = "display" if "display" in cls else "inline"
        tex = span.text or ""
        start, end = DELIMITERS[kind]
        if tex.startswith(start) and tex.endswith(end):
            tex = tex[len(start) : -len(end)]
        found.append((span, tex.strip(), kind == "display"))
    return found


@lru_cache(maxsize=1)
def _api_version() -> list[int]:
    from book.parts.convert import BUNDLED_PANDOC

    out = subprocess.run([str(BUNDLED_PANDOC), "-f", "markdown", "-t", "json"], input=b"", capture_output=True,
                         timeout=60, check=True)  # fmt: skip
    return json.loads(out.stdout)["pandoc-api-version"]


def to_mathml(items: list[tuple[str, bool]]) -> list[tuple[str | None, str]]:
    """(TeX, display?) → (MathML or None, why not) each, through one Pandoc call."""
    from book.parts.convert import BUNDLED_PANDOC, PANDOC_RTS

    blocks = [
        {"t": "Para", "c": [{"t": "Math", "c": [{"t": "DisplayMath" if display else "InlineMath"}, tex]}]}
        for tex, display in items
    ]
    doc = json.dumps({"pandoc-api-version": _api_version(), "meta": {}, "blocks": blocks})
    done = subprocess.run(
        [str(BUNDLED_PANDOC), "-f", "json", "-t", "html5", "--mathml", "--wrap=none", *PANDOC_RTS],
        input=doc.encode("utf-8"), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return [(None, "Pandoc could not read the formulas")] * len(items)
    tree = html.fragment_fromstring(done.stdout.decode("utf-8"), create_parent="div")
    reasons = [
        (REASON.search(chunk).group(1) if REASON.search(chunk) else "texmath cannot read it")
        for chunk in done.stderr.decode("utf-8", "replace").split("Could not convert TeX math")[1:]
    ]
    results: list[tuple[str | None, str]] = []
    for p in tree.iter("p"):
        m = re.search(r"<math\b.*</math>", html.tostring(p, encoding="unicode"), re.S)
        if m:
            results.append((m.group(0), ""))
        else:
            results.append((None, reasons.pop(0) if reasons else "texmath cannot read it"))
    return results if len(results) == len(items) else [(None, "Pandoc's output did not match")] * len(items)


def _mathml_element(text: str) -> etree._Element:
    el = etree.fromstring(text.replace("<math ", f'<math xmlns="{MATHML_NS}" ', 1) if "xmlns" not in text else text)
    return el


def apply(root: etree._Element, part: Part, diag: Diagnostics) -> int:
    """Replace every formula's TeX with its MathML (or its TeX as code); return how many became MathML."""
    found = formulas(root)
    if not found:
        return 0
    converted = to_mathml([(tex, display) for _, tex, display in found])
    done = 0
    for (span, tex, display), (mathml, why) in zip(found, converted, strict=True):
        label = None
        if display and span.tail and (m := LABEL.match(span.tail)):
            label = m.group(1)
            span.tail = span.tail[m.end() :] or None
        if mathml is None:
            shown = tex if len(tex) <= 60 else tex[:59] + "…"
            diag.warn(part.source, part.line_of(tex[:40]) if tex else None,
                      f"formula does not parse: {shown} — {why}",
                      "check the TeX (braces, \\begin/\\end, command names); it is printed as code")  # fmt: skip
            span.tag = "code"
            span.set("class", "math-source" + (" display" if display else ""))
            span.text = tex
            continue
        try:
            math = _mathml_element(mathml)
        except etree.XMLSyntaxError:
            span.tag, span.text = "code", tex
            span.set("class", "math-source")
            continue
        if CJK_TEXT_RE.search("".join(math.itertext())):
            diag.warn(part.source, part.line_of(tex[:40]),
                      f"formula has CJK text ziamath cannot draw — {tex if len(tex) <= 60 else tex[:59] + '…'}",
                      "the PDF prints it as its TeX, the EPUB as MathML; put the Chinese words outside the $…$ to have it drawn")  # fmt: skip
        span.text = None
        span.append(math)
        done += 1
        if display:
            _wrap_display(span, part, label)
    return done


def _wrap_display(span: etree._Element, part: Part, label: str | None) -> None:
    """The display formula in its `.equation` wrapper with the number's slot (and the label's id)."""
    outer = next((a for a in span.iterancestors() if "equation" in (a.get("class") or "").split()), None)
    if outer is not None:  # a labelled `$$…$$ {#eq-x}` came wrapped (and numbered) by the cross-references
        _into_wrapper(span, outer)
        return
    parent = span.getparent()
    alone = (
        parent is not None
        and parent.tag == "p"
        and len(parent) == 1
        and not (parent.text or "").strip()
        and not (span.tail or "").strip()
    )
    math = span[0]
    span.remove(math)
    number = etree.Element("span", {"class": "eq-number"})
    if alone:
        wrapper = etree.Element("div", {"class": "equation"})
        wrapper.tail = parent.tail
        wrapper.extend([math, number])
        parent.getparent().replace(parent, wrapper)
    else:
        wrapper = span
        span.attrib.clear()
        span.set("class", "equation")
        span.extend([math, number])
    if label:
        wrapper.set("id", f"{part.id}-{label}")


def _into_wrapper(span: etree._Element, outer: etree._Element) -> None:
    """The formula straight in the wrapper that is already there: one wrapper, one number's slot."""
    math = span[0]
    math.tail = span.tail
    span.getparent().replace(span, math)
    para = math.getparent()
    if para is not outer and para.tag == "p" and para.getparent() is outer:
        at = outer.index(para)
        for child in reversed(list(para)):
            outer.insert(at, child)
        outer.remove(para)
    if not any("eq-number" in (s.get("class") or "").split() for s in outer.iter("span")):
        outer.append(etree.Element("span", {"class": "eq-number"}))
