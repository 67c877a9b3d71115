"""The preview after an edit: every file's ETag in each build's status, the edit's EPUB packaged without
the output cache (the same bytes), and the reader page's in-place patch of the chapter on screen."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from book.tools.preview import VENDOR, BuildResult, Previewer, PreviewServer
from book.tools.preview_files import EpubFiles, etags
from tests.conftest import write_chapter
from tests.test_preview import CHROMIUM, FLAGS, FRONT, WAIT_MS


def test_etags_are_the_ones_the_files_are_served_with() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", b"application/epub+zip")
        z.writestr("EPUB/", b"")  # a folder entry is no file
        z.writestr("EPUB/ch01.xhtml", b"<html/>")
    data = buf.getvalue()
    tags = etags(data)
    assert set(tags) == {"mimetype", "EPUB/ch01.xhtml"}
    files = EpubFiles()
    assert all(files.get(data, name).etag == tag for name, tag in tags.items())


def test_an_edit_is_packaged_without_the_output_cache_into_the_same_bytes(
    book_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import book.pipeline

    write_chapter(book_dir, "01.md", FRONT + "正文第一段。\n")
    src = write_chapter(book_dir, "02.md", FRONT.replace("number: 1", "number: 2") + "第二章正文。\n")
    pv = Previewer(book_dir / "book.yaml", book_dir / "build", log=lambda m: None)
    first = pv.rebuild()
    assert first.ok and first.files == etags(first.epub) and pv.status()["files"] == first.files

    def no_cache(*a: object, **k: object) -> None:
        raise AssertionError("an edit's EPUB went through the output cache")

    with monkeypatch.context() as m:
        m.setattr(book.pipeline, "cached_output", no_cache)
        src.write_text(src.read_text(encoding="utf-8") + "\n第二章正文。正文第一段。\n", encoding="utf-8")
        edited = pv.rebuild()
    assert edited.ok, edited.error
    # Characters the book had: the fonts, styles and package stay; only the chapter changed.
    changed = {n for n in first.files.keys() | edited.files.keys() if first.files.get(n) != edited.files.get(n)}
    assert changed == {"EPUB/ch02.xhtml"}
    # The first book of another preview goes through the cache, as a preview started after `make`.
    fresh = Previewer(book_dir / "book.yaml", tmp_path / "other", log=lambda m: None).rebuild()
    assert fresh.ok and fresh.epub == edited.epub


# --- the reader page's patch, in headless Chromium -----------------------------------------------


@pytest.fixture
def reader_page(tmp_path: Path) -> Iterator:
    """The reader page served with no book yet: its functions, nothing opened."""
    assert Path(CHROMIUM).exists(), "headless Chromium missing: `make setup` installs Debian's chromium"
    assert all(p.is_file() for p in VENDOR.values()), "run `make preview/node_modules`"
    from playwright.sync_api import sync_playwright

    pv = Previewer(tmp_path / "book.yaml", tmp_path / "build", log=lambda *_: None)
    pv.state = BuildResult(1, False, None, "not built yet")
    srv = PreviewServer(pv, 0, watch=False).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=WAIT_MS)
            try:
                page = browser.new_page()
                page.set_default_timeout(WAIT_MS)
                page.goto(srv.url)
                page.wait_for_function("() => typeof patch === 'function'")
                yield page
            finally:
                browser.close()
    finally:
        srv.close()


PATCH = """([frame, was, now]) => {
  const parse = (body) => new DOMParser().parseFromString('<!DOCTYPE html><html><head></head><body>' + body + '</body></html>', 'text/html');
  const doc = parse(frame), before = parse(was), after = parse(now);
  for (const a of doc.querySelectorAll('a[href]')) a.setAttribute('target', '_blank'); // as epub.js marks its links
  const old = Array.from(doc.body.querySelectorAll('*')), want = after.body.innerHTML;
  const ok = patch(doc, doc.body, before.body, after.body);
  const body = doc.body.innerHTML.replaceAll(' target="_blank"', '');
  return {ok, body, want, same: body === want, kept: old.filter((n) => doc.contains(n)).map((n) => n.id || n.localName)};
}"""

CHAPTER = (
    '<div class="c"><p id="a">一<a href="http://x">x</a></p><p id="b">二</p><p id="c">三</p></div><p id="d">尾</p>'
)


def test_patch_replaces_only_what_differs(reader_page) -> None:
    def run(was: str, now: str, frame: str | None = None) -> dict:
        return reader_page.evaluate(PATCH, [was if frame is None else frame, was, now])

    # A paragraph's text: patched inside the paragraph, every element stays.
    edited = run(CHAPTER, CHAPTER.replace("二", "二，改过"))
    assert edited["ok"] and edited["same"], edited
    assert edited["kept"] == ["div", "a", "a", "b", "c", "d"]
    # A paragraph's markup: that paragraph goes, the rest stays.
    marked = run(CHAPTER, CHAPTER.replace('<p id="b">二', '<p id="b"><em>二</em>'))
    assert marked["ok"] and marked["same"] and marked["kept"] == ["div", "a", "a", "b", "c", "d"]
    styled = run(CHAPTER, CHAPTER.replace('<p id="b">', '<p id="b" class="note">'))
    assert styled["ok"] and styled["same"] and styled["kept"] == ["div", "a", "a", "c", "d"]
    inserted = run(CHAPTER, CHAPTER.replace('<p id="c">', '<p id="new">新</p><p id="c">'))
    assert inserted["ok"] and inserted["same"] and "b" in inserted["kept"]
    # The container's own attributes changed: the container goes whole, what follows stays.
    other = run(CHAPTER, CHAPTER.replace('class="c"', 'class="c wide"'))
    assert other["ok"] and other["same"] and other["kept"] == ["d"]
    assert run(CHAPTER, CHAPTER)["kept"] == ["div", "a", "a", "b", "c", "d"]  # nothing changed, nothing touched
    # A frame not shaped as the version it is said to show: refused, untouched.
    odd = run(CHAPTER, CHAPTER.replace("二", "二，改过"), frame=CHAPTER + "<p>多</p>")
    assert not odd["ok"] and len(odd["kept"]) == 7
