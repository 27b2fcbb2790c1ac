"""The solver stage: calibration remap, landmark-based fixes, extras and gain, per frame.

Hot path (`TrackingSolver.__call__`, ~30 us a frame in a loop, ~140 us between tracker
calls with cold caches). The rule: every numpy call costs ~1 us (more when cold) whatever
its size, so numpy only for the 52 weights, vectorized (no Python loop over channels):
one astype, the remap, one gather and one scatter around the estimates, `symmetrize`,
gain, and the returned arrays. Everything that comes in ones and twos (the 12 landmark
measures from one `take`, per-eye closure, gaze, cheekPuff) is done on Python floats
(`_scalar`). The input frame is never modified; frames without a face pass through.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..frame import Frame, with_face
from ..shapes import EXTRA_NAMES, INDEX, N_SHAPES, group_gain
from ._scalar import maximum
from .auto import AutoCalibrator
from .calibration import HEAD_GAIN, Profile, check_gain
from .extras import genuine_smile, symmetrize
from .eyes import LOOK_INDEX, blink, closure, gaze_angle, lid_raise, look_weights, wide
from .geometry import cheek_puff, lip_raise
from .measures import DEFAULT_NEUTRAL, measure_values
from .occlusion import OcclusionGuard
from .remap import Remap

__all__ = ["SYMMETRY_DEAD", "TrackingSolver"]

#: Weights the landmark estimates read, then the weights they write (`_estimates` order).
_READ = np.array(
    [INDEX[n] for n in ("eyeBlinkLeft", "eyeBlinkRight", "eyeWideLeft", "eyeWideRight",
                        "cheekSquintLeft", "cheekSquintRight", "cheekPuff",
                        "mouthUpperUpLeft", "mouthUpperUpRight", "jawOpen")],
    dtype=np.intp,
)  # fmt: skip
_WRITE = np.concatenate((_READ[:9], LOOK_INDEX))
#: The [geometry] entries the face-shape estimates (cheekPuff, mouthUpperUp) need measured.
_SHAPE_MEASURES = ("cheekWidth", "mouthWidth", "lipNoseLeft", "lipNoseRight")
_GENUINE = EXTRA_NAMES.index("genuineSmile")
#: Default Left-Right dead zone of `extras.symmetrize` (weight units).
SYMMETRY_DEAD = 0.1


class TrackingSolver:
    """Callable stage: `solver(frame)` returns the corrected frame.

    profile: the user's calibration (None: the model's weights unremapped and default
        face geometry). auto: adapt neutral and range while running (`auto.AutoCalibrator`).
    gain: expression gain per group; overrides the profile's [gain] table.
    symmetry: Left-Right differences of side pairs below this are taken as the model's
        side bias and removed (`extras.symmetrize`); 0 turns it off.
    occlusion: estimate each region's visibility from the pixels and ease covered regions
        to neutral (`occlusion.OcclusionGuard`, ~0.4 ms on the frames whose pixels it
        reads, about a third of them); needs frames with images.
    headset: True forces headset mode (eyes and brows at neutral), None detects it, False
        never enters it.
    """

    def __init__(
        self,
        profile: Profile | None = None,
        *,
        auto: bool = False,
        gain: Mapping[str, float] | None = None,
        symmetry: float = SYMMETRY_DEAD,
        occlusion: bool = True,
        headset: bool | None = None,
    ) -> None:
        self.symmetry = symmetry
        self.profile = profile
        self.remap = profile.remap() if profile else Remap.identity(N_SHAPES)
        self.geometry = profile.geometry_vector() if profile else DEFAULT_NEUTRAL.copy()
        # cheekPuff and mouthUpperUp compare the face's shape with its own neutral shape:
        # not with the default face's (see geometry.py).
        self._shape_measured = profile is not None and all(
            n in profile.geometry for n in _SHAPE_MEASURES
        )
        table = gain if gain is not None else (profile.gain if profile else {})
        self.set_gain(table)
        self._auto = (
            AutoCalibrator(self.remap, self.geometry, warm_up=profile is None) if auto else None
        )
        self._last_t: float | None = None
        self._recenter = False
        self._pose_offset: np.ndarray | None = None  # head yaw, pitch, roll taken as zero
        self._origin: np.ndarray | None = None  # head position taken as the origin
        self.guard = (
            OcclusionGuard(self.neutral_weights(), headset=headset)
            if occlusion or headset
            else None
        )

    def recenter(self) -> None:
        """Take the head pose of the next face frame as straight ahead (yaw, pitch, roll 0)
        and its position as the origin, from then on."""
        self._recenter = True

    def recalibrate(self) -> None:
        """Forget the auto-calibration's learning and warm up again (no-op without it)."""
        if self._auto is not None:
            self._auto.reset()

    @property
    def auto_warming_up(self) -> bool | None:
        """True while the auto-calibration warms up, False after it, None without it."""
        return None if self._auto is None else self._auto.warming_up

    def set_gain(self, gain: Mapping[str, float]) -> None:
        """New expression gain per group, and `head` for the head pose's angles (the panel's
        sliders), checked like the config's."""
        table = check_gain(gain)
        self._head_gain = table.pop(HEAD_GAIN, 1.0)
        self._gain = group_gain(table)

    def neutral_weights(self) -> np.ndarray:
        """The calibrated rest face: the profile's neutral through the remap (zeros)."""
        return self.remap(self.remap.neutral).astype(np.float32)

    def __call__(self, frame: Frame) -> Frame:
        lm = frame.landmarks
        if not frame.face_present or lm is None:
            return frame
        img = frame.image
        aspect = img.shape[1] / img.shape[0] if img is not None else 1.0
        m = measure_values(lm, aspect)
        w = frame.weights.astype(np.float64)  # the working copy; the frame's stays as it is
        if self._auto is not None:
            t = frame.timestamp
            dt = 0.0 if self._last_t is None else min(max(t - self._last_t, 0.0), 0.2)
            self._last_t = t
            self._auto.update(w, m, dt)
        self.remap(w, out=w)

        geo = self.geometry.tolist()
        read = w[_READ].tolist()
        shape = self._shape_measured or (self._auto is not None and not self._auto.warming_up)
        try:
            est, yaw, pitch = _estimates(m, geo, read, shape)
        except ZeroDivisionError:  # a zero neutral in the profile: numpy's inf, as before
            est, yaw, pitch = _estimates(m, [np.float64(g) for g in geo], read, shape)
        w[_WRITE] = est

        if self.symmetry > 0.0:
            symmetrize(w, self.symmetry)
        extras = frame.extras.copy()
        extras[_GENUINE] = genuine_smile(w)
        if self._gain is not None:
            w *= self._gain
            np.clip(w, 0.0, 1.0, out=w)
        w[frame.unavailable] = 0.0
        pose = frame.pose.copy()
        if self._recenter:
            self._recenter = False
            self._pose_offset = pose[:3].copy()
            self._origin = frame.translation.copy()
        if self._pose_offset is not None:
            pose[:3] -= self._pose_offset
        if self._head_gain != 1.0:  # around the recentred pose, so straight ahead stays
            pose[:3] *= self._head_gain
        pose[3:9] = (yaw, pitch, 0.0, yaw, pitch, 0.0)  # eye yaw, pitch, roll (L, R)
        out = with_face(frame, w.astype(np.float32), pose, extras)
        if self._origin is not None:
            out.translation = out.translation - self._origin
        return out if self.guard is None else self.guard(out, img)


