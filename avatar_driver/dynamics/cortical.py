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

Hot path rule: a numpy call costs ~0.5-1 us whatever its length (61 channels), so a step is
21 ufunc calls with positional `out` on preallocated float64 buffers, no Python loop over
channels and no allocation beyond the returned array; timestamps come from the source.
Independent operations of one kind share a call on stacked rows (``[ev, |d|] * [leak,
1/noise]``); each element is computed exactly as by separate calls, so the output is
bit-for-bit that of the plain formulas in the comments.
"""

from __future__ import annotations

import numpy as np

from .base import SampleClock
from .base import ufunc_clip as _clip
from .groups import GROUP_NAMES, Limits

__all__ = ["CORTICAL_DEFAULTS", "CORTICAL_KEYS", "CorticalFilter"]

_add, _sub, _mul, _abs, _expm1 = np.add, np.subtract, np.multiply, np.abs, np.expm1


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
        leak_inv_noise = np.stack((_arr(leak, n), 1.0 / noise_a))
        huber_a = _arr(huber, n) * noise_a
        k_rest = 1.0 / _arr(rest_tau, n)
        k_span = 1.0 / _arr(move_tau, n) - k_rest
        lo, hi = _arr(open_lo, n), _arr(open_hi, n)
        inv_open = 1.0 / np.maximum(hi - lo, 1e-6)
        drift_a = _arr(drift, n)
        cap = hi + 2.0 * drift_a  # evidence beyond "fully open" only delays closing
        self._s = np.zeros(n)  # the stable path
        self._m = np.zeros(n)
        self._activity = np.zeros(n)  # |d| m
        self._neg_dt = np.zeros(())  # -dt as a 0-d array: a Python float operand costs more
        # Stacked buffers: rows that one call reads or writes together are adjacent, so
        # every row lives in exactly one buffer; views are made here, once.
        ev_rows = np.zeros((4, n))  # evidence, |d|, d - inn, evidence before its clip
        d_rows = np.zeros((2, n))  # d = x - s, leaky evidence sum
        inn_rows = np.zeros((3, n))  # k_rest (constant), inn = d clipped to huber, drift
        inn_rows[0], inn_rows[2] = k_rest, drift_a
        self._ev, self._d = ev_rows[0], d_rows[0]
        evl_z = np.zeros((2, n))  # ev leak, |d| / noise
        m_rows = np.zeros((2, n))  # k_span m, (d - inn) m
        a_rows = np.zeros((2, n))  # rate, then -(share of the innovation taken); innovation
        # Everything `step` reads, unpacked in one go (attribute lookups add up at ~20 ns).
        self._hot = (
            self._s, self._m, self._activity, self._neg_dt,
            self._d, ev_rows[1], inn_rows[1], -huber_a, huber_a,
            ev_rows[0:2], leak_inv_noise, evl_z,
            evl_z[0], evl_z[1], d_rows[1],
            d_rows, inn_rows[1:3], ev_rows[2:4],
            ev_rows[3], np.zeros(n), cap, self._ev,
            inv_open, lo * inv_open, np.ones(n),
            k_span, m_rows[0], ev_rows[2], m_rows[1],
            inn_rows[0:2], m_rows, a_rows, a_rows[0], a_rows[1],
        )  # fmt: skip
        self._clock = SampleClock()

    def reset(self) -> None:
        """Forget the history; the next sample passes unchanged."""
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

    def step(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter one sample; returns a new array."""
        dt = self._clock.advance(t)
        if dt is None:
            np.copyto(self._s, x)
            return self._s.copy()
        (
            s, m, activity, neg_dt,
            d, absd, inn, neg_huber, huber,
            ev_absd, leak_inv_noise, evl_z,
            evl, z, ev_sum,
            d_ev_sum, inn_drift, e_ev_raw,
            ev_raw, zeros, cap, ev,
            inv_open, lo_scaled, ones,
            k_span, kspan_m, e, e_m,
            krest_inn, kspan_m_e_m, a_inn, a, inn2,
        ) = self._hot  # fmt: skip
        neg_dt[()] = -dt
        _sub(x, s, d)
        _abs(d, absd)
        _clip(d, neg_huber, huber, inn)  # the innovation, clipped to a few noise widths
        # movement evidence: a leaky sum of how many noise widths the input sits away,
        # ev = clip(ev * leak + |d| / noise - drift, 0, cap)
        _mul(ev_absd, leak_inv_noise, evl_z)  # [ev * leak, |d| / noise]
        _add(evl, z, ev_sum)
        _sub(d_ev_sum, inn_drift, e_ev_raw)  # [e = d - inn, ev_sum - drift]
        _clip(ev_raw, zeros, cap, ev)
        # fast-path share: m = clip(ev / (hi - lo) - lo / (hi - lo), 0, 1)
        _mul(ev, inv_open, m)
        _sub(m, lo_scaled, m)
        _clip(m, zeros, ones, m)
        # stable path: slow and outlier-clipped at rest, fast and unclipped while moving,
        # s -= expm1(-dt (k_rest + k_span m)) (inn + e m). m is multiplied row by row: a
        # broadcast operand costs several plain calls.
        _mul(k_span, m, kspan_m)
        _mul(e, m, e_m)
        _mul(absd, m, activity)
        _add(krest_inn, kspan_m_e_m, a_inn)  # [k_rest + k_span m, inn + e m]
        _mul(a, neg_dt, a)
        _expm1(a, a)  # = -(share of the innovation taken this step)
        _mul(inn2, a, inn2)
        _sub(s, inn2, s)
        # output: the stable path plus the fast path's share of the deviation
        y = _sub(x, s)
        _mul(y, m, y)
        _add(y, s, y)
        return y
