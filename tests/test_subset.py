"""Font subsetting once per build (book.pdf.subset): the PDF structures it reads and writes."""

from __future__ import annotations

import pikepdf

from book.epub.fonts import FACES, locate
from book.pdf import subset


def test_width_arrays_round_trip() -> None:
    ws = {3: 500, 4: 510, 5: 520, 9: 1000, 100: 250}
    array = subset.width_array(ws)
    assert array == [3, [500, 510, 520], 9, [1000], 100, [250]]
    assert subset.widths(pikepdf.Array([3, pikepdf.Array([500, 510, 520]), 9, [1000], 100, [250]])) == ws


def test_widths_reads_the_range_form() -> None:
    assert subset.widths(pikepdf.Array([10, 12, 600, 20, pikepdf.Array([1, 2])])) == {
        10: 600, 11: 600, 12: 600, 20: 1, 21: 2
    }  # fmt: skip


def test_to_unicode_round_trip() -> None:
    entries = {i: f"{0x4E00 + i:04x}".encode() for i in range(250)}
    entries[7] = b"d83dde00"  # a surrogate pair stays one entry
    data = subset.cmap(entries)
    assert data.count(b"beginbfchar") == 3  # at most 100 entries per block
    assert subset.to_unicode(data) == entries


def test_subset_keeps_glyph_ids() -> None:
    path, index = locate(FACES[0].pattern, FACES[0].family)
    import io

    from fontTools.ttLib import TTFont

    data = subset.subset_font(str(path), index, {1000, 20000})
    font = TTFont(io.BytesIO(data))
    assert font.sfntVersion == "OTTO"
    order = font.getGlyphOrder()
    assert len(order) == 20001  # ids retained: glyph 20000 is still glyph 20000
    strings = font["CFF "].cff.topDictIndex[0].CharStrings
    assert len(strings[order[20000]].bytecode) > 1 and len(strings[order[1000]].bytecode) > 1
    assert len(data) < 1_000_000  # the face alone is 20 MB; retained ids cost an empty slot each


def test_widths_read_from_the_text_equal_the_objects_walked() -> None:
    array = pikepdf.Array([3, pikepdf.Array([500.5, -2, 1000]), 9, 10, 7.25, 20, [], 30, [5], 31, [6, 7], 40, 41, 250])
    ws = subset.widths(array)
    assert ws == subset._widths_of_items(array)
    assert ws == {3: 500.5, 4: -2, 5: 1000, 9: 7.25, 10: 7.25, 30: 5, 31: 6, 32: 7, 40: 250, 41: 250}
    walked = subset._widths_of_items(array)
    assert all(type(w) is type(walked[c]) for c, w in ws.items())  # ints stay ints, reals Decimals
