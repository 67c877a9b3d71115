"""Cross-references: Quarto labels and references in a part → numbered captions, and `@fig-x` → links.

Authors write Quarto's labels — `{#fig-x}` on an image, `{#tbl-x}` on a table's caption, `#lst-x`
on a code fence (`lst-cap="…"` its caption), `{#eq-x}` after a display equation, `{#sec-x}` on a
heading, a chapter's first heading's or front matter's id for `@ch-x` — and references `@fig-x`
(or `[@fig-x]`). A part is processed alone, so three steps:

1. `protect` (Markdown, before Pandoc): each reference becomes `[]{.crossref ref="fig-x"}`, so
   citeproc never sees it as a citation key (and an `@` right after a Han character counts too).
2. `number` (the part's tree): figures, tables, listings and equations get chapter-relative
   numbers (图 8-1, 表 8-2, 代码 8-1, (8-3); appendix A-1) in their captions, a labelled section its
   number (8.2); the labels found travel with the rendered part (`RenderedPart.labels`).
3. `resolve` (the whole book): every placeholder becomes a link into the target's document with
   its label text (图 8-1), followed, when `crossref: {page: true}`, by a slot print fills with the
   page (book.pdf.pagerefs). An unknown label or a label defined twice is a positioned error.
"""

from __future__ import annotations

import difflib
import html
import re
from functools import lru_cache
from typing import Any

from lxml import etree

from book.errors import BookError, Problem, display_path
from book.locale import locale_for
from book.model import BookConfig, Manifest, Part, RenderedPart
from book.parts.htmltree import heading_level
from book.source.fences import CLOSE, CODE, TEXT, Fences

KINDS = ("fig", "tbl", "lst", "eq", "sec", "ch")
# ASCII only: a label written against Han text (`如@fig-cat所示`) ends where the Han begins.
_LABEL = r"(?:fig|tbl|lst|eq|sec|ch)-[A-Za-z0-9_]+(?:[-:.][A-Za-z0-9_]+)*"
# `[@fig-x]` or `@fig-x` not inside a word or an e-mail address (`a@fig-x.com`).
REFERENCE = re.compile(rf"\[-?@({_LABEL})\]|(?<![A-Za-z0-9_.@])@({_LABEL})")
DEFINITION = re.compile(rf"(?:\{{|\s)#({_LABEL})(?=[\s}}])")
INLINE_CODE = re.compile(r"(`+)(?:.+?)\1")
# A display equation with a label; the math stage renders what is inside the wrapper.
EQUATION = re.compile(rf"^\$\$(.+?)\$\$\s*\{{#({_LABEL})\}}\s*$")
PLACEHOLDER = re.compile(r'<span class="crossref" data-ref="([^"]+)">\s*</span>')


def _outside_code(body: str, fix: Any) -> str:
    """`fix(line)` on every line not inside a fenced block, inline code spans left as written."""
    out, fences = [], Fences()
    for line in body.split("\n"):
        if fences.kind(line) != TEXT:
            out.append(line)
            continue
        pieces, last = [], 0
        for c in INLINE_CODE.finditer(line):
            pieces += [fix(line[last : c.start()]), c.group(0)]
            last = c.end()
        out.append("".join(pieces) + fix(line[last:]))
    return "\n".join(out)


def protect(body: str) -> str:
    """The Markdown with every cross-reference a placeholder span and each labelled `$$…$$` wrapped."""

    def fix(text: str) -> str:
        m = EQUATION.match(text)
        if m:
            return f"::: {{#{m.group(2)} .equation}}\n$${m.group(1)}$$ []{{.eq-number}}\n:::"
        return REFERENCE.sub(lambda r: f'[]{{.crossref ref="{r.group(1) or r.group(2)}"}}', text)

    return _outside_code(body, fix)


def definitions(part: Part) -> list[tuple[str, int]]:
    """Every label the part's source defines, with its line, in reading order (code left out)."""
    found = list(_defined(part.body, part.body_line))
    opener = part.meta.get("id") if isinstance(part.meta.get("id"), str) else None
    if opener and opener.startswith("ch-"):
        found.append((opener, part.body_line))
    return found


