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
# pypandoc checks `format` and `to` against Pandoc's lists, which it asks Pandoc for on every call:
# two more Pandoc runs per conversion (30 ms of a one-chapter rebuild). Ours are fixed and the
# bundled Pandoc has them, so the check is skipped.
VERIFY_FORMATS = False


def markdown_to_html(body: str, id_prefix: str, source: Path | str = "") -> str:
    """Return the HTML5 fragment Pandoc makes of `body`; ids are prefixed to be unique in the book."""
    try:
        return pypandoc.convert_text(
            body,
            "html5",
            format=READER,
            extra_args=[
                "--section-divs",
                "--wrap=none",
                "--mathjax",
                "--columns=100000",
                f"--id-prefix={id_prefix}-",
                *PANDOC_RTS,
            ],
            sandbox=True,
            verify_format=VERIFY_FORMATS,
        )
    except RuntimeError as exc:
        raise BookError(
            Problem(str(source), None, f"Pandoc could not convert the text: {str(exc).strip()[:200]}")
        ) from None


def markdown_to_ast(body: str, source: Path | str = "") -> dict:
    """Pandoc's JSON AST of `body`, read exactly as `markdown_to_html` reads it (for the editor's DOCX)."""
    import json

    try:
        return json.loads(
            pypandoc.convert_text(
                body,
                "json",
                format=READER,
                extra_args=["--wrap=none", *PANDOC_RTS],
                sandbox=True,
                verify_format=VERIFY_FORMATS,
            )
        )
    except RuntimeError as exc:
        raise BookError(
            Problem(str(source), None, f"Pandoc could not convert the text: {str(exc).strip()[:200]}")
        ) from None
