"""WeasyPrint speed patch: a colour-emoji glyph → one embedded image per glyph, not one per use.

WeasyPrint 70 draws each occurrence of a bitmap (CBDT) emoji by decoding its PNG, converting it to
RGBA and re-encoding it as PNG: the sample book's ✅ and 💡 cost about 0.3 s of CPU per 50 pages,
for 21 distinct glyphs. The image id (font hash + glyph id) already names the glyph uniquely and the
PDF writer deduplicates images by id, so one `RasterImage` per id is reused. The PDF's content is
the same. Installed by `book.pdf.weasy.install()`. Idempotent.
"""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from weasyprint.draw import text as wtext

    original = wtext.RasterImage
    images: dict[str, Any] = {}

    def raster_image(pillow_image: Any, image_id: str, image_data: bytes, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # not the emoji call: leave it alone
            return original(pillow_image, image_id, image_data, *args, **kwargs)
        image = images.get(image_id)
        if image is None:
            image = images[image_id] = original(pillow_image, image_id, image_data)
        return image

    wtext.RasterImage = raster_image
    _installed = True
