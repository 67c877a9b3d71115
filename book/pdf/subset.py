"""Font subsetting once per build: parts' PDFs with deferred font programs → one subset per font.

When parts are rendered as separate WeasyPrint documents (book.pdf.parallel), each would embed its own
subset of every font: 30 chapters, 30 copies of Noto Serif CJK with the same subset tag, a PDF ten
times too big, and 30 subsetting runs. Instead the worker renders with `book.pdf.weasy.fonts.deferred_fonts()`:
WeasyPrint writes its font dictionaries as usual (widths, ToUnicode map, descriptor) but with an
empty placeholder program, and records which font file and face each font comes from. Assembly
then calls `merge_fonts`: per font, the union of the glyphs every part used is subset once from
the original file (HarfBuzz through uharfbuzz, glyph ids retained, as WeasyPrint does), and every
page points at that one font. Fonts WeasyPrint must rewrite itself (bitmap, colour, variable fonts,
fonts with missing glyphs, fonts from temporary @font-face files) are left to WeasyPrint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# The tables WeasyPrint drops when it subsets (weasyprint.pdf.fonts.Font._harfbuzz_subset).
DROP_TABLES = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH", "PCLT", "SVG ")
BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
# One item of a /W array as text: `c [w …]`, or `c_first c_last w`.
W_SINGLE = re.compile(rb"(\d+)\s*\[\s*(\d+)\s*\]")
W_ITEM = re.compile(rb"(\d+)\s*(?:\[([^\]]*)\]|(\d+)\s+([-+.0-9]+))")


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
    """A PDF /W array (`c [w …]` and `c_first c_last w` forms) → {cid: width}.

    Read from the array's text, the one-width runs in one pass: walking its items as pikepdf objects
    took about twice as long (0.6 s of the stitch of a 30-chapter book).
    """
    data = array.unparse(resolved=True)
    if b"R" in data:  # an indirect array inside: walk the objects
        return _widths_of_items(array)
    body = data[1:-1]
    # WeasyPrint writes mostly one width per run (`c [w]`): those in one pass, the rest item by item.
    singles = W_SINGLE.findall(body)
    out: dict[int, Any] = dict(zip(map(int, [c for c, _ in singles]), map(int, [w for _, w in singles]), strict=True))
    if singles:
        body = W_SINGLE.sub(b" ", body)
    for first, run, last, width in W_ITEM.findall(body):
        if run or not last:  # `c [w …]`
            if b"." in run:
                ws = [_number(t) for t in run.split()]
            else:
                ws = list(map(int, run.split()))
            out.update(zip(range(int(first), int(first) + len(ws)), ws, strict=True))
        else:  # `c_first c_last w`
            out.update(dict.fromkeys(range(int(first), int(last) + 1), _number(width)))
    return out


def _number(token: bytes) -> Any:
    """A PDF number as pikepdf gives it: an int, or a Decimal for a real."""
    if b"." not in token:
        return int(token)
    from decimal import Decimal

    return Decimal(token.decode("ascii"))


def _widths_of_items(array: Any) -> dict[int, Any]:
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


def resource_dicts(pdf: Any) -> Iterator[Any]:
    """Every /Resources dictionary of the pages and of the forms they use, once each."""
    seen: set[Any] = set()
    todo = [page.obj for page in pdf.pages]
    alive = []  # an id() is unique only while its object lives: a freed wrapper's id came back, and a
    # direct /Resources was taken for one already seen, its fonts left unmerged (1 build in 3)
    while todo:
        obj = todo.pop()
        alive.append(obj)
        res = obj.get("/Resources")
        if res is None:
            continue
        key = res.objgen if res.is_indirect else ("direct", obj.objgen if obj.is_indirect else id(obj))
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
    for res in resource_dicts(pdf):
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
