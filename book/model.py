"""The model: every data type that crosses a stage boundary, from the configuration to the outputs.

The stages read one and return the next, in reading order:

    BookConfig (+ SourceSpec)   book.source.config   book.yaml, validated
    Manifest of Part            book.source.manifest the parts in reading order, front matter checked
    RenderedPart (+ Heading,    book.parts           one part converted, structured, typeset, rendered
      ImageRef, ProcessedPart)
    Build                       book.pipeline        the rendered book an output stage reads
    PdfResult (+ PageMark)      book.pdf             the PDF written, its page count and page map
    EpubResult (+ FontReport)   book.epub            the EPUB written and the fonts it embeds
    CheckResult                 book.check           one validator's verdict

Nothing here imports a stage, so any stage (and a cached result unpickled in another process) can
import the model without pulling in Pandoc, WeasyPrint or ebooklib.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from book.errors import BookError, Problem, display_path
from book.options import EpubOptions, PrintOptions
from book.text import find_line, line_at

if TYPE_CHECKING:
    from book.engine.cache import Cache
    from book.errors import Diagnostics

# The toolchain's own data (templates/, styles/, preview/, scripts/) lives beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Parts printed before chapter 1 with roman folios: the toolchain's pages and the author's 序, 前言….
FRONT_KINDS = ("front", "frontmatter")


# --- configuration -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSpec:
    """One part of the book as configured: where it is and how to trim it."""

    path: Path
    kind: str  # "chapter" | "appendix" | "frontmatter" | "backmatter"
    trim_after: str | None = None  # drop everything from the first line starting with this
    division: int = 0  # 1-based index into BookConfig.divisions (`parts:`), 0: in no part
    files: tuple[Path, ...] = ()  # a multi-file chapter's section files, in order (`path` is the first)


@dataclass(frozen=True)
class BookConfig:
    """`book.yaml`, validated: metadata, the sources in configured order, folders and options."""

    root: Path
    config_path: Path
    title: str
    subtitle: str
    authors: tuple[str, ...]
    language: str
    identifier: str
    publisher: str
    date: str
    rights: str
    edition: str
    slug: str
    sources: tuple[SourceSpec, ...]
    template_dirs: tuple[Path, ...]
    style_dirs: tuple[Path, ...]
    print: PrintOptions = field(default_factory=PrintOptions)
    epub: EpubOptions = field(default_factory=EpubOptions)
    cover: str | None = None  # the book's cover image, relative to book.yaml (`cover:` or `epub: cover:`)
    allow_private_fetch: bool = False
    isbn: str = ""  # the print edition's ISBN, as written (book.cover.isbn validates it)
    price: str = ""  # 定价, printed on the back cover
    blurb: str = ""  # the back cover's text
    bibliography: tuple[Path, ...] = ()  # BibTeX/BibLaTeX/CSL-JSON files `[@key]` citations draw on
    csl: Path | None = None  # the citation style (GB/T 7714-2015 numeric unless `csl:` says otherwise)
    crossref_pages: bool = False  # `crossref: {page: true}`: 图 8-1（第 12 页） in print
    crossref_lists: tuple[str, ...] = ()  # `crossref: {lists: [figures, tables]}`: 插图目录 / 表格目录
    index: bool = True  # `index: false` prints no 索引 even where terms are marked
    index_front_matter: bool = False  # `index: {front_matter: true}`: key_organizations / technical_concepts
    glossary: Path | None = None  # `glossary:` YAML term → definition: 术语表, first uses linked
    divisions: tuple[str, ...] = ()  # the titles of `parts:` (第一部分 …), in order
    chapter_label: str = "第{n}章"  # `chapter_label:` (book.source.labels); "": chapters print no label
    part_label: str = "第{n}部分"  # `part_label:`
    editions: tuple[str, ...] = ()  # `editions:`: languages the book is also built in (book.source.editions)
    printer: str = ""  # 印刷: the printer's name, on the copyright page
    impression: str = ""  # 印次 as printed ("2025年10月第1次印刷"; default: the edition's date, first impression)
    cip: dict[str, Any] = field(default_factory=dict, hash=False)  # `cip:` (place, subjects, …)

    @property
    def chapters(self) -> list[SourceSpec]:
        return [s for s in self.sources if s.kind == "chapter"]

    @property
    def appendices(self) -> list[SourceSpec]:
        return [s for s in self.sources if s.kind == "appendix"]

    @property
    def pdf_language(self) -> str:
        """The language tag fontconfig understands: zh-Hans picks SC glyphs only via zh-CN."""
        return {"zh-hans": "zh-CN", "zh": "zh-CN", "zh-hant": "zh-TW", "zh-hant-hk": "zh-HK"}.get(
            self.language.lower(), self.language
        )

    def find_style(self, name: str) -> Path:
        """A stylesheet from the book's own styles folder first, then the toolchain's; one that a
        link takes out of its folder is refused (a book must not read the machine's files)."""
        for d in self.style_dirs:
            candidate = d / name
            if candidate.is_file():
                if not candidate.resolve().is_relative_to(d.resolve()):
                    raise BookError(Problem(display_path(candidate), None, "stylesheet leaves its folder (a symlink?)",
                                            "copy the file into the styles folder instead of linking it"))  # fmt: skip
                return candidate
        raise FileNotFoundError(name)


# --- manifest ------------------------------------------------------------------------------------------


class Meta(dict):
    """Validated front matter; an optional field the source leaves out reads as None.

    Templates render with StrictUndefined (a typo in a template must fail), so `meta.title_en` on a
    chapter without a `title_en` must be None rather than an error.
    """

    def __missing__(self, key: str) -> None:
        return None


@dataclass
class Part:
    """One chapter or appendix, in reading order."""

    id: str
    kind: str  # "chapter" | "appendix"
    source: Path
    title: str
    label: str  # 第八章 / 附录A
    number: int | None
    meta: dict[str, Any]
    body: str
    body_line: int  # the file line where `body` starts
    status: str = "final"
    counts: dict[str, int] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)  # front-matter key → file line
    division: str = ""  # the id of the book part (第一部分) the chapter is in
    # A multi-file chapter's body is its files one after the other: (body line, file, that file's
    # line) where each starts, so a problem's line names the file and line the author wrote.
    segments: tuple[tuple[int, str, int], ...] = ()

    @property
    def title_en(self) -> str:
        return str(self.meta.get("title_en") or "")

    def line_of(self, needle: str) -> int | None:
        """The file line where `needle` (or its first characters) is written in the body."""
        return find_line(self.body, needle, self.body_line)

    def line_at(self, index: int) -> int:
        """The file line of the body's character `index`."""
        return line_at(self.body, index, self.body_line)

    def origin(self, line: int) -> tuple[str, int]:
        """A body line → (the file it was written in, its line there); for a multi-file chapter."""
        path, start, real = str(self.source), self.body_line, self.body_line
        for seg_start, seg_path, seg_real in self.segments:
            if seg_start <= line:
                start, path, real = seg_start, seg_path, seg_real
        return path, real + line - start


