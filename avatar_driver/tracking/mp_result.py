"""MediaPipe's FaceLandmarker result read straight from its C struct with numpy.

The task's Python API turns every result into 478 `NormalizedLandmark` and 52 `Category`
Python objects per face (`FaceLandmarkerResult.from_ctypes`), which we then turn back into
arrays (`zoom.face_arrays`): 0.4-0.9 ms of CPU a frame on a 7 ms tracker, for nothing.
`ResultReader` calls the same C functions the task's `detect` / `detect_for_video` call and
copies the struct's fields into arrays in one numpy step each, then frees the result as
the task does. The layout is read from MediaPipe's own ctypes structs (field offsets), so
it follows the installed version; if its private names (`_lib`, `_handle`,
`_image_ptr`, the C function names) are not there, `ResultReader.attach` returns None
and the tracker keeps the public API (tests/tracking/test_mp_result.py holds the two to
exactly the same arrays on real frames).
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from .zoom import FaceArrays

__all__ = ["ResultReader"]


def _dtype(struct: Any, fields: tuple[str, ...]) -> np.dtype[Any]:
    """A numpy record type over `struct`'s memory layout, for the named fields only."""
    kinds = {ctypes.c_float: np.float32, ctypes.c_bool: np.bool_, ctypes.c_int: np.int32}
    types = dict(struct._fields_)
    return np.dtype(
        {
            "names": list(fields),
            "formats": [kinds[types[name]] for name in fields],
            "offsets": [getattr(struct, name).offset for name in fields],
            "itemsize": ctypes.sizeof(struct),
        }
    )


def _records(pointer: Any, count: int, dtype: np.dtype[Any]) -> np.ndarray:
    """`count` C structs at `pointer` as a numpy record array (a view: copy before freeing)."""
    if count == 0 or not pointer:
        return np.zeros(0, dtype=dtype)
    address = ctypes.cast(pointer, ctypes.c_void_p).value
    raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(address or 0)
    return np.frombuffer(memoryview(raw), dtype=dtype, count=count)


class ResultReader:
    """Runs one FaceLandmarker and returns its faces as `FaceArrays`, no Python objects."""

    def __init__(self, landmarker: Any, module: Any, landmark_c: Any, category_c: Any) -> None:
        self._task = landmarker
        self._lib = landmarker._lib
        self._handle = landmarker._handle
        self._result_type = module.MpFaceLandmarkerResultC
        self._landmark = _dtype(
            landmark_c.MpNormalizedLandmarkC, ("x", "y", "z", "has_presence", "presence")
        )
        self._category = _dtype(category_c.MpCategoryC, ("score",))

    @classmethod
    def attach(cls, landmarker: Any) -> ResultReader | None:
        """A reader for this task, or None when the installed MediaPipe lacks the parts."""
        try:
            from mediapipe.tasks.python.components.containers import category_c, landmark_c
            from mediapipe.tasks.python.vision import face_landmarker as module

            reader = cls(landmarker, module, landmark_c, category_c)
            for name in ("MpFaceLandmarkerDetectImage", "MpFaceLandmarkerDetectForVideo",
                         "MpFaceLandmarkerCloseResult"):  # fmt: skip
                getattr(reader._lib, name)
        except (ImportError, AttributeError, KeyError, TypeError):
            return None
        return reader

    def detect(self, image: Any, timestamp_ms: int | None) -> list[FaceArrays]:
        """The faces on a `mediapipe.Image`: IMAGE mode with None, else VIDEO mode."""
        result = self._result_type()
        if timestamp_ms is None:
            self._lib.MpFaceLandmarkerDetectImage(
                self._handle, image._image_ptr, None, ctypes.byref(result)
            )
        else:
            self._lib.MpFaceLandmarkerDetectForVideo(
                self._handle, image._image_ptr, None, timestamp_ms, ctypes.byref(result)
            )
        try:
            return self._faces(result)
        finally:
            self._lib.MpFaceLandmarkerCloseResult(ctypes.byref(result))

    def _faces(self, result: Any) -> list[FaceArrays]:
        out = []
        shapes = result.face_blendshapes_count
        matrices = result.facial_transformation_matrixes_count
        for k in range(result.face_landmarks_count):
            marks = result.face_landmarks[k]
            rec = _records(marks.landmarks, marks.landmarks_count, self._landmark)
            points = np.stack((rec["x"], rec["y"], rec["z"]), axis=1)  # a copy
            scores = np.zeros(0, dtype=np.float32)
            if k < shapes:
                cats = result.face_blendshapes[k]
                scores = _records(cats.categories, cats.categories_count, self._category)[
                    "score"
                ].copy()
            matrix = None
            if k < matrices:
                matrix = np.asarray(
                    result.facial_transformation_matrixes[k].to_numpy(), dtype=np.float64
                )
            presence = float(rec["presence"][0]) if len(rec) and rec["has_presence"][0] else 0.0
            out.append(FaceArrays(points, scores, matrix, presence if presence else 1.0))
        return out
