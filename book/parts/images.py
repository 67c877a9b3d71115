"""Images stage: `<img>` and `<a>` references in a part's tree → embeddable files, placeholders or refusals.

No output ever references a remote resource or a file outside the book's folder:
- remote http/https images are fetched into the build's cache (`fetch`) and embedded; when that
  fails (offline, refused host, not an image) the image becomes a placeholder figure with its alt
  text, and the build warns once per distinct URL;
- `data:` images are embedded under a size cap; every other scheme (`file:` first) is refused;
- local images are resolved inside the book's folder only (no absolute paths, no `..` or symlink
  leaving it) and must be images Pillow recognises;
- links to files (not `#fragments`, http/https or mailto) are unlinked, keeping their text.
Every embedded image is an `ImageRef` (book.model): the EPUB embeds it by its href, the PDF reads its file; identical images share one href.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lxml import etree, html

from book.bounds import MAX_IMAGE_BYTES, MAX_PIXELS, FileTooLarge, ImageTooLarge, read_capped
from book.engine import pillow_warnings
from book.engine.atomic import write_bytes
from book.errors import Diagnostics
from book.locale import locale_for, template_strings
from book.model import ImageRef, Part
from book.parts import links
from book.parts.fetch import FetchError, FetchPolicy, fetch, sniff
from book.source.entries import SOURCE_SUFFIXES as MANUSCRIPT_SUFFIXES

if TYPE_CHECKING:
    from book.model import BookConfig

DATA_URL_CAP = 1024 * 1024  # bytes after decoding
LINK_SCHEMES = ("http", "https", "mailto")
MEDIA_TAGS = {"img", "embed", "video", "audio", "object"}


EMPTY_SRC = re.compile(r"!\[[^\]]*\]\(\s*\)|<img\b[^>]*\bsrc\s*=\s*(?:\"\"|''|(?=[\s/>]))", re.I)


def _empty_src_line(part: Part) -> int | None:
    """The line of the first image written with no path (`![alt]()`, `<img src="">`)."""
    m = EMPTY_SRC.search(part.body)
    return part.line_at(m.start()) if m else None


# The suffixes each sniffed type may keep: a JPEG named .jpeg keeps its name, a PNG named .jpg does not.
SUFFIXES_OF = {"image/jpeg": ("jpg", "jpeg"), "image/png": ("png",), "image/gif": ("gif",), "image/webp": ("webp",)}


def stored_suffix(path: Path, media_type: str, sniffed: str) -> str:
    """The suffix an image is stored under: its own when it names the type its bytes are, else the type's."""
    own = path.suffix.lstrip(".").lower()
    return own if own in SUFFIXES_OF.get(media_type, ()) else sniffed


# Alt texts that only say "an image": Pandoc would print them as the figure's caption.
EMPTY_CAPTIONS = frozenset(
    {"image", "img", "picture", "photo", "figure", "图", "图片", "圖", "圖片", "图像", "圖像", "插图", "插圖"}
)


def caption_of(text: str, src: str) -> str:
    """The figure's caption from Pandoc's, or "" when it only says "image" or repeats the file's name."""
    text = text.strip()
    name = PurePosixPath(unquote(urlsplit(src).path).replace("\\", "/")).name
    if text.lower().rstrip(".:：") in EMPTY_CAPTIONS or (
        name and text.lower() in {name.lower(), name.rsplit(".", 1)[0].lower()}
    ):
        return ""
    return text


def _plain(text: str) -> str:
    return re.sub(r"[\s*_:：.。、,，]+", "", text).lower()


def written_below(figure: etree._Element, caption: str) -> bool:
    """Whether the paragraph right after a figure already says its caption (`图 1-2 模型结构` under
    `![模型结构](a.png)`): the one holds the other, and the shorter has at least 4 characters."""
    after = figure.getnext()
    if after is None or after.tag != "p" or (figure.tail or "").strip():
        return False
    below, cap = _plain("".join(after.itertext())), _plain(caption)
    short, long = sorted((below, cap), key=len)
    return len(short) >= 4 and short in long and len(long) <= 2 * len(short) + 8