@dataclass(frozen=True)
class Division:
    """One part of the book (第一部分 …): a title page in print and a level of the EPUB's navigation."""

    id: str  # part1, part2…
    number: int
    label: str  # 第一部分
    title: str


@dataclass
class Manifest:
    config: BookConfig
    parts: list[Part]
    divisions: list[Division] = field(default_factory=list)

    @property
    def chapters(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "chapter"]

    @property
    def appendices(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "appendix"]

    def modified(self) -> str:
        """The newest date among the parts, for reproducible timestamps; else the book's `date`, else
        the sources' newest commit date, else today."""
        dates = [
            v for p in self.parts for k, v in p.meta.items()
            if k in ("last_updated", "date", "created_date") and isinstance(v, str)
        ]  # fmt: skip
        if dates:
            return max(dates)
        if self.config.date:
            return self.config.date
        from book.source.dates import fallback_date  # git, only for a book that dates nothing

        return fallback_date(tuple(p.source for p in self.parts))


# --- rendered parts ------------------------------------------------------------------------------------


@dataclass
class ImageRef:
    """An image the outputs embed: its file on disk and its name inside the EPUB."""

    path: Path
    href: str  # e.g. images/3f2a…png
    media_type: str
    source: str = ""  # where the manuscript first references it: print warnings name that, not a cache file
    line: int | None = None


@dataclass
class Heading:
    level: int  # 1 = the part itself, 2 = its sections, 3 = subsections
    id: str
    title: str


