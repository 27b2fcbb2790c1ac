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
  when the movement ends and m fades the output rests on a steady, already-correct level;
- the *noise width* follows each channel's measured noise: the running median of the
  frame-to-frame change |x - x_prev| (tracked multiplicatively, `NOISE_RATE`, only while
  the fast path is closed, so movements do not count as noise), over 0.954 (the median
  of |N(0, 2 sigma^2)| is 0.954 sigma) and over `NOISE_MARGIN`, kept between `noise` and
  `noise * noise_max`. In a
  dark room or a blurred image the width grows and flicker is held; in a good room it
  stays at `noise`, as before.

The paper gives no time constants; every default here was chosen on benchmarks/dynamics.py.

The step is the plain formulas, one numpy ufunc each on named preallocated float64
buffers (`out=`), no Python loop over channels; tests/dynamics/test_cortical.py checks it
against the same formulas written out per element.
"""

from __future__ import annotations

import numpy as np

from .base import SampleClock
from .groups import GROUP_NAMES, Limits

__all__ = ["CORTICAL_DEFAULTS", "CORTICAL_KEYS", "NOISE_RATE", "CorticalFilter"]

#: The median of |x - x_prev| of white noise, in noise sigmas (0.674 * sqrt 2).
MEDIAN_ABS_DIFF = 0.954
#: How fast (log units per second) the measured noise follows its median.
NOISE_RATE = 1.5
#: The width is the measured noise over this: noise up to 50 % above the configured width
#: leaves it unchanged (the benchmark's sigma-0.02 takes keep their tuned width).
NOISE_MARGIN = 1.5
_add, _sub, _mul, _abs, _expm1 = np.add, np.subtract, np.multiply, np.abs, np.expm1
_max, _min, _exp, _less, _greater = np.maximum, np.minimum, np.exp, np.less, np.greater


#: Settings of a `[dynamics.<group>]` table that the cortical filter reads.
CORTICAL_KEYS: dict[str, Limits] = {
    "noise": Limits(1e-6, 100.0, "typical tracker noise, in the channel's units"),
    "noise_max": Limits(
        1.0, 100.0, "largest noise width the measured noise may set, in `noise`s (1: fixed)"
    ),
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
    "noise_max": 5.0,
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
        noise_max: np.ndarray | float = 1.0,
    ) -> None:
        self._n = n
        # settings, per channel
        self._noise_lo = _arr(noise, n)
        self._noise_hi = self._noise_lo * _arr(noise_max, n)
        self._huber = _arr(huber, n)
        self._leak = _arr(leak, n)
        self._drift = _arr(drift, n)
        self._k_rest = 1.0 / _arr(rest_tau, n)
        self._k_span = 1.0 / _arr(move_tau, n) - self._k_rest
        self._lo = _arr(open_lo, n)
        hi = _arr(open_hi, n)
        self._inv_open = 1.0 / np.maximum(hi - self._lo, 1e-6)
        self._cap = hi + 2.0 * self._drift  # evidence beyond "fully open" only delays closing
        self._adaptive = bool(np.any(self._noise_hi > self._noise_lo))
        # state
        self._s = np.zeros(n)  # the stable path
        self._m = np.zeros(n)  # share of the fast path
        self._ev = np.zeros(n)  # movement evidence, noise widths
        self._d = np.zeros(n)  # x - s
        self._activity = np.zeros(n)  # |d| m
        self._x_prev = np.zeros(n)
        self._med = self._noise_lo * MEDIAN_ABS_DIFF  # running median of |x - x_prev|
        self._width = self._noise_lo.copy()  # the noise width in use
        # scratch
        self._absd, self._inn, self._e, self._t = (np.zeros(n) for _ in range(4))
        self._zeros, self._ones = np.zeros(n), np.ones(n)
        self._clock = SampleClock()

    def reset(self) -> None:
        """Forget the history; the next sample passes unchanged (the measured noise stays:
        it describes the room, not the take)."""
        self._clock.reset()
        for a in (self._ev, self._d, self._m, self._activity):
            a.fill(0.0)

    @property
    def movement(self) -> np.ndarray:
        """Share of the fast path per channel in the last step (0 steady, 1 moving)."""
        return self._m

    @property
    def deviation(self) -> np.ndarray:
        """Input minus the stable path per channel in the last step."""
        return self._d

    @property
    def activity(self) -> np.ndarray:
        """|deviation| * movement per channel in the last step (a buffer updated in place).

        The stage's microExpression reads it; computing it here saves the stage its own
        abs and multiply.
        """
        return self._activity

    @property
    def noise(self) -> np.ndarray:
        """The noise width per channel in use (the measured noise within its bounds)."""
        return self._width

    def _measure_noise(self, x: np.ndarray, dt: float) -> None:
        """width = clip(median |x - x_prev| / 0.954 / NOISE_MARGIN, noise, noise * noise_max),
        the median tracked as med *= exp(+-NOISE_RATE dt) while the fast path is closed."""
        q, t, med = self._absd, self._t, self._med
        _sub(x, self._x_prev, q)
        _abs(q, q)
        _greater(q, med, t)  # 1 above the median, 0 below
        _mul(t, 2.0 * NOISE_RATE * dt, t)
        _sub(t, NOISE_RATE * dt, t)  # +-rate dt
        _mul(t, _less(self._m, 0.5), t)  # frozen while moving
        _exp(t, t)
        _mul(med, t, med)
        _mul(med, 1.0 / (MEDIAN_ABS_DIFF * NOISE_MARGIN), self._width)
        _max(self._width, self._noise_lo, out=self._width)
        _min(self._width, self._noise_hi, out=self._width)

    def step(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter one sample; returns a new array."""
        dt = self._clock.advance(t)
        if dt is None:
            np.copyto(self._s, x)
            np.copyto(self._x_prev, x)
            return self._s.copy()
        if self._adaptive:
            self._measure_noise(x, dt)
        np.copyto(self._x_prev, x)
        s, m, ev, d, absd, inn, e, tmp = (
            self._s, self._m, self._ev, self._d, self._absd, self._inn, self._e, self._t
        )  # fmt: skip
        width = self._width
        _sub(x, s, d)  # d = x - s
        _abs(d, absd)
        # the innovation, clipped to a few noise widths: inn = clip(d, -huber w, huber w)
        _mul(self._huber, width, tmp)
        _min(d, tmp, out=inn)
        _sub(0.0, tmp, tmp)
        _max(inn, tmp, out=inn)
        # movement evidence: ev = clip(ev * leak + |d| / w - drift, 0, cap)
        _mul(ev, self._leak, ev)
        _mul(absd, 1.0 / width, tmp)
        _add(ev, tmp, ev)
        _sub(ev, self._drift, ev)
        _max(ev, 0.0, out=ev)
        _min(ev, self._cap, out=ev)
        # fast-path share: m = clip((ev - lo) / (hi - lo), 0, 1)
        _sub(ev, self._lo, m)
        _mul(m, self._inv_open, m)
        _max(m, 0.0, out=m)
        _min(m, 1.0, out=m)
        # stable path, slow and outlier-clipped at rest, fast and unclipped while moving:
        # s += -expm1(-dt (k_rest + k_span m)) (inn + (d - inn) m)
        _sub(d, inn, e)
        _mul(e, m, e)
        _add(inn, e, e)
        _mul(self._k_span, m, tmp)
        _add(tmp, self._k_rest, tmp)
        _mul(tmp, -dt, tmp)
        _expm1(tmp, tmp)
        _mul(e, tmp, e)
        _sub(s, e, s)
        _mul(absd, m, self._activity)
        # output: the stable path plus the fast path's share of the deviation
        y = _sub(x, s)
        _mul(y, m, y)
        _add(y, s, y)
        return y