def _ref(path: Path, data: bytes, media_type: str, ext: str = "") -> ImageRef:
    ext = ext or path.suffix.lstrip(".") or media_type.split("/")[-1]
    return ImageRef(path, f"images/{hashlib.sha256(data).hexdigest()[:16]}.{ext}", media_type)


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def resolve_local(src: str, part: Part, root_dir: Path) -> Path:
    """A local image path → its file inside the book's folder; raise ValueError saying why not."""
    path_text = unquote(urlsplit(src).path)
    if not path_text:
        raise ValueError("empty path")
    if path_text.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", path_text):
        raise ValueError("absolute paths are not allowed")
    candidate = part.source.parent / path_text
    if not _inside(root_dir, candidate):
        raise ValueError("the path leaves the book's folder")
    if not candidate.is_file():
        raise FileNotFoundError("file not found")
    return candidate.resolve()


def decode_data_url(src: str) -> bytes:
    m = re.match(
        r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,(?P<data>.*)$", src, re.S
    )
    if not m:
        raise ValueError("malformed data: URL")
    if not (m.group("type") or "").startswith("image/"):
        raise ValueError("data: URL is not an image")
    payload = m.group("data")
    if len(payload) > DATA_URL_CAP * 4 // 3 + 8:
        raise ValueError(f"data: image is over the {DATA_URL_CAP}-byte cap")
    try:
        data = base64.b64decode(payload, validate=False) if m.group("b64") else unquote(payload).encode("latin-1")
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("data: URL does not decode") from None
    if len(data) > DATA_URL_CAP:
        raise ValueError(f"data: image is over the {DATA_URL_CAP}-byte cap")
    return data


def _env(config: BookConfig | None):
    from book.parts.structures import _env

    return _env(config)


def placeholder(img: etree._Element, note: str, host: str = "", config: BookConfig | None = None) -> etree._Element:
    text = (
        _env(config)
        .get_template("placeholder.html.j2")
        .render(
            alt=img.get("alt") or "", note=note, host=host, t=template_strings(config.language if config else "zh-Hans")
        )
    )
    return html.fragment_fromstring(text.strip())


class _NotEmbedded(Exception):
    """An image the book cannot carry: the warning, its hint, and the placeholder's label and host."""

    def __init__(self, message: str, hint: str, label: str, host: str = "") -> None:
        super().__init__(message)
        self.message, self.hint, self.label, self.host = message, hint, label, host


def apply(
    root: etree._Element, part: Part, diag: Diagnostics, root_dir: Path, *,
    config: BookConfig | None = None, cache_dir: Path | None = None,
) -> list[ImageRef]:  # fmt: skip
    """Embed, replace or refuse every image; return the part's embedded images (one per href)."""
    cache_dir = cache_dir or Path(tempfile.gettempdir()) / "book-image-cache"
    policy = FetchPolicy(allow_private=config.allow_private_fetch if config is not None else False)
    strings = locale_for(config.language if config else "zh-Hans")
    found: dict[str, ImageRef] = {}
    warned: set[str] = set()

    def warn_once(src: str, message: str, hint: str) -> None:
        if src in warned:
            return
        warned.add(src)
        diag.warn(part.source, part.line_of(src) if src else _empty_src_line(part), message, hint)

    def pillow(src: str) -> contextlib.AbstractContextManager[None]:  # what Pillow says, at the image's line
        return pillow_warnings.reported(diag, part.source, part.line_of(src), f"image {src[:80]}")

    shown_path = _book_path(part, root_dir)
    final = part.meta.get("status") == "final"

    def where(src: str) -> str:  # the placeholder's source line, which `book check` and print name
        return f"{shown_path}:{(part.line_of(src) if src else _empty_src_line(part)) or ''}".rstrip(":")

    for img in [el for el in root.iter() if el.tag in MEDIA_TAGS]:
        _as_img(img)
        src = (img.get("src") or img.get("data") or "").strip()
        shown = src[:80] + ("…" if len(src) > 80 else "") or "an image with no path"
        img.set("data-source", where(src))  # kept by a placeholder (_replace), dropped once embedded
        if final:
            img.set("data-final", "true")
        try:
            ref = _load(src, shown, part, root_dir, cache_dir, policy, pillow, warn_once)
        except _NotEmbedded as exc:
            warn_once(src, exc.message, exc.hint)
            _replace(img, placeholder(img, strings[exc.label], exc.host, config))
            continue
        found.setdefault(ref.href, _located(ref, part, src))  # the first reference's line
        img.set("src", ref.href)
        img.attrib.pop("data-source", None)
        img.attrib.pop("data-final", None)
        _fit(img)
        _as_figure(img, ref, src, config)
    check_links(root, part, diag, root_dir)
    return list(found.values())


