"""The C-struct reader against MediaPipe's own Python result, on real frames.

`ResultReader` skips the task's 478 + 52 Python objects per face; here the same task runs
each image through both paths (IMAGE mode, so the two calls see the same input and the
model gives the same output) and the arrays must be identical, face by face.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from avatar_driver.frame import Frame
from avatar_driver.sources import VideoSource
from avatar_driver.tracking.landmarker import FaceTracker
from avatar_driver.tracking.mp_result import ResultReader
from avatar_driver.tracking.zoom import face_arrays


def _images(media: Path) -> list[np.ndarray]:
    images = []
    for name, step in (("single_face.mp4", 9), ("face_noface.mov", 12)):
        with VideoSource(media / name) as src:
            images += [f.image for f in src][::step]
    photo = cv2.imread(str(media / "laughing_hand.png"), cv2.IMREAD_COLOR)
    images.append(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB))
    group = cv2.imread(str(media / "group_six.jpg"), cv2.IMREAD_COLOR)  # faces found in crops
    h, w = group.shape[:2]
    images.append(cv2.resize(cv2.cvtColor(group, cv2.COLOR_BGR2RGB)[: h // 2, : w // 2],
                             (w, h)))  # fmt: skip
    return images


def test_the_reader_gives_exactly_the_public_results(model: Path, media: Path) -> None:
    with FaceTracker(model, mode="image", num_faces=3, zoom=False) as tracker:
        assert tracker._reader is not None, "this MediaPipe has no C result to read"
        found = none = 0
        for k, img in enumerate(_images(media)):
            frame = Frame(timestamp=k / 30, index=k, image=img)
            public = face_arrays(tracker.detect(frame))
            fast = tracker.detect_arrays(frame)
            assert len(fast) == len(public), k
            for a, b in zip(fast, public, strict=True):
                assert a.landmarks.dtype == b.landmarks.dtype == np.float32
                np.testing.assert_array_equal(a.landmarks, b.landmarks)
                np.testing.assert_array_equal(a.scores, b.scores)
                assert a.matrix is not None and b.matrix is not None
                np.testing.assert_array_equal(a.matrix, b.matrix)
                assert a.presence == b.presence
            found += len(public)
            none += not public
        assert found >= 10 and none >= 2  # faces (one in a photo of several) and none


def test_without_the_private_parts_the_tracker_keeps_the_public_api() -> None:
    class Public:  # a task as a future MediaPipe might hand out: no _lib / _handle
        pass

    assert ResultReader.attach(Public()) is None


def test_video_mode_reads_the_same_faces_as_the_public_path(model: Path, media: Path) -> None:
    """Two VIDEO-mode tasks fed the same clip, one read each way, follow the same face."""
    with VideoSource(media / "face_noface.mov") as src:
        frames = list(src)
    with (FaceTracker(model, mode="video", zoom=False) as a,
          FaceTracker(model, mode="video", zoom=False) as b):  # fmt: skip
        b._reader = None  # the public path
        for f in frames:
            fa, fb = a.detect_arrays(f), b.detect_arrays(f)
            assert len(fa) == len(fb)
            for x, y in zip(fa, fb, strict=True):
                np.testing.assert_allclose(x.landmarks, y.landmarks, atol=1e-5)
                np.testing.assert_allclose(x.scores, y.scores, atol=1e-5)
