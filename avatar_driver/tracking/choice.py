"""Which tracker runs: MediaPipe's task graph (the reference) or our LiteRT path.

Both are callable stages with the same Frame output and `close()`; `run`, `calibrate`
and `bench` pick one by name with `--tracker`.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError

__all__ = ["DEFAULT_TRACKER", "TRACKERS", "check_tracker", "create_tracker"]

TRACKERS = ("mediapipe", "litert")
DEFAULT_TRACKER = "mediapipe"


def check_tracker(kind: str) -> str:
    """`kind` if it names a tracker, else a ConfigError listing them."""
    if kind not in TRACKERS:
        raise ConfigError(f"unknown tracker {kind!r}; expected one of {', '.join(TRACKERS)}")
    return kind


def create_tracker(
    kind: str,
    model_path: str | os.PathLike[str],
    *,
    mode: str = "video",
    num_faces: int = 1,
    adaptive: bool = False,
    symmetric: bool = False,
    mirror_every: int = 1,
) -> Any:
    """A tracker stage of `kind` on the face_landmarker.task at `model_path`.

    `adaptive` (litert only) skips the models on frames where the face is still;
    `symmetric` (litert only) mirror-averages both face models (tracking/mirror.py), a
    video's flipped crop every `mirror_every`-th frame.
    """
    if check_tracker(kind) == "mediapipe":
        if adaptive:
            raise ConfigError("--adaptive needs --tracker litert")
        if symmetric:
            # The task's landmarks cannot be mirror-averaged, and mirror-averaging its
            # blendshapes alone does not help once a neutral is known (docs/tracking.md).
            raise ConfigError("--mirror-average needs --tracker litert")
        from .landmarker import FaceTracker

        return FaceTracker(model_path, mode=mode, num_faces=num_faces)
    if adaptive and num_faces != 1:
        raise ConfigError("--adaptive follows one face; drop it or --faces")
    from .litert import LiteRtTracker

    tracker = LiteRtTracker(
        model_path, mode=mode, num_faces=num_faces, symmetric=symmetric, mirror_every=mirror_every
    )
    if adaptive and mode == "video":
        from .adaptive import AdaptiveRate

        return AdaptiveRate(tracker)
    return tracker