@lru_cache(maxsize=64)  # every part is scanned on every build: a long-running preview re-scanned 29 unedited ones
def _defined(body: str, body_line: int) -> tuple[tuple[str, int], ...]:
    found: list[tuple[str, int]] = []
    fences = Fences()
    for i, line in enumerate(body.split("\n")):
        if fences.kind(line) in (CODE, CLOSE):
            continue  # the opening line itself may carry `#lst-x`
        for d in DEFINITION.finditer(" " + line):
            found.append((d.group(1), body_line + i))
    return tuple(found)


def chapter_prefix(part: Part) -> str:
    """What a part's numbers start with: its chapter number, or its appendix letter."""
    if part.kind == "appendix":
        return part.id.removeprefix("app").upper()
    return str(part.number or "")


def _caption_label(parent: etree._Element, text: str) -> None:
    """`text` as the caption's first words (图 8-1), in a span the stylesheets space from the rest."""
    # A number such as 8-1 is no range for the typography stage's GB/T 15835 rule (8～1).
    span = etree.Element("span", {"class": "xref-label", "data-typography": "off"})
    span.text = text
    rest = parent.text
    span.tail = " " + rest if rest else (" " if len(parent) else None)
    parent.text = None
    parent.insert(0, span)


_OWNER = {
    "fig": lambda el: el.tag == "figure",
    "tbl": lambda el: el.tag == "table",
    "lst": lambda el: el.tag in ("div", "pre") and "sourceCode" in (el.get("class") or "").split() or el.tag == "pre",
    "eq": lambda el: "equation" in (el.get("class") or "").split(),
}


def number(root: etree._Element, part: Part, config: BookConfig) -> list[dict[str, str]]:
    """Numbers the part's labelled figures, tables, listings, equations and sections; returns its labels."""
    t = locale_for(config.language)
    prefix = chapter_prefix(part)
    own = f"{part.id}-"
    counters = dict.fromkeys(("fig", "tbl", "lst", "eq"), 0)
    sections = [0, 0, 0]
    labels: list[dict[str, str]] = []

    def label_of(el: etree._Element) -> str | None:
        i = el.get("id") or ""
        name = i.removeprefix(own)
        return name if i.startswith(own) and name.split("-", 1)[0] in KINDS else None

    found: list[tuple[etree._Element, str]] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        level = heading_level(el)
        if level in (2, 3):
            sections[level - 1] += 1
            if level == 2:
                sections[2] = 0
            target = el.getparent() if el.getparent() is not None and el.getparent().tag == "section" else el
            name = label_of(target) or label_of(el)
            if name and name.startswith("sec-"):
                n = f"{prefix}.{sections[1]}" + (f".{sections[2]}" if level == 3 else "")
                _caption_label(el, n)
                labels.append({"label": name, "id": target.get("id") or el.get("id") or "", "number": n,
                               "text": t["xref_section"].format(n=n)})  # fmt: skip
            continue
        name = label_of(el)
        # Only the element the label names: Pandoc's line spans inside a listing (`lst-x-1`) are not it.
        if name and _OWNER.get(name.split("-", 1)[0], lambda _e: False)(el):
            found.append((el, name))
    for el, name in found:
        kind = name.split("-", 1)[0]
        counters[kind] += 1
        n = f"{prefix}-{counters[kind]}"
        text = t[f"xref_{kind}"].format(n=n)
        caption = ""
        if kind == "fig":
            cap = el.find("figcaption")
            if cap is None:
                cap = etree.SubElement(el, "figcaption")
            caption = "".join(cap.itertext()).strip()
            _caption_label(cap, text)
        elif kind == "tbl":
            cap = el.find("caption")
            if cap is None:
                cap = etree.Element("caption")
                el.insert(0, cap)
            caption = "".join(cap.itertext()).strip()
            _caption_label(cap, text)
        elif kind == "lst":
            caption = el.get("data-lst-cap") or ""
            cap = etree.Element("p", {"class": "listing-caption"})
            cap.text = caption
            _caption_label(cap, text)
            el.addprevious(cap)
        elif kind == "eq":
            slot = next((s for s in el.iter("span") if "eq-number" in (s.get("class") or "").split()), None)
            if slot is None:
                slot = etree.SubElement(el, "span", {"class": "eq-number"})
            slot.text = f"({n})"
            slot.set("data-typography", "off")
        labels.append({"label": name, "id": el.get("id") or "", "number": n, "text": text, "caption": caption})
    return labels


