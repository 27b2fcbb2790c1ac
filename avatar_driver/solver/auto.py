"""Auto-calibration: neutral and range that adapt while running, for users who skip the
guided sequence, without ever learning a held expression as the neutral face.

Running quantiles, updated once per frame with steps proportional to the frame's duration
(so the adaptation speed is in seconds, whatever the frame rate):
- each shape's neutral is its running median plus a small margin, its full range the
  running 98th percentile, never closer than `MIN_RANGE` to the neutral (so noise is not
  amplified); each landmark measure's neutral is its running median;
- **only low-activity frames teach the neutral**: after the warm-up, a frame where any shape
  reads `ACTIVE` or more above its neutral (a smile, a laugh, raised brows) leaves every
  neutral and measure where it is, and on quiet frames a shape only moves its neutral
  while it sits within `BAND` of it. So a held laugh, however long, teaches nothing;
- **bounded drift**: after the warm-up, a neutral stays within `MAX_DRIFT` of where the
  warm-up (or the profile) put it;
- `reset()` forgets what was learned and warms up again (the user's "recalibrate").
Fast for the first `WARMUP_S` seconds when starting without a profile, slow afterwards.
During the warm-up every frame counts (there is no neutral yet to compare with): a face
held in an expression for the whole first 5 s is learned as neutral until `reset()`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .measures import DEFAULT_NEUTRAL
from .remap import MIN_SPAN, Remap

__all__ = [
    "ACTIVE",
    "BAND",
    "FAST_RATE",
    "MAX_DRIFT",
    "MIN_RANGE",
    "SLOW_RATE",
    "WARMUP_S",
    "AutoCalibrator",
]

#: Quantile-tracker step, weight units per second, during warm-up and afterwards.
FAST_RATE = 0.5
SLOW_RATE = 0.05
WARMUP_S = 5.0
#: Margin added to the running median: rest noise above the median maps to ~0.
MARGIN = 0.03
#: Smallest full - neutral the auto range may reach.
MIN_RANGE = 0.3
#: A frame with any shape this far above its neutral (weight units) is an expression.
ACTIVE = 0.25
#: On quiet frames a shape's neutral moves only while the shape is within this of it.
BAND = 0.1
#: After the warm-up a neutral stays within this of its warm-up (or profile) value.
MAX_DRIFT = 0.1
#: Typical size of each measure, scaling its steps (irises sit near 0: floor 0.1).
_SCALE = np.maximum(np.abs(DEFAULT_NEUTRAL), 0.1)


#: Quantile each row of the tracker state follows: the median, then the range's top.
_QUANTILES = np.array([[0.5], [0.98]])


class AutoCalibrator:
    """Updates `remap` and `geometry` (both changed in place) from raw frames."""

    def __init__(self, remap: Remap, geometry: np.ndarray, *, warm_up: bool) -> None:
        self.remap = remap
        self.geometry = geometry
        self._start = (remap.neutral.copy(), remap.full.copy(), geometry.copy(), warm_up)
        self._begin(warm_up)

    def _begin(self, warm_up: bool) -> None:
        # Both quantile trackers in one (2, 52) array, so each step is one pass of ufuncs.
        self._quantiles = np.stack([np.maximum(self.remap.neutral - MARGIN, 0.0), self.remap.full])
        self._median, self._high = self._quantiles
        self._elapsed = 0.0 if warm_up else WARMUP_S
        self._anchor = self._median.copy()  # bounded drift around this once warmed up
        self._anchored = not warm_up

    @property
    def warming_up(self) -> bool:
        return self._elapsed < WARMUP_S

    def reset(self) -> None:
        """Forget what was learned: back to the start (profile or none), warm up again."""
        neutral, full, geometry, _ = self._start
        self.remap.neutral[...] = neutral
        self.remap.full[...] = full
        self.remap.refresh()
        self.geometry[...] = geometry
        self._begin(True)

    def update(self, weights: np.ndarray, measures: Sequence[float], dt: float) -> None:
        """One frame: raw weights (52,), measures (M,), frame duration in seconds.

        float64 weights are faster here (comparing float32 with float64 costs a cast).
        """
        warm = self._elapsed < WARMUP_S
        self._elapsed += dt
        if not warm and not self._anchored:  # the warm-up just ended: fix the anchor
            self._anchor[...] = self._median
            self._anchored = True
        step = (FAST_RATE if warm else SLOW_RATE) * dt
        move = np.subtract(_QUANTILES, np.less(weights, self._quantiles))
        move *= step
        quiet = True
        if not warm:
            excess = weights - self.remap.neutral
            quiet = bool(excess.max() < ACTIVE)
            # the neutral learns only on quiet frames, from shapes near it
            move[0] *= quiet & (np.abs(weights - self._median) < BAND)
        self._quantiles += move
        if not warm:
            lo, hi = self._anchor - MAX_DRIFT, self._anchor + MAX_DRIFT
            np.clip(self._median, lo, hi, out=self._median)
        np.clip(self._median, 0.0, 1.0, out=self._median)
        # Written straight into the remap: full >= neutral + MIN_RANGE, or 1 with neutral
        # <= 1 - MIN_SPAN, so `Remap.update`'s widening would change nothing.
        neutral, full = self.remap.neutral, self.remap.full
        np.add(self._median, MARGIN, out=neutral)
        np.clip(neutral, 0.0, 1.0 - MIN_SPAN, out=neutral)
        np.add(neutral, MIN_RANGE, out=full)
        np.clip(self._high, full, 1.0, out=full)
        self.remap.refresh()
        if quiet:  # a held laugh's squint does not become the eyes' rest shape either
            move_m = np.subtract(0.5, np.less(measures, self.geometry))
            move_m *= step * _SCALE
            self.geometry += move_m
