"""Links between parts: a part's links to other manuscript files and ids → links into the book's documents.

Authors link chapters as files (`03.md`, `../12/chapter.md#section`) and name places with `{#id}`.
A part is processed on its own (book.parts.process), so there a link to a local file is only
marked (`xref:` + its path from the book's root); once every part is rendered, `resolve` turns
each mark into `ch03.xhtml#ch03-section` (the EPUB's href; the PDF stage makes it `#ch03-section`)
or, for a file that is not a part of the book, into plain text with a positioned warning. A `#id`
naming an explicit `{#id}` of another chapter is pointed into that chapter's document the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from book.errors import Diagnostics
from book.model import Manifest, Part, RenderedPart
from book.source.infer import ATX

XREF = "xref:"
EXPLICIT_ID = re.compile(r"\{#([A-Za-z_][\w.:-]*)")
ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S)
HREF = re.compile(r'\shref="([^"]*)"')
WRITTEN = re.compile(r'\sdata-written="([^"]*)"')
ID = re.compile(r'\sid="([^"]+)"')


def explicit_ids(body: str) -> set[str]:
    """The ids an author wrote as `{#id}` in a part's Markdown (headings, spans, divs)."""
    return set(EXPLICIT_ID.findall(body))


def mark(href: str, target: Path, root: Path) -> str:
    """A link to a local file as the mark `resolve` reads: `xref:` + its path from the book's root."""
    fragment = urlsplit(href).fragment
    rel = target.resolve().relative_to(root.resolve()).as_posix()
    return XREF + quote(rel) + (f"#{fragment}" if fragment else "")


def _opener_id(part: Part) -> str | None:
    """The explicit id of the part's leading h1, which merges into the opener (whose id is the part's)."""
    for line in part.body.split("\n"):
        m = ATX.match(line)
        if m:
            found = EXPLICIT_ID.search(m.group(2)) if len(m.group(1)) == 1 else None
            return found.group(1) if found else None
    return None


def _where(part: Part, line: int | None) -> tuple[str | Path, int | None]:
    """Where a line of the part was written (a multi-file chapter's own file)."""
    return part.origin(line) if line and part.segments else (part.source, line)


def resolve(manifest: Manifest, rendered: list[RenderedPart], diag: Diagnostics) -> None:
    """Every marked link and every `#id` of another part's `{#id}`, pointed into its document."""
    root = manifest.config.root.resolve()
    parts = {p.id: p for p in manifest.parts}
    by_source = {p.source.resolve(): p for p in manifest.parts}
    by_source.update({Path(f).resolve(): p for p in manifest.parts for _, f, _ in p.segments})  # section files
    documents = {rp.id: rp for rp in rendered}
    ids = {rp.id: set(ID.findall(rp.body)) for rp in rendered}
    everywhere = {i for found in ids.values() for i in found}

    def target_id(t: Part, fragment: str) -> str | None:
        if not fragment:
            return t.id
        for candidate in (f"{t.id}-{fragment}", fragment):
            if candidate in ids.get(t.id, ()):
                return candidate
        return t.id if fragment == _opener_id(t) else None

    for rp in rendered:
        part = parts.get(rp.id)
        if part is None or ("xref:" not in rp.body and 'href="#' not in rp.body):
            continue

        def one(m: re.Match[str], part: Part = part, own: str = rp.id) -> str:
            attrs, text = m.group(1), m.group(2)
            h = HREF.search(attrs)
            if h is None:
                return m.group(0)
            href = h.group(1)
            if href.startswith("#"):  # `#id` not in this part: another chapter's `{#id}`?
                fragment = href[1:].removeprefix(f"{own}-")
                if href[1:] in everywhere:
                    return m.group(0)
                owners = [t for t in manifest.parts if t.id != own and f"{t.id}-{fragment}" in ids.get(t.id, ())]
                if len(owners) != 1:
                    return m.group(0)  # sanitize.check_links reports it
                t = owners[0]
                new = ' href="' + f"{documents[t.id].filename}#{t.id}-{fragment}" + '"'
                return f"<a{attrs.replace(h.group(0), new)}>{text}</a>"
            if not href.startswith(XREF):
                return m.group(0)
            w = WRITTEN.search(attrs)
            written = unquote(w.group(1)) if w else href
            clean = attrs.replace(h.group(0), "").replace(w.group(0) if w else "", "")
            split = urlsplit(href[len(XREF) :])
            path = root / unquote(split.path)
            t = by_source.get(path.resolve())
            line = part.line_of(written)
            if t is None or t.id not in documents:
                diag.warn(*_where(part, line), f"link to '{written}': that file is not a part of the book; "
                          "the link is removed (its text is kept)",
                          f"add {unquote(split.path)} under 'chapters:' in book.yaml, or remove the link")  # fmt: skip
                return f'<span class="refused-link">{text}</span>'
            found = target_id(t, split.fragment)
            if found is None:
                diag.warn(*_where(part, line), f"link to '{written}': {t.source.name} has no {{#{split.fragment}}}; "
                          "it links to the chapter's start",
                          f"write {{#{split.fragment}}} after the heading it means in {t.source.name}")  # fmt: skip
                found = t.id
            return f'<a{clean} href="{documents[t.id].filename}#{found}">{text}</a>'

        rp.body = ANCHOR.sub(one, rp.body)
