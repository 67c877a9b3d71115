"""Trust and bounds, network side: remote fetches, the preview server, `book send`, write errors and
diagnostics each reproduced from a small generated case (servers on 127.0.0.1 only, every wait bounded)."""

from __future__ import annotations

import email
import email.policy
import errno
import io
import os
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from book.cli import main
from book.parts.fetch import FetchError, FetchPolicy, fetch
from book.tools.localserver import LocalHandler
from book.tools.preview import BuildResult, Previewer, PreviewServer
from tests.conftest import write_chapter


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


class Dripper:
    """A raw HTTP server on 127.0.0.1 that sends its answer one byte every `interval` seconds."""

    def __init__(self, *, drip_head: bool, interval: float, close: bool = False) -> None:
        self.png = _png()
        close_header = "Connection: close\r\n" if close else ""
        self.head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len(self.png)}\r\n{close_header}\r\n"
        ).encode()
        self.drip_head, self.interval = drip_head, interval
        self.sent = 0  # bytes of the body (and head, when dripped) sent before the client hung up
        self.finished = False
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.srv.settimeout(20)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.srv.getsockname()[1]}/x.png"

    def _serve(self) -> None:
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(20)
            conn.recv(4096)
            data = self.head + self.png if self.drip_head else self.png
            if not self.drip_head:
                conn.sendall(self.head)
            try:
                for i in range(len(data)):
                    if self.interval:
                        time.sleep(self.interval)
                    conn.sendall(data[i : i + 1])
                    self.sent += 1
                self.finished = True
            except OSError:
                pass

    def close(self) -> None:
        self.srv.close()


@pytest.fixture
def dripper() -> Iterator[type[Dripper]]:
    made: list[Dripper] = []

    def make(**kw: object) -> Dripper:
        d = Dripper(**kw)  # type: ignore[arg-type]
        made.append(d)
        return d

    yield make  # type: ignore[misc]
    for d in made:
        d.close()


@pytest.mark.parametrize("drip_head", [False, True], ids=["body", "headers"])
def test_dripping_server_is_cut_at_the_deadline(tmp_path: Path, dripper, drip_head: bool) -> None:
    # One byte every 2 s never trips the 4 s per-read timeout: only the overall deadline can stop it.
    server = dripper(drip_head=drip_head, interval=2.0)
    policy = FetchPolicy(allow_private=True, timeout=4.0, total=5.0)
    start = time.monotonic()
    with pytest.raises(FetchError, match="longer than 5 s"):
        fetch(server.url, tmp_path, policy)
    elapsed = time.monotonic() - start
    assert 4.9 <= elapsed < 7.5, elapsed  # cut at the deadline, not at the end of the image
    assert not server.finished and server.sent < len(server.png)


def test_closing_response_is_read_whole(tmp_path: Path, dripper) -> None:
    # http.client hands the socket to a `Connection: close` response; the read loop keeps its own.
    server = dripper(drip_head=False, interval=0.0, close=True)
    got = fetch(server.url, tmp_path, FetchPolicy(allow_private=True, timeout=4.0))
    assert got.media_type == "image/png" and got.path.read_bytes() == server.png


# --- the preview server ---------------------------------------------------------------------------

BOOK = b"PK-the-unpublished-book"


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[tuple[PreviewServer, int]]:
    pv = Previewer(tmp_path / "book.yaml", tmp_path / "build", log=lambda m: None)
    pv.state = BuildResult(1, True, BOOK, "", 0.1, "书", [])  # a finished build, without building
    with PreviewServer(pv, 0, watch=False) as server:
        yield server, server.httpd.server_address[1]


