"""The pipeline: `book.yaml` → manifest → per-part HTML → rendered parts → EPUB and PDF, on a schedule.

`build(request)` owns the schedule of a whole build. Everything is read, validated and rendered
before anything is written (`prepare`); each part is processed from its own inputs only, in
parallel worker processes, and cached by the hash of those inputs. The outputs are then written
into a staging folder and moved into place together, so a failed or interrupted build leaves the
previous ones:

    (a first build: EPUBCheck's own JVM started and warmed, in the background; book.check.early)
    parts (workers, longest first) ─┬─ meanwhile: import WeasyPrint
    PDF layout (workers, longest first) ─┬─ meanwhile: the EPUB's cover and font subsets
    PDF furniture and the 版权页 (workers) ─┬─ meanwhile (page map known): the EPUB
    PDF assembled ─┬─ meanwhile (the workers gone): EPUBCheck in the background
    (after an edit, or in the early JVM: EPUBCheck as soon as the EPUB is written; book.check.schedule)
    EPUBCheck collected ── outputs committed

The EPUB and the PDF are cached by a hash of the rendered parts, the styles and the options that
decide them; a whole build is recorded (`book.engine.record`) so that a rebuild with nothing
changed is recognised before any heavy module (Pandoc, WeasyPrint, ebooklib) is imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from book.bounds import MAX_SOURCE_BYTES
from book.engine.atomic import Staging, write_bytes, write_text
from book.engine.cache import Cache, tree_digest
from book.engine.memo import KEEP_VERSIONS
from book.engine.memory import release_freed_memory
from book.engine.progress import progress_for
from book.engine.record import CACHE_DIR, BuildRecord
from book.errors import BookError, Diagnostics, Problem
from book.keys import config_key, output_key, part_key
from book.model import BookConfig, Build, CheckResult, EpubResult, PageMark, Part, PdfResult, ProcessedPart
from book.source.config import load_config
from book.source.manifest import build_manifest

KEEP_OUTPUT_VERSIONS = 6


# --- reading and rendering ---------------------------------------------------------------------------


def process_parts(
    config: BookConfig,
    parts: list[Part],
    diag: Diagnostics,
    cache: Cache,
    *,
    jobs: int | None = None,
    progress: Any = None,
    out: Path | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[ProcessedPart]:
    """Every part, from the cache when its inputs are unchanged, else in parallel workers.

    Results and their problems come back in reading order whatever order the workers finish in.
    `meanwhile` runs in this process while the workers work (or after the parts, without them), and
    only when some part had to be processed.
    """
    from book.engine.workers import part_workers, pool
    from book.parts.process import deps_current, run_part

    book_wide = (config_key(config), tree_digest(config.template_dirs))  # once, not once per part
    keys = [part_key(config, p, book_wide) for p in parts]
    results: list[ProcessedPart | None] = [None] * len(parts)
    todo: list[int] = []
    for i, key in enumerate(keys):
        hit = cache.load("part", key)
        if isinstance(hit, ProcessedPart) and hit.ok and deps_current(hit):
            cache.note("part", key, True)
            results[i] = hit
        else:
            cache.note("part", key, False)
            todo.append(i)
    advance = progress.stage("parts", len(parts)) if progress else (lambda *a, **k: None)
    advance(len(parts) - len(todo))
    cache_dir = Path(out) / CACHE_DIR / "images" if out is not None else None
    memo_dir = cache.root if cache.enabled else None  # the typography stage's blocks (book.typography.blocks)
    workers = part_workers(len(todo), jobs)
    if workers <= 1:
        for i in todo:
            results[i] = run_part(config, parts[i], diag.strict, cache_dir, memo_dir)
            advance(1, parts[i].id)
    else:
        from concurrent.futures import as_completed

        from book.engine.order import largest_first

        todo = [todo[k] for k in largest_first([parts[i] for i in todo], lambda p: len(p.body))]  # the longest first
        with pool(workers) as executor:
            futures = {executor.submit(run_part, config, parts[i], diag.strict, cache_dir, memo_dir): i for i in todo}
            if meanwhile is not None:
                meanwhile()
                meanwhile = None
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                advance(1, parts[i].id)
    if meanwhile is not None and todo:  # all parts unchanged: the PDF most likely comes from the cache
        meanwhile()
    done: list[ProcessedPart] = [r for r in results if r is not None]
    for i in todo:
        r = results[i]
        if r is not None and r.ok:
            cache.store("part", keys[i], r)
    for r in done:
        diag.replay(r.problems)
    return done


def open_cache(out: Path, use_cache: bool = True) -> Cache:
    return Cache(Path(out) / CACHE_DIR, enabled=use_cache)


def prepare(
    config_path: str | Path,
    out: str | Path,
    diag: Diagnostics,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    meanwhile: Callable[[], None] | None = None,
    edition: str | None = None,
) -> Build:
    """Read, validate and render everything; writes nothing (but the stage cache). With `edition`
    (a language of `editions:`), the book converted to that script (book.source.editions).

    `meanwhile` runs while the part workers work (e.g. `warm_pdf`, importing WeasyPrint).
    """
    from book.cover import imprint
    from book.parts import apparatus, divisions, links, render, sanitize

    config = load_config(config_path, diag)
    manifest = build_manifest(config, diag)
    if edition:
        from book.source.editions import edition as converted

        config, manifest = converted(config, manifest, edition)
    out_dir = Path(out)
    cache = open_cache(out_dir, use_cache)
    progress = progress_for(len(manifest.parts))
    with progress:
        results = process_parts(
            config, manifest.parts, diag, cache, jobs=jobs, progress=progress, out=out_dir, meanwhile=meanwhile
        )
    rendered = []
    fixes: dict[str, int] = {}
    deps: dict[str, str] = {}
    for part, r in zip(manifest.parts, results, strict=True):
        if r.rendered is not None:
            part.counts = r.rendered.counts
            rendered.append(r.rendered)
        for k, v in r.fixes.items():
            fixes[k] = fixes.get(k, 0) + v
        deps.update(r.deps)
    links.resolve(manifest, rendered, diag)
    apparatus.apply(config, manifest, rendered, diag)
    sanitize.check_links(manifest, rendered, diag)
    apparatus.back_matter(config, manifest, rendered, diag)
    diag.raise_if_errors()
    cache.trim("part", keep=KEEP_VERSIONS * len(manifest.parts))
    cache.trim("typeset", keep=len(manifest.parts))  # one entry per part: a removed part's goes
    rendered = divisions.with_divisions(config, manifest, rendered)
    words = sum(r.counts.get("words", 0) for r in rendered)
    front = render.render_front(config, manifest, rendered, imprint.imprint(config, words))
    parts = divisions.reading_order(front, rendered)
    return Build(config, manifest, parts, diag, out_dir, fixes, cache=cache, deps=deps)


def write_reports(build: Build, place: Callable[[Path], Path] = lambda p: p) -> list[Path]:
    """Write manifest.json and references.json (CSL-JSON); `place` maps a final path to where to write it."""
    from book.parts import references
    from book.parts.counts import manifest_json

    written = []
    for name, text in (
        ("manifest.json", manifest_json(build.manifest)),
        ("references.json", references.csl_json_text([r for p in build.parts for r in p.references])),
    ):
        target = place(build.out / name)
        write_text(target, text)
        written.append(target)
    return written


# --- outputs through the cache -----------------------------------------------------------------------


def _write_if_changed(path: Path, data: bytes) -> None:
    """Leave an identical file alone (its mtime too), so unchanged outputs stay untouched."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    write_bytes(path, data)


