"""Raw geometric measures from the 478 face landmarks, one small vector per frame.

Everything the solver reads from the landmarks is computed here: one `take` of the 48
coordinates, then float arithmetic (numpy calls on arrays of two cost far more: `_scalar`).
Each measure is a ratio of distances within the face (scale-free) and is defined the same
way for both sides, so flipping the image and swapping Left/Right gives the same numbers,
up to the landmark model's own asymmetry.

Conventions: each eye's axis runs from its corner on the performer's right to its corner
on the performer's left; "up" is that axis turned a quarter toward the forehead. MediaPipe
labels landmarks anatomically, so this also holds in mirrored images. Pairs are ordered
(Left, Right) like ARKit's shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["DEFAULT_NEUTRAL", "MEASURE_NAMES", "N_MEASURES", "M", "measure", "measure_values"]

#: Names of the measure vector's entries (also the keys of a profile's [geometry] table).
MEASURE_NAMES: tuple[str, ...] = (
    "upperLidLeft", "upperLidRight",   # upper lid above the corner line / eye width
    "lowerLidLeft", "lowerLidRight",   # lower lid below the corner line / eye width
    "irisXLeft", "irisXRight",         # iris centre toward the performer's left / eye width
    "irisYLeft", "irisYRight",         # iris centre above the corner midpoint / eye width
    "cheekWidth",                      # mid-cheek width / outer eye-corner distance
    "mouthWidth",                      # mouth-corner distance / outer eye-corner distance
    "alaLeft", "alaRight",             # nose wing to inner eye corner / inner-corner distance
    "irisLeft", "irisRight",           # iris diameter / eye width (a face-independent ruler)
    "lipNoseLeft", "lipNoseRight",     # upper lip to nostril base / inner-corner distance
)  # fmt: skip
N_MEASURES = len(MEASURE_NAMES)
#: Index of each measure by name.
M: dict[str, int] = {n: i for i, n in enumerate(MEASURE_NAMES)}

#: Neutral values used until a profile or auto-calibration provides the user's own: one
#: adult face at a webcam (single_face.mp4, first 0.5 s), irises assumed centred.
DEFAULT_NEUTRAL = np.array(
    [0.23, 0.23, 0.12, 0.12, 0.0, 0.0, 0.09, 0.09, 0.89, 0.49, 1.13, 1.13, 0.45, 0.45, 0.55,
     0.55],
    dtype=np.float64,
)  # fmt: skip

# Landmark indices (MediaPipe face mesh with irises), gathered in this order.
_EYE_POINTS = (
    # corner on the performer's right, corner on their left, upper lid (3), lower lid (3),
    # iris centre
    (362, 263, 385, 386, 387, 380, 374, 373, 473),  # Left eye
    (33, 133, 158, 159, 160, 153, 145, 144, 468),  # Right eye
)
_FACE_POINTS = (425, 205, 291, 61, 278, 48)  # mid-cheeks, mouth corners, nose wings (L, R)
_IRIS_RINGS = (474, 475, 476, 477, 469, 470, 471, 472)  # 4 iris-edge points (L, then R)
_LIP_NOSE = (267, 327, 37, 98)  # upper lip beside the philtrum, nostril base (L, then R)
_POINTS = np.array(
    _EYE_POINTS[0] + _EYE_POINTS[1] + _FACE_POINTS + _IRIS_RINGS + _LIP_NOSE, dtype=np.intp
)
# x and y of each point in a flattened (478, 3) array: one `take` gathers all 72 numbers.
_FLAT = (3 * _POINTS[:, None] + np.arange(2)).ravel()


def measure(landmarks: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """The `MEASURE_NAMES` vector (float64) from (478, 3) normalised landmarks.

    `aspect` is image width / height: MediaPipe normalises x by the width and y by the
    height, so y is divided by it to measure both in one unit.
    """
    return np.array(measure_values(landmarks, aspect))


def measure_values(landmarks: np.ndarray, aspect: float = 1.0) -> list[float]:
    """`measure` as a list of floats: the solver's per-frame path (one numpy call)."""
    if landmarks.ndim == 2 and landmarks.shape[1] == 3:
        p = landmarks.take(_FLAT).tolist()
    else:
        p = landmarks[_POINTS, :2].ravel().tolist()
    try:
        return _measures(p, aspect, math.sqrt)
    except ZeroDivisionError:  # coincident landmarks: numpy's inf/nan (and warning) instead
        p64 = [np.float64(v) for v in p]
        return [float(v) for v in _measures(p64, np.float64(aspect), np.sqrt)]


