"""tinyhtml5's scanner cache (book.pdf.weasy.htmlparse): hits, and parses as before."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import tinyhtml5
from tinyhtml5 import inputstream

from book.pdf.weasy import htmlparse

HTML = "<html><body>" + "".join(
    f'<p id="p{i}" class="x">段落 &amp; <span title="a\'b">甲</span> {i}</p>' for i in range(50)
)


def test_the_scanner_finds_its_regexes_and_parses_the_same() -> None:
    before = ET.tostring(tinyhtml5.parse(HTML))
    htmlparse.install()
    htmlparse.install()  # idempotent: one wrapper
    assert inputstream.HTMLUnicodeInputStream.chars_until._book_cached
    assert ET.tostring(tinyhtml5.parse(HTML)) == before
    assert inputstream.characters_until_regex[(("&", "<", "\u0000"), False)].pattern == "[^\\x26\\x3c\\x00]+"
    built = []
    original = htmlparse.stop_regex
    try:
        htmlparse.stop_regex = lambda c, o: built.append(c) or original(c, o)  # type: ignore[assignment]
        tinyhtml5.parse(HTML)
    finally:
        htmlparse.stop_regex = original  # type: ignore[assignment]
    assert built == []  # every set of stop characters was in the cache already
