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
    if "pdf" in formats:
        # The PDF first: its layout gives the EPUB the print edition's page list (build.page_map).
        from book.pdf import write_pdf

        path = write_pdf(build)
        print(f"wrote {path} ({build.page_count} pages)", file=sys.stderr)  # type: ignore[attr-defined]
    if "epub" in formats:
        from book.epub import write_epub

        path = write_epub(build)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
        for f in getattr(build, "fonts", []):
            print(f"  font {f.href}: {len(f.data) / 1024:.0f} KB, {f.glyphs} glyphs for {f.characters} characters",
                  file=sys.stderr)  # fmt: skip
        if not args.no_check:
            from book.check import run_epubcheck

            result = run_epubcheck(path)
            print(result.line(), file=sys.stderr)
            for d in result.details:
                print(f"  {d}", file=sys.stderr)
            if not result.ok:
                return 1
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
    from book.check import CheckResult, check_epub, check_pdf_fonts
    from book.config import load_config

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
    else:
        report(CheckResult("epub", False, f"{epub_path} not found: run `make` first"))
    if pdf_path.exists():
        # The print branch may gather its PDF validators in `check_pdf(path) -> list[CheckResult]`.
        from book import check as checks

        check_pdf = getattr(checks, "check_pdf", None)
        for r in check_pdf(pdf_path) if callable(check_pdf) else [check_pdf_fonts(pdf_path)]:
            report(r)
    else:
        report(CheckResult("pdf", False, f"{pdf_path} not found: run `make` first"))
    return 0 if ok else 1


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="book", description="Build a Chinese book as EPUB 3 and print PDF.")
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the EPUB and/or the PDF")
    _common(b)
    b.add_argument("--format", choices=("all", "epub", "pdf"), default="all")
    b.add_argument("--no-check", action="store_true", help="skip EPUBCheck after writing the EPUB")
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
