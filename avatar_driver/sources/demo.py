"""A built-in synthetic performer: needs no camera and no model.

``demo`` blinks, smiles, talks and looks around, deterministically (a seeded schedule),
so a user can check an avatar and the outputs before pointing a camera at themselves.
``demo:sweep`` raises each of the 52 shapes in turn (0 -> 1 -> 0 over one second), then the
head and eyes, once (58 s), naming the current one in `state` (the status line), so an
avatar maker can check every parameter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from ..errors import SourceError
from ..frame import Frame
from ..shapes import ARKIT_NAMES, INDEX, N_SHAPES
from .base import SourceBase

__all__ = ["DEMO_MODES", "DemoSource"]

DEMO_MODES = ("performer", "sweep")
_I = INDEX
#: The sweep's steps after the 52 shapes (one second each).
POSE_STEPS = ("head yaw", "head pitch", "head roll", "eyes yaw", "eyes pitch", "head yaw back")
SWEEP_STEPS = N_SHAPES + len(POSE_STEPS)


def _pulse(t: float, start: float, rise: float, hold: float, fall: float) -> float:
    """0 -> 1 -> 0 with smooth (cosine) edges."""
    x = t - start
    if x <= 0 or x >= rise + hold + fall:
        return 0.0
    if x < rise:
        return 0.5 - 0.5 * math.cos(math.pi * x / rise)
    if x < rise + hold:
        return 1.0
    return 0.5 + 0.5 * math.cos(math.pi * (x - rise - hold) / fall)


class DemoSource(SourceBase):
    """Synthetic frames at `fps`; runs until stopped (use --max-frames to bound it)."""

    needs_tracker = False

    def __init__(self, mode: str = "performer", *, fps: float = 30.0, seed: int = 7) -> None:
        if mode not in DEMO_MODES:
            raise SourceError(f"unknown demo mode {mode!r}; expected demo or demo:sweep")
        self.mode = mode
        self.fps = fps
        self.description = "demo (synthetic performer)" if mode == "performer" else "demo sweep"
        rng = np.random.default_rng(seed)
        # A minute-long schedule that repeats: blink onsets, smile and talk episodes.
        self._period = 60.0
        self._blinks = np.cumsum(rng.uniform(2.0, 5.0, 30))
        self._blinks = self._blinks[self._blinks < self._period - 1]
        self._smiles = [(6.0, 1.5, 4.0), (24.0, 0.6, 6.0), (44.0, 0.8, 3.0)]
        self._talks = [(2.0, 3.0), (14.0, 5.0), (33.0, 6.0), (50.0, 4.0)]
        self._syllable_rate = rng.uniform(3.5, 6.5, len(self._talks))

    def weights_at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(weights, pose) of the performer at time t: a pure function of t."""
        if self.mode == "sweep":
            return self._sweep(t)
        w = np.zeros(N_SHAPES, dtype=np.float32)
        pose = np.zeros(9, dtype=np.float32)
        tc = t % self._period
        blink = max((_pulse(tc, b, 0.06, 0.04, 0.08) for b in self._blinks), default=0.0)
        w[_I["eyeBlinkLeft"]] = w[_I["eyeBlinkRight"]] = blink
        smile = max(
            _pulse(tc, s, 0.4, d, 0.8) * a for s, a, d in ((s, 1.0, d) for s, _, d in self._smiles)
        )
        for name, gain in (("mouthSmile", 0.9), ("cheekSquint", 0.5), ("eyeSquint", 0.35)):
            w[_I[name + "Left"]] = w[_I[name + "Right"]] = gain * smile
        for (start, dur), rate in zip(self._talks, self._syllable_rate, strict=True):
            env = _pulse(tc, start, 0.2, dur, 0.2)
            if env:
                syl = 0.5 - 0.5 * math.cos(2 * math.pi * rate * (tc - start))
                w[_I["jawOpen"]] = max(w[_I["jawOpen"]], 0.55 * env * syl)
                w[_I["mouthFunnel"]] = 0.25 * env * max(0.0, math.sin(2 * math.pi * 1.3 * tc))
                w[_I["mouthLowerDownLeft"]] = w[_I["mouthLowerDownRight"]] = 0.3 * env * syl
        brows = _pulse(tc, 20.0, 0.3, 1.5, 0.5) + 0.6 * _pulse(tc, 40.0, 0.3, 1.0, 0.5)
        w[_I["browInnerUp"]] = brows
        w[_I["browOuterUpLeft"]] = w[_I["browOuterUpRight"]] = 0.7 * brows
        # Looking around: slow head sway with the eyes leading.
        yaw = 18.0 * math.sin(2 * math.pi * tc / 11.0)
        pitch = 6.0 * math.sin(2 * math.pi * tc / 7.0)
        roll = 4.0 * math.sin(2 * math.pi * tc / 13.0)
        eye_yaw = 15.0 * math.sin(2 * math.pi * tc / 5.0)
        eye_pitch = 8.0 * math.sin(2 * math.pi * tc / 9.0)
        pose[:] = (yaw, pitch, roll, eye_yaw, eye_pitch, 0.0, eye_yaw, eye_pitch, 0.0)
        look = eye_yaw / 30.0
        # Eyes turning to the performer's left: left eye looks out, right eye looks in.
        w[_I["eyeLookOutLeft"]] = w[_I["eyeLookInRight"]] = max(0.0, look)
        w[_I["eyeLookInLeft"]] = w[_I["eyeLookOutRight"]] = max(0.0, -look)
        w[_I["eyeLookUpLeft"]] = w[_I["eyeLookUpRight"]] = max(0.0, eye_pitch / 25.0)
        w[_I["eyeLookDownLeft"]] = w[_I["eyeLookDownRight"]] = max(0.0, -eye_pitch / 25.0)
        w[_I["tongueOut"]] = 0.0
        return np.clip(w, 0.0, 1.0), pose

    def _sweep(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        w = np.zeros(N_SHAPES, dtype=np.float32)
        pose = np.zeros(9, dtype=np.float32)
        steps = SWEEP_STEPS  # every shape, then head yaw/pitch/roll and eye yaw/pitch both ways
        k = int(t) % steps
        level = math.sin(math.pi * (t % 1.0))
        if k < N_SHAPES:
            w[k] = level
        else:
            axis = (0, 1, 2, 3, 4, 0)[k - N_SHAPES]
            sign = -1.0 if k == steps - 1 else 1.0
            if axis >= 3:
                pose[axis] = pose[axis + 3] = 25.0 * level
            else:
                pose[axis] = sign * 30.0 * level
        return w, pose

    def current_shape(self, t: float) -> str | None:
        """Name of the shape the sweep drives at time t (None outside the shapes)."""
        k = int(t) % SWEEP_STEPS
        return ARKIT_NAMES[k] if self.mode == "sweep" and k < N_SHAPES else None

    def sweep_step(self, t: float) -> str:
        """What the sweep moves at time t: "12/58 jawOpen", "53/58 head yaw"."""
        k = int(t) % SWEEP_STEPS
        name = ARKIT_NAMES[k] if k < N_SHAPES else POSE_STEPS[k - N_SHAPES]
        return f"{k + 1}/{SWEEP_STEPS} {name}"

    def __iter__(self) -> Iterator[Frame]:
        """Frames until stopped; the sweep ends after one pass over its steps."""
        index = 0
        sweep = self.mode == "sweep"
        end = round(SWEEP_STEPS * self.fps) if sweep else None
        while end is None or index < end:
            t = index / self.fps
            if sweep:
                self.state = self.sweep_step(t)
            weights, pose = self.weights_at(t)
            yield Frame(
                timestamp=t,
                weights=weights,
                pose=pose,
                face_present=True,
                confidence=1.0,
                index=index,
                capture_time=time.perf_counter(),
            )
            index += 1
