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


def _held(clip: TrackedClip, rest_seconds: float, hold_seconds: float) -> list:
    """Neutral frames looped for `rest_seconds`, then the smiling frames looped (a smile
    held for `hold_seconds`)."""
    rest = clip.frames[:15]
    smiling = [f for f in clip.frames if 0.9 <= f.timestamp < 2.3]
    n_rest, n_hold = int(rest_seconds * clip.fps), int(hold_seconds * clip.fps)
    frames = [rest[i % len(rest)] for i in range(n_rest)]
    frames += [smiling[i % len(smiling)] for i in range(n_hold)]
    return [dataclasses.replace(f, timestamp=i / clip.fps) for i, f in enumerate(frames)]


def _smile(frames: list) -> float:
    return float(np.mean([f.weights[[INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]]
                          for f in frames]))  # fmt: skip


def test_auto_calibration_keeps_a_held_smile(single_face: TrackedClip) -> None:
    fps = single_face.fps
    frames = _held(single_face, rest_seconds=6.0, hold_seconds=40.0)
    solver = TrackingSolver(None, auto=True)
    out = [solver(f) for f in frames]
    onset = int(6.0 * fps)
    first = _smile(out[onset : onset + int(fps)])  # the first second of the smile
    last = _smile(out[-int(5 * fps) :])  # after 35 s of holding it
    assert first > 0.6
    assert last >= 0.9 * first
    # the rest face learned before the smile stays quiet when the smile ends
    rest_again = [solver(dataclasses.replace(f, timestamp=(len(frames) + i) / fps))
                  for i, f in enumerate(single_face.frames[:15] * 4)]  # fmt: skip
    w = np.stack([f.weights for f in rest_again[-30:]])[:, _AVAILABLE]
    assert w.mean() < 0.03


def test_reset_forgets_and_warms_up_again(single_face: TrackedClip) -> None:
    frames = _held(single_face, rest_seconds=6.0, hold_seconds=8.0)
    solver = TrackingSolver(None, auto=True)
    for f in frames:
        solver(f)
    assert solver._auto is not None and not solver._auto.warming_up
    solver.recalibrate()
    assert solver._auto.warming_up
    # a smile held through the new warm-up is learned as the face's neutral (documented)
    t0 = frames[-1].timestamp
    again = [solver(dataclasses.replace(f, timestamp=t0 + (i + 1) / single_face.fps))
             for i, f in enumerate(frames[-int(6 * single_face.fps):])]  # fmt: skip
    assert _smile(again[-15:]) < 0.5 * _smile(again[:3])
