"""Local HTTP server: a request handler → a server on 127.0.0.1 that web pages cannot turn against us.

A server on 127.0.0.1 is reachable from every page the user's browser opens, so it guards itself:

- DNS rebinding: a page at `evil.example` whose name is re-pointed at 127.0.0.1 would read the
  unpublished book as same-origin. Only `Host: 127.0.0.1`, `localhost` or `[::1]` with our own port
  is answered; any other Host (or none) gets 403.
- Slow clients: the request head (the line and its headers) and the idle wait before it must arrive
  within `head_seconds`, and no single socket operation waits longer than `timeout`, so half-sent
  requests cannot hold a thread.
- Threads: at most `max_threads` handlers run at once. When all are taken, a new connection evicts
  the one that has waited longest for its request head (idle keep-alive or half-sent), so a flood of
  stalled connections delays a real request by a fraction of a second rather than `head_seconds`.
- Malformed URLs (bad percent-encoding, NUL or other control characters, bytes that are not UTF-8,
  `..` segments, backslashes) get 400 instead of reaching the file system; a client that hangs up
  is not an error and prints nothing.
"""

from __future__ import annotations

import io
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_to_bytes, urlsplit

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadPath(ValueError):
    """A request path we refuse to interpret."""


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a Host header names this server: a loopback name with our port (bare only on port 80)."""
    if not host:
        return False
    host = host.strip().lower()
    allowed = {f"{name}:{port}" for name in LOCAL_NAMES}
    if port == 80:
        allowed.update(LOCAL_NAMES)
    return host in allowed


def decode_path(target: str) -> str:
    """The request target's path, percent-decoded strictly; raise BadPath when it is malformed."""
    path = urlsplit(target).path
    if not path.startswith("/"):
        raise BadPath("the path must start with /")
    if _BAD_ESCAPE.search(path):
        raise BadPath("bad percent-encoding")
    try:
        decoded = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath("the path is not UTF-8") from None
    if _CONTROL.search(decoded) or "\\" in decoded:
        raise BadPath("control character or backslash in the path")
    if any(seg in (".", "..") for seg in decoded.split("/")):
        raise BadPath("the path leaves its folder")
    return decoded


class _HeadReader(io.RawIOBase):
    """The connection's bytes, read so that a request head must be complete by the handler's deadline."""

    def __init__(self, sock: socket.socket, handler: LocalHandler) -> None:
        self.sock, self.handler = sock, handler

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        wait = self.handler.timeout
        deadline = self.handler.head_deadline
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request head took too long")
            wait = min(wait, left)
        self.sock.settimeout(wait)
        return self.sock.recv_into(buf)


class LocalHandler(BaseHTTPRequestHandler):
    """A handler that checks Host, bounds the time a request head may take and decodes the path.

    Subclasses route on `self.url_path` (decoded, checked) rather than on `self.path`.
    """

    timeout: float = 10.0  # seconds any one read or write may wait
    head_seconds: float = 10.0  # seconds for the idle wait plus the request line and headers
    head_deadline: float | None = None
    url_path: str = "/"

    def setup(self) -> None:
        super().setup()
        self.rfile = io.BufferedReader(_HeadReader(self.connection, self))

    def handle_one_request(self) -> None:
        self.head_deadline = time.monotonic() + self.head_seconds
        waiting = getattr(self.server, "waiting", None)
        if waiting is not None:
            waiting(self, True)
        try:
            super().handle_one_request()
        finally:
            self.head_deadline = None
            if waiting is not None:
                waiting(self, False)

    def parse_request(self) -> bool:
        ok = super().parse_request()
        self.head_deadline = None
        waiting = getattr(self.server, "waiting", None)
        if waiting is not None:
            waiting(self, False)  # being answered now: no longer evictable
        self.connection.settimeout(self.timeout)
        if not ok:
            return False
        port = self.server.server_address[1]
        if not host_allowed(self.headers.get("Host"), port):
            self.send_error(HTTPStatus.FORBIDDEN, None, f"only http://127.0.0.1:{port}/ is served here")
            return False
        try:
            self.url_path = decode_path(self.path)
        except BadPath as exc:
            self.send_error(HTTPStatus.BAD_REQUEST, None, str(exc))
            return False
        return True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal shows builds, not every request


class LocalHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer on a loopback address with at most `max_threads` handler threads."""

    daemon_threads = True
    request_queue_size = 512  # connections waiting for a free thread

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_threads: int = 32) -> None:
        self.max_threads = max_threads
        self._slots = threading.BoundedSemaphore(max_threads)
        self._closing = threading.Event()
        self._waiting: dict[BaseHTTPRequestHandler, float] = {}  # handler → when it began waiting for a head
        self._waiting_lock = threading.Lock()
        super().__init__(address, handler)

    def waiting(self, handler: BaseHTTPRequestHandler, yes: bool) -> None:
        """Note that `handler` waits for a request head (evictable) or no longer does."""
        with self._waiting_lock:
            if yes:
                self._waiting[handler] = time.monotonic()
            else:
                self._waiting.pop(handler, None)

    def _evict_oldest(self) -> None:
        with self._waiting_lock:
            if not self._waiting:
                return
            oldest = min(self._waiting, key=self._waiting.__getitem__)
            del self._waiting[oldest]
        try:
            oldest.connection.shutdown(socket.SHUT_RDWR)  # its read returns at once; the thread ends
        except OSError:
            pass

    @property
    def busy(self) -> int:
        """Handler threads running now."""
        return self.max_threads - self._slots._value  # type: ignore[attr-defined]

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        # Waiting here keeps later connections in the listen queue rather than in new threads.
        acquired = self._slots.acquire(blocking=False)
        while not acquired:
            if self._closing.is_set():
                self.shutdown_request(request)
                return
            self._evict_oldest()
            acquired = self._slots.acquire(timeout=0.2)  # the evicted thread ends within milliseconds
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown(self) -> None:
        self._closing.set()
        super().shutdown()

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up or stalls is the network's business; anything else is a bug.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)