def _measures(p: list[Any], aspect: Any, sqrt: Callable[[Any], Any]) -> list[Any]:
    """The measures from the gathered coordinates (x, y interleaved, `_POINTS` order).

    Floats, or numpy scalars (which give inf/nan where floats raise ZeroDivisionError).
    """

    def length(x: Any, y: Any) -> Any:
        return sqrt(x * x + y * y)

    def eye(p: list[Any]) -> tuple[Any, Any, Any, Any]:
        """(upper lid, lower lid, iris x, iris y) of one eye from its 9 points."""
        ax, ay, bx, by, u1x, u1y, u2x, u2y, u3x, u3y, l1x, l1y, l2x, l2y, l3x, l3y, ix, iy = p
        dx, dy = bx - ax, (by - ay) / aspect  # the axis, y in x's unit
        width = length(dx, dy)
        ex, ey = dx / width, dy / width
        # Offsets from the corner midpoint; lids as the mean of their 3 points.
        mx, my = (ax + bx) / 2, (ay + by) / 2
        ux, uy = (u1x + u2x + u3x) / 3 - mx, ((u1y + u2y + u3y) / 3 - my) / aspect
        lx, ly = (l1x + l2x + l3x) / 3 - mx, ((l1y + l2y + l3y) / 3 - my) / aspect
        ix, iy = ix - mx, (iy - my) / aspect
        return (
            (ux * ey - uy * ex) / width,  # "up" (image y grows downward)
            -(lx * ey - ly * ex) / width,
            (ix * ex + iy * ey) / width,  # along the axis
            (ix * ey - iy * ex) / width,
        )

    upper_l, lower_l, x_l, y_l = eye(p[0:18])
    upper_r, lower_r, x_r, y_r = eye(p[18:36])
    a_lx, a_ly, b_lx, b_ly = p[0:4]  # left eye corners (362, 263)
    a_rx, a_ry, b_rx, b_ry = p[18:22]  # right eye corners (33, 133)
    ck_lx, ck_ly, ck_rx, ck_ry, m_lx, m_ly, m_rx, m_ry, n_lx, n_ly, n_rx, n_ry = p[36:48]
    outer = length(b_lx - a_rx, (b_ly - a_ry) / aspect)  # 263 - 33
    inner = length(a_lx - b_rx, (a_ly - b_ry) / aspect)  # 362 - 133

    def iris(ring: list[Any], centre: list[Any], eye: list[Any]) -> Any:
        """Iris diameter (twice the mean centre-to-edge distance) / eye width."""
        cx, cy = centre
        radius = sum(
            length(x - cx, (y - cy) / aspect) for x, y in zip(ring[::2], ring[1::2], strict=True)
        )
        return 0.5 * radius / length(eye[2] - eye[0], (eye[3] - eye[1]) / aspect)

    ul_x, ul_y, nl_x, nl_y, ur_x, ur_y, nr_x, nr_y = p[64:72]
    return [
        upper_l, upper_r, lower_l, lower_r, x_l, x_r, y_l, y_r,
        length(ck_lx - ck_rx, (ck_ly - ck_ry) / aspect) / outer,
        length(m_lx - m_rx, (m_ly - m_ry) / aspect) / outer,
        length(n_lx - a_lx, (n_ly - a_ly) / aspect) / inner,  # nose wing - 362
        length(n_rx - b_rx, (n_ry - b_ry) / aspect) / inner,  # nose wing - 133
        iris(p[48:56], p[16:18], p[0:4]),
        iris(p[56:64], p[34:36], p[18:22]),
        length(ul_x - nl_x, (ul_y - nl_y) / aspect) / inner,  # 267 - 327
        length(ur_x - nr_x, (ur_y - nr_y) / aspect) / inner,  # 37 - 98
    ]  # fmt: skip
