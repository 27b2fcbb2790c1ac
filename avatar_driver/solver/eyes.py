"""Eyes from the landmarks: lid closure fused with the model's blink, eyeWide, lower-lid
raise, and gaze from the irises.

- Closure: the upper lid's drop from its neutral height, over the distance it can travel
  (down to the current lower lid, less the gap MediaPipe leaves between closed lids). The
  lower lid rising (a squint, a Duchenne smile) does not count as closing.
- Blink: closure and the model's (remapped) blink blended, with the weight moving to the
  landmarks as they close: open eyes read ~0, closed eyes ~1 although the model stops near
  0.6. Each eye separately, so winks stay winks.
- Wide: the upper lid's rise above its neutral height, relative to that height. Where the
  neutral lid sits low (a face looking down, a laugh's squint, a wink) the ratio would turn
  jitter into full shapes, so the height divided by is at least a share of the neutral
  iris diameter (~11.7 mm in every adult: a face-independent ruler). Relative to each
  eye's own height, not in iris units: that cancels the landmark model's per-eye scale
  bias, which iris units let through (mirror error on the clips 0.0147 -> 0.0157).
- Gaze: the iris centre relative to the eye corners, both eyes averaged (conjugate gaze:
  vergence is dropped for stability), converted to an eye rotation with the eyeball radius
  as a fraction of the eye's width. Closed eyes fade gaze to the centre.

closure, blink, wide and lid_raise take floats (one eye, the solver's hot path) or arrays
(pairs ordered (Left, Right)); gaze and gaze_shapes take arrays, gaze_angle and look_weights
floats. Floats, because a numpy call on a 2-element array costs about 1 us (`_scalar`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..shapes import INDEX
from ._scalar import F, clip

__all__ = [
    "CLOSED_GAP",
    "EYE_WIDTH_PER_RADIUS",
    "FULL_GAZE_DEG",
    "LID_RAISE_SPAN",
    "LOOK_INDEX",
    "MIN_LOWER_IRIS",
    "MIN_TRAVEL",
    "MIN_UPPER_IRIS",
    "WIDE_SPAN",
    "blink",
    "closure",
    "gaze",
    "gaze_angle",
    "gaze_shapes",
    "lid_raise",
    "look_weights",
    "wide",
]

#: Lid gap (eye widths) MediaPipe leaves when the eye is shut (measured on a blink: 0.045).
CLOSED_GAP = 0.05
#: Smallest lid travel (eye widths) closure divides by: an eye already near shut at rest
#: (a squint or wink in the profile's image) has ~0 travel left, and a tiny landmark jitter
#: would read as a full blink (open eyes travel ~0.3).
MIN_TRAVEL = 0.1
#: Upper-lid rise (fraction of its neutral height) past the dead zone that reads as full
#: eyeWide (chosen on the tuning faces' synthetic surprise, benchmarks/weak_shapes.py).
WIDE_SPAN = 0.25
#: Upper-lid rise ignored as rest noise and slow drift (fraction of neutral height).
WIDE_DEAD = 0.06
#: Lower-lid rise (fraction of its neutral depth) that reads as full cheek raise, after a
#: dead zone that swallows rest noise (the lower lid's frame-to-frame sd is ~6 %).
LID_RAISE_SPAN = 0.5
LID_RAISE_DEAD = 0.08
#: Smallest neutral lid height and depth used as the lids' ruler, in iris diameters (open
#: eyes: upper ~0.5, lower ~0.26): a neutral lid near the corner line (a face looking
#: down, a squinting laugh, a wink) would turn landmark jitter into full shapes.
MIN_UPPER_IRIS = 0.5
MIN_LOWER_IRIS = 0.2
#: Eye-fissure width / eyeball radius (about 30 mm / 12 mm in adults).
EYE_WIDTH_PER_RADIUS = 2.5
#: Eye rotation (degrees) that reads as a full eyeLook* shape.
FULL_GAZE_DEG = 30.0

_LOOK = np.array(
    [
        INDEX[n]
        for n in (
            "eyeLookOutLeft", "eyeLookInRight", "eyeLookInLeft", "eyeLookOutRight",
            "eyeLookUpLeft", "eyeLookUpRight", "eyeLookDownLeft", "eyeLookDownRight",
        )
    ],
    dtype=np.intp,
)  # fmt: skip
#: The eight eyeLook* indices `gaze_shapes` fills, in its output order.
LOOK_INDEX = _LOOK


def closure(upper: F, lower: F, upper0: F) -> F:
    """0 (lid at its neutral height) .. 1 (lids meet), per eye."""
    travel = clip(upper0 + lower - CLOSED_GAP, MIN_TRAVEL, math.inf)
    return clip((upper0 - upper) / travel, 0.0, 1.0)


def blink(geometric: F, model: F) -> F:
    """Fuse lid closure with the model's blink; the landmarks weigh more as they close."""
    w = 0.5 + 0.5 * geometric
    return clip(w * geometric + (1.0 - w) * model, 0.0, 1.0)