def cached_output(build: Build, stage: str, target: Path, produce: Callable[[Path], Any], **options: Any) -> Any:
    """Run an output stage (EPUB, PDF) through the cache; returns the stage's result (`.path` set).

    A hit writes the stored file at `target` (only if the file there differs) and replays the
    stage's warnings; a miss runs `produce(target)` and stores the file, the result and the warnings.
    """
    # Keyed by the file's name only: the CLI writes into a staging folder whose name changes.
    key = output_key(build, stage, target=target.name, **options)
    cache = build.cache
    entry = cache.load(stage, key) if cache is not None else None
    if isinstance(entry, dict) and {"data", "result", "problems"} <= entry.keys():
        cache.note(stage, key, True)
        _write_if_changed(target, entry["data"])
        result = dataclasses.replace(entry["result"], path=target)
        build.diag.replay(entry["problems"])
    else:
        if cache is not None:
            cache.note(stage, key, False)
        seen = len(build.diag.problems)
        result = produce(target)
        problems = build.diag.export(seen)
        if cache is not None and not any(p["severity"] == "error" for p in problems):
            data = Path(result.path).read_bytes()
            cache.store(stage, key, {"data": data, "result": result, "problems": problems})
    if cache is not None:
        cache.trim(stage, keep=KEEP_OUTPUT_VERSIONS)
    return result