def ask(port: int, head: bytes, wait: float = 5.0) -> tuple[int, bytes]:
    """Send a raw request head; (status, body) of the answer, read until the server closes or is done."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 1 << 30


def closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closes `sock` (reading whatever it sends), at most `limit`."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return limit
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def test_preview_answers_only_its_own_host(preview) -> None:
    # DNS rebinding: a page at evil.example re-pointed at 127.0.0.1 sends its own name as Host.
    _, port = preview
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        status, body = ask(port, f"GET /book/1.epub HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert (status, body) == (200, BOOK), host
    for host in (f"evil.example:{port}", "evil.example", "127.0.0.1", f"127.0.0.1:{port + 1}", f"127.0.0.2:{port}"):
        status, body = ask(port, f"GET /book/1.epub HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert status == 403 and BOOK not in body, host
    status, body = ask(port, b"GET /status HTTP/1.0\r\n\r\n")  # no Host at all
    assert status == 403 and b"unpublished" not in body


@pytest.mark.parametrize(
    "target",
    [b"/static/%00", b"/static/\x00x", b"/%00", b"/static/%zz", b"/static/%f", b"/static/%ff%fe",
     b"/static/..%2f..%2fbook.yaml", b"/static/../../book.yaml", b"/static/a%5c..%5cb", b"/static/%0d%0a"],
)  # fmt: skip
def test_preview_malformed_url_is_400_without_traceback(preview, capsys, target: bytes) -> None:
    _, port = preview
    status, _ = ask(port, b"GET " + target + f" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    assert status == 400
    assert ask(port, f"GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())[0] == 200
    assert "Traceback" not in capsys.readouterr().err


def test_preview_cuts_idle_and_half_sent_requests(preview, monkeypatch: pytest.MonkeyPatch) -> None:
    _, port = preview
    assert LocalHandler.head_seconds <= 10 and LocalHandler.timeout <= 10
    monkeypatch.setattr(LocalHandler, "head_seconds", 1.0)
    with socket.create_connection(("127.0.0.1", port)) as idle:
        assert closed_after(idle, 5) < 2.5
    with socket.create_connection(("127.0.0.1", port)) as half:
        half.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert closed_after(half, 5) < 2.5
    # A byte every 0.3 s passes every per-read timeout; only the deadline for the whole head stops it.
    with socket.create_connection(("127.0.0.1", port)) as drip:
        start = time.monotonic()
        try:
            for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 100:
                drip.sendall(bytes([byte]))
                time.sleep(0.3)
                if time.monotonic() - start > 5:
                    break
        except OSError:
            pass  # cut off: the server closed the connection
        assert closed_after(drip, 5) + (time.monotonic() - start) < 3.5


def test_preview_threads_are_bounded(preview) -> None:
    server, port = preview
    before = threading.active_count()
    stalled = []
    try:
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            stalled.append(s)
        time.sleep(0.5)
        assert server.httpd.busy <= server.httpd.max_threads == 32
        assert threading.active_count() - before <= 32
        # A real request still gets an answer: the longest-stalled connection makes room for it.
        start = time.monotonic()
        assert ask(port, f"GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())[0] == 200
        assert time.monotonic() - start < 2
        assert threading.active_count() - before <= 32
    finally:
        for s in stalled:
            s.close()


# --- book send ----------------------------------------------------------------------------------


@pytest.fixture
def package(book_dir: Path) -> Path:
    write_chapter(book_dir, "01.md", "---\nchapter_number: 1\ntitle: 一\n---\n\n正文。\n")
    path = book_dir / "build" / "editor" / "pkg.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("pkg/report.md", "# 报告\n")
    return path


@pytest.mark.parametrize(
    "to",
    ["ed@example.com\nBcc: spy@evil.example", "ed@example.com\r\n", "ed@example.com, spy@evil.example",
     "ed@example.com;spy@evil.example", "not-an-address", "<>", "ed@", "@example.com", "ed@@example.com",
     "Group: a@example.com;", "ed@exa mple.com"],
)  # fmt: skip
def test_send_refuses_a_bad_address_in_one_line(package: Path, book_dir: Path, capsys, to: str) -> None:
    argv = ["send", "--config", str(book_dir / "book.yaml"), "--package", str(package), "--dry-run", "--to", to]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("--to: error: ") and "Traceback" not in err
    assert not package.with_suffix(".eml").exists()


def test_send_keeps_each_good_address(package: Path, book_dir: Path, capsys) -> None:
    argv = ["send", "--config", str(book_dir / "book.yaml"), "--package", str(package), "--dry-run"]
    argv += ["--to", "编辑 <ed@example.com>", "--to", '"Doe, J" <j@example.com>', "--to", "x@localhost"]
    assert main(argv) == 0
    msg = email.message_from_bytes(package.with_suffix(".eml").read_bytes(), policy=email.policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["ed@example.com", "j@example.com", "x@localhost"]


# --- a full disk while writing the outputs ----------------------------------------------------------

CH = "---\nchapter_number: {n}\ntitle: 第{n}章\n---\n\n## 一节\n\n" + "正文一段。\n\n" * 50


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A two-chapter book built once (EPUB and PDF) by the CLI in this process."""
    book = tmp_path_factory.mktemp("book")
    (book / "chapters").mkdir()
    (book / "book.yaml").write_text(
        "title: 测试之书\nauthors: [作者]\ndate: 2025-01-01\nslug: t\nchapters:\n  - chapters/*.md\n", encoding="utf-8"
    )
    for n in (1, 2):
        write_chapter(book, f"{n}.md", CH.format(n=n))
    out = tmp_path_factory.mktemp("out")
    assert main(["build", "--no-check", "--config", str(book / "book.yaml"), "--out", str(out)]) == 0
    return {"book": book, "out": out, "before": _outputs(out)}


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}


