"""Face lost: hold, ease to neutral; face back: no jump."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_driver.dynamics.face_loss import FaceLoss


def test_hold_then_ease_to_neutral() -> None:
    loss = FaceLoss(np.array([0.1, 0.0]), hold=0.25, ease=0.4, recover=0.15)
    last = np.array([0.9, 0.5])
    loss.found(1.0, last)
    ts = 1.0 + np.arange(1, 40) / 30
    ys = np.array([loss.lost(float(t)) for t in ts])
    held = ts - 1.0 <= 0.25 + 1e-9
    np.testing.assert_allclose(ys[held], np.tile(last, (held.sum(), 1)))
    np.testing.assert_allclose(ys[-1], [0.1, 0.0])
    steps = np.abs(np.diff(ys[:, 0]))
    assert steps.max() < 0.1  # eased, not snapped
    assert np.all(np.diff(ys[:, 0]) <= 1e-12)  # monotone toward neutral


def test_face_back_does_not_jump() -> None:
    loss = FaceLoss(np.zeros(1), hold=0.2, ease=0.3, recover=0.15)
    loss.found(0.0, np.array([0.8]))
    loss.lost(0.05)
    u = (0.35 - 0.05 - 0.2) / 0.3  # a third of the way through the ease
    assert loss.lost(0.35)[0] == pytest.approx(0.8 * (1 - u * u * (3 - 2 * u)))
    assert loss.needs_restart(0.4)
    y = [loss.found(0.4 + k / 30, np.array([0.2]))[0] for k in range(10)]
    assert y[0] == pytest.approx(0.4)  # where the ease was at 0.4 s: half way to neutral
    assert np.all(np.abs(np.diff(y)) < 0.15)
    assert y[-1] == pytest.approx(0.2)


def test_short_loss_continues() -> None:
    loss = FaceLoss(np.zeros(1), hold=0.25, ease=0.4, recover=0.15)
    loss.found(0.0, np.array([0.7]))
    assert loss.lost(0.1)[0] == pytest.approx(0.7)
    assert not loss.needs_restart(0.15)
    assert loss.found(0.15, np.array([0.6]))[0] == pytest.approx(0.6)


def test_never_seen_a_face_is_neutral() -> None:
    loss = FaceLoss(np.array([0.3]), hold=0.25, ease=0.4, recover=0.15)
    assert loss.lost(5.0)[0] == pytest.approx(0.3)
