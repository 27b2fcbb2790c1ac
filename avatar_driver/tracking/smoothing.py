"""Landmark smoothing as MediaPipe's face landmarker does it in VIDEO mode.

A one-euro filter per coordinate (min cutoff 0.05 Hz, beta 80, derivative cutoff 1 Hz:
MediaPipe's face landmarks detector graph), on pixel coordinates, with speeds measured
in face sizes per second so a small face is smoothed like a large one. Blendshapes and
head pose are computed from the smoothed landmarks, the next crop from the raw ones.
All landmarks are filtered at once as arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LandmarkSmoother"]


def _alpha(cutoff: np.ndarray | float, rate: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau * rate)


class LandmarkSmoother:
    """`smooth(points, t, width, height)` filters (N, 3) normalised landmarks at time t (s)."""

    def __init__(
        self, *, min_cutoff: float = 0.05, beta: float = 80.0, derivative_cutoff: float = 1.0
    ) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivative_cutoff = derivative_cutoff
        self.reset()

    def reset(self) -> None:
        """Forget the past (the face was lost): the next landmarks pass through as they are."""
        self._t: float | None = None
        self._raw: np.ndarray | None = None
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def smooth(self, points: np.ndarray, t: float, width: int, height: int) -> np.ndarray:
        scale = np.array([width, height, width], dtype=np.float64)
        px = np.asarray(points, dtype=np.float64) * scale
        size = float(np.ptp(px[:, 0]) + np.ptp(px[:, 1])) / 2
        if size < 1e-6:
            return np.asarray(points, dtype=np.float32)
        if self._t is None or self._raw is None or self._value is None or self._speed is None:
            self._t, self._raw, self._value = t, px, px
            self._speed = np.zeros_like(px)
            return np.asarray(points, dtype=np.float32)
        if t <= self._t:  # MediaPipe passes such a sample through unfiltered
            return np.asarray(points, dtype=np.float32)
        rate = 1.0 / (t - self._t)
        speed = (px - self._raw) * (rate / size)
        self._speed = self._speed + _alpha(self.derivative_cutoff, rate) * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        self._value = self._value + _alpha(cutoff, rate) * (px - self._value)
        self._t, self._raw = t, px
        return (self._value / scale).astype(np.float32)
