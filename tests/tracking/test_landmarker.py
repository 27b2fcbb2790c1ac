"""The real MediaPipe model on the real clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar_driver.shapes import INDEX, N_SHAPES, UNAVAILABLE
from avatar_driver.sources import ImageSource, VideoSource
from avatar_driver.tracking.landmarker import FaceTracker


def _track(model: Path, clip: Path) -> list:
    with VideoSource(clip) as source, FaceTracker(model, mode="video") as tracker:
        return [tracker(f) for f in source]


def test_smile_rises_on_single_face(model: Path, media: Path) -> None:
    frames = _track(model, media / "single_face.mp4")
    assert len(frames) == 72
    assert all(f.face_present for f in frames)
    smile = np.array(
        [f.weights[[INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]] for f in frames]
    )
    first, last = smile[:10].mean(), smile[-20:].mean()
    assert last > first + 0.4, (first, last)
    f = frames[0]
    assert f.weights.dtype == np.float32 and f.weights.shape == (N_SHAPES,)
    assert f.landmarks is not None and f.landmarks.shape == (478, 3)
    # tongueOut is not measured by the model: zero and flagged, never invented.
    assert all(f.weights[INDEX["tongueOut"]] == 0.0 for f in frames)
    assert f.unavailable[INDEX["tongueOut"]] and f.unavailable.sum() == UNAVAILABLE.sum()
    # A person facing a webcam: head pose within a few tens of degrees of straight.
    yaw_pitch_roll = np.array([f.pose[:3] for f in frames])
    assert np.all(np.abs(yaw_pitch_roll) < 35.0)


def test_no_face_clip_has_no_face(model: Path, media: Path) -> None:
    frames = _track(model, media / "no_face.mp4")
    assert len(frames) > 90
    assert not any(f.face_present for f in frames)
    assert all(not f.weights.any() for f in frames)


def test_face_noface_loses_the_face(model: Path, media: Path) -> None:
    frames = _track(model, media / "face_noface.mov")
    present = np.array([f.face_present for f in frames])
    # The man for ~2.8 s, then a cartoon title: a stray detection there is tolerated.
    assert present[:60].all()
    assert present[-40:].sum() <= 2
    assert 60 <= present.sum() <= 90


def test_still_image_uses_image_mode(model: Path, media: Path, tmp_path: Path) -> None:
    import cv2

    cap = cv2.VideoCapture(str(media / "single_face.mp4"))
    for _ in range(60):
        ok, bgr = cap.read()
    cap.release()
    assert ok
    still = tmp_path / "smile.png"
    cv2.imwrite(str(still), bgr)
    with ImageSource(still) as source, FaceTracker(model, mode="image") as tracker:
        (frame,) = [tracker(f) for f in source]
    assert frame.face_present
    assert frame.weights[INDEX["mouthSmileLeft"]] > 0.4
