"""Tracking-quality benchmark: raw MediaPipe vs the solver, on the shared clips.

    python benchmarks/quality.py [--model PATH] [--media DIR] [--json]

Prints, for raw MediaPipe, the solver without a profile and the solver with a profile made
from the first 0.5 s of the same clip (the mirrored run gets its own profile, made from
its own first 0.5 s, as a user of the mirrored camera would):
- neutral residual: mean and max weight over the neutral frames of single_face.mp4
  (t < 0.5 s, the profile's own window; the smile starts moving at ~0.55 s), and held
  out: a profile from t < 0.25 s scored on 0.25 s <= t < 0.5 s;
- mirror consistency: mean |w(frame) - swapLR(w(mirrored frame))| over face frames of
  single_face.mp4 and face_noface.mov, all shapes and the eight eyeLook* shapes;
- smile response: mean mouthSmile over the smiling frames (0.7 s <= t < 2.3 s) and the max
  over the neutral frames;
- solver cost per frame (median microseconds).
Frames are tracked in IMAGE mode (see benchmarks/tracked_clips.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tracked_clips import TrackedClip, mirror_disagreement, run_solver, track_clip

from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX, UNAVAILABLE
from avatar_driver.solver import PassThroughSolver, TrackingSolver, profile_from_neutral
from avatar_driver.solver.measures import measure

CALIBRATION_S = 0.5
NEUTRAL_END_S = 0.5
HELD_OUT_S = 0.25
SMILE_S = (0.7, 2.3)
_SMILE = [INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]
_AVAILABLE = ~UNAVAILABLE

_SHARED = Path(__file__).resolve().parents[2] / "shared"


def _profile(frames: list[Frame], fps: float, until: float = CALIBRATION_S) -> TrackingSolver:
    window = [f for f in frames if f.face_present and f.timestamp < until]
    assert window and window[0].landmarks is not None
    aspect = (
        window[0].image.shape[1] / window[0].image.shape[0] if window[0].image is not None else 1.0
    )
    w = np.stack([f.weights for f in window])
    m = np.stack([measure(f.landmarks, aspect) for f in window if f.landmarks is not None])
    return TrackingSolver(profile_from_neutral(w, m, source="first 0.5 s"))


def _cost_us(frames: list[Frame], repeats: int = 20) -> float:
    solver = TrackingSolver(None)
    face = [f for f in frames if f.face_present]
    times = []
    for _ in range(repeats):
        for f in face:
            t0 = time.perf_counter_ns()
            solver(f)
            times.append(time.perf_counter_ns() - t0)
    return float(np.median(times)) / 1000.0


def evaluate(single: TrackedClip, others: list[TrackedClip]) -> dict[str, dict[str, float]]:
    """All metrics for raw, solver and solver+calibration."""
    results: dict[str, dict[str, float]] = {}
    t = np.array([f.timestamp for f in single.frames])
    neutral = t < NEUTRAL_END_S
    smiling = (t >= SMILE_S[0]) & (t < SMILE_S[1])
    variants: dict[str, Callable[[TrackedClip, list[Frame]], Callable[[Frame], Frame]]] = {
        "raw": lambda clip, frames: PassThroughSolver(),
        "solver": lambda clip, frames: TrackingSolver(None),
        "solver+calibration": lambda clip, frames: _profile(frames, clip.fps),
    }
    for name, make in variants.items():
        out = run_solver(make(single, single.frames), single.frames)
        w = np.stack([f.weights for f in out])
        wn = w[neutral][:, _AVAILABLE]
        smile = w[:, _SMILE].mean(axis=1)
        all_a, all_b = [], []
        for clip in [single, *others]:
            a = run_solver(make(clip, clip.frames), clip.frames)
            b = run_solver(make(clip, clip.mirrored), clip.mirrored)
            all_a += a
            all_b += b
        mirror, gaze, yaw = mirror_disagreement(all_a, all_b)
        results[name] = {
            "neutral_mean": float(wn.mean()),
            "neutral_max": float(wn.max()),
            "mirror_all": mirror,
            "mirror_gaze": gaze,
            "mirror_eye_yaw_deg": yaw,
            "smile_smiling_mean": float(smile[smiling].mean()),
            "smile_smiling_min": float(smile[smiling].min()),
            "smile_neutral_max": float(smile[neutral].max()),
            "genuine_smile_smiling": float(
                np.mean([f.extras[0] for f, s in zip(out, smiling, strict=False) if s])
            ),
            "genuine_smile_neutral_max": float(
                max(f.extras[0] for f, s in zip(out, neutral, strict=False) if s)
            ),
            "blink_peak": float(w[:, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]].max()),
            "eye_yaw_neutral_deg": float(
                np.mean([f.pose[[3, 6]].mean() for f, s in zip(out, neutral, strict=False) if s])
            ),
            "cheekPuff_max": float(w[:, INDEX["cheekPuff"]].max()),
            "eyeWide_max": float(w[:, [INDEX["eyeWideLeft"], INDEX["eyeWideRight"]]].max()),
        }
    held = (t >= HELD_OUT_S) & neutral
    for name in results:
        solver = _profile(single.frames, single.fps, HELD_OUT_S) if name.endswith("n") else None
        make = variants[name]
        out = run_solver(solver or make(single, single.frames), single.frames)
        wh = np.stack([f.weights for f in out])[held][:, _AVAILABLE]
        results[name]["held_out_mean"] = float(wh.mean())
        results[name]["held_out_max"] = float(wh.max())
    results["solver"]["cost_us"] = _cost_us(single.frames)
    results["solver+calibration"]["cost_us"] = results["solver"]["cost_us"]
    return results


GOALS = [
    ("neutral_mean", "neutral residual, mean", "<=", 0.02),
    ("neutral_max", "neutral residual, max", "<=", 0.08),
    ("held_out_mean", "neutral residual held out, mean", "<=", 0.02),
    ("held_out_max", "neutral residual held out, max", "<=", 0.08),
    ("mirror_all", "mirror consistency, all shapes", "<=", 0.015),
    ("mirror_gaze", "mirror consistency, eyeLook*", "<=", 0.08),
    ("mirror_eye_yaw_deg", "mirror consistency, eye yaw (deg)", None, None),
    ("smile_smiling_mean", "smile response, smiling mean", ">=", 0.7),
    ("smile_smiling_min", "smile response, smiling min", None, None),
    ("smile_neutral_max", "smile response, neutral max", "<=", 0.05),
    ("genuine_smile_smiling", "genuineSmile, smiling mean", None, None),
    ("genuine_smile_neutral_max", "genuineSmile, neutral max", None, None),
    ("blink_peak", "eyeBlink peak (natural blink)", None, None),
    ("eye_yaw_neutral_deg", "eye yaw at rest (deg)", None, None),
    ("cheekPuff_max", "cheekPuff max (no puff in clip)", None, None),
    ("eyeWide_max", "eyeWide max (no wide eyes in clip)", None, None),
    ("cost_us", "solver cost per frame (us)", "<=", 200.0),
]


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}" if abs(v) < 1 else f"{v:.1f}"


def table(results: dict[str, dict[str, float]]) -> str:
    """Markdown table; the goal column says which variant it applies to (calibrated)."""
    cols = list(results)
    lines = ["| metric | " + " | ".join(cols) + " | goal | met |", "|---" * (len(cols) + 3) + "|"]
    for key, label, op, goal in GOALS:
        vals = [results[c].get(key) for c in cols]
        met = "-"
        v = results["solver+calibration"].get(key)
        if op and v is not None and goal is not None:
            met = "yes" if (v <= goal if op == "<=" else v >= goal) else "NO"
        g = f"{op} {goal:g}" if op and goal is not None else ""
        lines.append(f"| {label} | " + " | ".join(_fmt(x) for x in vals) + f" | {g} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--model",
        default=os.environ.get(
            "AVATAR_DRIVER_MODEL", str(_SHARED / "models" / "face_landmarker.task")
        ),
    )
    p.add_argument("--media", default=os.environ.get("AVATAR_DRIVER_MEDIA", str(_SHARED / "media")))
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    media = Path(args.media)
    single = track_clip(media / "single_face.mp4", args.model)
    others = [track_clip(media / "face_noface.mov", args.model)]
    results = evaluate(single, others)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