def write_epub(build: Build, target: Path | None = None, page_map: list[PageMark] | None = None, *,
               compress: bool = True, cached: bool = True) -> EpubResult:  # fmt: skip
    """The EPUB through the cache (ebooklib is imported only on a miss). Without a page map it has
    no page list: nothing is laid out to make one. `compress=False`: entries stored (the preview's);
    `cached=False`: a preview edit's book, which the cache never meets again, packaged unsynced."""

    def produce(t: Path) -> EpubResult:
        from book.epub import package

        return package.package_epub(build, t, page_map=page_map, compress=compress, durable=cached)

    if not cached:  # its key would hash every part, its entry store 3 MB: 60-100 ms of a rebuild
        return produce(target or build.epub_path)
    options: dict[str, Any] = {} if compress else {"compress": False}  # the usual key stays as it was
    return cached_output(build, "epub", target or build.epub_path, produce, page_map=page_map, **options)


def warm_pdf() -> None:
    """Import WeasyPrint and install our patches (half a second), so the PDF stage starts at once."""
    import pikepdf  # noqa: F401

    from book.pdf import parallel, single  # noqa: F401
    from book.pdf.weasy import install

    install()


def write_pdf(
    build: Build,
    target: Path | None = None,
    *,
    profile: str = "print",
    jobs: int | None = None,
    meanwhile: Callable[[], None] | None = None,
    after_layout: Callable[[list[PageMark]], None] | None = None,
    extra_stylesheets: tuple[str | Path, ...] = (),
    after_workers: Callable[[], None] | None = None,
) -> PdfResult:
    """The PDF through the cache (WeasyPrint is imported only on a miss).

    With `jobs` > 1 (by default: the cores, when the book has two parts or more), parts are laid
    out in parallel workers and assembled (book.pdf.parallel), each part's layout cached on its
    own, so an edit to one chapter lays out that chapter only; `jobs=1` lays the book out as one
    document. `meanwhile` runs here while the workers lay the parts out; `after_layout(page_map)`
    once the page map is known, while the workers draw the furniture; `after_workers()` once the
    layout workers are gone. None runs when the PDF comes from the cache or is laid out as one
    document.
    """
    from book.engine.workers import worker_count

    if jobs is None:
        jobs = worker_count(sum(1 for p in build.parts if p.kind != "front") + 1)
    parallel = jobs > 1 and profile != "screen"

    def produce(t: Path) -> PdfResult:
        from book.pdf.weasy import install

        install()  # before any worker is forked, so the workers have the patches too
        if parallel:  # the bar counts the parts as each round of layout finishes them
            from book.pdf.parallel import write_pdf_parallel

            with progress_for(len(build.parts)) as progress:
                return write_pdf_parallel(
                    build, t, profile, extra_stylesheets, workers=jobs, meanwhile=meanwhile,
                    after_layout=after_layout, stage=progress.stage, after_workers=after_workers,
                )  # fmt: skip
        with _spinner(build, "PDF (one document)"):
            from book.pdf.single import write_one_document

            return write_one_document(build, t, profile, extra_stylesheets)

    def produce_measured(t: Path) -> PdfResult:  # the print PDF measured once written (and its findings cached)
        result = produce(t)
        if profile == "print":
            from book.check.layout import warn_layout

            warn_layout(build, t, result.overflows)
            release_freed_memory()  # the stitch's and any text extraction's, while EPUBCheck may still run
        return result

    target = target or build.pdf_target(profile)
    return cached_output(
        build, "pdf", target, produce_measured, parallel=parallel, profile=profile, extra_stylesheets=extra_stylesheets
    )


