"""Fetch stage: a remote image URL → a verified image file in the build's cache (`<out>/.cache/images/`).

Fetches are bounded: http/https only, a short connect/read timeout and an overall deadline, a size
cap, an `image/*` content type whose bytes Pillow recognises, at most a few redirects (each one
checked again). The deadline holds during every read: a server dripping its handshake, headers or
body a byte at a time, each byte within the per-read timeout, is cut off when the deadline passes.
The host is resolved first and every address checked: loopback, private, link-local and other
non-public addresses are refused unless the book sets `allow_private_fetch: true`; the connection
then goes to the address that was checked (no second lookup an attacker could rebind).
A URL is fetched once: the cache is keyed by the URL's hash, and failures are remembered for the run.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from book.engine.atomic import write_bytes

MEDIA_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "GIF": ("image/gif", "gif"),
               "WEBP": ("image/webp", "webp")}  # fmt: skip
USER_AGENT = "book-toolchain/0.1 (+image fetch for an e-book build)"


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float = 4.0  # seconds per connect/read
    max_bytes: int = 10 * 1024 * 1024
    allow_private: bool = False
    max_redirects: int = 3
    total: float | None = None  # seconds for the whole fetch, redirects included; None: 3 × timeout

    @property
    def deadline_seconds(self) -> float:
        return self.total if self.total is not None else 3 * self.timeout


READ_SIZE = 16 * 1024  # small reads: the deadline is looked at between them


@dataclass(frozen=True)
class Fetched:
    path: Path
    media_type: str
    sha256: str


class FetchError(Exception):
    """Why a URL was not fetched (shown in the build's one warning for that image)."""


_failures: dict[tuple[str, FetchPolicy], str] = {}


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def sniff(data: bytes) -> tuple[str, str]:
    """(media type, extension) of image bytes, or raise FetchError when they are not an image we embed."""
    from PIL import Image, UnidentifiedImageError

    from book.bounds import ImageTooLarge, open_image

    try:
        with open_image(io.BytesIO(data)) as im:
            fmt = im.format or ""
            im.verify()
    except ImageTooLarge as exc:
        raise FetchError(str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FetchError(f"not an image ({type(exc).__name__})") from None
    if fmt not in MEDIA_TYPES:
        raise FetchError(f"image format {fmt or 'unknown'} is not one an EPUB can carry")
    return MEDIA_TYPES[fmt]


def check_address(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve `host`; refuse when any of its addresses is not public (unless allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(f"host {host} does not resolve ({exc.__class__.__name__})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for a in addresses:
            ip = ipaddress.ip_address(a.split("%")[0])
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            if not ip.is_global or ip.is_multicast:
                raise FetchError(f"host {host} resolves to a non-public address {a}; set allow_private_fetch: true")
    if not addresses:
        raise FetchError(f"host {host} has no address")
    return addresses


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        ctx = self._context  # type: ignore[attr-defined]
        self.sock = ctx.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
        self.sock.do_handshake()  # once self.sock is set, so the deadline can cut a dripped handshake


def _left(deadline: float, policy: FetchPolicy) -> float:
    """Seconds until the deadline, raising FetchError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"download took longer than {policy.deadline_seconds:g} s")
    return left


def _cut_at(deadline: float, current: Callable[[], socket.socket | None]) -> threading.Timer:
    """Shut the `current()` socket at the deadline, whatever it is blocked in.

    The read loop checks the deadline between reads, but a server can also drip its TLS handshake or
    its headers a byte at a time, each byte inside the per-read timeout: http.client would wait.
    """

    def cut() -> None:
        sock = current()
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), cut)
    timer.daemon = True
    timer.start()
    return timer


def _get(url: str, policy: FetchPolicy, deadline: float) -> tuple[bytes, str, str | None]:
    """One GET: (body, content type, redirect location or None)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"scheme '{scheme}:' is not allowed (http and https only)")
    host = parts.hostname
    if not host:
        raise FetchError("URL has no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchError("URL has a bad port") from None
    address = check_address(host, port, policy.allow_private)[0]
    cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = cls(host, port, address, min(policy.timeout, _left(deadline, policy)))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    sock: socket.socket | None = None  # kept: http.client drops conn.sock for a closing response
    cutter = _cut_at(deadline, lambda: conn.sock or sock)
    try:
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
        sock = conn.sock
        resp = conn.getresponse()
        if resp.status in (301, 302, 303, 307, 308):
            return b"", "", urljoin(url, resp.getheader("Location") or "")
        if resp.status != 200:
            raise FetchError(f"HTTP {resp.status}")
        ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if not ctype.startswith("image/"):
            raise FetchError(f"content type '{ctype or 'none'}' is not an image")
        length = resp.getheader("Content-Length")
        if length and length.isdigit() and int(length) > policy.max_bytes:
            raise FetchError(f"image is {int(length)} bytes, over the {policy.max_bytes}-byte cap")
        chunks, size = [], 0
        while True:
            # Each read returns what one recv brought and may wait at most until the deadline.
            sock.settimeout(min(policy.timeout, _left(deadline, policy)))
            chunk = resp.read1(READ_SIZE)
            if not chunk:
                _left(deadline, policy)  # an end cut short by _cut_at is not the end of the image
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchError(f"image is over the {policy.max_bytes}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks), ctype, None
    except (OSError, http.client.HTTPException) as exc:
        _left(deadline, policy)  # a read broken off at the deadline says so
        raise FetchError(f"{type(exc).__name__}: {exc}"[:120]) from None
    finally:
        cutter.cancel()
        conn.close()


def cached(url: str, cache_dir: Path) -> Fetched | None:
    """The file already fetched for `url`, or None; an entry naming a file outside `cache_dir` is a miss."""
    meta_path = cache_dir / f"{url_key(url)}.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        name = str(meta["file"])
        if Path(name).name != name or name.startswith("."):  # a planted entry must not name /etc/passwd
            return None
        path = cache_dir / name
        data = path.read_bytes()
        known = meta["media_type"] in {t for t, _ in MEDIA_TYPES.values()}
        if known and hashlib.sha256(data).hexdigest() == meta["sha256"]:
            return Fetched(path, str(meta["media_type"]), meta["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # a damaged cache entry is fetched again
    return None


def fetch(url: str, cache_dir: Path, policy: FetchPolicy | None = None) -> Fetched:
    """The cached file for `url`, downloading it first if needed; raise FetchError saying why not."""
    policy = policy or FetchPolicy()
    key = url_key(url)
    meta_path = cache_dir / f"{key}.json"
    hit = cached(url, cache_dir)
    if hit is not None:
        return hit
    memo = (url, policy)
    if memo in _failures:
        raise FetchError(_failures[memo])
    try:
        deadline = time.monotonic() + policy.deadline_seconds
        current = url
        for _ in range(policy.max_redirects + 1):
            data, _ctype, location = _get(current, policy, deadline)
            if location is None:
                break
            current = location
        else:
            raise FetchError("too many redirects")
        media_type, ext = sniff(data)
    except FetchError as exc:
        _failures[memo] = str(exc)
        raise
    digest = hashlib.sha256(data).hexdigest()
    path = cache_dir / f"{key}.{ext}"
    write_bytes(path, data)
    write_bytes(
        meta_path, json.dumps({"url": url, "file": path.name, "media_type": media_type, "sha256": digest}).encode()
    )
    return Fetched(path, media_type, digest)
