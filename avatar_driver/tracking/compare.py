"""How closely two trackers agree on one clip, and what each costs per frame.

`bench --tracker both` and benchmarks/tracker.py use this: each tracker runs the same
decoded frames, then the figures the LiteRT tracker's quality bar is set on are computed against
the reference (MediaPipe's task graph): same face found, landmark distance in pixels,
mean absolute difference of the measured weights, the correlation of the mouth and jaw
shapes, blink peaks, head pose.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..frame import Frame
from ..shapes import ARKIT_NAMES, INDEX, UNAVAILABLE

__all__ = ["Track", "agreement", "load_frames", "track"]

#: A reference channel must move at least this much (std) for its correlation to mean much.
_MIN_STD = 0.02
_BLINK = 0.5


@dataclass
class Track:
    """One tracker's output on a clip, as arrays (frames where no face: zeros)."""

    present: np.ndarray
    weights: np.ndarray
    landmarks: np.ndarray
    pose: np.ndarray
    ms: np.ndarray
    size: tuple[int, int]


def load_frames(clip: str) -> list[Frame]:
    """Every frame of a video or image file, decoded once (so decoding is not timed)."""
    from ..sources import open_source

    with open_source(clip) as source:
        return list(source)


def track(
    kind: str, model: str, frames: Sequence[Frame], *, still: bool = False, adaptive: bool = False
) -> Track:
    """Run tracker `kind` over the frames; each call's wall time in ms is kept."""
    from .choice import create_tracker

    n = len(frames)
    out = Track(
        np.zeros(n, bool), np.zeros((n, len(ARKIT_NAMES)), np.float32),
        np.zeros((n, 478, 3), np.float32), np.zeros((n, 3), np.float32), np.zeros(n),
        (0, 0),
    )  # fmt: skip
    mode = "image" if still else "video"
    with create_tracker(kind, model, mode=mode, adaptive=adaptive) as tracker:
        for i, frame in enumerate(frames):
            t0 = time.perf_counter()
            f = tracker(frame)
            out.ms[i] = (time.perf_counter() - t0) * 1000.0
            out.present[i] = f.face_present
            out.weights[i] = f.weights
            out.pose[i] = f.pose[:3]
            if f.landmarks is not None:
                out.landmarks[i] = f.landmarks
    if frames and frames[0].image is not None:
        h, w = frames[0].image.shape[:2]
        out.size = (w, h)
    return out


def _peaks(x: np.ndarray) -> list[int]:
    """Frames where a blink channel peaks above 0.5 (local maxima of each run above it)."""
    above = np.flatnonzero(x > _BLINK)
    if not len(above):
        return []
    runs = np.split(above, np.flatnonzero(np.diff(above) > 1) + 1)
    return [int(r[np.argmax(x[r])]) for r in runs]


def _same_face(ref: Track, other: Track) -> np.ndarray:
    """Per frame: both found a face and it is the same one (landmark centres closer than
    half the reference face's size; in a group photo each may pick a different face)."""
    w, h = ref.size
    a, b = ref.landmarks[..., :2] * (w, h), other.landmarks[..., :2] * (w, h)
    size = (np.ptp(a[..., 0], axis=-1) + np.ptp(a[..., 1], axis=-1)) / 2
    apart = np.linalg.norm(a.mean(axis=1) - b.mean(axis=1), axis=-1)
    return ref.present & other.present & (apart < 0.5 * size)


