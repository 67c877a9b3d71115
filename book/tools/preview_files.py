"""The preview's EPUB → the files inside it, served one by one to the reader page.

The page opens the book as a folder (`/book/current/`): epub.js then fetches the package, the
navigation and the chapter on screen, and the chapter's iframe loads its styles, fonts and images
by URL. Opened as one `.epub`, epub.js read the whole archive (3 MB stored on a 30-chapter book),
unzipped it and turned every file of the manifest, fonts and images included, into a blob URL on
each reload. By URL, the browser keeps what did not change: each file carries its ZIP CRC and size
as an ETag, and a revalidation of an unchanged font is a 304 with no body.

The same ETags, all at once (`etags`), go with each build's announcement: the page sees which files
a build changed without asking for any, and redraws an edited chapter in place when only chapters
changed (preview/reader.js).
"""

from __future__ import annotations

import io
import posixpath
import threading
import zipfile
from dataclasses import dataclass

TYPES = {
    ".xhtml": "application/xhtml+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".opf": "application/oebps-package+xml; charset=utf-8",
    ".ncx": "application/x-dtbncx+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".smil": "application/smil+xml",
    ".mp3": "audio/mpeg",
}


def etag(info: zipfile.ZipInfo) -> str:
    """An entry's ETag: its CRC and size, from the archive's index (no entry is read)."""
    return f'"{info.CRC:08x}-{info.file_size:x}"'


def etags(epub: bytes) -> dict[str, str]:
    """Every file of `epub` (its path inside the archive) → its ETag, as `EpubFiles` serves it."""
    with zipfile.ZipFile(io.BytesIO(epub)) as z:
        return {info.filename: etag(info) for info in z.infolist() if not info.is_dir()}


@dataclass(frozen=True)
class Entry:
    body: bytes
    ctype: str
    etag: str


class EpubFiles:
    """The entries of the current book, each read from its bytes when first asked for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: bytes | None = None
        self._zip: zipfile.ZipFile | None = None
        self._entries: dict[str, Entry] = {}

    def get(self, epub: bytes | None, name: str) -> Entry | None:
        """The entry `name` (a path inside the archive) of `epub`, or None when it has none."""
        if epub is None:
            return None
        name = posixpath.normpath(name.lstrip("/"))
        with self._lock:
            if epub is not self._data:  # a new build: its index only (a 100 MB book of images: ~1 ms)
                self._zip = zipfile.ZipFile(io.BytesIO(epub))
                self._data, self._entries = epub, {}
            assert self._zip is not None
            if name not in self._entries:
                try:
                    info = self._zip.getinfo(name)
                except KeyError:
                    return None
                ext = posixpath.splitext(name)[1].lower()
                self._entries[name] = Entry(
                    self._zip.read(info), TYPES.get(ext, "application/octet-stream"), etag(info)
                )
            return self._entries[name]
