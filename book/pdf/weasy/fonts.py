"""WeasyPrint patch: a part's fonts → placeholders in its PDF, and a record of which file each came from.

Used while a part is written in a worker (book.pdf.parallel): the fonts are subset once for the whole
book at assembly (book.pdf.subset.merge_fonts) instead of once per part.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PLACEHOLDER = {True: b"OTTO", False: b"\x00\x01\x00\x00"}  # read by WeasyPrint's `Font.type`

_fc: Any = None


def _fontconfig() -> Any:
    """cffi bindings for the two calls that name a Pango font's file (Pango 1.44+)."""
    global _fc
    if _fc is None:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef(
            """
            typedef struct _FcPattern FcPattern;
            FcPattern *pango_fc_font_get_pattern (void *font);
            int FcPatternGetString (const FcPattern *p, const char *object, int n, unsigned char **s);
            """
        )
        libs = []
        for names in (("libpangoft2-1.0.so.0", "pangoft2-1.0"), ("libfontconfig.so.1", "fontconfig")):
            for name in names:
                try:
                    libs.append(ffi.dlopen(name))
                    break
                except OSError:
                    continue
        _fc = (ffi, *libs) if len(libs) == 2 else (ffi, None, None)
    return _fc


def font_file(pango_font: Any) -> str | None:
    """The file a Pango font was loaded from, or None if it cannot be told."""
    from weasyprint.text.ffi import ffi as wffi

    ffi, pangoft2, fontconfig = _fontconfig()
    if pangoft2 is None:
        return None
    pattern = pangoft2.pango_fc_font_get_pattern(ffi.cast("void *", int(wffi.cast("uintptr_t", pango_font))))
    if pattern == ffi.NULL:
        return None
    out = ffi.new("unsigned char **")
    if fontconfig.FcPatternGetString(pattern, b"file", 0, out) != 0:  # FcResultMatch
        return None
    return ffi.string(out[0]).decode("utf-8", "surrogateescape")


def rewritten_by_weasyprint(font: Any) -> bool:
    """Bitmap, colour and variable fonts, whose programs WeasyPrint rewrites itself."""
    return bool(font.bitmap or font.png or font.svg or font.colr or "fvar" in font.tables)


def _init_uncopied(wfonts: Any, original_init: Any, original_data: Any, font: Any, *args: Any) -> None:
    """WeasyPrint's `Font.__init__` without the copy of the font's whole file (20 MB for a CJK collection)."""
    wfonts.get_hb_object_data = lambda *a, **k: b"" if len(a) == 1 and not k else original_data(*a, **k)
    try:
        original_init(font, *args)
    finally:
        wfonts.get_hb_object_data = original_data


def _harfbuzz_subsets() -> bool:
    """Whether WeasyPrint subsets with HarfBuzz (from the face), not fontTools (from the file's bytes)."""
    from weasyprint.pdf import fonts as wfonts

    return bool(wfonts.harfbuzz_subset and wfonts.harfbuzz.hb_version_atleast(4, 1, 0))


@contextlib.contextmanager
def font_data_when_needed() -> Iterator[None]:
    """While active, WeasyPrint copies a font's whole file into Python only when it reads it.

    `Font.__init__` copies every font it meets (20 MB for a CJK collection) though HarfBuzz subsets
    the face itself: the EPUB's cover (three faces) took 0.71–0.73 s of CPU with the copies,
    0.59–0.65 s without. Copied for the fonts WeasyPrint rewrites itself, in `clean` when fontTools
    subsets, or after it when nothing was subset (no characters, or HarfBuzz failed): the whole
    font, as WeasyPrint would embed it.
    """
    from weasyprint.pdf import fonts as wfonts

    original_init, original_clean = wfonts.Font.__init__, wfonts.Font.clean
    original_data = wfonts.get_hb_object_data

    def init(self: Any, pango_font: Any, description: Any, font_size: Any) -> None:
        _init_uncopied(wfonts, original_init, original_data, self, pango_font, description, font_size)
        if rewritten_by_weasyprint(self):
            self.file_content = original_data(self.hb_face)

    def clean(self: Any, to_unicode: Any, hinting: Any) -> None:
        if not self.file_content and not _harfbuzz_subsets():
            self.file_content = original_data(self.hb_face)
        original_clean(self, to_unicode, hinting)
        if not self.file_content:  # nothing subset (no characters, or HarfBuzz failed): the whole font
            self.file_content = original_data(self.hb_face)

    wfonts.Font.__init__, wfonts.Font.clean = init, clean  # type: ignore[method-assign]
    try:
        yield
    finally:
        wfonts.Font.__init__, wfonts.Font.clean = original_init, original_clean  # type: ignore[method-assign]


@contextlib.contextmanager
def deferred_fonts() -> Iterator[dict[str, tuple[str, int]]]:
    """While active, WeasyPrint embeds placeholders for fonts `merge_fonts` can subset later.

    Yields the record filled during `write_pdf`: BaseFont name (without the slash) → (file, face
    index). Not thread-safe (patches a class); workers are processes.
    """
    from weasyprint.pdf import fonts as wfonts

    record: dict[str, tuple[str, int]] = {}
    original_init, original_clean = wfonts.Font.__init__, wfonts.Font.clean
    original_data = wfonts.get_hb_object_data
    temp = str(Path(tempfile.gettempdir()).resolve())

    def init(self: Any, pango_font: Any, description: Any, font_size: Any) -> None:
        # The whole font file is copied only if WeasyPrint needs it.
        _init_uncopied(wfonts, original_init, original_data, self, pango_font, description, font_size)
        path = font_file(pango_font)
        ok = path is not None and Path(path).is_file() and not str(Path(path).resolve()).startswith(temp)
        self._book_source = (path, int(self.index)) if ok else None
        if not ok or rewritten_by_weasyprint(self):
            self.file_content = original_data(self.hb_face)

    def clean(self: Any, to_unicode: Any, hinting: Any) -> None:
        source = getattr(self, "_book_source", None)
        if source is None or rewritten_by_weasyprint(self) or self.missing or hinting or self.used_in_forms:
            if not self.file_content:
                self.file_content = original_data(self.hb_face)
            return original_clean(self, to_unicode, hinting)
        record[self.name.decode("latin-1").lstrip("/")] = source
        self.file_content = PLACEHOLDER["CFF " in self.tables or "CFF2" in self.tables]

    wfonts.Font.__init__, wfonts.Font.clean = init, clean  # type: ignore[method-assign]
    try:
        yield record
    finally:
        wfonts.Font.__init__, wfonts.Font.clean = original_init, original_clean  # type: ignore[method-assign]