def agreement(ref: Track, other: Track) -> dict[str, Any]:
    """The figures of `other` against `ref` (frames where both saw the same face)."""
    both = _same_face(ref, other)
    report: dict[str, Any] = {
        "frames": len(ref.present),
        "faces_ref": int(ref.present.sum()),
        "faces_other": int(other.present.sum()),
        "different_face": int((ref.present & other.present & ~both).sum()),
        "presence_agreement": float(
            np.mean((ref.present == other.present) & (both | ~ref.present))
        ),
        "ms_ref": float(np.median(ref.ms)) if len(ref.ms) else 0.0,
        "ms_other": float(np.median(other.ms)) if len(other.ms) else 0.0,
    }
    if not both.any():
        return report
    w, h = ref.size
    d = np.linalg.norm(
        (ref.landmarks[both, :, :2] - other.landmarks[both, :, :2]) * (w, h), axis=-1
    )
    measured = ~UNAVAILABLE
    wr, wo = ref.weights[both][:, measured], other.weights[both][:, measured]
    names = [n for n, m in zip(ARKIT_NAMES, measured, strict=True) if m]
    err = np.abs(wr - wo)
    report.update(
        landmark_px_mean=float(d.mean()),
        landmark_px_p95=float(np.percentile(d, 95)),
        weights_mae=float(err.mean()),
        weights_max=float(err.max()),
        worst_shape=names[int(np.argmax(err.mean(axis=0)))],
        pose_deg_mae=float(np.abs(ref.pose[both] - other.pose[both]).mean()),
    )
    rs = {}
    for k, name in enumerate(names):
        if name.startswith(("mouth", "jaw")) and wr[:, k].std() >= _MIN_STD and len(wr) > 2:
            rs[name] = float(np.corrcoef(wr[:, k], wo[:, k])[0, 1])
    if rs:
        low = min(rs, key=rs.__getitem__)
        report.update(mouth_jaw_r_min=rs[low], mouth_jaw_r_min_shape=low, mouth_jaw_shapes=len(rs))
    blinks = []
    for name in ("eyeBlinkLeft", "eyeBlinkRight"):
        a, b = ref.weights[:, INDEX[name]], other.weights[:, INDEX[name]]
        for p in _peaks(np.where(both, a, 0.0)):
            lo, hi = max(0, p - 1), min(len(a), p + 2)
            blinks.append(float(a[p] - b[lo:hi].max()))
    report.update(blink_peaks=len(blinks), blink_peak_drop_max=max(blinks) if blinks else 0.0)
    return report


def run_compare(source: str, *, model: str | None, as_json: bool = False) -> int:
    """`bench --tracker both`: both trackers on one file, their cost and agreement."""
    import json
    import sys

    from ..errors import ConfigError
    from ..sources import open_source
    from .model import resolve_model

    with open_source(source) as probe:
        if not probe.needs_tracker or probe.live:
            raise ConfigError(f"--tracker both needs a video or image file, got {source!r}")
        still = probe.still
    path = str(resolve_model(model).path)
    frames = load_frames(source)
    ref = track("mediapipe", path, frames, still=still)
    other = track("litert", path, frames, still=still)
    report = agreement(ref, other)
    if as_json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(f"source: {source}  frames: {report['frames']}")
    print(f"{'tracker':<10} {'faces':>6} {'ms/frame (median)':>18}")
    print(f"{'mediapipe':<10} {report['faces_ref']:>6} {report['ms_ref']:>18.2f}")
    print(f"{'litert':<10} {report['faces_other']:>6} {report['ms_other']:>18.2f}")
    print(f"same face found on {100 * report['presence_agreement']:.1f}% of frames")
    if report["different_face"]:
        print(f"each found a different face on {report['different_face']} frame(s)")
    if "weights_mae" in report:
        print(
            f"landmarks {report['landmark_px_mean']:.2f} px mean apart; weights MAE "
            f"{report['weights_mae']:.4f} (worst {report['worst_shape']}); head pose "
            f"{report['pose_deg_mae']:.2f} deg"
        )
    if "mouth_jaw_r_min" in report:
        print(
            f"mouth/jaw shapes r >= {report['mouth_jaw_r_min']:.3f} "
            f"({report['mouth_jaw_shapes']} moving shapes)"
        )
    if report.get("blink_peaks"):
        print(
            f"blink peaks: {report['blink_peaks']}, largest drop "
            f"{report['blink_peak_drop_max']:.3f}"
        )
    return 0
