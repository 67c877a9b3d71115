"""The press conditions the cover and the print PDF know: each one's aims, and where its profile is.

Apart from book.cover.iccgen, which makes the profiles from these aims with numpy, so that a build
that only reads a profile does not import numpy (0.14 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ICC_DIR = Path(__file__).resolve().parent.parent / "icc"  # book/icc/, shipped as package data


@dataclass(frozen=True)
class Condition:
    """A printing condition's aims: CIELAB (D50, 2°) of paper, solids and overprints; TVI at 50 %."""

    filename: str
    description: str
    paper: tuple[float, float, float]
    c: tuple[float, float, float]
    m: tuple[float, float, float]
    y: tuple[float, float, float]
    k: tuple[float, float, float]
    my: tuple[float, float, float]  # red
    cy: tuple[float, float, float]  # green
    cm: tuple[float, float, float]  # blue
    cmy: tuple[float, float, float]
    tvi_cmy: float
    tvi_k: float
    tac: float  # total area coverage, 0–4
    cmyk_l: float  # L* of the four-colour solid (sets the first-surface reflection floor)


# ISO 12647-2:2004/Amd 1 paper type 1 (gloss coated) aims. Japan Color 2001 Coated is measured on a
# black backing (paper darker and bluer), FOGRA39 on a white one; FOGRA51 is ISO 12647-2:2013 PC1 (M1).
CONDITIONS = {
    "JC200103": Condition(
        "JapanColor2001Coated-book.icc", "Japan Color 2001 Coated (book model, JC200103)",
        paper=(93, 0, -3), c=(54, -36, -49), m=(46, 72, -5), y=(87, -6, 90), k=(16, 0, 0),
        my=(46, 67, 47), cy=(49, -63, 26), cm=(24, 20, -45), cmy=(23, 0, 0),
        tvi_cmy=0.14, tvi_k=0.17, tac=3.5, cmyk_l=9,
    ),
    "FOGRA39": Condition(
        "CoatedFOGRA39-book.icc", "Coated FOGRA39 (book model, ISO 12647-2:2004 PT1)",
        paper=(95, 0, -2), c=(55, -37, -50), m=(48, 74, -3), y=(89, -5, 93), k=(16, 0, 0),
        my=(47, 68, 48), cy=(50, -65, 27), cm=(24, 22, -46), cmy=(23, 0, 0),
        tvi_cmy=0.14, tvi_k=0.17, tac=3.3, cmyk_l=9,
    ),
    "FOGRA51": Condition(
        "PSOCoatedv3-book.icc", "PSO Coated v3 (book model, FOGRA51)",
        paper=(95, 1, -4), c=(56, -37, -50), m=(48, 75, -4), y=(89, -4, 93), k=(16, 0, 0),
        my=(48, 68, 47), cy=(50, -66, 25), cm=(24, 22, -46), cmy=(23, 0, 0),
        tvi_cmy=0.16, tvi_k=0.16, tac=3.0, cmyk_l=9,
    ),
}  # fmt: skip
