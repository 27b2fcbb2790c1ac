"""The cortical filter's mathematics on plain arrays."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_driver.dynamics.cortical import CORTICAL_DEFAULTS, CorticalFilter


def make(n: int = 3, **over: float) -> CorticalFilter:
    return CorticalFilter(n, **{**CORTICAL_DEFAULTS["mouth"], **over})


def run(f: CorticalFilter, xs: np.ndarray, ts: np.ndarray) -> np.ndarray:
    return np.array([f.step(x, float(t)) for x, t in zip(xs, ts, strict=True)])


def test_steady_input_stays_steady() -> None:
    f = make()
    x = np.array([0.0, 0.3, 1.0])
    ys = run(f, np.tile(x, (100, 1)), np.arange(100) / 30)
    np.testing.assert_allclose(ys, np.tile(x, (100, 1)), atol=1e-12)


def test_step_reaches_its_level_at_once() -> None:
    """A step far above the noise opens the fast path: it shows within a frame."""
    f = make(1)
    xs = np.where(np.arange(150) < 10, 0.1, 0.7)[:, None]
    ys = run(f, xs, np.arange(150) / 30)[:, 0]
    assert ys[10] > 0.55  # the step frame itself
    assert abs(ys[-1] - 0.7) < 1e-3
    assert ys.max() <= 0.7 + 1e-9  # no overshoot


def test_noise_is_quieted_and_an_outlier_barely_moves_it() -> None:
    rng = np.random.default_rng(0)
    f = make(1)
    xs = 0.3 + rng.normal(0, 0.02, (600, 1))
    xs[300] += 0.15
    ys = run(f, xs, np.arange(600) / 30)[:, 0]
    assert np.std(np.diff(ys[60:])) < 0.2 * np.std(np.diff(xs[60:, 0]))
    assert abs(ys[300] - ys[299]) < 0.01
    assert abs(np.mean(ys[100:]) - 0.3) < 0.01


def test_blink_peak_is_kept() -> None:
    rng = np.random.default_rng(1)
    f = make(1)
    truth = np.full(90, 0.05)
    truth[40:45] = [0.5, 0.95, 0.95, 0.6, 0.3]
    xs = np.clip(truth + rng.normal(0, 0.02, 90), 0, 1)[:, None]
    ys = run(f, xs, np.arange(90) / 30)[:, 0]
    assert ys[40:45].max() >= 0.97 * xs[40:45, 0].max()


@pytest.mark.parametrize("repeat", [0.0, -0.5])
def test_timestamp_that_does_not_advance_is_finite(repeat: float) -> None:
    f = make(2)
    f.step(np.array([0.2, 0.4]), 1.0)
    y = f.step(np.array([0.9, 0.1]), 1.0 + repeat)
    assert np.all(np.isfinite(y))
    y = f.step(np.array([0.9, 0.1]), 1.0 + 1 / 30)
    assert np.all(np.isfinite(y))


def test_gap_follows_the_new_level() -> None:
    """After a long gap the stable path has had time to move: it lands on the new level."""
    f = make(1)
    for k in range(30):
        f.step(np.array([0.2]), k / 30)
    y = f.step(np.array([0.23]), 1.0 + 5.0)  # 5 s gap, a small change below the gate
    assert abs(y[0] - 0.23) < 0.002


def test_same_timestamps_same_output_at_any_pace() -> None:
    """Replays behave as live: output depends on source timestamps only."""
    rng = np.random.default_rng(2)
    xs = rng.random((50, 4))
    ts = np.cumsum(rng.uniform(0.01, 0.06, 50))
    a, b = make(4), make(4)
    np.testing.assert_array_equal(run(a, xs, ts), run(b, xs, ts))


def test_input_is_not_written() -> None:
    f = make(3)
    x = np.array([0.1, 0.2, 0.3])
    keep = x.copy()
    f.step(x, 0.0)
    f.step(x * 3, 0.033)
    np.testing.assert_array_equal(x, keep)


def test_reset_forgets() -> None:
    f = make(1)
    for k in range(20):
        f.step(np.array([0.8]), k / 30)
    f.reset()
    assert f.step(np.array([0.1]), 100.0)[0] == pytest.approx(0.1)


def plain_reference(xs: np.ndarray, ts: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """The filter's formulas written out per element on Python floats (one channel)."""
    import math

    lo_w, hi_w = p["noise"], p["noise"] * p["noise_max"]
    k_rest, k_move = 1.0 / p["rest_tau"], 1.0 / p["move_tau"]
    out = [float(xs[0])]
    s, ev, m, prev = float(xs[0]), 0.0, 0.0, float(xs[0])
    med = lo_w * 0.954
    t_last, dt = float(ts[0]), 1.0 / 30.0
    for x, t in zip(xs[1:].tolist(), ts[1:].tolist(), strict=True):
        dt = t - t_last if t > t_last else dt
        t_last = max(t, t_last)
        if hi_w > lo_w and m < 0.5:  # measured noise: a running median of |x - x_prev|
            med *= math.exp(1.5 * dt if abs(x - prev) > med else -1.5 * dt)
        width = min(max(med / 0.954 / 1.5, lo_w), hi_w) if hi_w > lo_w else lo_w
        prev = x
        d = x - s
        h = p["huber"] * width
        inn = max(min(d, h), -h)
        ev = min(max(ev * p["leak"] + abs(d) / width - p["drift"], 0.0),
                 p["open_hi"] + 2 * p["drift"])  # fmt: skip
        m = min(max((ev - p["open_lo"]) / (p["open_hi"] - p["open_lo"]), 0.0), 1.0)
        share = -math.expm1(-dt * (k_rest + (k_move - k_rest) * m))
        s += share * (inn + (d - inn) * m)
        out.append(s + m * (x - s))
    return np.array(out)