def _as_img(el: etree._Element) -> None:
    """Pandoc writes <embed> (and authors <video>, <object>…) for what it does not know: an <img> with an alt."""
    if el.tag == "img" and el.get("alt") is not None:
        return
    if not el.get("alt"):
        cap = el.getnext()
        el.set("alt", "".join(cap.itertext()).strip() if cap is not None and cap.tag == "figcaption" else "")
    el.attrib.pop("controls", None)
    el.tag = "img"


def _load(
    src: str, shown: str, part: Part, root_dir: Path, cache_dir: Path, policy: FetchPolicy,
    pillow: Callable[[str], contextlib.AbstractContextManager[None]], warn_once: Callable[[str, str, str], None],
) -> ImageRef:  # fmt: skip
    """The image `src` names, read (fetched, decoded) and checked; _NotEmbedded says why not."""
    scheme = urlsplit(src).scheme.lower() if not re.match(r"^[A-Za-z]:[\\/]", src) else ""
    try:
        if scheme in ("http", "https"):
            try:
                with pillow(src):
                    got = fetch(src, cache_dir, policy)
            except FetchError as exc:
                raise _NotEmbedded(
                    f"remote image not embedded ({exc}): {shown}",
                    "a placeholder with its alt text is printed; build online or save the image in the book's folder",
                    "image_unfetched", urlsplit(src).hostname or "",
                ) from None  # fmt: skip
            return _ref(got.path, got.path.read_bytes(), got.media_type)  # fetch() names it by its bytes
        if scheme == "data":
            data = decode_data_url(src)
            with pillow(src):
                media_type, ext = sniff(data)
            digest = hashlib.sha256(data).hexdigest()
            path = cache_dir / f"data-{digest[:32]}.{ext}"
            if not path.is_file():
                write_bytes(path, data)
            return _ref(path, data, media_type)
        if scheme:
            raise ValueError(f"scheme '{scheme}:' is not allowed for images")
        path = resolve_local(src, part, root_dir)
        data = read_capped(path, MAX_IMAGE_BYTES, "image")  # by size first: a 2 GB file was read whole
        with pillow(src):
            media_type, ext = sniff(data)
        suffix = stored_suffix(path, media_type, ext)
        if suffix != path.suffix.lstrip(".").lower():
            warn_once(src, f"image {shown} is a {ext.upper()} file named '{path.name}': stored as .{suffix}",
                      f"rename it to '{path.stem}.{suffix}'")  # fmt: skip
        return _ref(path, data, media_type, suffix)
    except (ValueError, FetchError) as exc:
        if isinstance(exc, (ImageTooLarge, FileTooLarge)) or isinstance(exc.__cause__, ImageTooLarge):
            hint = f"scale it down (at most {MAX_PIXELS // 10**6} Mpx and {MAX_IMAGE_BYTES >> 20} MB)"
        else:
            hint = "keep images inside the book's folder, as http(s) URLs or small data: images"
        raise _NotEmbedded(f"image refused ({exc}): {shown}", hint, "image_refused") from None
    except FileNotFoundError:
        raise _NotEmbedded(
            f"image not found: {shown}", "check the path (relative to the chapter's file)", "image_missing"
        ) from None


