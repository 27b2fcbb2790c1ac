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

from collections.abc import Sequence

import numpy as np

from ._scalar import CLIP
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


#: Quantile each row of the tracker state follows: the median, then the range's top.
_QUANTILES = np.array([[0.5], [0.98]])


class AutoCalibrator:
    """Updates `remap` and `geometry` (both changed in place) from raw frames."""

    def __init__(self, remap: Remap, geometry: np.ndarray, *, warm_up: bool) -> None:
        self.remap = remap
        self.geometry = geometry
        # Both quantile trackers in one (2, 52) array, so each step is one pass of ufuncs.
        self._quantiles = np.stack([np.maximum(remap.neutral - MARGIN, 0.0), remap.full])
        self._median, self._high = self._quantiles
        self._elapsed = 0.0 if warm_up else WARMUP_S

    def update(self, weights: np.ndarray, measures: Sequence[float], dt: float) -> None:
        """One frame: raw weights (52,), measures (M,), frame duration in seconds.

        float64 weights are faster here (comparing float32 with float64 costs a cast).
        """
        rate = FAST_RATE if self._elapsed < WARMUP_S else SLOW_RATE
        self._elapsed += dt
        step = rate * dt
        move = np.subtract(_QUANTILES, np.less(weights, self._quantiles))
        move *= step
        self._quantiles += move
        CLIP(self._median, 0.0, 1.0, out=self._median)
        # Written straight into the remap: full >= neutral + MIN_RANGE, or 1 with neutral
        # <= 1 - MIN_SPAN, so `Remap.update`'s widening would change nothing.
        neutral, full = self.remap.neutral, self.remap.full
        np.add(self._median, MARGIN, out=neutral)
        CLIP(neutral, 0.0, 1.0 - MIN_SPAN, out=neutral)
        np.add(neutral, MIN_RANGE, out=full)
        CLIP(self._high, full, 1.0, out=full)
        self.remap.refresh()
        move = np.subtract(0.5, np.less(measures, self.geometry))
        move *= step * _SCALE
        self.geometry += move