@pytest.mark.parametrize("noise_max", [1.0, 5.0])
def test_matches_the_plain_formulas(noise_max: float) -> None:
    """Rest, a dark-room stretch of large noise, a step and a blink, with jittered time."""
    rng = np.random.default_rng(3)
    n = 400
    truth = np.full(n, 0.2)
    truth[150:] = 0.6
    truth[300:305] = [0.7, 0.95, 0.95, 0.7, 0.6]
    sigma = np.where((np.arange(n) > 60) & (np.arange(n) < 140), 0.08, 0.02)
    xs = np.clip(truth + rng.normal(0, 1, n) * sigma, 0, 1)
    ts = np.cumsum(rng.uniform(0.8, 1.2, n) / 30)
    p = {**CORTICAL_DEFAULTS["mouth"], "noise_max": noise_max}
    f = CorticalFilter(1, **p)
    ys = run(f, xs[:, None], ts)[:, 0]
    np.testing.assert_allclose(ys, plain_reference(xs, ts, p), rtol=0, atol=1e-12)


def test_noise_width_follows_a_noisy_channel_and_holds_its_flicker() -> None:
    """A dark room: noise 0.08 on one channel, 0.01 on another; the width grows on the
    noisy one only, and its flicker is held far better than with the fixed width."""
    rng = np.random.default_rng(4)
    n = 600
    xs = 0.4 + rng.normal(0, 1, (n, 2)) * [0.08, 0.01]
    xs[450:, :] += 0.4  # a real movement later still passes at once
    ts = np.arange(n) / 30
    adaptive = make(2)
    fixed = make(2, noise_max=1.0)
    ya, yf = run(adaptive, np.clip(xs, 0, 1), ts), run(fixed, np.clip(xs, 0, 1), ts)
    assert adaptive.noise[0] > 2 * CORTICAL_DEFAULTS["mouth"]["noise"]  # 0.08 / 1.5
    assert adaptive.noise[1] == CORTICAL_DEFAULTS["mouth"]["noise"]
    rest = slice(150, 440)
    jit_a = np.std(np.diff(ya[rest, 0]))
    jit_f = np.std(np.diff(yf[rest, 0]))
    assert jit_a < 0.5 * jit_f
    # the step (0.4 -> 0.8, five noise sigmas) passes within a frame or two, not seconds
    assert ya[451, 0] > 0.5
    assert ya[454:460, 0].mean() > 0.7
