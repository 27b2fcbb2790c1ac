"""The cortical filter: a stable slow path and a movement-locked fast path, crossfaded.

Design analogy (Ianni, Freiwald et al., Science 2026; see docs/dynamics.md): cingulate
motor cortex holds a stable code through a gesture, primary motor cortex a fast,
movement-locked one. Here, per channel:

- the *stable path* s is a slow exponential average of the input whose innovations are
  clipped to a few noise widths (so a one-frame outlier barely moves it);
- *movement evidence* is a leaky CUSUM of the deviation |x - s| / noise less a drift:
  white noise and lone outliers stay below the threshold, a real movement (a blink's first
  frame, or a few frames of a slow onset staying away from s) crosses it;
- the *fast path* is the input itself, shown in proportion m (0..1) to the evidence:
  y = s + m (x - s); while m is high the stable path catches up quickly (`move_tau`), so
  when the movement ends and m fades the output rests on a steady, already-correct level.

The paper gives no time constants; every default here was chosen on benchmarks/dynamics.py.
Hot path: ~23 numpy operations on preallocated float64 arrays, no Python loop over
channels, no allocation beyond the returned array; timestamps from the source.
"""

from __future__ import annotations

import numpy as np

from .base import DEFAULT_DT, frame_dt
from .base import ufunc_clip as _clip
from .groups import GROUP_NAMES, Limits

__all__ = ["CORTICAL_DEFAULTS", "CORTICAL_KEYS", "CorticalFilter"]


#: Settings of a `[dynamics.<group>]` table that the cortical filter reads.
CORTICAL_KEYS: dict[str, Limits] = {
    "noise": Limits(1e-6, 100.0, "typical tracker noise, in the channel's units"),
    "rest_tau": Limits(1e-3, 60.0, "seconds, time constant of the stable path at rest"),
    "move_tau": Limits(1e-4, 10.0, "seconds, time constant of the stable path while moving"),
    "open_lo": Limits(0.0, 1e3, "movement evidence (noise widths) where the fast path opens"),
    "open_hi": Limits(1e-3, 1e3, "movement evidence (noise widths) where it is fully open"),
    "drift": Limits(0.0, 100.0, "noise widths per frame the evidence loses (CUSUM drift)"),
    "leak": Limits(0.0, 1.0, "share of the evidence kept from one frame to the next"),
    "huber": Limits(0.1, 1e3, "noise widths an innovation is clipped to at rest"),
}

_WEIGHTS = {
    "noise": 0.02,
    "rest_tau": 1.0,
    "move_tau": 0.04,
    "open_lo": 13.0,
    "open_hi": 20.0,
    "drift": 1.0,
    "leak": 0.9,
    "huber": 2.0,
}
#: Per-group defaults. Pose is in degrees, so only the noise width differs.
CORTICAL_DEFAULTS: dict[str, dict[str, float]] = {g: dict(_WEIGHTS) for g in GROUP_NAMES}
CORTICAL_DEFAULTS["head"] = {**_WEIGHTS, "noise": 0.5}


def _arr(v: np.ndarray | float, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, np.float64), (n,)).copy()


class CorticalFilter:
    """Two-timescale filter over `n` channels with per-channel (or scalar) settings."""

    def __init__(
        self,
        n: int,
        *,
        noise: np.ndarray | float,
        rest_tau: np.ndarray | float,
        move_tau: np.ndarray | float,
        open_lo: np.ndarray | float,
        open_hi: np.ndarray | float,
        drift: np.ndarray | float,
        leak: np.ndarray | float,
        huber: np.ndarray | float,
    ) -> None:
        self._n = n
        noise_a = _arr(noise, n)
        self._inv_noise = 1.0 / noise_a
        self._huber = _arr(huber, n) * noise_a
        self._neg_huber = -self._huber
        self._k_rest = 1.0 / _arr(rest_tau, n)
        self._k_span = 1.0 / _arr(move_tau, n) - self._k_rest
        lo, hi = _arr(open_lo, n), _arr(open_hi, n)
        self._inv_open = 1.0 / np.maximum(hi - lo, 1e-6)
        self._drift = _arr(drift, n)
        self._leak = _arr(leak, n)
        self._lo_scaled = lo * self._inv_open
        self._cap = hi + 2.0 * self._drift  # evidence beyond "fully open" only delays closing
        self._zeros = np.zeros(n)
        self._ones = np.ones(n)
        self._s = np.zeros(n)
        self._ev = np.zeros(n)
        self._d = np.zeros(n)
        self._z = np.zeros(n)
        self._m = np.zeros(n)
        self._a = np.zeros(n)
        self._inn = np.zeros(n)
        self._t_last: float | None = None
        self._dt = DEFAULT_DT

    def reset(self) -> None:
        """Forget the history; the next sample passes unchanged."""
        self._t_last = None
        self._dt = DEFAULT_DT
        for a in (self._ev, self._d, self._m):
            a.fill(0.0)

    @property
    def movement(self) -> np.ndarray:
        """Share of the fast path per channel in the last step (0 steady, 1 moving)."""
        return self._m

    @property
    def deviation(self) -> np.ndarray:
        """Input minus the stable path per channel in the last step."""
        return self._d

    def step(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter one sample; returns a new array."""
        if self._t_last is None:
            self._t_last = t
            np.copyto(self._s, x)
            return self._s.copy()
        dt = frame_dt(t, self._t_last, self._dt)
        self._dt = dt
        self._t_last = max(t, self._t_last)
        s, d, z, m, a, inn, ev = self._s, self._d, self._z, self._m, self._a, self._inn, self._ev
        np.subtract(x, s, out=d)
        # movement evidence: a leaky sum of how many noise widths the input sits away
        np.abs(d, out=z)
        z *= self._inv_noise
        ev *= self._leak
        ev += z
        ev -= self._drift
        _clip(ev, self._zeros, self._cap, out=ev)
        np.multiply(ev, self._inv_open, out=m)
        m -= self._lo_scaled
        _clip(m, self._zeros, self._ones, out=m)
        # stable path: slow and outlier-clipped at rest, fast and unclipped while moving
        np.multiply(m, self._k_span, out=a)
        a += self._k_rest
        a *= -dt
        np.expm1(a, out=a)  # = -(share of the innovation taken this step)
        _clip(d, self._neg_huber, self._huber, out=inn)
        np.subtract(d, inn, out=z)
        z *= m
        inn += z
        inn *= a
        s -= inn
        # output: the stable path plus the fast path's share of the deviation
        y = np.subtract(x, s)
        y *= m
        y += s
        return y
