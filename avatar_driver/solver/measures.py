"""Raw geometric measures from the 478 face landmarks, one small vector per frame.

Everything the solver reads from the landmarks is computed here: one gather, one small
matrix product that forms every difference vector, and a few array operations. Each measure
is a ratio of distances within the face (scale-free) and is defined the same way for both
sides, so flipping the image and swapping Left/Right gives the same numbers, up to the
landmark model's own asymmetry.

Conventions: each eye's axis runs from its corner on the performer's right to its corner
on the performer's left; "up" is that axis turned a quarter toward the forehead. MediaPipe
labels landmarks anatomically, so this also holds in mirrored images. Pairs are ordered
(Left, Right) like ARKit's shapes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_NEUTRAL", "MEASURE_NAMES", "N_MEASURES", "M", "measure"]

#: Names of the measure vector's entries (also the keys of a profile's [geometry] table).
MEASURE_NAMES: tuple[str, ...] = (
    "upperLidLeft", "upperLidRight",   # upper lid above the corner line / eye width
    "lowerLidLeft", "lowerLidRight",   # lower lid below the corner line / eye width
    "irisXLeft", "irisXRight",         # iris centre toward the performer's left / eye width
    "irisYLeft", "irisYRight",         # iris centre above the corner midpoint / eye width
    "cheekWidth",                      # mid-cheek width / outer eye-corner distance
    "mouthWidth",                      # mouth-corner distance / outer eye-corner distance
    "alaLeft", "alaRight",             # nose wing to inner eye corner / inner-corner distance
)  # fmt: skip
N_MEASURES = len(MEASURE_NAMES)
#: Index of each measure by name.
M: dict[str, int] = {n: i for i, n in enumerate(MEASURE_NAMES)}

#: Neutral values used until a profile or auto-calibration provides the user's own: one
#: adult face at a webcam (single_face.mp4, first 0.5 s), irises assumed centred.
DEFAULT_NEUTRAL = np.array(
    [0.23, 0.23, 0.12, 0.12, 0.0, 0.0, 0.09, 0.09, 0.89, 0.49, 1.13, 1.13], dtype=np.float64
)

# Landmark indices (MediaPipe face mesh with irises).
_POINTS = np.array(
    [
        362, 33,  # 0-1 eye corner on the performer's right side (L eye, R eye)
        263, 133,  # 2-3 eye corner on the performer's left side
        385, 158, 386, 159, 387, 160,  # 4-9 upper lid (L, R interleaved)
        380, 153, 374, 145, 373, 144,  # 10-15 lower lid
        473, 468,  # 16-17 iris centres
        425, 205,  # 18-19 mid-cheek contour
        291, 61,  # 20-21 mouth corners
        278, 48,  # 22-23 nose wings
    ],
    dtype=np.intp,
)  # fmt: skip


def _difference_matrix() -> np.ndarray:
    """Rows combine the gathered points into the difference vectors `measure` needs."""
    rows: list[np.ndarray] = []

    def row(terms: dict[int, float]) -> None:
        r = np.zeros(len(_POINTS))
        for k, v in terms.items():
            r[k] += v
        rows.append(r)

    for e in (0, 1):  # 0-1: eye axis (b - a)
        row({2 + e: 1.0, e: -1.0})
    for start in (4, 10):  # 2-3 upper lid - mid, 4-5 lower lid - mid (3-point means)
        for e in (0, 1):
            row(
                {start + e: 1 / 3, start + 2 + e: 1 / 3, start + 4 + e: 1 / 3, e: -0.5, 2 + e: -0.5}
            )
    for e in (0, 1):  # 6-7: iris - mid
        row({16 + e: 1.0, e: -0.5, 2 + e: -0.5})
    row({18: 1.0, 19: -1.0})  # 8: cheek width
    row({2: 1.0, 1: -1.0})  # 9: outer corners (L outer 263, R outer 33)
    row({20: 1.0, 21: -1.0})  # 10: mouth width
    row({22: 1.0, 0: -1.0})  # 11: left nose wing - left inner corner (362)
    row({23: 1.0, 3: -1.0})  # 12: right nose wing - right inner corner (133)
    row({0: 1.0, 3: -1.0})  # 13: inner corners
    return np.array(rows)


_D = _difference_matrix()
_AX6 = np.array([0, 1, 0, 1, 0, 1])  # eye of each row 2..7


def measure(landmarks: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """The `MEASURE_NAMES` vector (float64) from (478, 3) normalised landmarks.

    `aspect` is image width / height: MediaPipe normalises x by the width and y by the
    height, so y is divided by it to measure both in one unit.
    """
    d = _D @ landmarks[_POINTS, :2]
    d[:, 1] /= aspect
    length = np.sqrt(np.einsum("ij,ij->i", d, d))
    w = length[_AX6]
    ax = d[_AX6] / w[:, None]
    v = d[2:8]
    along = (v[:, 0] * ax[:, 0] + v[:, 1] * ax[:, 1]) / w
    up = (v[:, 0] * ax[:, 1] - v[:, 1] * ax[:, 0]) / w  # image y grows downward
    out = np.empty(N_MEASURES)
    out[0:2] = up[0:2]
    out[2:4] = -up[2:4]
    out[4:6] = along[4:6]
    out[6:8] = up[4:6]
    out[8:10] = length[[8, 10]] / length[9]
    out[10:12] = length[11:13] / length[13]
    return out
