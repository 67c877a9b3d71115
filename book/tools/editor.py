"""Editor package: the book → `build/editor/<slug>-<date>.zip` (review PDF, DOCX, EPUB, report).

The review PDF is A4 with a wide margin for notes and numbered paragraphs (the n of the paragraph
ids `{part}-p{n}` the structures stage gives every paragraph), so an editor can write "第八章 第12段". The DOCX comes from the
manuscript itself (book.tools.docxsource), for tracked changes in Word or WPS that `book review import`
carries back: the package holds its bookmark map and the sources' hashes (`manifest.json`). A
package is never overwritten: a second one on the same day is `<slug>-<date>-2.zip`. The report lists the manifest,
lint findings and the build's warnings, and what changed since the last package: the per-paragraph
text of every package is kept in `build/editor/snapshot.json`, and the next package is compared
with it paragraph by paragraph (difflib), so the editor reads only what is new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import html
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from lxml import html as lxml_html

from book.engine.atomic import atomic_path, write_text
from book.errors import Diagnostics
from book.locale import locale_for, template_strings
from book.model import Build, RenderedPart
from book.pipeline import prepare

SNAPSHOT = "snapshot.json"
TOKEN = re.compile(r"[A-Za-z0-9_'’.-]+|\s+|.", re.S)  # Latin words whole, every CJK character alone


@dataclass(frozen=True)
class Paragraph:
    id: str  # {part}-p{n}
    n: int
    text: str


def paragraphs(part: RenderedPart) -> list[Paragraph]:
    """The part's paragraphs in reading order: ids from `{part}-p{n}` when present, else counted the same way."""
    root = lxml_html.fragment_fromstring(part.body, create_parent="div")
    content = root.xpath(".//*[contains(concat(' ', normalize-space(@class), ' '), ' content ')]")
    scope = content[0] if content else root
    found = []
    for i, p in enumerate(scope.iter("p"), 1):
        m = re.fullmatch(rf"{re.escape(part.id)}-p(\d+)", p.get("id") or "")
        n = int(m.group(1)) if m else i
        found.append(Paragraph(f"{part.id}-p{n}", n, " ".join(p.text_content().split())))
    return found


def numbered_body(part: RenderedPart, paras: list[Paragraph]) -> str:
    """The body with `data-para="n"` on each paragraph, which review.css prints in the margin."""
    body = part.body
    start = max(body.find('class="content"'), 0)
    numbers = iter(paras)

    def mark(m: re.Match[str]) -> str:
        p = next(numbers, None)
        return m.group(0) if p is None else f'<p data-para="{p.n}"'

    return body[:start] + re.sub(r"<p(?=[\s>])", mark, body[start:])


def snapshot(build: Build, package: str) -> dict[str, Any]:
    return {
        "package": package,
        "parts": [
            {"id": p.id, "label": p.label, "title": p.title,
             "paragraphs": [[q.id, q.text] for q in paragraphs(p)]}
            for p in build.parts if p.kind != "front"
        ],
    }  # fmt: skip


# --- changes since the last package ---------------------------------------------------------------


@dataclass
class ParagraphChange:
    kind: str  # "changed" | "added" | "removed"
    id: str  # the new paragraph id (the old one when removed)
    n: int
    old: str = ""
    new: str = ""

    def diff_html(self) -> str:
        return "".join(_inline_diff(self.old, self.new, html=True))

    def diff_text(self) -> str:
        return "".join(_inline_diff(self.old, self.new, html=False))


@dataclass
class PartChange:
    id: str
    label: str
    title: str
    status: str  # "new" | "removed" | "changed"
    paragraphs: list[ParagraphChange] = field(default_factory=list)

    def where(self, change: ParagraphChange) -> str:
        return f"{self.label} 第{change.n}段".strip()


def _inline_diff(old: str, new: str, *, html: bool) -> list[str]:
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    out = []
    esc = _escape if html else (lambda s: s)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        gone, came = esc("".join(a[i1:i2])), esc("".join(b[j1:j2]))
        if op == "equal":
            out.append(gone)
            continue
        if gone:
            out.append(f"<del>{gone}</del>" if html else f"[-{gone}-]")
        if came:
            out.append(f"<ins>{came}</ins>" if html else f"{{+{came}+}}")
    return out


def _escape(s: str) -> str:
    return html.escape(s, quote=False)


def _n(pid: str) -> int:
    m = re.search(r"-p(\d+)$", pid)
    return int(m.group(1)) if m else 0


