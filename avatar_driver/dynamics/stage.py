"""`FilterDynamics`: any array `Filter` plus the face-loss policy, as a pipeline stage.

Hot path rule: on top of the filter's step the stage makes a handful of numpy calls
(~0.5-1 us each): copy weights and pose into one preallocated float64 vector, one float32
cast of the filtered vector (weights and pose are views of it), one clip of the weights to
0..1, a max over the filter's `activity` for the microExpression extra (skipped when all
zero), a copy of the extras, and a new `Frame` built without `dataclasses.replace` (~3 us
alone). No call that releases the GIL for a few elements (argmax): the pipeline has other
threads, and getting the GIL back costs more than the whole stage. The input frame and
its arrays are never written; the returned arrays are new every frame and nothing writes
them afterwards.
"""

from __future__ import annotations

import numpy as np

from ..frame import Frame, with_face
from ..shapes import EXTRA_NAMES, N_SHAPES
from .base import Filter
from .face_loss import FaceLoss
from .groups import CHANNEL_GROUP, N_CHANNELS

__all__ = ["MICRO_FULL", "MICRO_GROUPS", "FilterDynamics"]

_MICRO = EXTRA_NAMES.index("microExpression")
#: Groups whose fast-path activity counts as a micro-expression; blinks, gaze, jaw and
#: head turns are movements but not expressions.
MICRO_GROUPS = ("brows", "cheeks_nose", "mouth")
#: Deviation from the stable path (weight units) that reads as a full micro-expression.
MICRO_FULL = 0.25
_PER_FULL = 1.0 / MICRO_FULL


def _micro_channels() -> slice:
    """The micro-expression channels as one slice: a view is free, a gather is a call."""
    idx = [k for k, g in enumerate(CHANNEL_GROUP) if g in MICRO_GROUPS]
    if idx != list(range(idx[0], idx[-1] + 1)):  # shapes.py order is the contract
        raise RuntimeError(f"micro-expression channels are not contiguous: {idx}")
    return slice(idx[0], idx[-1] + 1)


_MICRO_CHANNELS = _micro_channels()
# Not argmax: it releases the GIL even for a few elements; with a busy thread alongside,
# getting it back took ~40 us here.
_max = np.maximum.reduce


class FilterDynamics:
    """Filters weights and pose with `filt`, applying the face-loss policy."""

    def __init__(self, filt: Filter, face_loss: FaceLoss) -> None:
        self._filter = filt
        self._loss = face_loss
        self._x = np.zeros(N_CHANNELS)
        self._x_weights, self._x_pose = self._x[:N_SHAPES], self._x[N_SHAPES:]
        activity = filt.activity
        # |d| * m of the expression channels; max(...) / MICRO_FULL is the extra
        self._micro = None if activity is None else activity[_MICRO_CHANNELS]
        self._zeros = np.zeros(N_SHAPES, np.float32)
        self._ones = np.ones(N_SHAPES, np.float32)

    @property
    def movement(self) -> np.ndarray:
        """The filter's per-channel movement signal, 0..1 (a live buffer: copy to keep)."""
        return self._filter.movement

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
        loss = self._loss
        micro = 0.0
        if frame.face_present:
            if loss.needs_restart(t):
                self._filter.reset()
            self._x_weights[...] = frame.weights
            self._x_pose[...] = frame.pose
            # the filter returns a fresh array; the face-loss policy may keep it as "shown"
            y = loss.found(t, self._filter.step(self._x, t))
            v = self._micro
            if v is not None and np.count_nonzero(v):  # all zero at rest: skip the reduction
                # max(a) / full equals the max of a / full exactly (rounding is monotone)
                micro = min(float(_max(v)) * _PER_FULL, 1.0)
        else:
            y = loss.lost(t)
        out = y.astype(np.float32)  # new every frame: weights and pose are views of it
        weights = out[:N_SHAPES]
        np.maximum(weights, self._zeros, out=weights)  # clip to 0..1
        np.minimum(weights, self._ones, out=weights)
        extras = frame.extras.astype(np.float32)
        extras[_MICRO] = micro
        return with_face(frame, weights, out[N_SHAPES:], extras)