def _estimates(
    m: list[float], geo: list[float], read: list[float], shape: bool
) -> tuple[list[float], float, float]:
    """The landmark estimates on floats: (`_WRITE` values, eye yaw, eye pitch).

    m: the measures; geo: their neutrals; read: the remapped `_READ` weights; shape: the
    neutral face shape is measured (else cheekPuff and mouthUpperUp stay the model's).
    """
    up_l, up_r, low_l, low_r, x_l, x_r, y_l, y_r, cheek, mouth = m[:10]
    lip_l, lip_r = m[14:16]
    up0_l, up0_r, low0_l, low0_r, x0_l, x0_r, y0_l, y0_r, cheek0, mouth0 = geo[:10]
    iris_l, iris_r, lip0_l, lip0_r = geo[12:16]  # the neutral iris: a steady ruler
    blink_l, blink_r, wide_l, wide_r, squint_l, squint_r, puff, upper_l, upper_r, jaw = read
    closed_l, closed_r = closure(up_l, low_l, up0_l), closure(up_r, low_r, up0_r)
    openness = 1.0 - maximum(closed_l, closed_r)
    yaw = gaze_angle(x_l - x0_l, x_r - x0_r, openness)
    pitch = gaze_angle(y_l - y0_l, y_r - y0_r, openness)
    est = [
        blink(closed_l, blink_l),
        blink(closed_r, blink_r),
        maximum(wide_l, wide(up_l, up0_l, iris_l)),
        maximum(wide_r, wide(up_r, up0_r, iris_r)),
        maximum(squint_l, lid_raise(low_l, low0_l, iris_l)),
        maximum(squint_r, lid_raise(low_r, low0_r, iris_r)),
    ]
    if shape:
        est += [
            max(puff, cheek_puff(cheek, cheek0, mouth, mouth0, jaw)),
            max(upper_l, lip_raise(lip_l, lip0_l, mouth, mouth0)),
            max(upper_r, lip_raise(lip_r, lip0_r, mouth, mouth0)),
        ]
    else:
        est += [puff, upper_l, upper_r]
    est += look_weights(yaw, pitch)
    return est, yaw, pitch
