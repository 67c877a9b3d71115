"""Trust and bounds, network side: remote fetches, the preview server, `book send`, write errors and
diagnostics each reproduced from a small generated case (servers on 127.0.0.1 only, every wait bounded)."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from book.fetch import FetchError, FetchPolicy, fetch


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
