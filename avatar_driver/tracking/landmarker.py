"""The tracker stage: MediaPipe FaceLandmarker turned into canonical frames.

VIDEO mode for streams (MediaPipe then smooths landmarks and tracks instead of detecting
every frame), IMAGE mode for stills. Created once, closed explicitly: MediaPipe's graph
threads otherwise complain at interpreter exit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import operator
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..closing import ClosesOnce
from ..errors import ModelError
from ..frame import Frame
from ..shapes import MEDIAPIPE_TO_CANONICAL, N_SHAPES
from .mediapipe_import import import_vision
from .pose import euler_from_matrix

__all__ = ["FaceTracker", "no_face", "to_frame"]

_MIN_TS_STEP_MS = 1
_XYZ = operator.attrgetter("x", "y", "z")


class FaceTracker(ClosesOnce):
    """Callable stage: `tracker(frame)` returns the frame with weights, pose and landmarks.

    `mode` is "video" (timestamps must increase; we nudge equal ones forward) or "image".
    """

    def __init__(
        self, model_path: str | os.PathLike[str], *, mode: str = "video", num_faces: int = 1
    ) -> None:
        # Quiet MediaPipe's C++ start-up chatter unless the user asked for it.
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            mp, BaseOptions, vision = import_vision()
        except ImportError as e:  # pragma: no cover - mediapipe is a hard dependency
            raise ModelError(f"mediapipe is not installed ({e}); pip install mediapipe") from e
        self._mp = mp
        running = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=running,
            num_faces=num_faces,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            with _native_stderr_silenced():
                self._landmarker: Any = vision.FaceLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"could not load the face model {model_path}: {e}") from e
        self.mode = mode
        self._last_ms = -1
        self._warm = False

    def detect(self, frame: Frame) -> Any:
        """Run MediaPipe on the frame's image; returns MediaPipe's raw result."""
        assert frame.image is not None, "the tracker needs a frame with an image"
        image = self._mp.Image(
            image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame.image)
        )
        if not self._warm:  # the first inference prints graph set-up notes too
            self._warm = True
            with _native_stderr_silenced():
                return self._run(image, frame.timestamp)
        return self._run(image, frame.timestamp)

    def _run(self, image: Any, timestamp: float) -> Any:
        if self.mode == "image":
            return self._landmarker.detect(image)
        ms = round(timestamp * 1000.0)
        if ms <= self._last_ms:
            ms = self._last_ms + _MIN_TS_STEP_MS
        self._last_ms = ms
        return self._landmarker.detect_for_video(image, ms)

    def __call__(self, frame: Frame) -> Frame:
        return to_frame(frame, self.detect(frame))

    def _close(self) -> None:
        self._landmarker.close()


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide MediaPipe's C++ start-up log lines (they go straight to fd 2) unless debugging."""
    if os.environ.get("AVATAR_DRIVER_DEBUG"):
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def no_face(frame: Frame) -> Frame:
    """The frame as the tracker reports it when no face is seen: zero weights, flag off."""
    return dataclasses.replace(
        frame,
        weights=np.zeros(N_SHAPES, dtype=np.float32),
        face_present=False,
        confidence=0.0,
        landmarks=None,
    )


def to_frame(frame: Frame, result: Any, face: int = 0) -> Frame:
    """Canonical frame from a MediaPipe result (face `face`), or face_present=False."""
    if not result.face_landmarks or len(result.face_landmarks) <= face:
        return no_face(frame)
    weights = np.zeros(N_SHAPES, dtype=np.float32)
    cats = result.face_blendshapes[face]
    scores = np.fromiter((c.score for c in cats[1:]), dtype=np.float32, count=len(cats) - 1)
    weights[MEDIAPIPE_TO_CANONICAL] = np.clip(scores, 0.0, 1.0)
    lms = result.face_landmarks[face]
    # fromiter over one flat chain is the cheapest way out of 478 Python objects (~90 us).
    landmarks = np.fromiter(
        itertools.chain.from_iterable(map(_XYZ, lms)), dtype=np.float32, count=3 * len(lms)
    ).reshape(-1, 3)
    pose = np.zeros(9, dtype=np.float32)
    translation = np.zeros(3, dtype=np.float32)
    if result.facial_transformation_matrixes:
        angles, translation = euler_from_matrix(result.facial_transformation_matrixes[face])
        pose[:3] = angles
    presence = getattr(lms[0], "presence", None)
    return dataclasses.replace(
        frame,
        weights=weights,
        pose=pose,
        translation=translation,
        face_present=True,
        confidence=float(presence) if presence else 1.0,
        landmarks=landmarks,
    )