def print_page_map(build: Build, jobs: int | None = None) -> list[PageMark] | None:
    """The print edition's page map for an EPUB built without the PDF (`make epub`): the print PDF
    is laid out (or found in the cache) into a scratch file that is thrown away."""
    import tempfile

    build.out.mkdir(parents=True, exist_ok=True)
    # The PDF's own warnings (an image's print resolution…) are not this build's: no PDF was asked for.
    quiet = dataclasses.replace(build, diag=Diagnostics(echo=False))
    with tempfile.TemporaryDirectory(prefix=".pagemap-", dir=build.out) as tmp:
        return write_pdf(quiet, Path(tmp) / build.pdf_target("print").name, jobs=jobs).page_map


@contextlib.contextmanager
def _spinner(build: Build, label: str) -> Iterator[None]:
    with progress_for(len(build.parts)) as progress:
        progress.stage(label, None)
        yield


# --- the whole build -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildRequest:
    """What a `book build` asks for."""

    config: Path
    out: Path
    formats: tuple[str, ...] = ("epub", "pdf")
    profile: str = "print"
    strict: bool = False
    use_cache: bool = True
    check: bool = True  # EPUBCheck on the EPUB
    jobs: int | None = None  # part workers
    pdf_jobs: int | None = None  # PDF layout workers
    edition: str | None = None  # a language of `editions:` (built into its own folder)

    def record_options(self) -> dict[str, Any]:
        """What distinguishes one build's record from another's (not where, not how parallel)."""
        edition = {"edition": self.edition} if self.edition else {}
        return {"format": self.formats, "profile": self.profile, "strict": self.strict, "check": self.check, **edition}


@dataclass
class BuildOutcome:
    build: Build
    written: list[Path] = field(default_factory=list)
    pdf: PdfResult | None = None
    epub: EpubResult | None = None
    epubcheck: CheckResult | None = None


def record_for(request: BuildRequest) -> BuildRecord:
    """The record of builds like `request`: fingerprints the config, the sources, templates and styles."""

    def inputs() -> list[Any] | None:
        try:
            config = load_config(request.config)
        except BookError:
            return None  # the full build reports it
        files = [config.config_path] + [f for s in config.sources for f in (s.files or (s.path,))]
        with contextlib.suppress(OSError):
            if any(s.path.stat().st_size > MAX_SOURCE_BYTES for s in config.sources):
                return None  # refused by the read stage: not worth hashing (2 GB took 8 s)
        return [
            os.environ.get("SOURCE_DATE_EPOCH", ""),
            [(str(p), p) for p in files],
            tree_digest(config.template_dirs),
            tree_digest(config.style_dirs),
        ]

    return BuildRecord(request.out, request.record_options(), inputs)


