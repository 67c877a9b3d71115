"""Font subsetting once per build: parts' PDFs with deferred font programs → one subset per font.

When parts are rendered as separate WeasyPrint documents (book.assemble), each would embed its own
subset of every font: 30 chapters, 30 copies of Noto Serif CJK with the same subset tag, a PDF ten
times too big, and 30 subsetting runs. Instead the worker renders with `deferred_fonts()`:
WeasyPrint writes its font dictionaries as usual (widths, ToUnicode map, descriptor) but with an
empty placeholder program, and records which font file and face each font comes from. Assembly
then calls `merge_fonts`: per font, the union of the glyphs every part used is subset once from
the original file (HarfBuzz through uharfbuzz, glyph ids retained, as WeasyPrint does), and every
page points at that one font. Fonts WeasyPrint must rewrite itself (bitmap, colour, variable fonts,
fonts with missing glyphs, fonts from temporary @font-face files) are left to WeasyPrint.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The tables WeasyPrint drops when it subsets (weasyprint.pdf.fonts.Font._harfbuzz_subset).
DROP_TABLES = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH", "PCLT", "SVG ")
PLACEHOLDER = {True: b"OTTO", False: b"\x00\x01\x00\x00"}  # read by WeasyPrint's `Font.type`
BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")

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
        # The whole font file (20 MB for a CJK collection) is copied only if WeasyPrint needs it.
        wfonts.get_hb_object_data = lambda *a, **k: b"" if len(a) == 1 and not k else original_data(*a, **k)
        try:
            original_init(self, pango_font, description, font_size)
        finally:
            wfonts.get_hb_object_data = original_data
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


def subset_font(path: str, index: int, gids: set[int]) -> bytes:
    """The font's glyphs `gids` (ids kept), hinting and layout tables dropped, like WeasyPrint's."""
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(path), index)
    inp = hb.SubsetInput()
    inp.glyph_set.update(sorted(gids | {0}))
    inp.flags = (
        hb.SubsetFlags.RETAIN_GIDS
        | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
        | hb.SubsetFlags.DESUBROUTINIZE
        | hb.SubsetFlags.NO_HINTING
    )
    drop = inp.sets(hb.SubsetInputSets.DROP_TABLE_TAG)
    drop.update(hb_tag(t) for t in DROP_TABLES)
    out = hb.subset(face, inp)
    if out is None:
        raise RuntimeError(f"HarfBuzz could not subset {path} (face {index})")
    return bytes(out.blob.data)


def hb_tag(name: str) -> int:
    """An OpenType tag ("GSUB", "locl") as the integer HarfBuzz's sets hold."""
    b = name.encode("ascii")
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


def widths(array: Any) -> dict[int, Any]:
    """A PDF /W array (`c [w …]` and `c_first c_last w` forms) → {cid: width}."""
    import pikepdf

    items = list(array)
    out: dict[int, Any] = {}
    i = 0
    while i < len(items):
        first = int(items[i])
        nxt = items[i + 1]
        if isinstance(nxt, (list, pikepdf.Array)):
            for k, w in enumerate(nxt):
                out[first + k] = w
            i += 2
        else:
            for c in range(first, int(nxt) + 1):
                out[c] = items[i + 2]
            i += 3
    return out


def width_array(ws: dict[int, Any]) -> list[Any]:
    """{cid: width} → a /W array of `c [w …]` runs."""
    out: list[Any] = []
    run: list[Any] = []
    for cid in sorted(ws):
        if cid - 1 not in ws:
            run = []
            out += [cid, run]
        run.append(ws[cid])
    return out


def to_unicode(data: bytes) -> dict[int, bytes]:
    """The bfchar entries of a ToUnicode CMap (as WeasyPrint writes them) → {cid: UTF-16BE hex}."""
    out: dict[int, bytes] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for cid, text in BFCHAR.findall(block):
            out.setdefault(int(cid, 16), text)
    return out


