"""The preview's book served file by file (book.tools.preview_files): entries, types, ETags, 304s."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import zipfile

from book.tools.preview import BOOK_FILES, BuildResult, Previewer, PreviewServer
from book.tools.preview_files import EpubFiles


def epub(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", b"application/epub+zip")
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_entries_carry_type_and_an_etag_that_follows_the_content() -> None:
    files = EpubFiles()
    one = epub({"EPUB/ch01.xhtml": b"<html/>", "EPUB/fonts/a.otf": b"font"})
    a = files.get(one, "EPUB/fonts/a.otf")
    assert a is not None and a.body == b"font" and a.ctype == "font/otf"
    x = files.get(one, "/EPUB/ch01.xhtml")
    assert x is not None and x.ctype.startswith("application/xhtml+xml")
    two = epub({"EPUB/ch01.xhtml": b"<html>changed</html>", "EPUB/fonts/a.otf": b"font"})
    assert files.get(two, "EPUB/fonts/a.otf").etag == a.etag  # same bytes: the browser keeps its copy
    assert files.get(two, "EPUB/ch01.xhtml").etag != x.etag
    assert files.get(two, "EPUB/missing.css") is None and files.get(None, "mimetype") is None
    assert files.get(two, "../../etc/passwd") is None and files.get(two, "EPUB/../../mimetype") is None


def test_server_answers_an_unchanged_file_with_304(tmp_path) -> None:
    pv = Previewer(tmp_path / "book.yaml", tmp_path / "build", log=lambda *_: None)
    pv.state = BuildResult(1, True, epub({"EPUB/styles/book.css": b"p{}"}))
    srv = PreviewServer(pv, 0, watch=False).start()
    try:
        url = srv.url.rstrip("/") + BOOK_FILES + "EPUB/styles/book.css"
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.read() == b"p{}" and r.headers["Cache-Control"] == "no-cache"
            assert r.headers["Content-Type"].startswith("text/css")
            etag = r.headers["ETag"]
        req = urllib.request.Request(url, headers={"If-None-Match": etag})
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("expected 304")
        except urllib.error.HTTPError as e:
            assert e.code == 304
        try:
            urllib.request.urlopen(srv.url.rstrip("/") + BOOK_FILES + "EPUB/none.css", timeout=10)
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        srv.close()
