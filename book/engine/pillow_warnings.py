"""Pillow's warnings: the Python warnings Pillow issues while reading an image → our own positioned
warnings, instead of raw `…/PIL/TiffImagePlugin.py:982: UserWarning: …` lines on stderr.

The images stage reads every image the book embeds, so `reported` turns what Pillow says there
(corrupt EXIF data, palette transparency, a truncated file…) into one `path:line: warning:` at the
line that names the image. WeasyPrint opens the same images again for the PDF; `quiet` keeps
Pillow silent there, since each warning has already been given where it can be fixed.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

from book.errors import Diagnostics

HINT = "open the image and save it again (e.g. as PNG) to repair it"
PILLOW_MODULES = r"PIL(\.|$)"


def _from_pillow(w: warnings.WarningMessage) -> bool:
    return "/PIL/" in w.filename.replace("\\", "/") or type(w.message).__module__.startswith("PIL")


@contextlib.contextmanager
def reported(diag: Diagnostics, path: str | Path, line: int | None, what: str) -> Iterator[None]:
    """Report each Pillow warning raised in the block as `path:line: warning: what: message`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if _from_pillow(w):
            diag.warn(path, line, f"{what}: {' '.join(str(w.message).split())}", HINT)
        else:  # not Pillow's: shown as it would have been
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Pillow's warnings ignored in the block (they were reported by the images stage)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=PILLOW_MODULES)
        yield
