"""ICC generator: a press condition's published aim values → a CMYK output profile (ICC v2 bytes).

No free Debian or PyPI package ships a Japan Color or FOGRA profile (Debian's icc-profiles-free,
colord-data and argyll-ref hold RGB, grey and Lab profiles only; Ghostscript's CMYK one is SWOP), so
the profiles in book/icc/ are made here from each condition's aim values: the CIELAB of paper,
solids, two- and three-colour overprints (ISO 12647-2) and the tone value increase at 50 %. The
model is a Demichel/Murray–Davies halftone model over 16 Neugebauer primaries (the K overprints
derived with a first-surface reflection floor), and the separation (B2A) is its numerical inverse
with a medium GCR and the condition's total area coverage. It is an approximation of the
characterisation data, good for converting design colours and for soft proofs; what tells the
press its condition is the output intent's registered identifier (JC200103, FOGRA39…), which a
press's RIP maps to its own reference profile. LittleCMS (Pillow's ImageCms) reads and applies them.

`python -m book.cover.iccgen` rewrites book/icc/*.icc; the bytes are a pure function of the tables below.
"""

from __future__ import annotations

import itertools
import struct
import sys

import numpy as np

from book.cover.conditions import CONDITIONS, ICC_DIR, Condition

D50 = np.array([0.9642, 1.0, 0.8249])
A2B_GRID, B2A_GRID = 9, 17


def lab_to_xyz(lab: np.ndarray, white: np.ndarray = D50) -> np.ndarray:
    lab = np.asarray(lab, dtype=float)
    fy = (lab[..., 0] + 16) / 116
    fx, fz = fy + lab[..., 1] / 500, fy - lab[..., 2] / 200
    f = np.stack([fx, fy, fz], axis=-1)
    return white * np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29))


def xyz_to_lab(xyz: np.ndarray, white: np.ndarray = D50) -> np.ndarray:
    t = np.asarray(xyz, dtype=float) / white
    f = np.where(t > (6 / 29) ** 3, np.cbrt(np.maximum(t, 0)), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


class PressModel:
    """CMYK (0–1) → media-relative CIELAB of a condition."""

    def __init__(self, cond: Condition) -> None:
        self.cond = cond
        self.white = lab_to_xyz(cond.paper)
        base = {
            (0, 0, 0): cond.paper, (1, 0, 0): cond.c, (0, 1, 0): cond.m, (0, 0, 1): cond.y,
            (0, 1, 1): cond.my, (1, 0, 1): cond.cy, (1, 1, 0): cond.cm, (1, 1, 1): cond.cmy,
        }  # fmt: skip
        xyz_k = lab_to_xyz(cond.k)
        # Ink over ink darkens less than reflectances multiply: light reflected by the top surface
        # sets a floor, chosen so that the four-colour solid has the condition's L*.
        target = lab_to_xyz((cond.cmyk_l, 0, 0))[1]
        y_cmy, y_k, y_w = lab_to_xyz(cond.cmy)[1], xyz_k[1], self.white[1]
        lo, hi = 0.0, min(y_cmy, y_k)
        for _ in range(60):
            s = (lo + hi) / 2
            y = s + (y_cmy - s) * (y_k - s) / (y_w - s)
            lo, hi = (s, hi) if y < target else (lo, s)
        floor = self.white * (s / y_w)
        primaries = np.zeros((2, 2, 2, 2, 3))
        for (c, m, y), lab in base.items():
            xyz = lab_to_xyz(lab)
            primaries[c, m, y, 0] = xyz
            primaries[c, m, y, 1] = (
                xyz_k if (c, m, y) == (0, 0, 0) else floor + (xyz - floor) * (xyz_k - floor) / (self.white - floor)
            )
        self.primaries = primaries

    def lab(self, cmyk: np.ndarray) -> np.ndarray:
        cmyk = np.clip(np.asarray(cmyk, dtype=float), 0, 1)
        tvi = np.array([self.cond.tvi_cmy] * 3 + [self.cond.tvi_k])
        a = cmyk + 4 * tvi * cmyk * (1 - cmyk)  # tone value increase: a parabola through TVI(50 %)
        xyz = np.zeros(cmyk.shape[:-1] + (3,))
        for bits in itertools.product((0, 1), repeat=4):
            w = np.ones(cmyk.shape[:-1])
            for i, b in enumerate(bits):
                w = w * (a[..., i] if b else 1 - a[..., i])
            xyz += w[..., None] * self.primaries[bits]
        return xyz_to_lab(xyz / self.white * D50)  # media-relative: paper is L* 100

    def separate(self, lab: np.ndarray, iterations: int = 40) -> np.ndarray:
        """CIELAB (media-relative) → CMYK: the CMY match, a medium GCR, then CMYK matched under it."""
        lab = np.asarray(lab, dtype=float)
        n = lab.shape[0]
        cmy = self._solve(lab, np.full((n, 4), 0.3) * np.array([1, 1, 1, 0]), free=(0, 1, 2), iterations=iterations)
        grey = cmy[:, :3].min(axis=1)
        k_pref = np.clip((grey - 0.2) / 0.8, 0, 1) ** 1.2
        start = np.concatenate([np.clip(cmy[:, :3] - 0.7 * k_pref[:, None], 0, 1), k_pref[:, None]], axis=1)
        out = self._solve(lab, start, free=(0, 1, 2, 3), iterations=iterations, k_pref=k_pref)
        out[lab[:, 0] >= 99.999] = 0  # paper white is no ink at all
        return out

    def _solve(
        self, lab: np.ndarray, x: np.ndarray, free: tuple[int, ...], iterations: int, k_pref: np.ndarray | None = None
    ) -> np.ndarray:
        """Damped Gauss–Newton on ΔE (plus a pull towards the preferred K and the ink limit)."""
        x = x.copy()
        eps = 1e-4
        for _ in range(iterations):
            f = self.lab(x)
            r = [f - lab]
            jac = []
            for i in free:
                dx = x.copy()
                dx[:, i] += eps
                jac.append((self.lab(dx) - f) / eps)
            J = np.stack(jac, axis=-1)  # n × 3 × p
            rows, res = [J], [r[0]]
            if k_pref is not None:
                row = np.zeros((x.shape[0], 1, len(free)))
                row[:, 0, free.index(3)] = 8.0
                rows.append(row)
                res.append(8.0 * (x[:, 3:4] - k_pref[:, None]))
            over = x.sum(axis=1) - self.cond.tac
            row = np.zeros((x.shape[0], 1, len(free)))
            row[:, 0, :] = np.where(over > 0, 40.0, 0.0)[:, None]
            rows.append(row)
            res.append(np.where(over > 0, 40.0 * over, 0.0)[:, None])
            A = np.concatenate(rows, axis=1)
            b = np.concatenate(res, axis=1)
            AtA = np.einsum("nij,nik->njk", A, A) + 1e-3 * np.eye(len(free))
            Atb = np.einsum("nij,ni->nj", A, b)
            step = np.linalg.solve(AtA, Atb[..., None])[..., 0]
            x[:, list(free)] = np.clip(x[:, list(free)] - step, 0, 1)
        return x


# --- ICC v2 encoding -----------------------------------------------------------------------------


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_ + bytes(4 + 4 + 2 + 1 + 67)


def _text(text: str) -> bytes:
    return b"text" + bytes(4) + text.encode("ascii") + b"\0"


def _xyz(xyz: np.ndarray) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(v) for v in xyz)


