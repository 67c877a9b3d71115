"""Press facts: the typed `print:` options → paper calipers, spine widths, output intents, CMYK.

Turns what book.options declares (`paper`, `caliper_mm`, `spine_extra_mm`, `output_intent`) into
what the cover and the interior's colour conversion need: the paper's caliper (a small table of
common Chinese stocks, or `caliper_mm`), the spine width for a page count, and the press condition
with its registered identifier and ICC profile; converts design colours (CSS, raster images) into
that condition's CMYK, greys as K only.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from book.cover.conditions import CONDITIONS, ICC_DIR
from book.errors import BookError, Problem, display_path
from book.model import BookConfig

# Caliper of one leaf in mm, as Chinese printers quote them for book interiors (胶版纸 offset,
# 轻型纸 bulky book paper, 纯质纸 high-bulk woodfree, 铜版纸 gloss coated, 哑粉纸 matt coated).
PAPERS: dict[str, float] = {
    "60g 胶版纸": 0.075,
    "70g 胶版纸": 0.088,
    "80g 胶版纸": 0.100,
    "100g 胶版纸": 0.120,
    "120g 胶版纸": 0.145,
    "60g 轻型纸": 0.105,
    "70g 轻型纸": 0.125,
    "80g 轻型纸": 0.140,
    "70g 纯质纸": 0.110,
    "80g 纯质纸": 0.125,
    "105g 铜版纸": 0.085,
    "128g 铜版纸": 0.105,
    "157g 铜版纸": 0.135,
    "105g 哑粉纸": 0.095,
    "128g 哑粉纸": 0.115,
    "157g 哑粉纸": 0.150,
}


@dataclass(frozen=True)
class OutputIntent:
    """A press condition: its ICC registry identifier, its name and the profile that describes it."""

    identifier: str
    condition: str
    profile: Path
    registry: str = "http://www.color.org"


SWOP_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
INTENTS: dict[str, OutputIntent] = {
    key: OutputIntent(key, c.description.split(" (")[0], ICC_DIR / c.filename) for key, c in CONDITIONS.items()
}
INTENTS["SWOP"] = OutputIntent("CGATS TR 001", "U.S. Web Coated (SWOP)", SWOP_PROFILE)
ALIASES = {"JAPANCOLOR2001COATED": "JC200103", "JC2001": "JC200103", "ISOCOATEDV2": "FOGRA39",
           "PSOCOATEDV3": "FOGRA51", "CGATSTR001": "SWOP"}  # fmt: skip
COVER_DEFAULT_INTENT = "JC200103"


def _problem(config: BookConfig, key: str, message: str, hint: str = "") -> BookError:
    """A user error about `print.<key>`, at its book.yaml line."""
    line = config.print.lines.get(key)
    return BookError(Problem(display_path(config.config_path), line, f"print: {message}", hint))


def caliper_mm(config: BookConfig) -> float:
    """The thickness of one interior leaf: `caliper_mm`, else the `paper` stock's."""
    given = config.print.caliper_mm
    if given is not None:
        if not 0.03 <= given <= 0.5:
            raise _problem(config, "caliper_mm", f"'caliper_mm' {given:g} is not a paper thickness",
                           "one leaf is 0.05–0.2 mm")  # fmt: skip
        return given
    paper = config.print.paper
    key = re.sub(r"\s+", " ", paper.strip().replace("克", "g").replace("G", "g"))
    key = re.sub(r"(\d)\s*g\s*", r"\1g ", key).strip()
    if key not in PAPERS:
        raise _problem(
            config, "paper", f"unknown paper {paper!r}", f"use one of {', '.join(PAPERS)} or give caliper_mm"
        )
    return PAPERS[key]


def leaves(pages: int) -> int:
    """Leaves of a book of `pages` pages (an odd last page still takes a leaf)."""
    return (pages + 1) // 2


def spine_mm(config: BookConfig, pages: int) -> float:
    """Spine width: leaves × caliper + the allowance for the cover board."""
    return round(leaves(pages) * caliper_mm(config) + config.print.spine_extra_mm, 2)


def output_intent(config: BookConfig, default: str | None = COVER_DEFAULT_INTENT) -> OutputIntent | None:
    """The press condition of `print.output_intent` (or `default`); None: keep the interior's own."""
    name = config.print.output_intent or default
    if name is None:
        return None
    key = re.sub(r"[\s_-]", "", str(name)).upper()
    key = ALIASES.get(key, key)
    if key not in INTENTS:
        raise _problem(config, "output_intent", f"unknown output_intent {name!r}", f"use one of {', '.join(INTENTS)}")
    intent = INTENTS[key]
    if not intent.profile.is_file():
        raise _problem(config, "output_intent", f"the ICC profile of {key} is missing ({intent.profile})",
                       "run `make sysdeps` (SWOP: libgs-common) or `python -m book.cover.iccgen`")  # fmt: skip
    return intent


