"""Command line: `book build|lint|manifest|check …` → the pipeline, with one-line user errors.

A `BookError` (something the user can fix) prints as `path:line: message — hint` and exits 1 with no
traceback; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book.errors import BookError, Diagnostics


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="book.yaml", help="the book's configuration (default: book.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: build/ beside the config)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")


def _out(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    return Path(args.config).resolve().parent / "build"


def cmd_build(args: argparse.Namespace) -> int:
    from book.pipeline import prepare

    diag = Diagnostics(strict=args.strict)
    build = prepare(args.config, _out(args), diag)
    formats = ("epub", "pdf") if args.format == "all" else (args.format,)
    if "epub" in formats:
        from book.epub import write_epub

        path = write_epub(build)
        print(f"wrote {path}", file=sys.stderr)
        if not args.no_check:
            from book.check import run_epubcheck

            result = run_epubcheck(path)
            print(result.line(), file=sys.stderr)
            for d in result.details:
                print(f"  {d}", file=sys.stderr)
            if not result.ok:
                return 1
    if "pdf" in formats:
        from book.pdf import write_pdf

        if args.jobs > 1:
            from book.assemble import write_pdf_parallel

            path = write_pdf_parallel(build, profile=args.profile, workers=args.jobs)
        else:
            path = write_pdf(build, profile=args.profile)
        print(f"wrote {path} ({build.page_count} pages)", file=sys.stderr)  # type: ignore[attr-defined]
    diag.raise_if_errors()
    if build.fixes:
        fixed = ", ".join(f"{k} {v}" for k, v in sorted(build.fixes.items()) if v)
        if fixed:
            print(f"typography fixed in the output: {fixed}", file=sys.stderr)
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from book.config import load_config
    from book.manifest import build_manifest

    diag = Diagnostics(strict=args.strict)
    manifest = build_manifest(load_config(args.config), diag)
    print(manifest.to_json(), end="")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from book.check import check_pdf_fonts, run_epubcheck
    from book.config import load_config

    config = load_config(args.config)
    out = _out(args)
    results = []
    epub_path, pdf_path = out / f"{config.slug}.epub", out / f"{config.slug}.pdf"
    results.append(run_epubcheck(epub_path) if epub_path.exists() else None)
    results.append(check_pdf_fonts(pdf_path) if pdf_path.exists() else None)
    ok = True
    for r in results:
        if r is None:
            continue
        print(r.line())
        ok &= r.ok
    return 0 if ok else 1


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="book", description="Build a Chinese book as EPUB 3 and print PDF.")
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the EPUB and/or the PDF")
    _common(b)
    b.add_argument("--format", choices=("all", "epub", "pdf"), default="all")
    b.add_argument("--no-check", action="store_true", help="skip EPUBCheck after writing the EPUB")
    b.add_argument(
        "--profile",
        choices=("print", "screen", "review"),
        default="print",
        help="PDF profile: print (bleed, PDF/X-4, CMYK; build/<slug>.pdf), screen (tagged, links;"
        " <slug>-screen.pdf), review (draft watermark; <slug>-review.pdf)",
    )
    b.add_argument(
        "--jobs", type=int, default=1, help="render PDF parts in N worker processes and assemble them (default 1)"
    )
    b.set_defaults(func=cmd_build)
    m = sub.add_parser("manifest", help="print the validated manifest")
    _common(m)
    m.set_defaults(func=cmd_manifest)
    c = sub.add_parser("check", help="run the validators on the built files")
    _common(c)
    c.set_defaults(func=cmd_check)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BookError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; previous outputs are untouched", file=sys.stderr)
        return 130
