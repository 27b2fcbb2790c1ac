"""Auto-calibration on the real clip: a user who skips the ritual still gets a quiet rest
face after a few seconds, and expressions still come through."""

from __future__ import annotations

import dataclasses

import numpy as np

from avatar_driver.shapes import INDEX, UNAVAILABLE
from avatar_driver.solver import TrackingSolver
from benchmarks.tracked_clips import TrackedClip

_AVAILABLE = ~UNAVAILABLE


def _sequence(clip: TrackedClip, rest_seconds: float) -> list:
    """The clip's neutral frames looped for `rest_seconds`, then the whole clip once."""
    rest = clip.frames[:15]
    n_rest = int(rest_seconds * clip.fps)
    frames = [rest[i % len(rest)] for i in range(n_rest)] + list(clip.frames)
    return [dataclasses.replace(f, timestamp=i / clip.fps) for i, f in enumerate(frames)]


def test_auto_calibration_quiets_the_rest_face(single_face: TrackedClip) -> None:
    frames = _sequence(single_face, rest_seconds=8.0)
    plain = [TrackingSolver(None)(f) for f in frames]
    auto_solver = TrackingSolver(None, auto=True)
    auto = [auto_solver(f) for f in frames]
    n_rest = int(8.0 * single_face.fps)
    late_rest = slice(n_rest - 30, n_rest)  # the last second at rest
    w_plain = np.stack([f.weights for f in plain[late_rest]])[:, _AVAILABLE]
    w_auto = np.stack([f.weights for f in auto[late_rest]])[:, _AVAILABLE]
    assert w_plain.mean() > 0.04  # uncalibrated: the model's resting biases show
    assert w_auto.mean() < 0.5 * w_plain.mean()
    assert w_auto.max() < w_plain.max()
    # The smile at the end of the clip still comes through strongly.
    smile = [f.weights[INDEX["mouthSmileLeft"]] for f in auto[-20:]]
    assert float(np.mean(smile)) > 0.6
