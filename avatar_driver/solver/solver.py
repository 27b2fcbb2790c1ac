"""The solver stage: calibration remap, landmark-based fixes, extras and gain, per frame.

Hot path (`TrackingSolver.__call__`), about 25 numpy operations on arrays of at most 52
floats, no Python loop over channels or landmarks: one gather of 24 landmarks and one
small matrix product (`measures.measure`), the remap, the eye and cheek estimates written
into precomputed index slots, gain, and new arrays for the returned frame (the input frame
is never modified). Frames without a face pass through unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from ..frame import Frame
from ..shapes import EXTRA_NAMES, INDEX, N_SHAPES
from .auto import AutoCalibrator
from .calibration import Profile, check_gain
from .extras import gain_vector, genuine_smile, symmetrize
from .eyes import LOOK_INDEX, blink, closure, gaze, gaze_shapes, lid_raise, wide
from .geometry import cheek_puff
from .measures import DEFAULT_NEUTRAL, measure
from .remap import Remap

__all__ = ["SYMMETRY_DEAD", "TrackingSolver"]

_BLINK = np.array([INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]])
_WIDE = np.array([INDEX["eyeWideLeft"], INDEX["eyeWideRight"]])
_CHEEK_SQUINT = np.array([INDEX["cheekSquintLeft"], INDEX["cheekSquintRight"]])
_PUFF = INDEX["cheekPuff"]
_JAW = INDEX["jawOpen"]
_GENUINE = EXTRA_NAMES.index("genuineSmile")
_EYE_YAW = np.array([3, 6])
_EYE_PITCH = np.array([4, 7])
_EYE_ROLL = np.array([5, 8])
#: Default Left-Right dead zone of `extras.symmetrize` (weight units).
SYMMETRY_DEAD = 0.1


class TrackingSolver:
    """Callable stage: `solver(frame)` returns the corrected frame.

    profile: the user's calibration (None: the model's weights unremapped and default
        face geometry). auto: adapt neutral and range while running (`auto.AutoCalibrator`).
    gain: expression gain per group; overrides the profile's [gain] table.
    symmetry: Left-Right differences of side pairs below this are taken as the model's
        side bias and removed (`extras.symmetrize`); 0 turns it off.
    """

    def __init__(
        self,
        profile: Profile | None = None,
        *,
        auto: bool = False,
        gain: Mapping[str, float] | None = None,
        symmetry: float = SYMMETRY_DEAD,
    ) -> None:
        self.symmetry = symmetry
        self.profile = profile
        self.remap = profile.remap() if profile else Remap.identity(N_SHAPES)
        self.geometry = profile.geometry_vector() if profile else DEFAULT_NEUTRAL.copy()
        table = gain if gain is not None else (profile.gain if profile else {})
        self._gain = gain_vector(check_gain(table))
        self._auto = (
            AutoCalibrator(self.remap, self.geometry, warm_up=profile is None) if auto else None
        )
        self._last_t: float | None = None

    def neutral_weights(self) -> np.ndarray:
        """The calibrated rest face: the profile's neutral through the remap (zeros)."""
        return self.remap(self.remap.neutral).astype(np.float32)

    def __call__(self, frame: Frame) -> Frame:
        lm = frame.landmarks
        if not frame.face_present or lm is None:
            return frame
        img = frame.image
        aspect = img.shape[1] / img.shape[0] if img is not None else 1.0
        m = measure(lm, aspect)
        if self._auto is not None:
            t = frame.timestamp
            dt = 0.0 if self._last_t is None else min(max(t - self._last_t, 0.0), 0.2)
            self._last_t = t
            self._auto.update(frame.weights, m, dt)
        geo = self.geometry
        w = self.remap(frame.weights.astype(np.float64))

        upper, lower = m[0:2], m[2:4]
        closed = closure(upper, lower, geo[0:2])
        w[_BLINK] = blink(closed, w[_BLINK])
        w[_WIDE] = np.maximum(w[_WIDE], wide(upper, geo[0:2]))
        w[_CHEEK_SQUINT] = np.maximum(w[_CHEEK_SQUINT], lid_raise(lower, geo[2:4]))
        angles = gaze(m[4:8], geo[4:8], 1.0 - float(closed.max()))
        w[LOOK_INDEX] = gaze_shapes(angles)
        w[_PUFF] = max(w[_PUFF], cheek_puff(m[8], geo[8], m[9], geo[9], w[_JAW]))

        if self.symmetry > 0.0:
            symmetrize(w, self.symmetry)
        extras = frame.extras.copy()
        extras[_GENUINE] = genuine_smile(w)
        if self._gain is not None:
            w *= self._gain
            np.clip(w, 0.0, 1.0, out=w)
        w[frame.unavailable] = 0.0
        pose = frame.pose.copy()
        pose[_EYE_YAW] = angles[0]
        pose[_EYE_PITCH] = angles[1]
        pose[_EYE_ROLL] = 0.0
        return dataclasses.replace(frame, weights=w.astype(np.float32), pose=pose, extras=extras)