def cmap(entries: dict[int, bytes]) -> bytes:
    """A ToUnicode CMap for `entries`, in WeasyPrint's layout."""
    lines = [
        b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap", b"/CIDSystemInfo",
        b"<< /Registry (Adobe)", b"/Ordering (UCS)", b"/Supplement 0", b">> def",
        b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def", b"1 begincodespacerange",
        b"<0000> <ffff>", b"endcodespacerange",
    ]  # fmt: skip
    items = sorted(entries.items())
    for i in range(0, len(items), 100):
        batch = items[i : i + 100]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [b"<%04x> <%s>" % (cid, text) for cid, text in batch]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _resource_dicts(pdf: Any) -> Iterator[Any]:
    """Every /Resources dictionary of the pages and of the forms they use, once each."""
    seen: set[Any] = set()
    todo = [page.obj for page in pdf.pages]
    while todo:
        obj = todo.pop()
        res = obj.get("/Resources")
        if res is None:
            continue
        key = res.objgen if res.is_indirect else ("direct", id(obj))
        if key in seen:
            continue
        seen.add(key)
        yield res
        xobjects = res.get("/XObject")
        if xobjects is not None:
            todo.extend(x for x in xobjects.values() if x.get("/Subtype") == "/Form")
        patterns = res.get("/Pattern")
        if patterns is not None:
            todo.extend(patterns.values())


def merge_fonts(pdf: Any, sources: dict[str, tuple[str, int]]) -> int:
    """Give each deferred font of the assembled `pdf` one subset of every glyph its pages use.

    Returns the number of font programs written. The deferred font dictionaries of all parts with
    the same BaseFont (WeasyPrint names fonts by a hash of their description, the same in every
    part) are replaced by the first one, whose widths, ToUnicode map, bounding box and program
    cover all parts.
    """
    import pikepdf

    groups: dict[str, list[Any]] = {}
    slots: list[tuple[Any, Any, str]] = []  # (font resource dict, resource name, BaseFont)
    for res in _resource_dicts(pdf):
        fonts = res.get("/Font")
        if fonts is None:
            continue
        for rname, font in fonts.items():
            base = str(font.get("/BaseFont", ""))[1:]
            if base not in sources or font.get("/Subtype") != "/Type0":
                continue
            slots.append((fonts, rname, base))
            group = groups.setdefault(base, [])
            if not any(f.objgen == font.objgen for f in group):
                group.append(font)
    canonical: dict[str, Any] = {}
    for base, group in groups.items():
        ws: dict[int, Any] = {}
        uni: dict[int, bytes] = {}
        bbox: list[float] | None = None
        for font in group:
            desc = font.DescendantFonts[0]
            ws.update(widths(desc.W))
            uni.update({k: v for k, v in to_unicode(font.ToUnicode.read_bytes()).items() if k not in uni})
            box = [float(v) for v in desc.FontDescriptor.FontBBox]
            bbox = box if bbox is None else [min(bbox[0], box[0]), min(bbox[1], box[1]),
                                             max(bbox[2], box[2]), max(bbox[3], box[3])]  # fmt: skip
        path, index = sources[base]
        data = subset_font(path, index, set(ws))
        head = group[0]
        desc = head.DescendantFonts[0]
        descriptor = desc.FontDescriptor
        key = "/FontFile3" if "/FontFile3" in descriptor else "/FontFile2"
        program = pikepdf.Stream(pdf, data)
        if key == "/FontFile3":
            program.Subtype = pikepdf.Name.OpenType
        else:
            program.Length1 = len(data)
        descriptor[key] = pdf.make_indirect(program)
        if bbox is not None:
            descriptor.FontBBox = pikepdf.Array(bbox)
        desc.W = pikepdf.Array(width_array(ws))
        head.ToUnicode = pdf.make_indirect(pikepdf.Stream(pdf, cmap(uni)))
        canonical[base] = head
    for fonts, rname, base in slots:
        fonts[rname] = canonical[base]
    return len(canonical)