def chapter_label(part: Part, opener_id: str | None) -> list[dict[str, str]]:
    """The part's own label (`@ch-x`): its first heading's `{#ch-x}` or its front matter's `id: ch-x`."""
    names = {n for n in (opener_id, part.meta.get("id")) if isinstance(n, str) and n.startswith("ch-")}
    return [{"label": n, "id": part.id, "number": chapter_prefix(part), "text": part.label} for n in sorted(names)]


def resolve(config: BookConfig, manifest: Manifest, rendered: list[RenderedPart]) -> None:
    """Every placeholder in the book → a link to its label; unknown and twice-defined labels raise."""
    from book.parts.links import _opener_id

    parts = {p.id: p for p in manifest.parts}
    problems: list[Problem] = []
    where: dict[str, list[tuple[Part, int]]] = {}
    for p in manifest.parts:
        for name, line in definitions(p):
            where.setdefault(name, []).append((p, line))
    for name, places in where.items():
        if len(places) > 1:
            (p1, l1), (p2, l2) = places[0], places[1]
            problems.append(Problem(str(p2.source), l2, f"label {{#{name}}} is defined twice (also at {display_path(p1.source)}:{l1})",
                                    "rename one of them and the references meant for it"))  # fmt: skip
    targets: dict[str, tuple[RenderedPart, dict[str, str]]] = {}
    for rp in rendered:
        part = parts.get(rp.id)
        extra = chapter_label(part, _opener_id(part)) if part is not None else []
        for lab in [*rp.labels, *extra]:
            targets.setdefault(lab["label"], (rp, lab))
    known = sorted(targets)
    for rp in rendered:
        part = parts.get(rp.id)
        if part is None or 'class="crossref"' not in rp.body:
            continue

        def one(m: re.Match[str], rp: RenderedPart = rp, part: Part = part) -> str:
            name = m.group(1)
            found = targets.get(name)
            if found is None:
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
                hint = f"did you mean @{close[0]}?" if close else f"write {{#{name}}} where it is defined"
                problems.append(Problem(str(part.source), part.line_of(f"@{name}"), f"unknown label @{name}", hint))
                return m.group(0)
            doc, lab = found
            href = f"#{lab['id']}" if doc.id == rp.id else f"{doc.filename}#{lab['id']}"
            link = f'<a class="crossref" href="{href}">{html.escape(lab["text"], quote=False)}</a>'
            if config.crossref_pages:
                link += f'<span class="page-slot" data-target="{lab["id"]}"></span>'
            return link

        rp.body = PLACEHOLDER.sub(one, rp.body)
    if problems:
        raise BookError(problems)


def lists(config: BookConfig, rendered: list[RenderedPart]) -> list[dict[str, Any]]:
    """The book's figures and tables in reading order, for the 插图目录 / 表格目录 after the contents."""
    t = locale_for(config.language)
    out: list[dict[str, Any]] = []
    for name in config.crossref_lists:
        kind = {"figures": "fig", "tables": "tbl"}[name]
        items = [
            {"href": f"{rp.filename}#{lab['id']}", "text": lab["text"], "caption": lab.get("caption", "")}
            for rp in rendered
            for lab in rp.labels
            if lab["label"].startswith(kind + "-")
        ]
        if items:
            out.append({"id": f"list-of-{name}", "title": t[f"list_of_{name}"], "entries": items})
    return out
