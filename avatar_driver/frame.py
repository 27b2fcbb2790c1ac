"""The one data type that flows source -> tracker -> solver -> dynamics -> outputs.

A `Frame` is immutable by convention: a stage that changes something returns a new frame
(`dataclasses.replace`) with new arrays and never writes into the arrays it was given, so
an output may keep a frame while later stages run.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields

import numpy as np

from .shapes import EXTRA_NAMES, N_SHAPES, POSE_NAMES, UNAVAILABLE

__all__ = ["REGION_NAMES", "Frame", "neutral_weights", "with_face"]

_F32 = np.float32
#: Face regions whose visibility `Frame.regions` reports, in order.
REGION_NAMES: tuple[str, ...] = ("eyes", "brows", "mouth")
_FACE_VISIBLE = N_SHAPES + len(POSE_NAMES) + EXTRA_NAMES.index("faceVisible")
_EYES_VISIBLE = N_SHAPES + len(POSE_NAMES) + EXTRA_NAMES.index("eyesVisible")


def neutral_weights() -> np.ndarray:
    """A fresh all-zero weight vector in canonical order."""
    return np.zeros(N_SHAPES, dtype=_F32)


@dataclass(slots=True)
class Frame:
    """One moment of the performer's face.

    timestamp: seconds on the source's own clock (never wall-clock), so replays filter
        exactly like live runs.
    weights: float32 (52,) ARKit weights in `shapes.ARKIT_NAMES` order, 0..1.
    pose: float32 (9,) head yaw/pitch/roll then left and right eye yaw/pitch/roll, degrees,
        in `shapes.POSE_NAMES` order; sign conventions in `tracking.pose`.
    translation: float32 (3,) head position in centimetres, camera space (x right,
        y up, z toward the camera).
    extras: float32 `shapes.EXTRA_NAMES` channels (genuineSmile, microExpression,
        faceVisible).
    face_present: a face was tracked in this frame.
    confidence: tracker's confidence 0..1 (1.0 for synthetic sources).
    index: frame number from the source, from 0.
    capture_time: `time.perf_counter()` when the source produced the frame (latency).
    unavailable: bool (52,) mask of shapes the tracker cannot measure (reported as 0).
    image: RGB uint8 pixels when the source has them (only the tracker and debug views
        read it).
    landmarks: float32 (478, 3) normalised face landmarks when tracked.
    regions: float32 (3,) confidence 0..1 that the eyes, brows and mouth are visible
        (`REGION_NAMES` order; 1 clear, 0 covered), when the solver estimated it.
    upper_face: the eyes and brows are tracked; False in headset mode, where their channels
        sit at the calibrated neutral (VRChat's EyeTrackingActive should follow it).
    """

    timestamp: float
    weights: np.ndarray = field(default_factory=neutral_weights)
    pose: np.ndarray = field(default_factory=lambda: np.zeros(len(POSE_NAMES), dtype=_F32))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=_F32))
    extras: np.ndarray = field(default_factory=lambda: np.zeros(len(EXTRA_NAMES), dtype=_F32))
    face_present: bool = False
    confidence: float = 0.0
    index: int = 0
    capture_time: float = 0.0
    unavailable: np.ndarray = field(default_factory=lambda: UNAVAILABLE)
    image: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    regions: np.ndarray | None = None
    upper_face: bool = True

    def channels(self, out: np.ndarray | None = None) -> np.ndarray:
        """All mapping inputs as one float32 vector in `shapes.CHANNEL_NAMES` order.

        faceVisible always follows `face_present`, and eyesVisible `face_present and
        upper_face` (off in headset mode), whatever the stages left in extras.
        `out` (a float vector of that length) receives the values instead of a new array,
        which saves the mapping a copy per frame; it is returned.
        """
        out = np.concatenate((self.weights, self.pose, self.extras), out=out)
        out[_FACE_VISIBLE] = self.face_present
        out[_EYES_VISIBLE] = self.face_present and self.upper_face
        return out


# `with_face` copies every Frame field, whatever fields Frame gains later.
_FIELDS = tuple(f.name for f in fields(Frame))
_field_values = operator.attrgetter(*_FIELDS)
_W, _P, _E = (_FIELDS.index(n) for n in ("weights", "pose", "extras"))


def with_face(frame: Frame, weights: np.ndarray, pose: np.ndarray, extras: np.ndarray) -> Frame:
    """`dataclasses.replace(frame, weights=..., pose=..., extras=...)` in a third of the
    time (the solver and the dynamics stage call it every frame)."""
    values = list(_field_values(frame))
    values[_W], values[_P], values[_E] = weights, pose, extras
    return Frame(*values)
