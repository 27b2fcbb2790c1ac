"""Remap maths and the pieces of the solver that need no model."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_driver.shapes import INDEX, N_SHAPES, group_gain, swap_lr_index
from avatar_driver.solver.extras import genuine_smile, symmetrize
from avatar_driver.solver.eyes import blink, closure, gaze, gaze_shapes, lid_raise, wide
from avatar_driver.solver.geometry import lip_raise
from avatar_driver.solver.remap import MIN_SPAN, Remap


def test_remap_is_piecewise_linear() -> None:
    r = Remap(np.array([0.2, 0.0]), np.array([0.6, 1.0]))
    x = np.array([[0.0, 0.0], [0.2, 0.5], [0.4, 1.0], [0.6, 1.2], [0.9, -0.1]])
    y = np.stack([r(row) for row in x])
    np.testing.assert_allclose(y, np.array([[0, 0], [0, 0.5], [0.5, 1], [1, 1], [1, 0.0]]))


def test_remap_rejects_narrow_span_and_identity_is_identity() -> None:
    with pytest.raises(ValueError):
        Remap(np.array([0.5]), np.array([0.5 + MIN_SPAN / 2]))
    x = np.linspace(0, 1, N_SHAPES)
    np.testing.assert_allclose(Remap.identity(N_SHAPES)(x), x)


def test_remap_update_widens_too_narrow_ranges() -> None:
    r = Remap.identity(2)
    r.update(np.array([0.3, 0.1]), np.array([0.31, 0.9]))
    np.testing.assert_allclose(r.full, [0.3 + MIN_SPAN, 0.9])
    np.testing.assert_allclose(r(np.array([0.3 + MIN_SPAN, 0.5])), [1.0, 0.5])


def test_closure_ignores_lower_lid_raise_and_reaches_one() -> None:
    up0 = np.array([0.23, 0.23])
    assert closure(up0, np.array([0.12, 0.12]), up0).max() == 0.0
    assert closure(up0, np.array([0.05, 0.05]), up0).max() == 0.0  # squint, not a blink
    shut = closure(np.array([-0.07, 0.23]), np.array([0.12, 0.12]), up0)
    np.testing.assert_allclose(shut, [1.0, 0.0])  # a wink stays a wink
    np.testing.assert_allclose(blink(np.array([1.0, 0.0]), np.array([0.6, 0.0])), [1.0, 0.0])


def test_gaze_signs() -> None:
    zero = np.zeros(4)
    yaw, pitch = gaze(np.array([0.1, 0.1, 0.0, 0.0]), zero, 1.0)
    assert yaw > 10 and pitch == 0
    look = gaze_shapes(np.array([yaw, -20.0]))
    assert look[0] > 0 and look[1] > 0 and look[2] == 0 and look[6] > 0  # out L, in R, down


def test_symmetrize_keeps_large_asymmetry_and_mean() -> None:
    w = np.zeros(N_SHAPES)
    w[INDEX["mouthSmileLeft"]], w[INDEX["mouthSmileRight"]] = 0.5, 0.45
    w[INDEX["browOuterUpLeft"]] = 0.8
    w[INDEX["jawLeft"]] = 0.5
    symmetrize(w, 0.1)
    assert w[INDEX["mouthSmileLeft"]] == pytest.approx(0.475) == w[INDEX["mouthSmileRight"]]
    assert w[INDEX["browOuterUpLeft"]] == pytest.approx(0.75)
    assert w[INDEX["jawLeft"]] == 0.5 and w[INDEX["jawRight"]] == 0.0
    # Mirror equivariant: symmetrize(swap(w)) == swap(symmetrize(w)).
    v = np.random.default_rng(1).random(N_SHAPES)
    a, b = v.copy(), v[swap_lr_index()].copy()
    symmetrize(a, 0.1)
    symmetrize(b, 0.1)
    np.testing.assert_allclose(a[swap_lr_index()], b)


def test_genuine_smile_needs_the_eyes_and_gain_scales_groups() -> None:
    w = np.zeros(N_SHAPES)
    w[[INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]] = 0.9
    assert genuine_smile(w) == 0.0
    w[[INDEX["cheekSquintLeft"], INDEX["cheekSquintRight"]]] = 0.6
    w[[INDEX["eyeSquintLeft"], INDEX["eyeSquintRight"]]] = 0.4
    assert genuine_smile(w) == pytest.approx(0.9)
    g = group_gain({"mouth": 1.5, "eyes": 1.0})
    assert g is not None and g[INDEX["mouthSmileLeft"]] == 1.5 and g[INDEX["eyeBlinkLeft"]] == 1
    assert group_gain({"eyes": 1.0}) is None


def test_lid_estimates_do_not_blow_up_on_a_low_neutral_lid() -> None:
    """A neutral lid near the corner line (looking down, a laugh, a wink) is floored by the
    iris: a 0.01 eye-width jitter stays small; an open eye keeps its plain ratio."""
    iris0 = 0.45
    assert wide(0.03, 0.02, iris0) == 0.0  # 50 % of a tiny height, 0.04 of the floor
    assert wide(0.23 * 1.31, 0.23, iris0) == pytest.approx(1.0, abs=0.02)
    assert lid_raise(0.0, 0.01, iris0) < 0.1  # the plain ratio (1 - 0 / 0.01) read 1.0
    assert lid_raise(0.12 * 0.42, 0.12, iris0) == pytest.approx(1.0, abs=0.02)
    # closure: an eye nearly shut in the profile (no travel left) does not read a blink
    assert closure(0.00, 0.02, 0.01) < 0.15


def test_lip_raise_reads_an_upper_lip_raise_not_a_smile() -> None:
    """Lip to nose 10 % shorter with the mouth as wide reads clearly; a broad smile's 6 %
    with the mouth 52 % wider reads nothing."""
    assert lip_raise(0.55 * 0.90, 0.55, 0.49, 0.49) > 0.5
    assert lip_raise(0.55 * 0.94, 0.55, 0.49 * 1.52, 0.49) == 0.0
    assert lip_raise(0.55, 0.55, 0.49, 0.49) == 0.0


def test_face_shape_estimates_need_a_measured_neutral() -> None:
    """mouthUpperUp from the landmarks runs only when the profile measured lip to nose."""
    from avatar_driver.frame import Frame
    from avatar_driver.solver import Profile, TrackingSolver
    from avatar_driver.solver.measures import DEFAULT_NEUTRAL, MEASURE_NAMES, M, measure

    rng = np.random.default_rng(0)
    lm = np.zeros((478, 3))
    lm[:, :2] = rng.uniform(0.3, 0.7, (478, 2))
    m = measure(lm)
    neutral = {n: float(v) for n, v in zip(MEASURE_NAMES, m, strict=True)}
    neutral["lipNoseLeft"] = neutral["lipNoseRight"] = (
        float(m[[M["lipNoseLeft"], M["lipNoseRight"]]].max()) * 1.5
    )
    frame = Frame(
        timestamp=0.0, face_present=True, landmarks=lm, weights=np.zeros(N_SHAPES, np.float32)
    )
    up = [INDEX["mouthUpperUpLeft"], INDEX["mouthUpperUpRight"]]
    measured = TrackingSolver(Profile(geometry=neutral), occlusion=False)(frame).weights
    old = {n: v for n, v in neutral.items() if not n.startswith("lipNose")}
    unmeasured = TrackingSolver(Profile(geometry=old), occlusion=False)(frame).weights
    assert measured[up].min() > 0.5 and unmeasured[up].max() == 0.0
    assert DEFAULT_NEUTRAL.shape == (len(MEASURE_NAMES),)
