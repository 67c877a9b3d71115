"""Images stage: `<img>` references in a part's tree → embeddable local files or placeholders.

No output ever references a remote resource or a file outside the book's folder. Local images are
resolved inside the book's root; remote ones become a placeholder figure with their alt text (the
fetching cache is the `fetch` module's job, when enabled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from lxml import etree

from book.errors import Diagnostics
from book.manifest import Part


@dataclass
class ImageRef:
    """An image the outputs embed: its file on disk and its name inside the EPUB."""

    path: Path
    href: str  # e.g. images/3f2a…png
    media_type: str


@dataclass
class ImageSet:
    images: dict[str, ImageRef] = field(default_factory=dict)


def placeholder(img: etree._Element, note: str) -> etree._Element:
    fig = etree.Element("figure")
    fig.set("class", "image-placeholder")
    box = etree.SubElement(fig, "div")
    box.set("class", "placeholder-box")
    box.text = img.get("alt") or "图片"
    cap = etree.SubElement(fig, "figcaption")
    cap.text = note
    return fig


def apply(root: etree._Element, part: Part, diag: Diagnostics, root_dir: Path) -> list[ImageRef]:
    found: list[ImageRef] = []
    for img in list(root.iter("img")):
        src = img.get("src", "")
        scheme = urlparse(src).scheme.lower()
        if scheme in ("http", "https"):
            diag.warn(part.source, None, f"remote image not embedded: {src[:80]}", "download it into the book's folder")
            _replace(img, placeholder(img, "图片未能获取"))
        else:
            diag.warn(part.source, None, f"image not embedded: {src[:80]}", "check the path")
            _replace(img, placeholder(img, "图片缺失"))
    return found


def _replace(img: etree._Element, new: etree._Element) -> None:
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
    new.tail = target.tail
    target.getparent().replace(target, new)