def _lut16(clut: np.ndarray, inputs: int, outputs: int, grid: int) -> bytes:
    head = b"mft2" + bytes(4) + struct.pack(">BBBB", inputs, outputs, grid, 0)
    head += b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    head += struct.pack(">HH", 2, 2)
    ramps = struct.pack(">HH", 0, 65535)
    values = np.clip(np.rint(clut.reshape(-1)), 0, 65535).astype(">u2").tobytes()
    return head + ramps * inputs + values + ramps * outputs


def _encode_lab(lab: np.ndarray) -> np.ndarray:
    """ICC v2 16-bit Lab: L 0–100 → 0–0xFF00, a/b −128–128 → 0–0x10000."""
    return np.stack([lab[..., 0] * 652.8, (lab[..., 1] + 128) * 256, (lab[..., 2] + 128) * 256], axis=-1)


def profile_bytes(cond: Condition) -> bytes:
    model = PressModel(cond)
    axis = np.linspace(0, 1, A2B_GRID)
    cmyk = np.stack(np.meshgrid(axis, axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 4)
    a2b = _lut16(_encode_lab(model.lab(cmyk)), 4, 3, A2B_GRID)
    enc = np.linspace(0, 65535, B2A_GRID)
    grid = np.stack(np.meshgrid(enc, enc, enc, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = np.stack([np.minimum(grid[:, 0] / 652.8, 100), grid[:, 1] / 256 - 128, grid[:, 2] / 256 - 128], axis=1)
    b2a = _lut16(model.separate(lab) * 65535, 3, 4, B2A_GRID)
    tags = [
        (b"desc", _desc(cond.description)),
        (b"cprt", _text("No copyright: generated by book.iccgen from ISO 12647-2 aim values")),
        (b"wtpt", _xyz(lab_to_xyz(cond.paper))),
        (b"A2B0", a2b), (b"A2B1", a2b), (b"A2B2", a2b),
        (b"B2A0", b2a), (b"B2A1", b2a), (b"B2A2", b2a),
    ]  # fmt: skip
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, blobs, seen = [], b"", {}
    for sig, data in tags:
        if data in seen:  # the three intents share one table
            entries.append((sig, *seen[data]))
            continue
        pad = (-offset) % 4
        blobs += bytes(pad)
        offset += pad
        seen[data] = (offset, len(data))
        entries.append((sig, offset, len(data)))
        blobs += data
        offset += len(data)
    table = struct.pack(">I", len(tags)) + b"".join(sig + struct.pack(">II", o, n) for sig, o, n in entries)
    size = 128 + len(table) + len(blobs)
    header = struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"prtr" + b"CMYK" + b"Lab "
    header += struct.pack(">6H", 2025, 1, 1, 0, 0, 0) + b"acsp" + bytes(4) + bytes(4) + bytes(4) + bytes(4)
    header += bytes(8) + struct.pack(">I", 0) + b"".join(_s15(v) for v in D50) + b"book" + bytes(16 + 28)
    assert len(header) == 128
    return header + table + blobs


def main() -> int:
    ICC_DIR.mkdir(exist_ok=True)
    for cond in CONDITIONS.values():
        path = ICC_DIR / cond.filename
        path.write_bytes(profile_bytes(cond))
        print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
