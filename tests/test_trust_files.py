"""A book folder cannot read the machine, run code, or hang the build: one generated case per failure.

Each test builds a small book in its tmp_path that reproduced a failure before `book.trust`,
`book.bounds` and the cache's HMAC: the refusal is a one-line message and nothing leaks or hangs.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import pickle
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from book import bounds, trust
from book.engine import cachekey
from book.engine.cache import MAGIC, Cache, digest
from book.errors import BookError, Diagnostics
from book.model import SourceSpec
from book.parts.fetch import FetchError, cached, sniff, url_key
from book.source.config import load_config
from tests.conftest import run_cli, write_chapter

CH = "---\nchapter_number: {n}\ntitle: 第{n}章\n---\n\n# Chapter {n}: 第{n}章\n\n正文一段。\n"
ROOT = Path(__file__).resolve().parent.parent


def png(size: tuple[int, int] = (40, 40), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A 1-bit 8×8 PNG whose IHDR claims width×height (CRC fixed): huge by its header, tiny on disk."""
    buf = io.BytesIO()
    Image.new("1", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def book(tmp_path: Path, extra: str = "", chapters: int = 1, body: str = "") -> Path:
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        "title: 测试之书\nauthors: [作者]\ndate: 2025-01-01\nchapters:\n  - chapters/*.md\n" + extra, encoding="utf-8"
    )
    for i in range(chapters):
        write_chapter(root, f"c{i:05d}.md", CH.format(n=i + 1) + body)
    return root


def build(root: Path, *args: str) -> tuple[int, str, Path]:
    out = root.parent / "out"
    proc = run_cli("build", "--config", str(root / "book.yaml"), "--out", str(out), "--no-check", *args, cwd=root)
    return proc.returncode, proc.stderr, out


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, stderr
    return errors[0]


# --- templates and styles ------------------------------------------------------------------------


def test_symlinked_template_is_refused_not_printed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE", encoding="utf-8")
    root = book(tmp_path, "templates: my-templates\n")
    (root / "my-templates").mkdir()
    (root / "my-templates" / "copyright.html.j2").symlink_to(secret)
    code, err, out = build(root, "--format", "epub")
    line = one_line_error(err)
    assert code == 1 and "copyright.html.j2: error: template leaves its folder" in line and str(secret) in line
    assert not list(out.glob("*.epub"))


def test_symlinked_stylesheet_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("/* TOP-SECRET */", encoding="utf-8")
    root = book(tmp_path, "styles: my-styles\n")
    (root / "my-styles").mkdir()
    (root / "my-styles" / "book.css").symlink_to(secret)
    code, err, _ = build(root, "--format", "epub")
    assert code == 1 and "book.css: error: stylesheet leaves its folder" in one_line_error(err)


def test_template_cannot_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = book(tmp_path, "templates: my-templates\n")
    (root / "my-templates").mkdir()
    original = (ROOT / "templates" / "copyright.html.j2").read_text(encoding="utf-8")
    payload = "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}\n"
    (root / "my-templates" / "copyright.html.j2").write_text(original + payload, encoding="utf-8")
    code, err, _ = build(root, "--format", "epub")
    line = one_line_error(err)
    assert code == 1 and not marker.exists()
    n = len(original.splitlines()) + 1
    assert f"copyright.html.j2:{n}: error: template refused: access to attribute '__init__'" in line


def test_sandbox_still_renders_a_harmless_override(tmp_path: Path) -> None:
    root = book(tmp_path, "templates: my-templates\n")
    (root / "my-templates").mkdir()
    original = (ROOT / "templates" / "copyright.html.j2").read_text(encoding="utf-8")
    (root / "my-templates" / "copyright.html.j2").write_text(
        original + "<p>{{ book.title | upper }} {{ '%03d' % 7 }}</p>\n", encoding="utf-8"
    )
    code, err, out = build(root, "--format", "epub")
    assert code == 0, err
    import zipfile

    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        assert '<p>测试之书<span class="cjk-gap"></span>007</p>' in z.read("EPUB/copyright.xhtml").decode()


# --- what stylesheets reference --------------------------------------------------------------------


def pdf_images(pdf: Path) -> list[tuple[int, int]]:
    with pikepdf.open(pdf) as p:
        return [
            (int(o.Width), int(o.Height))
            for o in p.objects
            if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"
        ]