def compare(old: dict[str, Any] | None, new: dict[str, Any]) -> list[PartChange] | None:
    """Parts and paragraphs that differ between two snapshots; None when there is no earlier one.

    Paragraphs are aligned as sequences (not matched by id), so inserting one paragraph reports that
    paragraph alone rather than every later one whose number shifted.
    """
    if old is None:
        return None
    before = {p["id"]: p for p in old.get("parts", [])}
    changes: list[PartChange] = []
    for part in new["parts"]:
        prev = before.pop(part["id"], None)
        if prev is None:
            changes.append(PartChange(part["id"], part["label"], part["title"], "new"))
            continue
        a, b = prev["paragraphs"], part["paragraphs"]
        found: list[ParagraphChange] = []
        matcher = difflib.SequenceMatcher(None, [t for _, t in a], [t for _, t in b], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            pairs = min(i2 - i1, j2 - j1)
            for k in range(pairs):
                (_, ot), (nid, nt) = a[i1 + k], b[j1 + k]
                found.append(ParagraphChange("changed", nid, _n(nid), ot, nt))
            for oid, ot in a[i1 + pairs : i2]:
                found.append(ParagraphChange("removed", oid, _n(oid), ot, ""))
            for nid, nt in b[j1 + pairs : j2]:
                found.append(ParagraphChange("added", nid, _n(nid), "", nt))
        if found or prev["title"] != part["title"]:
            changes.append(PartChange(part["id"], part["label"], part["title"], "changed", found))
    for prev in before.values():
        changes.append(PartChange(prev["id"], prev["label"], prev["title"], "removed"))
    return changes


# --- the package ---------------------------------------------------------------------------------


@dataclass
class Package:
    path: Path
    files: dict[str, int]  # name in the zip → bytes
    changes: list[PartChange] | None
    warnings: list[str]


def _lint_findings(build: Build) -> list[str]:
    """The manuscript's lint findings (`book lint`), as `path:line: message` lines, paths from the book's folder."""
    from book.source.lint import lint_part

    root = build.config.root
    return [str(f) for part in build.manifest.parts for f in lint_part(part, str(part.source.relative_to(root)))]


def _report_env(build: Build) -> jinja2.Environment:
    from book.trust import template_environment

    return template_environment(
        build.config.template_dirs,
        autoescape=lambda name: bool(name) and ".html" in name,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _manifest_rows(build: Build) -> list[dict[str, Any]]:
    rendered = {p.id: p for p in build.parts}
    rows = []
    for part in build.manifest.parts:
        paras = paragraphs(rendered[part.id]) if part.id in rendered else []
        rows.append({
            "id": part.id, "label": part.label, "title": part.title, "kind": part.kind, "status": part.status,
            "source": str(part.source.relative_to(build.config.root)), "paragraphs": len(paras),
            "characters": sum(len(re.sub(r"\s", "", p.text)) for p in paras),
        })  # fmt: skip
    return rows


def make_package(
    config_path: str | Path, out: str | Path, *, day: dt.date | None = None, check: bool = True
) -> Package:
    """Build everything, write the zip and then the snapshot the next package is compared with."""
    from book.pdf.single import write_one_document
    from book.pipeline import write_epub
    from book.tools.docxsource import map_json, source_hashes, write_source_docx
    from book.tools.review import MANIFEST_NAME

    diag = Diagnostics()
    build = prepare(config_path, out, diag)
    config = build.config
    day = day or dt.datetime.now(dt.UTC).date()
    folder = Path(out) / "editor"
    folder.mkdir(parents=True, exist_ok=True)
    name = package_name(folder, config.slug, day)
    snap_path = folder / SNAPSHOT
    previous = json.loads(snap_path.read_text(encoding="utf-8")) if snap_path.is_file() else None
    current = snapshot(build, f"{name}.zip")
    changes = compare(previous, current)

    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        staging = Path(tmp)
        epub = write_epub(build, staging / f"{config.slug}.epub").path  # no page list: nothing laid out for it
        epubcheck = ""
        if check:
            from book.check.epubcheck import run_epubcheck

            result = run_epubcheck(epub, cache=build.cache)
            epubcheck = result.line()
            for d in result.details:
                diag.warn(epub.name, None, f"EPUBCheck: {d}")
        numbered = dataclasses.replace(
            build,
            parts=[
                p if p.kind == "front" else dataclasses.replace(p, body=numbered_body(p, paragraphs(p)))
                for p in build.parts
            ],
        )
        review_pdf = write_one_document(
            numbered, staging / f"{config.slug}-review.pdf", profile="review",
            extra_stylesheets=(config.find_style("review.css"),),
        )  # fmt: skip
        review = review_pdf.path
        docx = staging / f"{config.slug}.docx"
        blocks = write_source_docx(build, docx, package=name)
        (staging / "review-map.json").write_text(map_json(blocks), encoding="utf-8")
        made = {"package": name, "day": day.isoformat(), "docx": docx.name, "sources": source_hashes(build)}
        (staging / MANIFEST_NAME).write_text(json.dumps(made, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        lint = _lint_findings(build)
        files = {p.name: p.stat().st_size for p in (review, docx, epub)}
        warnings = [str(w) for w in diag.warnings]
        ctx = {
            "book": config, "package": f"{name}.zip", "day": day.isoformat(), "files": files,
            "rows": _manifest_rows(build), "lint": lint, "warnings": warnings, "epubcheck": epubcheck,
            "changes": changes, "previous": previous["package"] if previous else None,
            "pages": review_pdf.page_count,
            "t": template_strings(config.language), "region": locale_for(config.language).region,
        }  # fmt: skip
        env = _report_env(build)
        for template, filename in (("report.html.j2", "report.html"), ("report.md.j2", "report.md")):
            text = env.get_template(template).render(**ctx)
            (staging / filename).write_text(text, encoding="utf-8")
            files[filename] = len(text.encode("utf-8"))
        for filename in ("review-map.json", MANIFEST_NAME):  # what `book review import` reads back
            files[filename] = (staging / filename).stat().st_size
        target = folder / f"{name}.zip"
        with atomic_path(target) as zpath, zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
            for filename in files:
                z.write(staging / filename, f"{name}/{filename}")
    # Only a package that was written becomes the base of the next comparison.
    write_text(snap_path, json.dumps(current, ensure_ascii=False, indent=1) + "\n")
    return Package(target, files, changes, warnings)


def package_name(folder: Path, slug: str, day: dt.date) -> str:
    """`<slug>-<date>`, or `-2`, `-3`… after it: a package is never overwritten."""
    base = f"{slug}-{day.isoformat()}"
    name, n = base, 1
    while (folder / f"{name}.zip").exists():
        n += 1
        name = f"{base}-{n}"
    return name


def latest_package(out: str | Path) -> Path | None:
    """The newest package zip in `<out>/editor/` (by modification time)."""
    zips = sorted((Path(out) / "editor").glob("*.zip"), key=lambda p: p.stat().st_mtime)
    return zips[-1] if zips else None
