"""Remap maths and the pieces of the solver that need no model."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_driver.shapes import INDEX, N_SHAPES, group_gain, swap_lr_index
from avatar_driver.solver.extras import genuine_smile, symmetrize
from avatar_driver.solver.eyes import blink, closure, gaze, gaze_shapes
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
