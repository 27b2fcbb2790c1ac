"""Far faces and groups on the LiteRT tracker (zoom, tiles, a crop per face), real model
and media: the far variant of benchmarks/robustness.py and the group photo."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from avatar_driver import degrade
from avatar_driver.codecs.csv_take import parse_take
from avatar_driver.frame import Frame
from avatar_driver.shapes import ARKIT_NAMES
from avatar_driver.tracking.compare import load_frames
from avatar_driver.tracking.faces import MultiFaceTracker
from avatar_driver.tracking.landmarker import FaceTracker
from avatar_driver.tracking.litert import LiteRtTracker
from tests.conftest import run_cli

MOUTH = np.array([i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("jaw", "mouth"))])


@cache
def _group(media: Path) -> Frame:
    (photo,) = load_frames(str(media / "group_six.jpg"))
    return photo


def _centres(frames: list[Frame]) -> np.ndarray:
    assert all(f.landmarks is not None for f in frames)
    return np.stack([f.landmarks[:, :2].mean(axis=0) for f in frames if f.landmarks is not None])


def test_far_face_is_found_and_tracked(model: Path, media: Path) -> None:
    """single_face.mp4 shrunk to x0.3 (a ~45 px face in 640 px; MediaPipe's task finds
    it in no frame): the tiles find it, the crop follows it, the mouth reads as on the
    clean clip."""
    frames = load_frames(str(media / "single_face.mp4"))
    far = [Frame(timestamp=f.timestamp, image=degrade.far(f.image, 0.3)) for f in frames]
    with LiteRtTracker(model) as clean_tracker:
        clean = [clean_tracker(f) for f in frames]
    with LiteRtTracker(model) as tracker:
        got = [tracker(f) for f in far]
    with FaceTracker(model, zoom=False) as mediapipe:
        assert not any(mediapipe(f).face_present for f in far[:10])
    found = np.array([f.face_present for f in got])
    assert found.mean() >= 0.9, found.mean()
    assert found[10:].all()  # once found, followed to the end
    a = np.stack([f.weights[MOUTH] for f, k in zip(got, found, strict=True) if k])
    b = np.stack([f.weights[MOUTH] for f, k in zip(clean, found, strict=True) if k])
    r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert r >= 0.8, r


def test_far_face_lost_for_a_frame_is_found_at_once(model: Path, media: Path) -> None:
    """One empty frame (a dropped or blurred frame) loses the far face; the next frame's
    one detector run zooms on where it was and finds it (the tiles would take frames)."""
    frames = load_frames(str(media / "single_face.mp4"))[:40]
    far = [degrade.far(f.image, 0.3) for f in frames]
    wall = np.full_like(far[0], far[0][0, 0])
    images = [wall if k == 20 else img for k, img in enumerate(far)]
    with LiteRtTracker(model) as tracker:
        found = []
        for k, img in enumerate(images):
            found.append(tracker(Frame(timestamp=k / 30, image=img)).face_present)
            if k == 19:
                before = tracker.detections
        assert tracker.detections == before + 1  # one run: the zoom where the face was
    assert all(found[10:20]) and not found[20] and all(found[21:])


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_group_photo_gives_every_performer_a_face(model: Path, media: Path, n: int) -> None:
    """group_six.jpg: MediaPipe's whole-frame detector finds none of the six small faces;
    the tiles give each of n performers a different face."""
    photo = _group(media)
    with FaceTracker(model, mode="image", num_faces=n, zoom=False) as mediapipe:
        assert not mediapipe(photo).face_present
    with LiteRtTracker(model, mode="image", num_faces=n) as tracker:
        out = MultiFaceTracker(tracker, n).split(photo)
    assert len(out) == n and all(f.face_present for f in out)
    c = _centres(out)
    gaps = np.linalg.norm(c[:, None] - c[None], axis=-1) + np.eye(n)
    assert gaps.min() > 0.05  # n different faces, not one face twice


def test_group_in_video_each_performer_stays(model: Path, media: Path) -> None:
    """The photo as a video: within a few frames (one detector run each) every performer
    has a face, each keeps the same face afterwards, and the detector stops running."""
    photo = _group(media)
    frames = [Frame(timestamp=k / 30, index=k, image=photo.image) for k in range(24)]
    with LiteRtTracker(model, mode="video", num_faces=5) as tracker:
        multi = MultiFaceTracker(tracker, 5)
        out = []
        for f in frames:
            out.append(multi.split(f))
            if len(out) == 12:
                runs = tracker.detections
        assert tracker.detections == runs  # all five followed: no more searching
    first = next(k for k, slots in enumerate(out) if all(f.face_present for f in slots))
    assert first <= 8, first
    steady = np.stack([_centres(slots) for slots in out[first:]])
    drift = np.linalg.norm(steady - steady[0], axis=-1).max()
    assert drift < 0.01, drift  # each slot keeps its own face (faces are >= 0.1 apart)


@pytest.mark.parametrize("n", [4, 5])
def test_run_faces_with_litert(model: Path, media: Path, tmp_path: Path, n: int) -> None:
    """`run --faces N --tracker litert` on the group photo: N outputs, N different faces."""
    paths = [tmp_path / f"p{k}.csv" for k in range(1, n + 1)]
    outputs = [a for k, p in enumerate(paths, 1) for a in ("--output", f"{k}@csv:{p}")]
    proc = run_cli(
        ["run", "--source", str(media / "group_six.jpg"), "--tracker", "litert",
         "--faces", str(n), "--fast", "--quiet", *outputs],
        model=model,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    takes = [parse_take(p.read_text().splitlines()) for p in paths]
    assert all(len(t.values) >= 1 for t in takes)
    # each performer's own face: N different sets of weights
    rows = np.stack([t.values[0] for t in takes])
    assert (
        min(float(np.abs(rows[i] - rows[j]).sum()) for i in range(n) for j in range(i + 1, n))
        > 0.05
    )
