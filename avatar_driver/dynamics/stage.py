"""`FilterDynamics`: any array `Filter` plus the face-loss policy, as a pipeline stage.

Hot path per frame: one concatenate of weights and pose into float64, the filter's step,
a clip of the weights to 0..1, the microExpression extra, and new float32 arrays for the
returned frame; the input frame and its arrays are never written.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..frame import Frame
from ..shapes import EXTRA_NAMES, N_SHAPES
from .base import Filter
from .base import ufunc_clip as _clip
from .face_loss import FaceLoss
from .groups import CHANNEL_GROUP, N_CHANNELS

__all__ = ["MICRO_FULL", "MICRO_GROUPS", "FilterDynamics"]

_MICRO = EXTRA_NAMES.index("microExpression")
#: Groups whose fast-path activity counts as a micro-expression; blinks, gaze, jaw and
#: head turns are movements but not expressions.
MICRO_GROUPS = ("brows", "cheeks_nose", "mouth")
#: Deviation from the stable path (weight units) that reads as a full micro-expression.
MICRO_FULL = 0.25


class FilterDynamics:
    """Filters weights and pose with `filt`, applying the face-loss policy."""

    def __init__(self, filt: Filter, face_loss: FaceLoss) -> None:
        self._filter = filt
        self._loss = face_loss
        w = np.array([g in MICRO_GROUPS for g in CHANNEL_GROUP], dtype=np.float64)
        self._micro_w = w / MICRO_FULL
        self._x = np.zeros(N_CHANNELS)
        self._tmp = np.zeros(N_CHANNELS)
        self._zeros = np.zeros(N_SHAPES, np.float32)
        self._ones = np.ones(N_SHAPES, np.float32)

    def reset(self) -> None:
        """Forget all history (a new take or a seek)."""
        self._filter.reset()
        self._loss.reset()

    def set_neutral(self, weights: np.ndarray) -> None:
        """Ease to these 52 weights (pose to 0) when the face is lost."""
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.shape != (N_SHAPES,):
            raise ValueError(f"neutral: expected {N_SHAPES} weights, got shape {w.shape}")
        neutral = np.zeros(N_CHANNELS)
        neutral[:N_SHAPES] = np.clip(w, 0.0, 1.0)
        self._loss.neutral = neutral

    def __call__(self, frame: Frame) -> Frame:
        """A new frame with filtered weights and pose; the input is not modified."""
        t = float(frame.timestamp)
        micro = 0.0
        if frame.face_present:
            if self._loss.needs_restart(t):
                self._filter.reset()
            x = self._x
            x[:N_SHAPES] = frame.weights
            x[N_SHAPES:] = frame.pose
            y = self._loss.found(t, self._filter.step(x, t))
            tmp = self._tmp
            np.abs(self._filter.deviation, out=tmp)
            tmp *= self._filter.movement
            tmp *= self._micro_w
            micro = min(float(tmp.max()), 1.0)
        else:
            y = self._loss.lost(t)
        weights = y[:N_SHAPES].astype(np.float32)
        _clip(weights, self._zeros, self._ones, out=weights)
        extras = np.array(frame.extras, dtype=np.float32)
        extras[_MICRO] = micro
        return dataclasses.replace(
            frame, weights=weights, pose=y[N_SHAPES:].astype(np.float32), extras=extras
        )
