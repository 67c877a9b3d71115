"""Finishing: a written PDF → the same PDF made reproducible (dates, ids) and print-safe (no RGB images).

Dates come from SOURCE_DATE_EPOCH, the XMP ids and the trailer /ID from the content, so the same
input gives the same bytes; page labels make viewers show the printed folios (i, ii… then 1, 2…).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from book.model import Build


def cmyk_images(pdf: Any) -> int:
    """Convert every DeviceRGB image (colour emoji glyphs, pictures) to DeviceCMYK; returns the count.

    WeasyPrint draws bitmap glyphs and raster images in RGB whatever the CSS says; a print file
    must not carry any. The conversion is a plain device conversion (Pillow), K from grey.
    """
    import zlib

    import pikepdf
    from PIL import Image

    done = 0
    seen: set[tuple[int, int]] = set()
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != "/Image" or obj.objgen in seen:
            continue
        seen.add(obj.objgen)
        if str(obj.get("/ColorSpace")) != "/DeviceRGB":
            continue
        image = pikepdf.PdfImage(obj).as_pil_image().convert("RGB")
        cmyk = Image.frombytes("RGB", image.size, image.tobytes()).convert("CMYK")
        obj.write(zlib.compress(cmyk.tobytes(), 9), filter=pikepdf.Name.FlateDecode)
        obj.ColorSpace = pikepdf.Name.DeviceCMYK
        obj.BitsPerComponent = 8
        for key in ("/DecodeParms", "/Decode"):
            if key in obj:
                del obj[key]
        done += 1
    return done


def finish_pdf(path: Path, build: Build, profile: str = "print", front_pages: int | None = None) -> None:
    """Dates from SOURCE_DATE_EPOCH, XMP ids and the trailer /ID from the content: same input, same bytes.

    In the print profile, RGB images are converted to CMYK as well.
    """
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        finish_document(pdf, build, profile, front_pages)
        save_pdf(pdf, path)


def save_pdf(pdf: Any, path: Path, **options: Any) -> None:
    """Save with a deterministic /ID, compressed streams and object streams (PDF 1.5+, so PDF/X-4
    allows them: the dictionaries of a thousand pages compress too)."""
    import pikepdf

    pdf.save(
        path,
        deterministic_id=True,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        **options,
    )


def finish_document(pdf: Any, build: Build, profile: str = "print", front_pages: int | None = None) -> None:
    """`finish_pdf` on an open pikepdf document (the caller saves it with `save_pdf`)."""
    import pikepdf

    stamp = build.build_date()
    pdf_date = stamp.strftime("D:%Y%m%d%H%M%S+00'00'")
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    seed = hashlib.sha256()
    for page in pdf.pages:
        for stream in (
            page.obj.get("/Contents", [])
            if isinstance(page.obj.get("/Contents"), pikepdf.Array)
            else [page.obj.get("/Contents")]
        ):
            if stream is not None:
                seed.update(stream.read_raw_bytes())
    seed.update(build.config.identifier.encode())
    digest = seed.hexdigest()
    uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    if "/Metadata" in pdf.Root:
        xmp = pdf.Root.Metadata.read_bytes().decode("utf-8")
        xmp = re.sub(r"xmp\.did:[0-9a-f-]+", f"xmp.did:{uuid}", xmp)
        xmp = re.sub(r"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)[^<]*", rf"\g<1>{iso}", xmp)
        pdf.Root.Metadata.write(xmp.encode("utf-8"))
    if profile == "print":
        if build.config.print.output_intent:  # a registered press condition: its name, its profile's CMYK
            from book.cover import press

            intent = press.interior_intent(build.config)
            press.cmyk_images(pdf, intent)  # type: ignore[arg-type]
            press.set_output_intent(pdf, intent)  # type: ignore[arg-type]
        cmyk_images(pdf)
    if front_pages is not None:  # viewers then show the printed folios: i, ii… then 1, 2…
        labels = [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
        if front_pages < len(pdf.pages):
            labels += [front_pages, pikepdf.Dictionary(S=pikepdf.Name.D)]
        pdf.Root.PageLabels = pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(labels)))
    pdf.docinfo["/CreationDate"] = pdf_date
    pdf.docinfo["/ModDate"] = pdf_date
    # qpdf keeps the first /ID element (WeasyPrint's hashes a random XMP id): replace it first.
    pdf.trailer.ID = pikepdf.Array([pikepdf.String(bytes.fromhex(digest[:32]))] * 2)