def test_css_file_url_outside_the_book_is_not_embedded(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(png((37, 41)))
    root = book(tmp_path, "styles: my-styles\n")
    (root / "my-styles").mkdir()
    (root / "inside.png").write_bytes(png((23, 29)))
    css = (ROOT / "styles" / "book.css").read_text(encoding="utf-8")
    (root / "my-styles" / "book.css").write_text(
        css + f"\nbody {{ background: url({(tmp_path / 'secret.png').as_uri()}); }}\n"
        "h1 { background: url(inside.png); }\n",
        encoding="utf-8",
    )
    code, err, out = build(root, "--format", "pdf")
    assert code == 0, err
    sizes = pdf_images(out / "book.pdf")
    assert (37, 41) not in sizes and (23, 29) in sizes  # inside the book: still allowed
    n = len(css.splitlines()) + 2
    assert f"my-styles/book.css:{n}: warning: url(file://" in err and "outside the book's folder" in err
    assert "WeasyPrint" not in err  # one warning, by the stylesheet's name


class _Counting(http.server.SimpleHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).hits.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 serving one PNG, in a thread."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "leak.png").write_bytes(png((31, 17)))
    handler = type("H", (_Counting,), {"hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.hits
    finally:
        httpd.shutdown()
        httpd.server_close()


def _vet_and_render(root: Path, css: str, diag: Diagnostics) -> list[tuple[int, int]]:
    from book.pdf import layout

    config = load_config(root / "book.yaml", diag)
    fetch_dir = root.parent / "out" / ".cache" / "images"
    trust.vet_stylesheet(root / "my-styles" / "book.css", css, config, diag, fetch_dir)
    policy = trust.ReadPolicy(trust.roots_for(root, fetch_dir.parent), str(fetch_dir))
    doc, _ = layout.render_document("<p>x</p>", [css], str(root) + "/", policy)
    target = root.parent / "x.pdf"
    doc.write_pdf(str(target))
    return pdf_images(target)


def test_css_private_url_not_fetched_then_fetched_with_permission(
    tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    base, hits = server
    css = f"body {{ background: url({base}/leak.png); }}\n"
    root = book(tmp_path, "styles: my-styles\n")
    (root / "my-styles").mkdir()
    diag = Diagnostics(echo=False)
    assert _vet_and_render(root, css, diag) == [] and hits == []
    assert any("book.css:1: warning: url(http://127.0.0.1" in str(w) and "non-public" in str(w) for w in diag.warnings)
    # With permission it goes through book.fetch (bounded, cached), once, and WeasyPrint reads the cache.
    (root / "book.yaml").write_text((root / "book.yaml").read_text() + "allow_private_fetch: true\n")
    assert _vet_and_render(root, css, Diagnostics(echo=False)) == [(31, 17)] and hits == ["/leak.png"]


def test_weasyprint_fetcher_refuses_what_the_policy_does(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(png())
    inside = tmp_path / "book"
    inside.mkdir()
    fetcher = trust.url_fetcher(None, str(inside) + "/")
    for url in ((tmp_path / "secret.png").as_uri(), "http://127.0.0.1:9/x.png", "ftp://example.com/x"):
        with pytest.raises(trust.Refused):
            fetcher(url)
    (inside / "ok.png").write_bytes(png())
    assert fetcher((inside / "ok.png").as_uri()).read() == png()


def test_planted_fetch_cache_entry_cannot_name_a_file_outside(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    url = "https://example.com/a.png"
    meta = {"url": url, "file": str(secret), "media_type": "image/png", "sha256": hashlib.sha256(png()).hexdigest()}
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / f"{url_key(url)}.json").write_text(__import__("json").dumps(meta))
    assert cached(url, tmp_path / "cache") is None


def test_icc_profile_outside_the_book_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.icc").write_bytes(b"icc")
    root = book(tmp_path, "print:\n  icc_profile: ../x.icc\n")
    with pytest.raises(BookError, match="outside the book's folder"):
        load_config(root / "book.yaml")


# --- pixel bombs and big files -------------------------------------------------------------------


def test_pixel_bomb_local_image_is_a_warning(tmp_path: Path) -> None:
    root = book(tmp_path, body="\n![图](big.png)\n")
    (root / "chapters" / "big.png").write_bytes(bomb_png(20000, 20000))  # 400 Mpx: DecompressionBombError
    code, err, _ = build(root, "--format", "epub")
    assert code == 0 and "Traceback" not in err
    assert "warning: image refused (image is 400 Mpx, over the 89 Mpx limit): big.png" in err


def test_pixel_bomb_cover_is_one_line_error(tmp_path: Path) -> None:
    root = book(tmp_path, "cover: big.png\n")
    (root / "big.png").write_bytes(bomb_png(20000, 20000))
    code, err, _ = build(root, "--format", "epub")
    assert code == 1 and "cover 'big.png': image is 400 Mpx, over the 89 Mpx limit" in one_line_error(err)


def test_pixel_limits_checked_from_the_header(tmp_path: Path) -> None:
    # Between Pillow's warning and its error (100 Mpx): Pillow alone would decode it.
    with pytest.raises(bounds.ImageTooLarge, match="10000×10000 px"):
        bounds.open_image(io.BytesIO(bomb_png(10000, 10000)))
    with pytest.raises(FetchError, match="over the 89 Mpx limit"):  # remote images and data: URLs
        sniff(bomb_png(20000, 20000))
    with bounds.open_image(io.BytesIO(png((30, 20)))) as im:
        assert im.size == (30, 20)


def test_huge_local_image_is_refused_by_size_before_reading(tmp_path: Path) -> None:
    root = book(tmp_path, body="\n![图](huge.png)\n")
    with open(root / "chapters" / "huge.png", "wb") as f:
        f.truncate(2 * 1024**3)  # sparse: 2 GB by stat, nothing on disk
    code, err, _ = build(root, "--format", "epub")
    assert code == 0 and "image refused (image is 2048 MB, over the 64 MB limit): huge.png" in err


def test_chapter_size_warned_then_refused(tmp_path: Path) -> None:
    from book.source.read import read_source

    root = book(tmp_path)
    big = root / "chapters" / "c00000.md"
    big.write_text(CH.format(n=1) + "人工智能的历史。\n\n" * (3 * 1024 * 1024 // 26), encoding="utf-8")
    diag = Diagnostics(echo=False)
    read_source(SourceSpec(big, "chapter"), diag)
    assert any("chapter is 3.0 MB: building it takes about" in w.message for w in diag.warnings)
    with open(big, "ab") as f:
        f.truncate(50 * 1024**2)
    with pytest.raises(BookError, match=r"chapter is 50 MB, over the 10 MB limit") as exc:
        read_source(SourceSpec(big, "chapter"), diag)
    assert "split it" in str(exc.value)


# --- YAML, globs, many files ---------------------------------------------------------------------

BOMB = "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))


def test_yaml_alias_bomb_in_book_yaml_is_refused(tmp_path: Path) -> None:
    root = book(tmp_path, 'x: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + BOMB + "epub:\n  x: *j\n")
    started = time.monotonic()
    code, err, _ = build(root, "--format", "epub")
    assert time.monotonic() - started < 30
    assert code == 1 and "book.yaml:7: error: book.yaml is not valid YAML: YAML aliases (*a)" in one_line_error(err)


def test_yaml_alias_in_front_matter_is_refused(tmp_path: Path) -> None:
    from book.source.read import read_source

    root = book(tmp_path)
    p = write_chapter(root, "a.md", "---\nchapter_number: 1\ntitle: &t 标题\ntitle_en: *t\n---\n\n正文\n")
    with pytest.raises(BookError, match=r"a\.md:4: error: front matter is not valid YAML: YAML aliases"):
        read_source(SourceSpec(p, "chapter"), Diagnostics(echo=False))


def test_recursive_glob_does_not_follow_symlink_loops(tmp_path: Path) -> None:
    root = book(tmp_path)
    (root / "chapters" / "loop1").symlink_to("..")
    (root / "chapters" / "loop2").symlink_to("..")
    (root / "book.yaml").write_text((root / "book.yaml").read_text().replace("chapters/*.md", "chapters/**/*.md"))
    started = time.monotonic()
    config = load_config(root / "book.yaml", Diagnostics(echo=False))
    assert time.monotonic() - started < 5
    assert [s.path.name for s in config.sources] == ["c00000.md"]


def test_glob_semantics_match_glob_glob(tmp_path: Path) -> None:
    import glob

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for rel in ("x.md", "a/y.md", "a/b/z.md", ".hidden/h.md", "a/.dot.md", "a/b/w.txt"):
        (tmp_path / rel).write_text("x")
    for pattern in ("**/*.md", "*.md", "a/*.md", "a/**/*", "**", "a/b/z.md", "a/?.md", "[ab]/*.md"):
        expected = sorted(Path(p) for p in glob.glob(str(tmp_path / pattern), recursive=True))
        assert bounds.walk_glob(tmp_path, pattern) == expected, pattern


def test_glob_matches_are_capped(tmp_path: Path) -> None:
    root = book(tmp_path, chapters=30)
    with pytest.raises(bounds.GlobTooWide, match="matches over 20 files"):
        bounds.walk_glob(root, "chapters/*.md", max_matches=20)


@pytest.mark.slow
def test_ten_thousand_chapters_configure_in_linear_time(tmp_path: Path) -> None:
    root = book(tmp_path, chapters=0)
    for i in range(10_000):
        (root / "chapters" / f"c{i:05d}.md").write_text("x")
    started = time.monotonic()
    config = load_config(root / "book.yaml", Diagnostics(echo=False))
    elapsed = time.monotonic() - started
    assert len(config.sources) == 10_000 and elapsed < 30, elapsed  # was quadratic: 1,000 took 48 s


# --- the stage cache -----------------------------------------------------------------------------


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_planted_cache_entry_does_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cachekey.ENV, str(tmp_path / "key" / "cache-key"))
    cachekey._secret_at.cache_clear()
    marker = tmp_path / "ran"
    cache = Cache(tmp_path / "out" / ".cache")
    key = digest("planted")
    cache.store("part", key, {"fine": 1})
    assert (tmp_path / "key" / "cache-key").stat().st_mode & 0o777 == 0o600
    entry = next((tmp_path / "out" / ".cache" / "part").rglob(key))
    evil = pickle.dumps(_Payload(marker))
    # An entry in the old format, with a correct plain checksum, and one in the new with a guessed MAC.
    for forged in (b"BOOKCACHE1\n" + hashlib.sha256(evil).hexdigest().encode() + b"\n" + evil,
                   MAGIC + hashlib.sha256(evil).hexdigest().encode() + b"\n" + evil):  # fmt: skip
        entry.write_bytes(forged)
        assert Cache(tmp_path / "out" / ".cache").load("part", key) is None
        assert not marker.exists() and not entry.exists()  # a miss, and deleted
    # An authentic entry moved under another key is a miss too: the MAC covers stage and key.
    cache.store("part", key, {"fine": 1})
    other = digest("other")
    moved = entry.parent.parent / other[:2] / other
    moved.parent.mkdir(parents=True, exist_ok=True)
    moved.write_bytes(entry.read_bytes())
    assert cache.load("part", other) is None and cache.load("part", key) == {"fine": 1}


@pytest.mark.slow
def test_planted_cache_in_a_shipped_build_folder_does_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: build, replace every cached entry by a pickle that runs code, build again."""
    marker = tmp_path / "ran"
    root = book(tmp_path)
    monkeypatch.setenv(cachekey.ENV, str(tmp_path / "key"))
    code, err, out = build(root, "--format", "epub")
    assert code == 0, err
    evil = pickle.dumps(_Payload(marker))
    entries = [p for p in (out / ".cache").rglob("*") if p.is_file() and p.read_bytes().startswith(MAGIC)]
    assert entries
    for p in entries:
        p.write_bytes(MAGIC + hashlib.sha256(evil).hexdigest().encode() + b"\n" + evil)
    (out / "book.epub").unlink()
    code, err, _ = build(root, "--format", "epub")
    assert code == 0, err
    assert not marker.exists()


@pytest.mark.slow
def test_planted_build_record_is_not_replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped build folder's record cannot make a planted EPUB pass as up to date."""
    import json

    root = book(tmp_path)
    monkeypatch.setenv(cachekey.ENV, str(tmp_path / "key"))
    code, err, out = build(root, "--format", "epub")
    record = next((out / ".cache" / "builds").glob("*.json"))
    epub = out / "book.epub"
    monkeypatch.setenv(cachekey.ENV, str(tmp_path / "another-machine-key"))
    epub.write_bytes(b"planted")
    data = json.loads(record.read_text())
    data["outputs"] = {str(epub.resolve()): hashlib.sha256(b"planted").hexdigest()}
    record.write_text(json.dumps(data))
    code, err, _ = build(root, "--format", "epub")
    assert code == 0 and "up to date" not in err and epub.read_bytes() != b"planted"


def test_cache_key_inside_the_output_folder_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = tmp_path / "out" / "cache-key"
    planted.parent.mkdir()
    planted.write_bytes(b"k" * 32)
    monkeypatch.setenv(cachekey.ENV, str(planted))
    assert cachekey.secret(tmp_path / "out") != b"k" * 32


def test_huge_chapter_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A 2 GB (sparse) chapter: one line, and the build's peak memory stays that of a small book."""
    import subprocess
    import sys

    root = book(tmp_path)
    with open(root / "chapters" / "c00000.md", "ab") as f:
        f.truncate(2 * 1024**3)
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(p.stderr)\n"
    )
    cmd = [sys.executable, "-m", "book", "build", "--config", str(root / "book.yaml"), "--out", str(tmp_path / "out")]
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd, "--no-check"], capture_output=True, text=True, cwd=ROOT)
    code, peak_kb = map(int, proc.stdout.split())
    assert code == 1 and "chapter is 2048 MB, over the 10 MB limit — split it" in one_line_error(proc.stderr)
    assert peak_kb < 500 * 1024, peak_kb
