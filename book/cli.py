"""Command line: `book build|lint|manifest|check|cover …` → the pipeline, with one-line user errors.

A `BookError` (something the user can fix) prints as `path:line: message — hint` and exits 1 with no
traceback; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # before the package's imports: the no-change rebuild's "up to date, 0.1 s"

from book import __version__  # noqa: E402
from book.engine import oserrors  # noqa: E402
from book.errors import BookError, Diagnostics, Problem, display_path  # noqa: E402
from book.pipeline import BuildRequest  # noqa: E402


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="book.yaml", help="the book's configuration (default: book.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: build/ beside the config)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")


def _out(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    return Path(args.config).resolve().parent / "build"


def _request(args: argparse.Namespace) -> BuildRequest:
    formats = ("epub", "pdf") if args.format == "all" else (args.format,)
    return BuildRequest(
        config=Path(args.config), out=_out(args), formats=formats, profile=args.profile, strict=args.strict,
        use_cache=not args.no_cache, check=not args.no_check, jobs=args.jobs, pdf_jobs=args.pdf_jobs,
    )  # fmt: skip


def cmd_build(args: argparse.Namespace) -> int:
    """A build, skipped when its recorded inputs and outputs are unchanged (book.engine.record); then
    each of `editions:` the same way."""
    request = _request(args)
    _build_one(request)
    for edition in _editions(request):
        _build_one(edition)
    return 0


def _editions(request: BuildRequest) -> list[BuildRequest]:
    """The `editions:` of book.yaml, each built into `<out>/<language>/`."""
    import dataclasses

    from book.source.config import load_config

    tags = load_config(request.config, Diagnostics(echo=False)).editions
    return [dataclasses.replace(request, out=request.out / tag, edition=tag) for tag in tags]


def _build_one(request: BuildRequest) -> None:
    from book.engine.lock import build_lock
    from book.pipeline import build, record_for

    record = record_for(request)
    with build_lock(request.out):
        if request.use_cache and record.replay(STARTED):
            return
        with record.capture():
            outcome = build(request)
            if outcome.build.fixes:
                fixed = ", ".join(f"{k} {v}" for k, v in sorted(outcome.build.fixes.items()) if v)
                if fixed:
                    print(f"typography fixed in the output: {fixed}", file=sys.stderr)
        record.save(outcome.written, outcome.build.deps)


def cmd_manifest(args: argparse.Namespace) -> int:
    from book.pipeline import prepare, write_reports

    diag = Diagnostics(strict=args.strict)
    build = prepare(args.config, _out(args), diag)  # measures every part
    write_reports(build)
    if args.json:
        from book.parts.counts import manifest_json

        print(manifest_json(build.manifest), end="")
    else:
        from book.parts.counts import print_counts

        print_counts(build.manifest)
    diag.raise_if_errors()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from book.check.epub import check_epub
    from book.check.pdf import check_pdf
    from book.model import CheckResult
    from book.source.config import load_config

    config = load_config(args.config)
    out = _out(args)
    epub_path, pdf_path = out / f"{config.slug}.epub", out / f"{config.slug}.pdf"
    ok = True

    def report(r: CheckResult) -> None:
        nonlocal ok
        print(r.line(), flush=True)
        for d in r.details if not r.ok else []:
            print(f"  {d}")
        ok &= r.ok

    if epub_path.exists():
        for r in check_epub(epub_path):
            report(r)
        from book.check.placeholders import check_epub_placeholders  # a final part printed with a placeholder

        report(check_epub_placeholders(epub_path))
    else:
        report(CheckResult("epub", False, f"{epub_path} not found: run `make` first"))
    if pdf_path.exists():
        for r in check_pdf(pdf_path, config.language):
            report(r)
        from book.check.layout import check_layout  # nothing beyond the type area or the trim

        report(check_layout(pdf_path, config))
    else:
        report(CheckResult("pdf", False, f"{pdf_path} not found: run `make` first"))
    for tag in config.editions:  # `editions:` are built into <out>/<tag>/: their print PDF in its own script
        edition_pdf = out / tag / f"{config.slug}.pdf"
        if edition_pdf.exists():
            for r in check_pdf(edition_pdf, tag):
                report(CheckResult(f"{r.name} ({tag})", r.ok, r.summary, r.details))
    from book.check.retail import check_retail  # the stores' and the printer's: cover size, ISBN, spine

    for r in check_retail(config, out):
        report(r)
    return 0 if ok else 1


def cmd_cover(args: argparse.Namespace) -> int:
    """The printer's cover spread for the built interior (book.cover.spread), the interior built first
    when it is missing and no --pages is given."""
    from book.cover.spread import book_isbn, make_cover
    from book.source.config import load_config

    diag = Diagnostics(strict=args.strict)
    config = load_config(args.config, diag)
    book_isbn(config)  # a bad ISBN stops before the interior is built
    out = _out(args)
    if args.pages is None and not (out / f"{config.slug}.pdf").is_file():
        if main(["build", "--format", "pdf", "--config", str(args.config), "--out", str(out)]) != 0:
            raise BookError(Problem(display_path(out / f"{config.slug}.pdf"), None, "the interior could not be built",
                                    "fix the errors above, or give the page count with --pages N"))  # fmt: skip
    path, spread = make_cover(config, out, diag, pages=args.pages)
    diag.raise_if_errors()
    print(
        f"wrote {path} ({spread.full_width:.1f}×{spread.full_height:.1f} mm with bleed; spine {spread.spine:.2f} mm"
        f" for {spread.pages} pages of {spread.caliper:g} mm leaves)",
        file=sys.stderr,
    )
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from book.source.config import load_config
    from book.source.lint import lint_part
    from book.source.manifest import build_manifest

    diag = Diagnostics(strict=False)
    manifest = build_manifest(load_config(args.config), diag)
    findings = [f for part in manifest.parts for f in lint_part(part, display_path(part.source))]
    for f in findings:
        print(f)
    print(f"{len(findings)} finding(s)", file=sys.stderr)
    return 1 if args.strict and findings else 0


def cmd_preview(args: argparse.Namespace) -> int:
    from book.tools import preview

    if args.reader == "calibre":
        if not preview.calibre_viewer():
            return preview.open_in_calibre(Path())  # says what to install, in one line
        from book.pipeline import prepare, write_epub

        return preview.open_in_calibre(write_epub(prepare(args.config, _out(args), Diagnostics())).path)
    return preview.run(args.config, _out(args), port=args.port, open_browser=not args.no_open, pdf=args.pdf)


def cmd_screenshots(args: argparse.Namespace) -> int:
    from book.tools.screenshots import take

    paths = take(args.config, _out(args), pages=args.pages, parts=tuple(args.part or ()))
    for p in paths:
        print(p)
    print(f"wrote {len(paths)} screenshots", file=sys.stderr)
    return 0


def cmd_editor(args: argparse.Namespace) -> int:
    from book.tools.editor import make_package

    pkg = make_package(args.config, _out(args), check=not args.no_check)
    print(pkg.path)
    for name, size in pkg.files.items():
        print(f"  {name}: {size:,} bytes", file=sys.stderr)
    if pkg.changes is None:
        print("first package: no earlier one to compare with", file=sys.stderr)
    else:
        n = sum(len(p.paragraphs) for p in pkg.changes)
        print(f"changes since the last package: {len(pkg.changes)} parts, {n} paragraphs", file=sys.stderr)
        for part in pkg.changes:
            for c in part.paragraphs:
                print(f"  {part.where(c)} ({c.id}, {c.kind}): {c.diff_text()[:120]}", file=sys.stderr)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    from book.tools.editor import latest_package
    from book.tools.send import send_package

    package = Path(args.package) if args.package else latest_package(_out(args))
    if package is None or not package.is_file():
        raise BookError(Problem(str(args.package or _out(args) / "editor"), None, "no editor package to send",
                                "run `book editor` (make editor) first, or pass --package PATH"))  # fmt: skip
    return send_package(package, args.to, config_path=args.config, dry_run=args.dry_run)


def cmd_review(args: argparse.Namespace) -> int:
    """`book review import FILE.docx`: the editor's tracked changes → patches and a report (book.tools.review)."""
    from book.tools.review import import_review

    result = import_review(args.config, Path(args.docx), _out(args), package=Path(args.package) if args.package else None,
                           apply=args.apply)  # fmt: skip
    done = sum(c.applied for c in result.changes)
    print(f"{len(result.changes)} tracked changes from {result.package}.zip: {done} in the patches,"
          f" {len(result.changes) - done} for a manual edit; {len(result.remarks)} comments", file=sys.stderr)  # fmt: skip
    for path in result.patches.values():
        print(path)
    print(result.report)
    for rel in result.applied:
        print(f"applied to {rel}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from book.tools.bench import main as bench_main

    return bench_main(["--out", args.out])


def cmd_init(args: argparse.Namespace) -> int:
    from book.tools.init import init

    written = init(Path(args.dir), Path(args.source) if args.source else None)
    for path in written:
        print(f"wrote {display_path(path)}", file=sys.stderr)
    print(f"next: cd {display_path(args.dir)} && make   (the EPUB and PDF go to build/)", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="book", description="Build a Chinese book as EPUB 3 and print PDF.")
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the EPUB and/or the PDF")
    _common(b)
    b.add_argument("--format", choices=("all", "epub", "pdf"), default="all")
    b.add_argument("--no-check", action="store_true", help="skip EPUBCheck after writing the EPUB")
    b.add_argument("--no-cache", action="store_true", help="rebuild every stage; ignore and do not fill <out>/.cache")
    b.add_argument("--jobs", "-j", type=int, default=None, help="worker processes for the parts (default: cores)")
    b.add_argument(
        "--profile",
        choices=("print", "screen", "review"),
        default="print",
        help="PDF profile: print (bleed, PDF/X-4, CMYK; build/<slug>.pdf), screen (tagged, links;"
        " <slug>-screen.pdf), review (draft watermark; <slug>-review.pdf)",
    )
    b.add_argument(
        "--pdf-jobs",
        type=int,
        default=None,
        help="render PDF parts in N worker processes and assemble them (default: cores; 1 = one document)",
    )
    b.set_defaults(func=cmd_build)
    m = sub.add_parser("manifest", help="print the validated manifest")
    _common(m)
    m.add_argument("--json", action="store_true", help="print the manifest as JSON instead of the counts table")
    m.set_defaults(func=cmd_manifest)
    c = sub.add_parser("check", help="run the validators on the built files")
    _common(c)
    c.set_defaults(func=cmd_check)
    cv = sub.add_parser("cover", help="the printer's cover spread (back, spine, front): <slug>-cover.pdf")
    _common(cv)
    cv.add_argument("--pages", type=int, default=None, help="interior pages (default: count the built <slug>.pdf)")
    cv.set_defaults(func=cmd_cover)
    lint = sub.add_parser("lint", help="report manuscript typography problems as file:line: message")
    _common(lint)
    lint.set_defaults(func=cmd_lint)
    pv = sub.add_parser("preview", help="read the book in a local e-reader page, rebuilt on every edit")
    _common(pv)
    pv.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (a free one if taken; 0: any)")
    pv.add_argument("--no-open", action="store_true", help="do not open a web browser")
    pv.add_argument("--reader", choices=("browser", "calibre"), default="browser", help="calibre: ebook-viewer")
    pv.add_argument("--pdf", action="store_true", help="also show the print pages of the chapter being edited")
    pv.set_defaults(func=cmd_preview)
    sh = sub.add_parser("screenshots", help="PNGs of each part's first pages per device in build/preview/")
    _common(sh)
    sh.add_argument("--pages", type=int, default=2, help="pages per part and device (default: 2)")
    sh.add_argument("--part", action="append", help="only this part id (repeatable), e.g. ch08")
    sh.set_defaults(func=cmd_screenshots)
    ed = sub.add_parser("editor", help="the editor's package: review PDF, DOCX, EPUB, report and changes")
    _common(ed)
    ed.add_argument("--no-check", action="store_true", help="skip EPUBCheck")
    ed.set_defaults(func=cmd_editor)
    se = sub.add_parser("send", help="mail the editor package (SMTP settings from BOOK_SMTP_* variables)")
    _common(se)
    se.add_argument("--to", required=True, action="append", help="recipient address (repeatable)")
    se.add_argument("--package", help="the zip to send (default: the newest in build/editor/)")
    se.add_argument("--dry-run", action="store_true", default=None, help="write the .eml instead of sending")
    se.set_defaults(func=cmd_send)
    rv = sub.add_parser("review", help="carry the editor's DOCX back: `review import FILE.docx` → patches, report")
    rv_sub = rv.add_subparsers(dest="review_command", required=True)
    ri = rv_sub.add_parser("import", help="tracked changes and comments of an editor's DOCX → patches and report.md")
    _common(ri)
    ri.add_argument("docx", help="the DOCX the editor returned")
    ri.add_argument("--package", help="the package the DOCX came from (default: the one the DOCX names)")
    ri.add_argument("--apply", action="store_true", help="write the changes into the sources (never a changed one)")
    ri.set_defaults(func=cmd_review)
    bench = sub.add_parser("bench", help="time our builds against plain pandoc → WeasyPrint (build/bench.json)")
    bench.add_argument("--out", default="build", help="where bench.json and bench.png go (default: build)")
    bench.set_defaults(func=cmd_bench)
    it = sub.add_parser("init", help="start a book in DIR (book.yaml, two chapters, an image, a Makefile), "
                        "or import a SUMMARY.md / _quarto.yml as its book.yaml")  # fmt: skip
    it.add_argument("dir", help="the book's folder (created if missing)")
    it.add_argument("--from", dest="source", help="an mdBook/GitBook SUMMARY.md or a Quarto _quarto.yml to import")
    it.set_defaults(func=cmd_init)
    return ap


class Interrupted(KeyboardInterrupt):
    """SIGTERM/SIGHUP, handled like Ctrl-C: unwind, so staged and temporary files are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    raise Interrupted(signum)


# Failures of the machine or the folders the user chose, not bugs: one line, no traceback.
USER_OS_ERRORS = oserrors.USER_OS_ERRORS


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    try:
        return args.func(args)
    except BookError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print("interrupted; previous outputs are untouched", file=sys.stderr)
        return 128 + signum
    except OSError as exc:
        # An error naming no file (a write on a full disk outside any atomic write) names the output folder.
        problem = oserrors.problem(exc, fallback=_out(args) if hasattr(args, "config") else None)
        if problem is None:
            raise
        print(problem, file=sys.stderr)
        return 1