def _at_least(x: F, lo: F) -> F:
    """`np.maximum(x, lo)` for floats or arrays (floats: one comparison, see `_scalar`)."""
    if isinstance(x, np.ndarray) or isinstance(lo, np.ndarray):
        out: Any = np.maximum(x, lo)
        return out
    return lo if x < lo else x


def wide(upper: F, upper0: F, iris0: F) -> F:
    """eyeWide from the upper lid rising above its neutral height, relative to that height
    (at least `MIN_UPPER_IRIS` neutral iris diameters), per eye; all in eye widths."""
    rise = (upper - upper0) / _at_least(upper0, MIN_UPPER_IRIS * iris0)
    return clip((rise - WIDE_DEAD) / WIDE_SPAN, 0.0, 1.0)


def lid_raise(lower: F, lower0: F, iris0: F) -> F:
    """The lower lid pushed up (cheek raise, AU6), 0..1 per eye: its rise relative to the
    neutral depth (at least `MIN_LOWER_IRIS` neutral iris diameters)."""
    rise = (lower0 - lower) / _at_least(lower0, MIN_LOWER_IRIS * iris0)
    return clip((rise - LID_RAISE_DEAD) / LID_RAISE_SPAN, 0.0, 1.0)


def gaze_angle(offset_left: float, offset_right: float, openness: float) -> float:
    """One gaze angle (degrees) from both eyes' iris offsets from neutral on one axis."""
    d = (offset_left + offset_right) / 2
    return math.degrees(math.asin(clip(d * EYE_WIDTH_PER_RADIUS, -1.0, 1.0))) * openness


def gaze(iris: np.ndarray, iris0: np.ndarray, openness: float) -> np.ndarray:
    """(yaw, pitch) in degrees from iris offsets (2 eyes x (x, y)) and their neutrals.

    yaw > 0 looks toward the performer's left, pitch > 0 looks up (tracking.pose signs).
    """
    xl, xr, yl, yr = (iris - iris0).tolist()  # x (L, R), y (L, R)
    return np.array([gaze_angle(xl, xr, openness), gaze_angle(yl, yr, openness)])


def look_weights(yaw: float, pitch: float) -> list[float]:
    """The eight eyeLook* weights (order of `LOOK_INDEX`) from yaw and pitch in degrees."""
    left, right = clip(yaw / FULL_GAZE_DEG, 0.0, 1.0), clip(-yaw / FULL_GAZE_DEG, 0.0, 1.0)
    up, down = clip(pitch / FULL_GAZE_DEG, 0.0, 1.0), clip(-pitch / FULL_GAZE_DEG, 0.0, 1.0)
    return [left, left, right, right, up, up, down, down]


def gaze_shapes(angles: np.ndarray) -> np.ndarray:
    """The eight eyeLook* weights (order of `LOOK_INDEX`) from (yaw, pitch) degrees."""
    yaw, pitch = np.asarray(angles, dtype=np.float64).tolist()
    return np.array(look_weights(yaw, pitch))
