"""EPUB stage: rendered parts → an EPUB 3 file (packaged with ebooklib, made reproducible).

Each rendered part becomes one XHTML content document, verbatim: ebooklib packages the files and
writes the package document; the navigation document is our own template (table of contents,
landmarks, page list). The zip is then rewritten with fixed timestamps so that two builds of the same
sources are byte-identical.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from pathlib import Path

from ebooklib import epub

from book import render
from book.atomic import atomic_path
from book.config import BookConfig
from book.pipeline import Build, source_date_epoch
from book.render import RenderedPart

STYLESHEETS = ("book.css", "components.css", "epub.css")


def find_style(config: BookConfig, name: str) -> Path:
    """A stylesheet from the book's own styles folder first, then the toolchain's."""
    for d in config.style_dirs:
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(name)


def _link_map(parts: list[RenderedPart]) -> dict[str, str]:
    """id → file name, to turn in-book `#id` links into cross-file links."""
    ids: dict[str, str] = {}
    for p in parts:
        for m in re.finditer(r'\sid="([^"]+)"', p.body):
            ids.setdefault(m.group(1), p.filename)
    return ids


def _fix_links(body: str, here: str, ids: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        target = m.group(1)
        file = ids.get(target)
        if file is None or file == here:
            return m.group(0)
        return f'href="{file}#{target}"'

    return re.sub(r'href="#([^"]+)"', repl, body)


def write_epub(build: Build, target: Path | None = None) -> Path:
    config = build.config
    target = target or build.epub_path
    epoch = source_date_epoch(build)
    when = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    b = epub.EpubBook()
    b.set_identifier(config.identifier)
    b.set_title(config.title)
    b.set_language(config.language)
    for i, author in enumerate(config.authors):
        b.add_author(author, uid=f"creator{i}")
    b.add_metadata("DC", "date", config.date or build.manifest.modified())
    if config.publisher:
        b.add_metadata("DC", "publisher", config.publisher)
    if config.rights:
        b.add_metadata("DC", "rights", config.rights)
    if config.subtitle:
        b.add_metadata("DC", "description", config.subtitle)
    hrefs = [f"styles/{name}" for name in STYLESHEETS]
    for name, href in zip(STYLESHEETS, hrefs, strict=True):
        b.add_item(
            epub.EpubItem(uid=f"css-{name.split('.')[0]}", file_name=href, media_type="text/css",
                          content=find_style(config, name).read_bytes())
        )  # fmt: skip
    seen: set[str] = set()
    for part in build.parts:  # CONTRACTS 3: each embedded image once, by href
        for res in part.resources:
            if res.href not in seen:
                seen.add(res.href)
                b.add_item(epub.EpubItem(uid=f"img-{Path(res.href).stem}", file_name=res.href,
                                         media_type=res.media_type, content=res.path.read_bytes()))  # fmt: skip
    ids = _link_map(build.parts)
    items: dict[str, epub.EpubItem] = {}
    toc_part = next(p for p in build.parts if p.id == "toc")
    for part in build.parts:
        if part is toc_part:
            first_body = next(p for p in build.parts if p.kind != "front")
            content = render.environment(config).get_template("nav.xhtml.j2").render(
                toc=part, parts=build.parts, first_body=first_body, lang=config.language,
                stylesheets=hrefs, pages=getattr(build, "page_list", []),
            )  # fmt: skip
        else:
            fixed = render.RenderedPart(**{**part.__dict__, "body": _fix_links(part.body, part.filename, ids)})
            content = render.document(config, fixed, hrefs)
        item = epub.EpubItem(uid=part.id, file_name=part.filename, media_type="application/xhtml+xml",
                             content=content.encode("utf-8"))  # fmt: skip
        item.properties = ["nav"] if part is toc_part else []
        b.add_item(item)
        items[part.id] = item
    b.add_item(epub.EpubNcx())
    b.toc = [
        (epub.Section(p.title, f"{p.filename}#{p.id}"),
         [epub.Link(f"{p.filename}#{h.id}", h.title, h.id) for h in p.headings if h.level == 2])
        if any(h.level == 2 for h in p.headings) else epub.Link(f"{p.filename}#{p.id}", p.title, p.id)
        for p in build.parts if p.kind != "front"
    ]  # fmt: skip
    b.spine = [items[p.id] for p in build.parts]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, atomic_path(target) as final:
        raw = Path(tmp) / "raw.epub"
        epub.write_epub(str(raw), b, {"raise_exceptions": True, "mtime": when, "epub2_guide": False,
                                      "epub3_landmark": False, "epub3_pages": False})  # fmt: skip
        reproducible_zip(raw, final, when)
    return target


def reproducible_zip(src: Path, dst: Path, when: dt.datetime) -> None:
    """Rewrite a zip with one fixed timestamp and fixed attributes, `mimetype` first and stored."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            stored = info.filename == "mimetype"
            zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zout.writestr(zi, data, compresslevel=None if stored else 9)
