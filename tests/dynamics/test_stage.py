"""`make_dynamics` and the Frame-level stage: names, config, face loss, no mutation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from avatar_driver.dynamics import DYNAMICS_NAMES, make_dynamics
from avatar_driver.errors import ConfigError
from avatar_driver.frame import Frame
from avatar_driver.shapes import EXTRA_NAMES, INDEX, N_SHAPES

MICRO = EXTRA_NAMES.index("microExpression")


def face(t: float, level: float = 0.3, pose: float = 0.0) -> Frame:
    return Frame(
        timestamp=t,
        weights=np.full(N_SHAPES, level, np.float32),
        pose=np.full(9, pose, np.float32),
        face_present=True,
        confidence=1.0,
    )


@pytest.mark.parametrize("name", DYNAMICS_NAMES)
def test_input_frame_is_not_written(name: str) -> None:
    dyn = make_dynamics(name)
    frames = [face(k / 30, 0.2 + 0.5 * (k % 2), 10.0 * k) for k in range(10)]
    frames.append(Frame(timestamp=1.0))
    copies = [(f.weights.copy(), f.pose.copy(), f.extras.copy()) for f in frames]
    for f in frames:
        out = dyn(f)
        assert out is not f and out.weights is not f.weights and out.pose is not f.pose
        assert out.weights.dtype == np.float32 and out.weights.shape == (N_SHAPES,)
        assert out.extras is not f.extras
    for f, (w, p, e) in zip(frames, copies, strict=True):
        np.testing.assert_array_equal(f.weights, w)
        np.testing.assert_array_equal(f.pose, p)
        np.testing.assert_array_equal(f.extras, e)


def test_none_passes_through_and_clips() -> None:
    dyn = make_dynamics("none")
    f = face(0.0, 0.4, 12.5)
    w = f.weights.copy()
    w[0] = 1.3
    out = dyn(dataclasses.replace(f, weights=w))
    assert out.weights[0] == 1.0
    np.testing.assert_array_equal(out.weights[1:], w[1:])
    np.testing.assert_array_equal(out.pose, f.pose)


@pytest.mark.parametrize("name", DYNAMICS_NAMES)
def test_face_loss_eases_to_calibrated_neutral_and_back(name: str) -> None:
    dyn = make_dynamics(name, {"hold": 0.2, "ease": 0.3, "recover": 0.15})
    neutral = np.full(N_SHAPES, 0.1, np.float32)
    dyn.set_neutral(neutral)
    for k in range(30):
        dyn(face(k / 30, 0.7, 20.0))
    lost = [dyn(Frame(timestamp=1.0 + k / 30)) for k in range(30)]
    assert not any(f.face_present for f in lost)
    assert lost[3].weights[0] == pytest.approx(0.7, abs=1e-3)  # held at 0.1 s
    np.testing.assert_allclose(lost[-1].weights, neutral, atol=1e-6)
    np.testing.assert_allclose(lost[-1].pose, 0.0, atol=1e-6)
    seq = [f.weights[0] for f in lost]
    assert max(abs(np.diff(seq))) < 0.15
    back = [dyn(face(2.0 + k / 30, 0.5, 5.0)) for k in range(20)]
    assert abs(back[0].weights[0] - lost[-1].weights[0]) < 0.1  # no jump on return
    assert back[-1].weights[0] == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("name", DYNAMICS_NAMES)
def test_repeated_and_gapped_timestamps(name: str) -> None:
    dyn = make_dynamics(name)
    ts = [0.0, 0.0, 0.033, 0.033, 0.5, 0.45, 3.0, 3.0]
    for k, t in enumerate(ts):
        out = dyn(face(t, 0.1 + 0.1 * k, k))
        assert np.all(np.isfinite(out.weights)) and np.all(np.isfinite(out.pose))


def test_cortical_quiets_noise_and_keeps_a_blink() -> None:
    rng = np.random.default_rng(3)
    dyn = make_dynamics("cortical")
    ys, xs = [], []
    for k in range(120):
        w = np.clip(0.1 + rng.normal(0, 0.02, N_SHAPES), 0, 1).astype(np.float32)
        if k in (90, 91, 92):
            w[INDEX["eyeBlinkLeft"]] = 0.95
        xs.append(w)
        ys.append(dyn(dataclasses.replace(face(k / 30), weights=w)).weights)
    x, y = np.array(xs), np.array(ys)
    assert np.std(np.diff(y[30:85], axis=0)) < 0.25 * np.std(np.diff(x[30:85], axis=0))
    assert y[90:93, INDEX["eyeBlinkLeft"]].max() > 0.9


def test_micro_expression_signal() -> None:
    dyn = make_dynamics("cortical")
    for k in range(30):
        out = dyn(face(k / 30, 0.1))
    assert out.extras[MICRO] == 0.0
    w = np.full(N_SHAPES, 0.1, np.float32)
    w[INDEX["mouthSmileLeft"]] = 0.6
    out = dyn(dataclasses.replace(face(1.0), weights=w))
    assert out.extras[MICRO] > 0.5
    w = np.full(N_SHAPES, 0.1, np.float32)
    w[INDEX["eyeBlinkLeft"]] = 0.9  # a blink is a movement, not an expression
    dyn.reset()
    for k in range(30):
        dyn(face(k / 30, 0.1))
    assert dyn(dataclasses.replace(face(1.0), weights=w)).extras[MICRO] == 0.0


def test_head_pose_is_filtered_in_degrees() -> None:
    rng = np.random.default_rng(4)
    dyn = make_dynamics("cortical")
    ys = [dyn(face(k / 30, 0.1, 10.0 + rng.normal(0, 0.5))).pose[0] for k in range(90)]
    assert np.std(np.diff(ys[30:])) < 0.2
    ys = [dyn(face(3 + k / 30, 0.1, 30.0)).pose[0] for k in range(3)]
    assert ys[0] > 25.0  # a head turn shows at once


def test_unknown_name_and_bad_params() -> None:
    with pytest.raises(ConfigError, match="one-euro"):
        make_dynamics("kalman")
    with pytest.raises(ConfigError, match=r"dynamics\.eyes\.nosie"):
        make_dynamics("cortical", {"eyes": {"nosie": 0.1}})
    with pytest.raises(ConfigError, match=r"dynamics\.mouth\.beta"):
        make_dynamics("one-euro", {"mouth": {"beta": "fast"}})
    with pytest.raises(ConfigError, match=r"dynamics\.hold"):
        make_dynamics("none", {"hold": -1})
    with pytest.raises(ConfigError, match=r"dynamics\.lips"):
        make_dynamics("cortical", {"lips": {}})
    with pytest.raises(ConfigError, match="open_hi"):
        make_dynamics("cortical", {"jaw": {"open_lo": 20.0, "open_hi": 10.0}})
    with pytest.raises(ConfigError, match=r"dynamics\.name"):
        make_dynamics("cortical", {"name": "median"})


def test_group_params_apply_per_channel() -> None:
    """A group table changes that group only: eyes unfiltered-like, mouth untouched."""
    dyn = make_dynamics(
        "one-euro", {"eyes": {"min_cutoff": 100.0, "beta": 0.0}, "name": "one-euro"}
    )
    dyn(face(0.0, 0.1))
    out = dyn(face(1 / 30, 0.2))
    assert out.weights[INDEX["eyeBlinkLeft"]] > 0.19
    assert out.weights[INDEX["mouthSmileLeft"]] < 0.19
