"""The pipeline: `book.yaml` → manifest → per-part HTML → rendered parts → EPUB and PDF.

Everything is gathered and validated before anything is written. Each part is processed by
`process_part` from its own inputs only, so parts are processed in parallel worker processes and
cached by a hash of their inputs (`book.cache`). The EPUB and the PDF are cached by a hash of the
rendered parts, the styles and the config. A whole build is recorded (`BuildRecord`) so that a
rebuild with nothing changed is recognised before any heavy module (Pandoc, WeasyPrint, ebooklib)
is imported, and leaves the outputs untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from book import cache as cache_mod
from book import cachekey
from book.atomic import write_bytes, write_text
from book.bounds import MAX_SOURCE_BYTES
from book.cache import Cache, digest, file_sha256, toolchain_fingerprint, tree_digest
from book.config import BookConfig, load_config
from book.errors import BookError, Diagnostics, Problem

if TYPE_CHECKING:
    from book.manifest import Manifest, Part
    from book.render import RenderedPart

T = TypeVar("T")
CACHE_DIR = ".cache"
# Entries kept per stage, most recently used first: enough for a few formats and profiles side by
# side (print, screen, review) and for undoing an edit, without the cache growing with every edit.
KEEP_PART_VERSIONS = 4
KEEP_OUTPUT_VERSIONS = 6
# Results of one output stage that another reads (the PDF's page map feeds the EPUB's page list).
PAGE_ATTRS = ("page_map", "page_list")
# Build attributes that are inputs or plumbing, never results a cached output stage restores.
_NOT_RESULTS = {"config", "manifest", "parts", "diag", "out", "fixes", "cache", "outputs", "deps", "progress"}


@dataclass
class Build:
    config: BookConfig
    manifest: Manifest
    parts: list[RenderedPart]  # front matter first, then chapters and appendices
    diag: Diagnostics
    out: Path
    fixes: dict[str, int] = field(default_factory=dict)
    cache: Cache = field(default_factory=cache_mod.disabled)  # stages may memoise through it (fonts…)
    outputs: list[Path] = field(default_factory=list)  # files this build wrote or confirmed
    deps: dict[str, str] = field(default_factory=dict)  # files read beyond the sources (images) → sha256

    @property
    def epub_path(self) -> Path:
        return self.out / f"{self.config.slug}.epub"

    @property
    def pdf_path(self) -> Path:
        return self.out / f"{self.config.slug}.pdf"

    def pdf_target(self, profile: str = "print") -> Path:
        """The print PDF is `<slug>.pdf`; other profiles are `<slug>-screen.pdf`, `<slug>-review.pdf`."""
        return self.pdf_path if profile == "print" else self.out / f"{self.config.slug}-{profile}.pdf"


def process_part(
    config: BookConfig, part: Part, diag: Diagnostics, out: Path | None = None
) -> tuple[RenderedPart, dict[str, int]]:
    """Markdown body → converted, structured, typeset and rendered part."""
    from book import convert, counts, images, references, render, sanitize, structures, typography
    from book.htmltree import parse_fragment

    fragment = convert.markdown_to_html(part.body, part.id, part.source)
    fragment = sanitize.clean(fragment, part, diag)
    root = parse_fragment(fragment)
    found = structures.apply(root, part, diag, config)
    cache_dir = Path(out) / CACHE_DIR / "images" if out is not None else None
    resources = images.apply(root, part, diag, config.root, config=config, cache_dir=cache_dir)
    structures.number_blocks(root, part)
    part_counts = counts.measure(root, found)  # measured on the author's text, before typesetting
    fixes = typography.apply(root, part, diag)
    part = typography.typeset_title(part)  # the opener, TOC and nav print the title and label too
    rp = render.render_part(config, part, root)
    rp.resources, rp.counts = resources, part_counts
    rp.references = references.to_csl_json(found["references"])
    counts.check_claims(part, rp.counts, diag)
    return rp, fixes


# --- keys --------------------------------------------------------------------------------------


def _plain(x: Any) -> Any:
    """Paths as their text (the digest would otherwise hash a path by its content)."""
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    return x


def config_key(config: BookConfig) -> str:
    """The config minus its list of sources: one chapter's edit must not invalidate the others."""
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "sources"}
    return digest(_plain(fields))