def _full_disk_build(built: dict, capsys) -> str:
    """Rebuild everything on a 'full disk'; the one line it printed. Checks the previous outputs stayed."""
    out = built["out"]
    argv = ["build", "--no-check", "--no-cache", "--jobs", "2", "--pdf-jobs", "2"]
    code = main([*argv, "--config", str(built["book"] / "book.yaml"), "--out", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if ": warning: " not in line]
    assert code == 1 and len(err) == 1, err
    assert _outputs(out) == built["before"]
    assert not list(out.glob(".staging-*")) and not list(out.glob(".*.tmp"))
    return err[0]


def _no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write() raises it: no file name


def _full_disk_in_a_worker(config, part, strict, cache_dir, memo_dir=None):  # noqa: ANN001 - book.parts.process.run_part's shape
    """A part worker whose write (a fetched image, say) meets a full disk."""
    from book.engine.atomic import write_bytes

    os.fsync = _no_space  # this forked worker's only: the parent's writes still work
    write_bytes(Path(cache_dir) / "fetched.png", b"\x89PNG")


def test_full_disk_in_an_atomic_write_is_one_line(built: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", _no_space)
    line = _full_disk_build(built, capsys)
    assert re.fullmatch(r"\S+/manifest\.json: error: No space left on device — free some space .*", line), line


def test_full_disk_in_the_epub_zip_names_the_epub(built: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile.ZipFile, "writestr", _no_space)
    line = _full_disk_build(built, capsys)
    assert line.startswith(f"{built['out'] / 't.epub'}: error: No space left on device — "), line
    assert ".staging-" not in line


def test_full_disk_in_a_pikepdf_save_names_the_pdf(built: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from book.pdf import finish

    def save_pdf(doc: object, path: Path, **options: object) -> None:
        # pikepdf names the repr of its temporary file object, not a path.
        name = f"<_io.BufferedRandom name='{Path(path).parent}/.pikepdf..{Path(path).name}.x'>"
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)

    monkeypatch.setattr(finish, "save_pdf", save_pdf)
    line = _full_disk_build(built, capsys)
    assert line.startswith(f"{built['out'] / 't.pdf'}: error: No space left on device — "), line


@pytest.mark.parametrize("code", [errno.EDQUOT, errno.EROFS, errno.EIO])
def test_other_write_errors_are_one_line(built: dict, capsys, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    line = _full_disk_build(built, capsys)
    assert line.startswith(f"{built['out'] / 't.epub'}: error: {os.strerror(code)} — "), line


def test_full_disk_in_a_worker_process_is_one_line(built: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import book.parts.process

    monkeypatch.setattr(book.parts.process, "run_part", _full_disk_in_a_worker)
    real_fsync = os.fsync
    line = _full_disk_build(built, capsys)
    assert os.fsync is real_fsync  # the write failed in a worker process, not here
    assert line.startswith(f"{built['out'] / '.cache' / 'images' / 'fetched.png'}: error: No space left on device")


# --- diagnostics: hidden text, dropped styles, and every message at path:line ------------------------

HIDDEN = """---
chapter_number: 1
title: 第一章
---

## 引言 {#intro-2}

正文，见[好链接](#intro-2)。

<p>可见 <span hidden>秘密一</span></p>

<p style="display:none">秘密二</p>

<p><span style="color:#fff">秘密三</span></p>

<p><span style="font-size:0">秘密四</span></p>

<div style="background-color: black; color: rgb(0,0,0)">秘密五</div>

<p><span style="visibility: hidden">秘密六</span></p>

<p style="position:absolute; text-align:center">定位的段落</p>

<p><span style="color: white; background-color: #222">看得见</span></p>

再见[坏链接](#intro)。

![空图]()

##

![坏的 EXIF](../bad-exif.jpg)
"""


def _lines(text: str, needle: str) -> int:
    """The line that is `needle`, else the first that holds it."""
    lines = text.split("\n")
    exact = [i for i, line in enumerate(lines, 1) if line == needle]
    return exact[0] if exact else next(i for i, line in enumerate(lines, 1) if needle in line)


def _bad_exif_jpeg(path: Path) -> None:
    import struct

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), "blue").save(buf, "JPEG")
    data = buf.getvalue()
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05" + b"\xff" * 20  # five entries promised, not there
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + data[2:])


def test_hidden_text_dropped_styles_and_lines(book_dir: Path, capsys) -> None:
    src = write_chapter(book_dir, "01.md", HIDDEN)
    _bad_exif_jpeg(book_dir / "bad-exif.jpg")
    argv = ["build", "--no-check", "--format", "epub", "--config", str(book_dir / "book.yaml")]
    assert main([*argv, "--out", str(book_dir / "build")]) == 0
    err = capsys.readouterr().err
    warnings_ = [line for line in err.splitlines() if ": warning: " in line]
    assert "PIL" not in err and "UserWarning" not in err  # Pillow's raw lines do not leak
    for line in warnings_:  # every warning is path:line
        assert re.match(r"\S+\.md:\d+: warning: ", line), line

    def said(needle: str, text: str) -> None:
        want = f"01.md:{_lines(HIDDEN, needle)}: warning: "
        assert any(want in w and text in w for w in warnings_), (needle, text, warnings_)

    said("秘密一", "hidden text (the hidden attribute on <span>)")
    said("秘密二", "hidden text (display: none on <p>)")
    said("秘密三", "hidden text (text colour same as its background on <span>)")
    said("秘密四", "hidden text (font-size: 0 on <span>)")
    said("秘密五", "hidden text (text colour same as its background on <div>)")
    said("秘密六", "hidden text (visibility: hidden on <span>)")
    said("定位的段落", "style declaration 'position: absolute' removed from <p>")
    said("坏链接", "link to '#intro' points at no id")  # not the line of the good `#intro-2` link
    said("![空图]()", "image refused (empty path): an image with no path")
    said("##", "a heading (<h2>) has no text")
    said("坏的 EXIF", "Corrupt EXIF data")
    assert not any("看得见" in w or "text-align" in w for w in warnings_)
    assert len(warnings_) == 11, warnings_
    assert src.is_file()


def test_cover_errors_name_the_cover_line(book_dir: Path, capsys) -> None:
    cfg = book_dir / "book.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "cover: images/missing.png\n", encoding="utf-8")
    write_chapter(book_dir, "01.md", "---\nchapter_number: 1\ntitle: 一\n---\n\n正文。\n")
    assert main(["build", "--no-check", "--format", "epub", "--config", str(cfg), "--out", str(book_dir / "b")]) == 1
    line = _lines(cfg.read_text(encoding="utf-8"), "cover:")
    assert f"book.yaml:{line}: error: cover 'images/missing.png' not found" in capsys.readouterr().err


def test_pdf_warnings_name_the_source_line_not_a_staging_file(built: dict, capsys, tmp_path: Path) -> None:
    # A 4 px image printed across the page: a low-resolution warning from the PDF stage.
    book, out = built["book"], tmp_path / "out"  # not built["out"]: its outputs stay as they were
    Image.new("RGB", (4, 4), "red").save(book / "tiny.png")
    write_chapter(book, "3.md", CH.format(n=3) + "\n![小图](../tiny.png)\n")
    try:
        code = main(["build", "--no-check", "--config", str(book / "book.yaml"), "--out", str(out)])
    finally:
        (book / "chapters" / "3.md").unlink()
    assert code == 0
    pdf_warnings = [w for w in capsys.readouterr().err.splitlines() if "prints at" in w]
    # the manuscript's line that shows the image, and the page it prints on; never a staging file
    source = f"{book / 'chapters' / '3.md'}:"
    assert pdf_warnings and all(w.startswith(source) and " on page " in w for w in pdf_warnings)
    assert not any(".staging-" in w or ".pagemap-" in w for w in pdf_warnings)