def interior_intent(config: BookConfig) -> OutputIntent | None:
    """`print.output_intent`'s press condition for the interior, or None: the interior keeps its
    default profile (`icc_profile`, else Ghostscript's) unless the option is set."""
    return output_intent(config, default=None) if config.print.output_intent else None


# --- colour conversion ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _transform(profile: Path, mode: str) -> Any:
    from PIL import ImageCms

    srgb = ImageCms.createProfile("sRGB")
    press = ImageCms.getOpenProfile(str(profile))
    return ImageCms.buildTransform(
        srgb, press, mode, "CMYK", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    )  # fmt: skip


def rgb_to_cmyk(rgb: tuple[int, int, int], intent: OutputIntent) -> tuple[float, float, float, float]:
    """sRGB (0–255) → CMYK (0–1) of the press condition; neutral greys become K only, so text and
    rules never print in four colours (and never misregister)."""
    from PIL import Image, ImageCms

    r, g, b = rgb
    if max(rgb) - min(rgb) <= 4:
        return (0.0, 0.0, 0.0, round(1 - (r + g + b) / 765, 3))
    pixel = ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), _transform(intent.profile, "RGB"))
    return tuple(round(v / 255, 3) for v in pixel.getpixel((0, 0)))  # type: ignore[return-value]


_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_RGB = re.compile(r"rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)\s*(?:[,/]\s*[\d.%]+\s*)?\)")
_NAMED = {"black": (0, 0, 0), "white": (255, 255, 255)}


def cmyk_css(css: str, intent: OutputIntent) -> str:
    """Every hex, rgb() and black/white of a stylesheet as the condition's `device-cmyk()`."""

    def fmt(rgb: tuple[int, int, int]) -> str:
        return "device-cmyk({:g} {:g} {:g} {:g})".format(*rgb_to_cmyk(rgb, intent))

    def hex_(m: re.Match[str]) -> str:
        h = m.group(1)
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return fmt((int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)))

    css = _HEX.sub(hex_, css)
    css = _RGB.sub(lambda m: fmt(tuple(round(float(m.group(i))) for i in (1, 2, 3))), css)  # type: ignore[arg-type]
    for name, rgb in _NAMED.items():
        css = re.sub(rf"(:\s*|solid\s+){name}\b", lambda m, rgb=rgb: m.group(1) + fmt(rgb), css)
    return css


def cmyk_images(pdf: Any, intent: OutputIntent) -> int:
    """Every RGB or grey raster image of a pikepdf document → the condition's CMYK (greys as K)."""
    import zlib

    import pikepdf
    from PIL import Image, ImageCms, ImageOps

    done, seen = 0, set()
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != "/Image" or obj.objgen in seen:
            continue
        seen.add(obj.objgen)
        space = obj.get("/ColorSpace")
        family = str(space[0] if isinstance(space, pikepdf.Array) else space)
        n = int(space[1].get("/N", 0)) if family == "/ICCBased" else 0
        if family not in ("/DeviceRGB", "/CalRGB") and n != 3:
            continue
        image = pikepdf.PdfImage(obj).as_pil_image().convert("RGB")
        cmyk = ImageCms.applyTransform(image, _transform(intent.profile, "RGB"))
        if image.convert("HSV").getextrema()[1][1] <= 4:  # a grey picture prints in black only
            k = ImageOps.invert(image.convert("L"))
            zero = Image.new("L", image.size, 0)
            cmyk = Image.merge("CMYK", (zero, zero, zero, k))
        obj.write(zlib.compress(cmyk.tobytes(), 9), filter=pikepdf.Name.FlateDecode)
        obj.ColorSpace = pikepdf.Name.DeviceCMYK
        obj.BitsPerComponent = 8
        for key in ("/DecodeParms", "/Decode", "/SMaskInData"):
            if key in obj:
                del obj[key]
        done += 1
    return done


def set_output_intent(pdf: Any, intent: OutputIntent) -> None:
    """The PDF/X output intent named by its registered condition (WeasyPrint writes the profile's
    description as the identifier, which no RIP looks up)."""
    import pikepdf

    for oi in pdf.Root.get("/OutputIntents") or []:
        oi.OutputConditionIdentifier = pikepdf.String(intent.identifier)
        oi.OutputCondition = pikepdf.String(intent.condition)
        oi.RegistryName = pikepdf.String(intent.registry)
        oi.Info = pikepdf.String(intent.condition)


def colour_profile_css(intent: OutputIntent) -> str:
    """The @color-profile rule that makes WeasyPrint embed the condition's profile as output intent."""
    return f'@color-profile device-cmyk {{ src: url("{intent.profile.as_uri()}"); components: c, m, y, k; }}\n'


def image_pixels(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size