@dataclass
class RenderedPart:
    """One part as both outputs print it: the body is the same polyglot XHTML for EPUB and PDF."""

    id: str
    kind: str  # "front" | "frontmatter" | "division" | "chapter" | "appendix" | "backmatter" | "back" (术语表, 索引)
    filename: str
    title: str
    label: str
    body: str  # polyglot XHTML of the part's content, opener included
    headings: list[Heading] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    landmark: str = ""  # epub:type of the part (bodymatter, toc, copyright-page…)
    status: str = "final"
    resources: list[ImageRef] = field(default_factory=list)  # images the body embeds, by href
    references: list[dict[str, Any]] = field(default_factory=list)  # CSL-JSON items of the part
    labels: list[dict[str, str]] = field(default_factory=list)  # cross-reference labels (book.parts.crossref)
    index_terms: list[dict[str, str]] = field(default_factory=list)  # marked index terms (book.parts.index)
    division: str = ""  # the id of the book part (第一部分) it is in


@dataclass
class ProcessedPart:
    """What processing one part produced, as cached: the part, its fixes, the problems it reported."""

    rendered: RenderedPart | None
    fixes: dict[str, int]
    problems: list[dict[str, Any]]
    deps: dict[str, str]  # files the part embeds (images) → sha256; a changed file invalidates the entry

    @property
    def ok(self) -> bool:
        return self.rendered is not None and not any(p["severity"] == "error" for p in self.problems)


# --- the build and its outputs -------------------------------------------------------------------------


@dataclass
class Build:
    """The rendered book: what every output stage reads, and nothing an output stage writes."""

    config: BookConfig
    manifest: Manifest
    parts: list[RenderedPart]  # front matter first, then chapters and appendices
    diag: Diagnostics
    out: Path
    fixes: dict[str, int] = field(default_factory=dict)
    cache: Cache | None = None  # stages may memoise through it (fonts, cover…)
    deps: dict[str, str] = field(default_factory=dict)  # files read beyond the sources (images) → sha256

    @property
    def epub_path(self) -> Path:
        return self.out / f"{self.config.slug}.epub"

    def pdf_target(self, profile: str = "print") -> Path:
        """The print PDF is `<slug>.pdf`; other profiles are `<slug>-screen.pdf`, `<slug>-review.pdf`."""
        suffix = "" if profile == "print" else f"-{profile}"
        return self.out / f"{self.config.slug}{suffix}.pdf"

    @property
    def first_body_id(self) -> str:
        """The first part after the front matter: where arabic folios begin."""
        return next((p.id for p in self.parts if p.kind not in FRONT_KINDS), "")

    def source_date_epoch(self) -> int:
        """SOURCE_DATE_EPOCH if set, else the newest `last_updated` among the parts (midnight UTC)."""
        env = os.environ.get("SOURCE_DATE_EPOCH")
        if env and env.isdigit():
            return int(env)
        day = dt.date.fromisoformat(self.manifest.modified()[:10])
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())

    def build_date(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.source_date_epoch(), tz=dt.UTC)


@dataclass(frozen=True)
class PageMark:
    """One printed page: its folio label, its part and the first block starting on it."""

    label: str
    part_id: str
    target_id: str


@dataclass
class PdfResult:
    """A PDF written by the PDF stage: where, how many pages, and (print profile) the page map the
    EPUB's page list follows."""

    path: Path
    page_count: int
    page_map: list[PageMark] | None = None
    # What the layout set beyond the type area or the trim, (page, kind, beyond, by, text) as
    # book.check.layout.Overflow; None: not measured while laid out (the PDF is measured instead)
    overflows: list[tuple[int, str, str, float, str]] | None = None


@dataclass(frozen=True)
class FontReport:
    """One font subset the EPUB embeds, as the CLI reports it."""

    href: str
    size: int  # bytes
    glyphs: int
    characters: int


@dataclass
class EpubResult:
    """An EPUB written by the EPUB stage and the font subsets inside it."""

    path: Path
    fonts: list[FontReport] = field(default_factory=list)


@dataclass
class CheckResult:
    """One validator's verdict on a built file, printed as one line."""

    name: str
    ok: bool
    summary: str
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.summary}"
