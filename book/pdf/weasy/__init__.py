"""Every patch we make to WeasyPrint, behind one `install()` that checks the pinned version.

WeasyPrint 70 lacks what Chinese print needs in a few places, and we patch exactly those:
- `justify`: justified lines with Chinese text spread their slack between the characters (clreq).
- `emoji`: a colour-emoji glyph becomes one embedded image per glyph instead of one per use.
- `grid`: the blocks of the text start on the page's line grid (the body's line pitch).
- `continued`: a box split across pages repeats its title, with （续）, where it continues.
- `fonts` (`deferred_fonts()`, while a part is written): font programs are left out of each part's
  PDF and subset once for the whole book.
- `fixed_document_id()` (while a part is written): the XMP DocumentID comes from the content, not
  from a random uuid4, so a part's PDF is a pure function of its inputs.
- `htmlparse`: tinyhtml5's scanner finds its regex in its cache (it stored it under the wrong key).
- `leaders`: a leader's dots one box in the layout (not a copy of the dot's text box per dot), each
  dot drawn as WeasyPrint draws it, replayed at its x once the operators repeat.
- `percents`: a box's used margins, paddings and sizes resolved inline, not through two calls each.
- `pangocache`: a text layout's Pango context and font description taken from an equal style's.
- `markers`: an outside list marker's shrink-to-fit width measured, and its line laid out, once per
  marker text and style.
- `pseudos`: list markers' and notes' pseudo-element styles computed when asked for, not for every element.
- `styles`: a property no declaration sets takes its inherited or initial value without the general path.
- `contexts`: a part's layout context, which holds its styles and boxes in a cycle, emptied once it is written.

The patches reach into WeasyPrint's internals, so they are installed only on the version they were
written and tested against; on another version `install()` warns once and installs nothing.
"""

from __future__ import annotations

import contextlib
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

PINNED_VERSION = "70.0"
_VERSION = re.compile(r"(?:\.[0-9]+)+")  # a soname's version suffix
_state: dict[str, bool] = {}


def version() -> str:
    with _libraries_found_by_ldconfig():
        import weasyprint

    return str(weasyprint.__version__)


@contextlib.contextmanager
def _libraries_found_by_ldconfig() -> Iterator[None]:
    """`ctypes.util.find_library` answered from one `ldconfig -p` while WeasyPrint is imported.

    WeasyPrint opens each of its 7 libraries by trying Windows' names first ('libpango-1.0-0',
    'pango-1.0-0'), and cffi asks `find_library` for each name that fails to open. For a name that
    ldconfig does not list, find_library then runs gcc and ld as well: 231 processes per import,
    0.2 s of CPU in them and 0.35 s of wall on the build's critical path. WeasyPrint's list also
    holds each library's soname ('libpango-1.0.so.0'), which is opened without find_library, so a
    library ldconfig does not know (one on LD_LIBRARY_PATH) is still found.
    """
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        yield
        return
    import ctypes.util
    import shutil
    import subprocess

    ldconfig = shutil.which("ldconfig") or ("/sbin/ldconfig" if Path("/sbin/ldconfig").exists() else None)
    if ldconfig is None:
        yield
        return
    try:
        listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        yield
        return
    sonames = [line.strip().split(" ", 1)[0] for line in listing.splitlines()[1:]]
    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: first_soname(sonames, name)
    try:
        yield
    finally:
        ctypes.util.find_library = original


def first_soname(sonames: list[str], name: str) -> str | None:
    """find_library's own first answer from ldconfig's listing: the first `lib<name>.so[.N…]`."""
    stem = f"lib{name}.so"
    return next(
        (so for so in sonames if so == stem or (so.startswith(stem + ".") and _VERSION.fullmatch(so[len(stem) :]))),
        None,
    )


def pinned() -> bool:
    return version() == PINNED_VERSION


def install() -> bool:
    """Install the permanent patches once per process (idempotent); False on an unpinned WeasyPrint."""
    if "installed" in _state:
        return _state["installed"]
    ok = pinned()
    if ok:
        from book.pdf.weasy import continued, emoji, grid, justify, percents

        percents.install()  # before the grid's, which calls it
        justify.install()
        emoji.install()
        grid.install()
        continued.install()  # wraps the grid's block layout: after it
        from book.pdf.weasy import htmlparse

        htmlparse.install()
        from book.pdf.weasy import leaders

        leaders.install()
        from book.pdf.weasy import contexts, markers, pangocache, pseudos, styles

        pangocache.install()
        markers.install()
        pseudos.install()
        styles.install()
        contexts.install()
    else:
        print(
            f"warning: WeasyPrint {version()} is not the pinned {PINNED_VERSION}: Chinese justification and the "
            "speed patches are off — install the versions in requirements.lock",
            file=sys.stderr,
        )
    _state["installed"] = ok
    return ok


@contextlib.contextmanager
def fixed_document_id(hex32: str) -> Iterator[None]:
    """While active, WeasyPrint's PDF/X metadata takes `hex32` as its uuid4 (the XMP DocumentID)."""
    from weasyprint.pdf import metadata

    fixed = uuid.UUID(hex32)
    original = metadata.uuid4
    metadata.uuid4 = lambda: fixed
    try:
        yield
    finally:
        metadata.uuid4 = original
