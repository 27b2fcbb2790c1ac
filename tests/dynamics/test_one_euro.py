"""The One Euro filter's mathematics against the paper's definition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from avatar_driver.dynamics.one_euro import OneEuroFilter


def reference(xs: list[float], ts: list[float], mc: float, beta: float, dc: float) -> list[float]:
    """Scalar One Euro written straight from Casiez et al. 2012."""

    def alpha(fc: float, te: float) -> float:
        tau = 1.0 / (2 * math.pi * fc)
        return 1.0 / (1.0 + tau / te)

    out = [xs[0]]
    x_hat, dx_hat = xs[0], 0.0
    for k in range(1, len(xs)):
        te = ts[k] - ts[k - 1]
        dx = (xs[k] - x_hat) / te
        dx_hat += alpha(dc, te) * (dx - dx_hat)
        fc = mc + beta * abs(dx_hat)
        x_hat += alpha(fc, te) * (xs[k] - x_hat)
        out.append(x_hat)
    return out


def test_matches_the_paper() -> None:
    rng = np.random.default_rng(0)
    xs = rng.random((40, 2))
    ts = np.cumsum(rng.uniform(0.01, 0.05, 40))
    f = OneEuroFilter(2, min_cutoff=np.array([1.0, 0.3]), beta=np.array([5.0, 30.0]), d_cutoff=1.0)
    ys = np.array([f.step(x, float(t)) for x, t in zip(xs, ts, strict=True)])
    for c, (mc, b) in enumerate([(1.0, 5.0), (0.3, 30.0)]):
        np.testing.assert_allclose(ys[:, c], reference(list(xs[:, c]), list(ts), mc, b, 1.0))


def test_steady_and_step() -> None:
    f = OneEuroFilter(1, min_cutoff=1.0, beta=5.0, d_cutoff=1.0)
    ys = [f.step(np.array([0.4]), k / 30)[0] for k in range(30)]
    assert ys == pytest.approx([0.4] * 30)
    ys = [f.step(np.array([0.9]), 1 + k / 30)[0] for k in range(90)]
    assert ys[-1] == pytest.approx(0.9, abs=1e-3)


def test_zero_dt_is_finite() -> None:
    f = OneEuroFilter(1, min_cutoff=1.0, beta=5.0, d_cutoff=1.0)
    f.step(np.array([0.1]), 0.0)
    assert np.isfinite(f.step(np.array([0.5]), 0.0)).all()
    assert np.isfinite(f.step(np.array([0.5]), -1.0)).all()


def test_the_kernel_is_the_plain_formulas_on_every_channel() -> None:
    """The buffered kernel against the paper's scalar formulas, channel by channel, with
    per-channel settings, uneven steps and a reset: equal to rounding (1e-12)."""
    rng = np.random.default_rng(3)
    n, steps = 61, 120
    mc, beta, dc = rng.uniform(0.1, 3, n), rng.uniform(0, 30, n), rng.uniform(0.5, 2, n)
    xs = rng.random((steps, n))
    ts = np.cumsum(rng.uniform(0.005, 0.08, steps))
    f = OneEuroFilter(n, min_cutoff=mc, beta=beta, d_cutoff=dc)
    first = np.array([f.step(x, float(t)) for x, t in zip(xs[:60], ts[:60], strict=True)])
    f.reset()
    second = np.array([f.step(x, float(t)) for x, t in zip(xs[60:], ts[60:], strict=True)])
    for c in range(n):
        for ys, part in ((first, slice(0, 60)), (second, slice(60, None))):
            want = reference(list(xs[part, c]), list(ts[part]), mc[c], beta[c], dc[c])
            np.testing.assert_allclose(ys[:, c], want, rtol=1e-12, atol=1e-15)