def _as_figure(img: etree._Element, ref: ImageRef, src: str, config: BookConfig | None) -> None:
    """An image alone in Pandoc's <figure> becomes the book's figure (figure.html.j2), id kept."""
    parent = img.getparent()
    if parent is None or parent.tag != "figure" or "figure" in (parent.get("class") or ""):
        return
    cap = parent.find("figcaption")
    caption = _unwritten(parent, caption_of("".join(cap.itertext()), src) if cap is not None else "")
    text = _env(config).get_template("figure.html.j2").render(href=ref.href, alt=img.get("alt") or "", caption=caption)
    new = html.fragment_fromstring(text.strip())
    if parent.get("id"):  # an author's {#fig-x}: cross-references point at it
        new.set("id", parent.get("id"))
    new.tail = parent.tail
    parent.getparent().replace(parent, new)


def _located(ref: ImageRef, part: Part, src: str) -> ImageRef:
    """The image with the file and line of its first reference (a print warning names them)."""
    line = part.line_of(src) if src else None
    source, line = part.origin(line) if line else (str(part.source), None)
    return dataclasses.replace(ref, source=source, line=line)


def _book_path(part: Part, root_dir: Path) -> str:
    """The part's path inside the book, the same from any working folder."""
    try:
        return Path(part.source).resolve().relative_to(root_dir.resolve()).as_posix()
    except (ValueError, OSError):
        return Path(part.source).name


def _fit(img: etree._Element) -> None:
    """An embedded image's markup for the page: scaled by its width, a block when alone."""
    if img.get("width") and img.get("height"):  # scaled to the page by width: the height follows the image
        del img.attrib["height"]
    parent = img.getparent()
    if (
        parent is not None
        and parent.tag == "p"
        and len(parent) == 1
        and not (parent.text or "").strip()
        and not (img.tail or "").strip()
    ):  # an HTML <img> on its own: a block, not an indented glyph
        parent.set("class", ((parent.get("class") or "") + " image-alone").strip())


def _unwritten(figure: etree._Element, caption: str) -> str:
    """The caption to print: none when the author wrote it right below the image (that line is marked)."""
    if caption and written_below(figure, caption):
        below = figure.getnext()
        below.set("class", ((below.get("class") or "") + " figure-caption-written").strip())
        return ""
    return caption


def check_links(root: etree._Element, part: Part, diag: Diagnostics, root_dir: Path) -> None:
    """Links go to `#ids` in the book or to http(s)/mailto; a link to a file (or `file:`) is unlinked."""
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        scheme = urlsplit(href).scheme.lower()
        if scheme in LINK_SCHEMES:
            continue
        why = f"scheme '{scheme}:' is not allowed" if scheme else "links to files are not part of the book"
        hint = "link to an http(s) address or a heading in the book"
        if not scheme:
            try:
                target = resolve_local(href, part, root_dir)
                if target.suffix.lower() in MANUSCRIPT_SUFFIXES:  # another chapter: resolved once all are rendered
                    a.set("href", links.mark(href, target, root_dir))
                    a.set("data-written", href)
                    continue
            except (ValueError, FileNotFoundError) as exc:
                why = str(exc)
                if urlsplit(href).path.lower().endswith(MANUSCRIPT_SUFFIXES):
                    hint = "link to a chapter's file listed in book.yaml (its path from this file), or remove the link"
        diag.warn(part.source, part.line_of(href), f"link refused ({why}): {href[:80]}", hint)
        del a.attrib["href"]
        a.tag = "span"
        a.set("class", ((a.get("class") or "") + " refused-link").strip())


def _replace(img: etree._Element, new: etree._Element) -> None:
    if img.get("data-source"):  # where the author wrote it: a final part may not print it (book.check.placeholders)
        new.set("data-source", img.get("data-source"))
        if img.get("data-final"):
            new.set("data-final", "true")
    parent = img.getparent()
    # Pandoc wraps a lone image in <figure><img/><figcaption/></figure>; replace the whole figure.
    if parent is not None and parent.tag == "figure":
        target = parent
    else:
        target = img
        new.tag = "span"
        for el in new.iter():
            if el is not new:
                el.tag = "span"
        new.set("class", (new.get("class") or "") + " inline")
    if target.get("id") and not new.get("id"):
        new.set("id", target.get("id"))
    new.tail = target.tail
    target.getparent().replace(target, new)