def build(request: BuildRequest) -> BuildOutcome:
    """One whole build on the schedule above; raises BookError (the previous outputs are kept)."""
    from book.check import early as early_check
    from book.check import schedule
    from book.check.epubcheck import EpubCheckRun, epubcheck_jar

    diag = Diagnostics(strict=request.strict)
    formats = request.formats
    checks: list[EpubCheckRun] = []  # EPUBCheck running in the background, started once the EPUB exists
    # A first build's EPUBCheck JVM, warmed while the book is made (book.check.early)
    wanted = early_check.wanted(request.out, formats, request.check, request.config)
    early = early_check.start(epubcheck_jar()) if wanted else None
    try:
        with Staging(request.out) as stage:
            build = prepare(
                request.config,
                request.out,
                diag,
                use_cache=request.use_cache,
                jobs=request.jobs,
                meanwhile=warm_pdf if "pdf" in formats else None,
                edition=request.edition,
            )
            outcome = BuildOutcome(build)
            edit = schedule.few_redone(build.cache, "part")  # an edit: EPUBCheck's server warmed, checked early
            if edit and request.check and "epub" in formats and early is None:
                schedule.warm_server(build.epub_path)
            release_freed_memory()  # the parts' processing peak, before the layout workers are forked
            write_reports(build, stage.path)

            server = schedule.server_mode(edit)

            def epub_now(page_map: list[PageMark] | None, start: bool = True) -> None:
                outcome.epub = write_epub(build, stage.path(build.epub_path), page_map)
                if request.check:
                    run = EpubCheckRun(outcome.epub.path, cache=build.cache, start=start, server=server, early=early)
                    checks.append(run)

            def epub_during_furniture(page_map: list[PageMark]) -> None:
                # Written while the workers draw the furniture, checked once they are gone: the JVM
                # (~150 MB) beside two layout workers and the parent made the build's memory peak,
                # and on two cores the workers leave it no CPU; the stitch leaves it a core. After
                # an edit (a few parts laid out again) there is no such peak: checked at once.
                epub_now(page_map, start=early is not None or schedule.few_redone(build.cache, "pdf-part"))
                release_freed_memory()

            def start_checks() -> None:
                for run in checks:
                    run.start()

            if "pdf" in formats:
                want_epub = "epub" in formats
                if request.profile == "print":
                    from book.check.placeholders import stop_on_final_placeholders

                    stop_on_final_placeholders(build, diag)

                def prewarm_epub() -> None:  # the cover and font subsets, while the PDF workers work
                    from book.epub.package import prewarm

                    prewarm(build)
                    release_freed_memory()  # its fonts' freed pages: the parent sits beside two workers

                outcome.pdf = write_pdf(
                    build,
                    stage.path(build.pdf_target(request.profile)),
                    profile=request.profile,
                    jobs=request.pdf_jobs,
                    meanwhile=prewarm_epub if want_epub else None,
                    # Parallel layout knows the page map before the running heads are drawn.
                    after_layout=epub_during_furniture if want_epub and request.profile == "print" else None,
                    after_workers=start_checks,
                )
            if "epub" in formats:
                if outcome.epub is None:  # the print PDF's page map gives the EPUB its page list
                    epub_now(outcome.pdf.page_map if outcome.pdf else print_page_map(build, request.pdf_jobs))
                _report_epub(outcome, checks, build)
            diag.raise_if_errors()
            outcome.written = stage.commit()
            for path in outcome.written:
                size = f"{path.stat().st_size / 1e6:.2f} MB"
                pages = f", {outcome.pdf.page_count} pages" if path.suffix == ".pdf" and outcome.pdf else ""
                print(f"wrote {path} ({size}{pages})", file=sys.stderr)
    finally:
        for run in checks:  # a build that failed before collecting it
            run.cancel()
        if early is not None:
            early.stop()
    return outcome


def _report_epub(outcome: BuildOutcome, checks: list[Any], build: Build) -> None:
    """The EPUB's font subsets and EPUBCheck's verdict; a failed check stops the build."""
    assert outcome.epub is not None
    for f in outcome.epub.fonts:
        print(f"  font {f.href}: {f.size / 1024:.0f} KB, {f.glyphs} glyphs for {f.characters} characters",
              file=sys.stderr)  # fmt: skip
    if not checks:
        return
    with _spinner(build, "EPUBCheck"):  # its own stage: it runs beside the PDF, and may outlast it
        outcome.epubcheck = result = checks.pop().result()
    print(result.line(), file=sys.stderr)
    for d in result.details:
        print(f"  {d}", file=sys.stderr)
    if not result.ok:
        raise BookError(Problem(str(build.epub_path), None, "EPUBCheck failed", "the previous outputs are kept"))