def part_key(config: BookConfig, part: Part) -> str:
    """Everything `process_part` reads: the part (text, front matter, position), config, templates, code."""
    return digest("part", toolchain_fingerprint(), config_key(config), tree_digest(config.template_dirs), _plain(part))


def output_key(build: Build, stage: str, **options: Any) -> str:
    """Everything an output stage reads: rendered parts, styles, templates, config, and page data."""
    extra = {name: _plain(getattr(build, name, None)) for name in PAGE_ATTRS}
    return digest(
        stage,
        toolchain_fingerprint(),
        config_key(build.config),
        tree_digest(build.config.template_dirs),
        tree_digest(build.config.style_dirs),
        build.manifest.modified(),
        os.environ.get("SOURCE_DATE_EPOCH", ""),
        _plain(build.parts),
        extra,
        _with_contents(options),
    )


def _with_contents(x: Any) -> Any:
    """Options with every file they name (extra stylesheets…) replaced by its path and content."""
    if isinstance(x, Path):
        return ["file", str(x), x.read_bytes() if x.is_file() else None]
    if isinstance(x, dict):
        return {str(k): _with_contents(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_with_contents(v) for v in x]
    return _plain(x)


# --- diagnostics across processes and builds ------------------------------------------------------


def _portable(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems with absolute paths, so a replay from another working folder shows the right path."""
    cwd = Path.cwd()
    out = []
    for p in problems:
        d = dataclasses.asdict(p)
        path = Path(p.path)
        d["path"] = str(path if path.is_absolute() else cwd / path)
        out.append(d)
    return out


def replay(diag: Diagnostics, problems: list[dict[str, Any]]) -> None:
    """Report problems found by a worker or an earlier build as if found now (echoed, deduplicated)."""
    for d in problems:
        if d.get("severity") == "warning":
            diag.warn(d["path"], d.get("line"), d["message"], d.get("hint", ""))
        else:
            diag.error(d["path"], d.get("line"), d["message"], d.get("hint", ""))


@dataclass
class PartResult:
    """What processing one part produced, as cached: the part, its fixes, the problems it reported."""

    rendered: RenderedPart | None
    fixes: dict[str, int]
    problems: list[dict[str, Any]]
    deps: dict[str, str]  # files the part embeds (images) → sha256; a changed file invalidates the entry

    @property
    def ok(self) -> bool:
        return self.rendered is not None and not any(p["severity"] == "error" for p in self.problems)

    def deps_current(self) -> bool:
        try:
            return all(file_sha256(Path(p)) == sha for p, sha in self.deps.items())
        except OSError:
            return False


def _run_part(config: BookConfig, part: Part, strict: bool, out: Path | None = None) -> PartResult:
    """One part in a worker: problems are collected, not printed, and returned in order."""
    diag = Diagnostics(strict=strict, echo=False)
    rendered, fixes = None, {}
    try:
        rendered, fixes = process_part(config, part, diag, out)
    except BookError as exc:
        diag.add(exc)
    deps = {}
    for ref in getattr(rendered, "resources", None) or []:
        path = Path(ref.path)
        if path.is_file():
            deps[str(path)] = file_sha256(path)
    return PartResult(rendered, fixes, _portable(diag.problems), deps)


def worker_count(n: int, jobs: int | None = None) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, n, jobs or n))


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
) -> list[PartResult]:
    """Every part, from the cache when its inputs are unchanged, else in parallel workers.

    Results and their problems come back in reading order whatever order the workers finish in.
    `meanwhile` runs in this process while the workers work (or after the parts, without them), and
    only when some part had to be processed.
    """
    keys = [part_key(config, p) for p in parts]
    results: list[PartResult | None] = [None] * len(parts)
    todo: list[int] = []
    for i, key in enumerate(keys):
        hit = cache.load("part", key)
        if isinstance(hit, PartResult) and hit.ok and hit.deps_current():
            cache.note("part", key, True)
            results[i] = hit
        else:
            cache.note("part", key, False)
            todo.append(i)
    advance = progress.stage("parts", len(parts)) if progress else (lambda *a, **k: None)
    advance(len(parts) - len(todo))
    workers = worker_count(len(todo), jobs)
    if workers <= 1:
        for i in todo:
            results[i] = _run_part(config, parts[i], diag.strict, out)
            advance(1, parts[i].id)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # fork: the workers inherit the imported modules, so none pays Python's start-up again.
        ctx = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(_run_part, config, parts[i], diag.strict, out): i for i in todo}
            if meanwhile is not None:
                meanwhile()
                meanwhile = None
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                advance(1, parts[i].id)
    if meanwhile is not None and todo:  # all parts unchanged: the PDF most likely comes from the cache
        meanwhile()
    done: list[PartResult] = [r for r in results if r is not None]
    for i in todo:
        r = results[i]
        if r is not None and r.ok:
            cache.store("part", keys[i], r)
    for r in done:
        replay(diag, r.problems)
    return done


# --- the build -----------------------------------------------------------------------------------


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
) -> Build:
    """Read, validate and render everything; writes nothing (but the stage cache).

    `meanwhile` runs while the part workers work (e.g. `warm_pdf`, importing WeasyPrint).
    """
    from book import render, sanitize
    from book.manifest import build_manifest
    from book.progress import progress_for

    config = load_config(config_path, diag)
    manifest = build_manifest(config, diag)
    out_dir = Path(out)
    cache = open_cache(out_dir, use_cache)
    progress = progress_for(len(manifest.parts))
    with progress:
        results = process_parts(
            config, manifest.parts, diag, cache, jobs=jobs, progress=progress, out=out_dir, meanwhile=meanwhile
        )
    rendered: list[RenderedPart] = []
    fixes: dict[str, int] = {}
    deps: dict[str, str] = {}
    for part, r in zip(manifest.parts, results, strict=True):
        if r.rendered is not None:
            part.counts = r.rendered.counts
            rendered.append(r.rendered)
        for k, v in r.fixes.items():
            fixes[k] = fixes.get(k, 0) + v
        deps.update(r.deps)
    sanitize.check_links(manifest, rendered, diag)
    diag.raise_if_errors()
    cache.trim("part", keep=KEEP_PART_VERSIONS * len(manifest.parts))
    front = render.render_front(config, manifest, rendered)
    return Build(config, manifest, front + rendered, diag, out_dir, fixes, cache=cache, deps=deps)


def write_reports(build: Build, place: Callable[[Path], Path] = lambda p: p) -> list[Path]:
    """Write manifest.json and references.json (CSL-JSON); `place` maps a final path to where to write it."""
    from book import references

    written = []
    for name, text in (
        ("manifest.json", build.manifest.to_json()),
        ("references.json", references.csl_json_text([r for p in build.parts for r in getattr(p, "references", [])])),
    ):
        target = place(build.out / name)
        write_text(target, text)
        written.append(target)
    return written


def _write_if_changed(path: Path, data: bytes) -> None:
    """Leave an identical file alone (its mtime too), so unchanged outputs stay untouched."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    write_bytes(path, data)


def cached_output(
    build: Build, stage: str, target: Path | None, produce: Callable[[Path | None], Path], **options: Any
) -> Path:
    """Run an output stage (EPUB, PDF) through the cache.

    A hit writes the stored file where the stage wrote it (only if the file there differs),
    restores what the stage set on the build (page_count, page_map…) and replays its warnings. A
    miss runs `produce(target)` (the stage picks the file name when `target` is None: a PDF profile
    decides it) and stores the same things.
    """
    # Keyed by the file's name only: the CLI writes into a staging folder whose name changes.
    key = output_key(build, stage, target=Path(target).name if target else None, **options)
    entry = build.cache.load(stage, key)
    if isinstance(entry, dict) and {"data", "attrs", "problems", "path"} <= entry.keys():
        build.cache.note(stage, key, True)
        stored = Path(entry["path"])
        path = Path(target) if target else stored if stored.is_absolute() else build.out / stored
        _write_if_changed(path, entry["data"])
        for name, value in entry["attrs"].items():
            setattr(build, name, value)
        replay(build.diag, entry["problems"])
    else:
        build.cache.note(stage, key, False)
        before = dict(build.__dict__)
        seen = len(build.diag.problems)
        path = Path(produce(target))
        attrs = {
            k: v for k, v in build.__dict__.items() if k not in _NOT_RESULTS and (k not in before or before[k] is not v)
        }
        problems = _portable(build.diag.problems[seen:])
        try:
            stored = str(path.resolve().relative_to(build.out.resolve()))
        except ValueError:
            stored = str(path.resolve())
        if not any(p["severity"] == "error" for p in problems):
            entry = {"data": path.read_bytes(), "attrs": attrs, "problems": problems, "path": stored}
            build.cache.store(stage, key, entry)
    build.cache.trim(stage, keep=KEEP_OUTPUT_VERSIONS)
    build.outputs.append(path)
    return path


def write_epub(build: Build, target: Path | None = None, **options: Any) -> Path:
    """`book.epub.write_epub` through the cache (ebooklib is imported only on a miss)."""

    def produce(t: Path | None) -> Path:
        from book import epub

        return epub.write_epub(build, t or build.epub_path, **options)

    return cached_output(build, "epub", target, produce, **options)


def warm_pdf() -> None:
    """Import WeasyPrint and install our patches (half a second), so the PDF stage starts at once."""
    import pikepdf  # noqa: F401

    from book import assemble, pdf, weasyfast  # noqa: F401

    weasyfast.install()


def write_pdf(
    build: Build,
    target: Path | None = None,
    *,
    jobs: int | None = None,
    meanwhile: Callable[[], None] | None = None,
    after_layout: Callable[[], None] | None = None,
    **options: Any,
) -> Path:
    """`book.pdf.write_pdf` through the cache (WeasyPrint is imported only on a miss).

    With `jobs` > 1 (by default: the cores, when the book has two parts or more), parts are
    rendered in parallel workers and assembled (book.assemble); the workers' per-part results are
    cached through `memo_map` there, so an edit to one chapter re-renders that chapter only. This
    function caches the whole PDF on top. `jobs=1` renders the book as one WeasyPrint document.
    `meanwhile` runs in this process while the workers lay the parts out; `after_layout` once the
    page map is known (build.page_map), while the workers render the furniture. Neither runs when
    the PDF comes from the cache or is laid out as one document.
    """
    if jobs is None:
        jobs = worker_count(sum(1 for p in build.parts if p.kind != "front") + 1)
    parallel = jobs > 1 and options.get("profile", "print") != "screen"

    def produce(t: Path | None) -> Path:
        from book import pdf, weasyfast

        weasyfast.install()  # before any worker is forked, so the workers have it too
        with _spinner(build, "PDF"):
            if parallel:
                from book import assemble

                return assemble.write_pdf_parallel(
                    build, t, workers=jobs, meanwhile=meanwhile, after_layout=after_layout, **options
                )
            return pdf.write_pdf(build, t, **options)

    return cached_output(build, "pdf", target, produce, parallel=parallel, **options)


def memo_map(
    cache: Cache,
    stage: str,
    fn: Callable[..., T],
    calls: list[tuple[Any, ...]],
    executor: Any = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[T]:
    """`[fn(*args) for args in calls]` where each call is looked up in the cache first and the
    misses run on `executor` (a process pool: `fn` must be a module-level pure function of its
    arguments), while `meanwhile` runs here (it runs once in any case). Results come back in call
    order. For per-part PDFs: `memo_map(build.cache, "pdf-part", render_part_pdf, jobs, pool)`.
    """
    keys = [digest(stage, toolchain_fingerprint(), fn.__module__, fn.__qualname__, _plain(list(a))) for a in calls]
    results: list[Any] = [None] * len(calls)
    todo = []
    for i, key in enumerate(keys):
        hit = cache.load(stage, key)
        cache.note(stage, key, hit is not None)
        if hit is not None:
            results[i] = hit
        else:
            todo.append(i)
    if executor is not None and len(todo) > 1:
        pending = executor.map(fn, *zip(*(calls[i] for i in todo), strict=True))  # submits them all
        if meanwhile is not None:
            meanwhile()
        computed = list(pending)
    else:
        computed = [fn(*calls[i]) for i in todo]
        if meanwhile is not None:
            meanwhile()
    for i, value in zip(todo, computed, strict=True):
        results[i] = value
        cache.store(stage, keys[i], value)
    cache.trim(stage, keep=KEEP_PART_VERSIONS * max(1, len(calls)))
    return results


@contextlib.contextmanager
def _spinner(build: Build, label: str) -> Iterator[None]:
    from book.progress import progress_for

    with progress_for(len(build.parts)) as progress:
        progress.stage(label, None)
        yield


def source_date_epoch(build: Build) -> int:
    """SOURCE_DATE_EPOCH if set, else the newest `last_updated` among the parts (midnight UTC)."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env and env.isdigit():
        return int(env)
    import datetime as dt

    day = dt.date.fromisoformat(build.manifest.modified()[:10])
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


# --- the whole-build record: a no-change rebuild does nothing --------------------------------------


class _Tee(io.TextIOBase):
    """Passes text through to a stream and keeps a copy (the lines a replayed build prints again)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.copy = io.StringIO()
        self.paused = False  # the progress bar pauses the copy while it draws

    def write(self, s: str) -> int:
        if not self.paused:
            self.copy.write(s)
        return self.stream.write(s)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


class BuildRecord:
    """The fingerprint of a whole build's inputs and the hashes of the outputs it wrote.

    `fresh()` needs only the config, the sources, the templates, the styles and the package's files:
    no heavy module is imported, so a rebuild with nothing changed costs a few hashes.
    """

    def __init__(self, config_path: str | Path, out: str | Path, options: dict[str, Any]) -> None:
        self.config_path = Path(config_path)
        self.out = Path(out)
        self.options = _plain(options)
        self.path = self.out / CACHE_DIR / "builds" / f"{digest(self.options)[:24]}.json"
        self.key: str | None = None
        self.lines = ""
        self.started = time.time_ns()

    def inputs_key(self) -> str | None:
        quiet = io.StringIO()
        try:
            # The full build reports the config's warnings (and the replay repeats them): not twice.
            with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
                config = load_config(self.config_path)
        except BookError:
            return None  # the full build reports it
        files = [config.config_path] + [s.path for s in config.sources]
        with contextlib.suppress(OSError):
            if any(s.path.stat().st_size > MAX_SOURCE_BYTES for s in config.sources):
                return None  # refused by the read stage: not worth hashing (2 GB took 8 s)
        return self._keyed(digest(
            "build",
            toolchain_fingerprint(),
            self.options,
            os.environ.get("SOURCE_DATE_EPOCH", ""),
            [(str(p), p) for p in files],
            tree_digest(config.template_dirs),
            tree_digest(config.style_dirs),
        ))  # fmt: skip

    def _keyed(self, inputs: str) -> str:
        # Keyed like the cache's entries (book.cachekey): a record planted in a shipped build
        # folder cannot name the inputs, so cannot pass its own outputs off as up to date.
        return hmac.new(cachekey.secret(self.out), inputs.encode("ascii"), hashlib.sha256).hexdigest()

    def fresh(self) -> dict[str, Any] | None:
        """The stored record when the inputs match it and every output it names is unmodified."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        self.key = self.inputs_key()
        if not isinstance(record, dict) or self.key is None or record.get("key") != self.key:
            return None
        try:
            for path, sha in {**record["outputs"], **record["deps"]}.items():
                if file_sha256(Path(path)) != sha:
                    return None
        except (OSError, KeyError, TypeError):
            return None
        return record

    def replay(self) -> bool:
        """Print what the recorded build printed and return True when nothing needs doing."""
        record = self.fresh()
        if record is None:
            return False
        sys.stderr.write(record.get("lines", ""))
        shown = ", ".join(Path(p).name for p in record["outputs"])
        print(f"up to date: {shown}", file=sys.stderr)
        return True

    @contextlib.contextmanager
    def capture(self) -> Iterator[None]:
        """Keep what the build prints; the inputs are fingerprinted before it starts, so a source
        edited during the build makes the next build run again rather than trust stale outputs."""
        if self.key is None:
            self.key = self.inputs_key()
        tee = _Tee(sys.stderr)
        sys.stderr = tee
        try:
            yield
        finally:
            sys.stderr = tee.stream
            self.lines = tee.copy.getvalue()

    def save(self, build: Build | None) -> None:
        """Record the outputs of a successful build: the files it named, and any it wrote in `out`."""
        if self.key is None:
            return
        outputs = {Path(p) for p in (build.outputs if build else [])}
        if self.out.is_dir():
            for p in self.out.iterdir():
                if p.is_file() and not p.name.startswith(".") and p.stat().st_mtime_ns >= self.started:
                    outputs.add(p)
        record = {
            "key": self.key,
            "outputs": {str(p.resolve()): file_sha256(p) for p in sorted(outputs) if p.is_file()},
            "deps": dict(build.deps) if build else {},
            "lines": self.lines,
        }
        write_text(self.path, json.dumps(record, ensure_ascii=False, indent=1))
