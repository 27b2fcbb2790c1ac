"""The tracker stage: MediaPipe FaceLandmarker turned into canonical frames.

VIDEO mode for streams (MediaPipe then smooths landmarks and tracks instead of detecting
every frame), IMAGE mode for stills. Created once, closed explicitly: MediaPipe's graph
threads otherwise complain at interpreter exit. Small or unfound faces are zoomed in on
(zoom.py: crops around them, tiles while none is known); a big face costs nothing more.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from ..closing import ClosesOnce
from ..errors import ModelError
from ..frame import Frame
from ..shapes import MEDIAPIPE_TO_CANONICAL, N_SHAPES
from .mediapipe_import import import_vision
from .mp_result import ResultReader
from .pose import euler_from_matrix
from .zoom import FaceArrays, Zoom, face_arrays

__all__ = ["FaceTracker", "face_frame", "no_face", "to_frame"]

T = TypeVar("T")

_MIN_TS_STEP_MS = 1


class FaceTracker(ClosesOnce):
    """Callable stage: `tracker(frame)` returns the frame with weights, pose and landmarks.

    `mode` is "video" (timestamps must increase; we nudge equal ones forward) or "image".
    `zoom` (default) looks for small or unfound faces in crops and tiles (zoom.Zoom);
    `detect` is always the task on the whole frame alone.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        mode: str = "video",
        num_faces: int = 1,
        zoom: bool = True,
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
        self._reader = ResultReader.attach(self._landmarker)
        self._last_ms = -1
        self._warm = False
        self.zoom: Zoom | None = None
        if zoom:
            self.zoom = Zoom(
                lambda: FaceTracker(model_path, mode="image", num_faces=num_faces, zoom=False),
                model_path,
                video=mode == "video",
                num_faces=num_faces,
            )

    def detect(self, frame: Frame) -> Any:
        """Run MediaPipe on the frame's image; returns MediaPipe's raw result (its Python
        objects: see `detect_arrays` for the cheap way)."""
        return self._call(frame, self._run)

    def detect_arrays(self, frame: Frame) -> list[FaceArrays]:
        """The faces on the frame's image as arrays, read from the task's C result when
        the installed MediaPipe allows (`mp_result.ResultReader`), else via `detect`."""
        if self._reader is None:
            return face_arrays(self.detect(frame))
        return self._call(frame, self._read)

    def _call(self, frame: Frame, run: Callable[[Any, float], T]) -> T:
        assert frame.image is not None, "the tracker needs a frame with an image"
        image = self._mp.Image(
            image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame.image)
        )
        if not self._warm:  # the first inference prints graph set-up notes too
            self._warm = True
            with _native_stderr_silenced():
                return run(image, frame.timestamp)
        return run(image, frame.timestamp)

    def _run(self, image: Any, timestamp: float) -> Any:
        if self.mode == "image":
            return self._landmarker.detect(image)
        return self._landmarker.detect_for_video(image, self._stamp(timestamp))

    def _read(self, image: Any, timestamp: float) -> list[FaceArrays]:
        assert self._reader is not None
        stamp = None if self.mode == "image" else self._stamp(timestamp)
        return self._reader.detect(image, stamp)

    def _stamp(self, timestamp: float) -> int:
        """Milliseconds, strictly increasing (VIDEO mode refuses equal or earlier ones)."""
        ms = round(timestamp * 1000.0)
        if ms <= self._last_ms:
            ms = self._last_ms + _MIN_TS_STEP_MS
        self._last_ms = ms
        return ms

    def faces(self, frame: Frame) -> list[FaceArrays]:
        """Up to `num_faces` faces on the frame: the whole frame's, zoomed where needed.

        While the zoom follows every asked face in its crop, the whole frame is skipped.
        """
        assert frame.image is not None, "the tracker needs a frame with an image"
        if self.zoom is None:
            return self.detect_arrays(frame)
        if self.zoom.active:
            found: list[FaceArrays] = []
            t = self._stamp(frame.timestamp) / 1000.0
        else:
            found = self.detect_arrays(frame)
            t = self._last_ms / 1000.0
        return self.zoom.faces(frame.image, t, found)

    def __call__(self, frame: Frame) -> Frame:
        found = self.faces(frame)
        return face_frame(frame, found[0]) if found else no_face(frame)

    def _close(self) -> None:
        if self.zoom is not None:
            self.zoom.close()
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
    found = face_arrays(result)
    return face_frame(frame, found[face]) if len(found) > face else no_face(frame)


def face_frame(frame: Frame, face: FaceArrays) -> Frame:
    """The canonical frame of one found face: weights, head pose, landmarks, confidence."""
    weights = np.zeros(N_SHAPES, dtype=np.float32)
    weights[MEDIAPIPE_TO_CANONICAL] = np.clip(face.scores[1:], 0.0, 1.0)
    pose = np.zeros(9, dtype=np.float32)
    translation = np.zeros(3, dtype=np.float32)
    if face.matrix is not None:
        angles, translation = euler_from_matrix(face.matrix)
        pose[:3] = angles
    return dataclasses.replace(
        frame,
        weights=weights,
        pose=pose,
        translation=translation,
        face_present=True,
        confidence=face.presence,
        landmarks=face.landmarks,
    )
