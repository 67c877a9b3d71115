"""Convert stage: a part's Markdown body → an HTML5 fragment, through the bundled Pandoc.

The reader is Pandoc Markdown tuned for Chinese manuscripts: lists may follow a paragraph line
directly, a newline between Han characters is not a space, smart quotes are off (its heuristics
mis-pair quotes next to Han; the typography stage pairs them), and `~` stays literal because
ranges are common in prose. `$…$` and `$$…$$` are formulas (Pandoc's rule: no space inside the
dollars, no digit after the closing one, so `$5 和 $10` stays text); they are written as TeX
(`--mathjax`) for the formulas stage (book.parts.formulas).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pypandoc  # noqa: E402

from book.errors import BookError, Problem

# pypandoc picks the newest pandoc on the machine; pin the one the wheel ships so every machine
# converts the same way.
BUNDLED_PANDOC = Path(pypandoc.__file__).parent / "files" / "pandoc"
if BUNDLED_PANDOC.exists():
    os.environ["PYPANDOC_PANDOC"] = str(BUNDLED_PANDOC)

READER = (
    "markdown"
    "+lists_without_preceding_blankline"
    "+east_asian_line_breaks"
    "-smart"
    "+tex_math_dollars"
    "-raw_tex"
    "-subscript"
    "-superscript"
    # GitHub has neither: a `-------` rule under a list made a multiline table that dropped items
    # (book.parts.traps).
    "-multiline_tables"
    "-simple_tables"
)


# The bundled Pandoc asks its runtime for a 64 MB heap up front (-with-rtsopts=-H64m): 173 MB
# resident per conversion. A chapter needs far less: with these, 115 MB and the same speed
# (measured on chapter 8: 0.06–0.09 s either way). Two conversions run at once during a build.
PANDOC_RTS = ("+RTS", "-H8m", "-A2m", "-RTS")


def pandoc_binary() -> str:
    """The bundled Pandoc, else the one pypandoc finds on the machine."""
    return str(BUNDLED_PANDOC) if BUNDLED_PANDOC.exists() else pypandoc.get_pandoc_path()


def run_pandoc(args: list[str], text: str, source: Path | str = "") -> str:
    """Pandoc's output for `text` on its standard input, as pypandoc's `convert_text` runs it but
    without its checks: those asked Pandoc for its version twice in each worker process (four
    Pandoc runs of a two-part build), and the bundled Pandoc is the one the arguments are for."""
    try:
        done = subprocess.run([pandoc_binary(), *args], input=text.encode("utf-8"), capture_output=True, check=False)
    except OSError as exc:
        raise BookError(Problem(str(source), None, f"Pandoc could not run: {exc}", "run `make setup`")) from None
    if done.returncode != 0:
        what = done.stderr.decode("utf-8", errors="replace").strip()[:200]
        raise BookError(Problem(str(source), None, f"Pandoc could not convert the text: {what}"))
    return done.stdout.decode("utf-8", errors="replace")


def markdown_to_html(body: str, id_prefix: str, source: Path | str = "") -> str:
    """Return the HTML5 fragment Pandoc makes of `body`; ids are prefixed to be unique in the book."""
    args = [f"--from={READER}", "--to=html5", "--sandbox", "--section-divs", "--wrap=none", "--mathjax",
            "--columns=100000", f"--id-prefix={id_prefix}-", *PANDOC_RTS]  # fmt: skip
    return run_pandoc(args, body, source)


def markdown_to_ast(body: str, source: Path | str = "") -> dict:
    """Pandoc's JSON AST of `body`, read exactly as `markdown_to_html` reads it (for the editor's DOCX)."""
    import json

    return json.loads(
        run_pandoc([f"--from={READER}", "--to=json", "--sandbox", "--wrap=none", *PANDOC_RTS], body, source)
    )
