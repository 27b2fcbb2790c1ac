"""Quality measures of the tracker and the solver on real clips (benchmarks/quality.py
and tests/solver): an evaluation harness, so it lives beside the benchmarks.

Clips are tracked in IMAGE mode, each frame and its horizontal flip, so MediaPipe's
temporal smoothing cannot make the two differ.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar_driver.frame import Frame
from avatar_driver.shapes import ARKIT_NAMES, UNAVAILABLE, swap_lr_index

__all__ = [
    "GAZE_INDEX",
    "TrackedClip",
    "mirror_disagreement",
    "run_solver",
    "track_clip",
]

#: The eight eyeLook* shapes.
GAZE_INDEX = np.array([i for i, n in enumerate(ARKIT_NAMES) if n.startswith("eyeLook")])
_AVAILABLE = ~UNAVAILABLE


@dataclass
class TrackedClip:
    """Tracker output for every frame of a clip and of its mirror image."""

    path: str
    fps: float
    frames: list[Frame]
    mirrored: list[Frame]


def track_clip(path: str | os.PathLike[str], model: str | os.PathLike[str]) -> TrackedClip:
    """Track every frame and its mirror image in IMAGE mode (images are dropped after)."""
    import dataclasses

    import cv2

    from avatar_driver.tracking.landmarker import FaceTracker

    cap = cv2.VideoCapture(str(path))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 30.0)
    frames: list[Frame] = []
    mirrored: list[Frame] = []
    try:
        with FaceTracker(model, mode="image") as tracker:
            index = 0
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                for img, out in ((rgb, frames), (np.ascontiguousarray(rgb[:, ::-1]), mirrored)):
                    f = tracker(Frame(timestamp=index / fps, index=index, image=img))
                    # Keep a 1x1 stand-in with the right aspect ratio, not the pixels.
                    shape = (img.shape[0], img.shape[1], 3)
                    out.append(dataclasses.replace(f, image=np.broadcast_to(np.uint8(0), shape)))
                index += 1
    finally:
        cap.release()
    return TrackedClip(str(Path(path)), fps, frames, mirrored)


def run_solver(solver: Callable[[Frame], Frame], frames: Sequence[Frame]) -> list[Frame]:
    """The solver applied to each frame in order."""
    return [solver(f) for f in frames]


def mirror_disagreement(
    frames: Sequence[Frame], mirrored: Sequence[Frame]
) -> tuple[float, float, float]:
    """(all shapes, gaze shapes, eye yaw degrees): mean |w - swapLR(w mirrored)|.

    Over frames where both images have a face; tongueOut (never measured) is left out.
    """
    swap = swap_lr_index()
    pairs = [
        (a, b) for a, b in zip(frames, mirrored, strict=False) if a.face_present and b.face_present
    ]
    if not pairs:
        return float("nan"), float("nan"), float("nan")
    w = np.stack([a.weights for a, _ in pairs])
    wm = np.stack([b.weights[swap] for _, b in pairs])
    d = np.abs(w - wm)
    # Mirrored: yaw flips sign and the eyes swap (left yaw at 3, right yaw at 6).
    yaw = np.stack([a.pose[[3, 6]] for a, _ in pairs])
    yaw_m = np.stack([-b.pose[[6, 3]] for _, b in pairs])
    return (
        float(d[:, _AVAILABLE].mean()),
        float(d[:, GAZE_INDEX].mean()),
        float(np.abs(yaw - yaw_m).mean()),
    )


_SHARED = Path(__file__).resolve().parents[2] / "shared"


def default_media() -> str:
    """The sample clips: AVATAR_DRIVER_MEDIA, else ../shared/media beside the checkout."""
    return os.environ.get("AVATAR_DRIVER_MEDIA", str(_SHARED / "media"))


def default_model() -> str:
    """The face model: AVATAR_DRIVER_MODEL, else ../shared/models beside the checkout."""
    return os.environ.get("AVATAR_DRIVER_MODEL", str(_SHARED / "models/face_landmarker.task"))


def add_media_and_model(parser: argparse.ArgumentParser) -> None:
    """The --media and --model options every clip benchmark takes, with those defaults."""
    parser.add_argument("--media", default=default_media())
    parser.add_argument("--model", default=default_model())
