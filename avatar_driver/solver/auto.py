"""Auto-calibration: neutral and range that adapt while running, for users who skip the
guided sequence.

Running quantiles, updated once per frame with steps proportional to the frame's duration
(so the adaptation speed is in seconds, whatever the frame rate):
- each shape's neutral is its running median plus a small margin (the face is assumed to
  be at rest at least half of the time), its full range the running 98th percentile,
  never closer than `MIN_RANGE` to the neutral (so noise is not amplified);
- each landmark measure's neutral is its running median (eyes are open and look at the
  screen most of the time; blinks are short).
Fast for the first `WARMUP_S` seconds when starting without a profile, slow afterwards.
"""

from __future__ import annotations

import numpy as np

from .measures import DEFAULT_NEUTRAL
from .remap import MIN_SPAN, Remap

__all__ = ["FAST_RATE", "MIN_RANGE", "SLOW_RATE", "WARMUP_S", "AutoCalibrator"]

#: Quantile-tracker step, weight units per second, during warm-up and afterwards.
FAST_RATE = 0.5
SLOW_RATE = 0.05
WARMUP_S = 5.0
#: Margin added to the running median: rest noise above the median maps to ~0.
MARGIN = 0.03
#: Smallest full - neutral the auto range may reach.
MIN_RANGE = 0.3
#: Typical size of each measure, scaling its steps (irises sit near 0: floor 0.1).
_SCALE = np.maximum(np.abs(DEFAULT_NEUTRAL), 0.1)


class AutoCalibrator:
    """Updates `remap` and `geometry` (both changed in place) from raw frames."""

    def __init__(self, remap: Remap, geometry: np.ndarray, *, warm_up: bool) -> None:
        self.remap = remap
        self.geometry = geometry
        self._median = np.maximum(remap.neutral - MARGIN, 0.0)
        self._high = remap.full.copy()
        self._elapsed = 0.0 if warm_up else WARMUP_S
        self._neutral = np.empty_like(self._median)
        self._full = np.empty_like(self._high)

    def update(self, weights: np.ndarray, measures: np.ndarray, dt: float) -> None:
        """One frame: raw weights (52,), measures (M,), frame duration in seconds."""
        rate = FAST_RATE if self._elapsed < WARMUP_S else SLOW_RATE
        self._elapsed += dt
        step = rate * dt
        self._median += step * (0.5 - (weights < self._median))
        self._high += step * (0.98 - (weights < self._high))
        np.clip(self._median, 0.0, 1.0, out=self._median)
        np.clip(self._median + MARGIN, 0.0, 1.0 - MIN_SPAN, out=self._neutral)
        np.clip(self._high, self._neutral + MIN_RANGE, 1.0, out=self._full)
        self.remap.update(self._neutral, self._full)
        self.geometry += (step * _SCALE) * (0.5 - (measures < self.geometry))
