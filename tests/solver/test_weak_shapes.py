"""Weak shapes on every face of the shared media: synthetic surprise and disgust raise
eyeWide and mouthUpperUp on faces the constants were not chosen on (benchmarks/weak_shapes.py
HELD_OUT), rest stays low, the mirror image agrees better than the model's (within 0.015
with the mirror-averaged LiteRT tracker), and a real wink and a one-sided smile survive
the side-bias removal and the mirror-averaging."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX
from avatar_driver.solver import TrackingSolver
from avatar_driver.tracking.choice import create_tracker
from avatar_driver.tracking.landmarker import FaceTracker
from benchmarks.robustness import read_frames
from benchmarks.weak_shapes import (
    HELD_OUT,
    SCORE,
    Tracked,
    face_set,
    mirror_error,
    own_profile,
    solved,
    track_faces,
)

pytestmark = pytest.mark.model

_REST = ("eyeWideLeft", "eyeWideRight", "mouthUpperUpLeft", "mouthUpperUpRight", "cheekPuff")


@pytest.fixture(scope="module")
def faces(model: Path, media: Path) -> dict[str, list[np.ndarray]]:
    return face_set(media, str(model))


@pytest.fixture(scope="module")
def held_out(faces: dict[str, list[np.ndarray]], model: Path) -> list[Tracked]:
    """The held-out faces and their mirror images, clean and warped."""
    names = [n for n in HELD_OUT if faces[n]]
    assert len(names) >= 4  # laughing_hand and three of the group (bw_portrait: no face)
    return track_faces(faces, str(model), names)


def _by_face(tracked: list[Tracked]) -> dict[str, list[Tracked]]:
    out: dict[str, list[Tracked]] = {}
    for t in tracked:
        out.setdefault(t.name.split("#")[0].rstrip("~"), []).append(t)
    return out


def _score(group: list[Tracked], kind: str, condition: str) -> float:
    vals = [SCORE[kind](w) for t in group if (w := solved(t, condition, kind)) is not None]
    assert vals, kind
    return float(np.mean(vals))


@pytest.mark.parametrize("condition", ["calibrated", "auto"])
def test_surprise_raises_eye_wide_on_every_held_out_face(
    held_out: list[Tracked], condition: str
) -> None:
    """Lids up with sclera above the iris: eyeWide >= 0.25 on each unseen face (and its
    mirror), relative to its own neutral (a profile, or the auto-calibration's medians);
    the model alone stays under 0.05."""
    for name, group in _by_face(held_out).items():
        assert _score(group, "surprise", condition) >= 0.25, name
        assert _score(group, "surprise", "raw") < 0.05, name


def test_disgust_raises_upper_lip(held_out: list[Tracked], faces: dict, model: Path) -> None:
    """Upper lip and nose wings up: max(noseSneer, mouthUpperUp) >= 0.15 over the unseen
    faces; on single_face.mp4, where the model reads ~0, the lip-to-nose estimate does it."""
    scores = {n: _score(g, "disgust", "calibrated") for n, g in _by_face(held_out).items()}
    assert np.mean(list(scores.values())) >= 0.15, scores
    (single,) = track_faces({"single_face": faces["single_face"][:1]}, str(model),
                            ["single_face"], mirror=False)  # fmt: skip
    assert _score([single], "disgust", "raw") < 0.05
    assert _score([single], "disgust", "calibrated") >= 0.15


def _variant(img: np.ndarray) -> np.ndarray:
    """The same face a moment later: shifted 3 px, 3 % smaller, a little darker."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0.0, 0.97)
    m[:, 2] += (3.0, -2.0)
    moved = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    return np.clip(moved.astype(np.float32) * 0.92, 0, 255).astype(np.uint8)


def test_rest_stays_low_on_every_face(faces: dict[str, list[np.ndarray]], model: Path) -> None:
    """Profile from each face's image, scored on a variant of it (moved, scaled, darker):
    the landmark estimates add under 0.1 to the model's remapped eyeWide, mouthUpperUp and
    cheekPuff on every face, and on the faces not laughing the shapes stay under 0.1.
    (Laughing faces have a high model neutral, so the remap stretches the model's jitter.)"""
    rest = [INDEX[s] for s in _REST]
    with FaceTracker(str(model), mode="image") as tracker:
        for name, images in faces.items():
            for img in images[:1]:
                clean = tracker(Frame(timestamp=0.0, image=img))
                moved = tracker(Frame(timestamp=0.0, image=_variant(img)))
                assert clean.face_present and moved.face_present, name
                profile = own_profile(clean)
                w = TrackingSolver(profile)(moved).weights[rest]
                by_model = profile.remap()(moved.weights.astype(np.float64))[rest]
                assert (w - by_model).max() < 0.1, (name, w, by_model)
                if name not in ("group3", "laughing_hand"):
                    assert w.max() < 0.1, (name, w)


def test_mirror_error_below_the_models_on_held_out_faces(held_out: list[Tracked]) -> None:
    """mean |w - swapLR(w of the mirror image)| with the auto-calibration: below the raw
    model's on every unseen face and 20 % below it on average (the goal 0.015 is not met
    on these faces: ~0.026, see docs/tracking.md)."""
    groups = _by_face(held_out)
    raw, tool = [], []
    for name, group in groups.items():
        a = next(t for t in group if "~" not in t.name)
        b = next(t for t in group if "~" in t.name)
        r, e = mirror_error(a, b, "raw"), mirror_error(a, b, "auto")
        assert r is not None and e is not None
        assert e < r, (name, e, r)
        raw.append(r)
        tool.append(e)
    assert np.mean(tool) <= 0.8 * np.mean(raw), (tool, raw)


@pytest.fixture(scope="module")
def held_out_symmetric(faces: dict[str, list[np.ndarray]], model: Path) -> list[Tracked]:
    """The held-out faces as 8-frame still clips through the mirror-averaged LiteRT
    tracker (weak_shapes.py --tracker litert --symmetric --video 8)."""
    names = [n for n in HELD_OUT if faces[n]]
    return track_faces(faces, str(model), names, tracker="litert", symmetric=True, video=8)


@pytest.mark.parametrize("condition", ["auto", "calibrated"])
def test_symmetric_tracker_meets_the_mirror_goal_on_held_out_faces(
    held_out_symmetric: list[Tracked], condition: str
) -> None:
    """With the mirror-averaged tracker the mirror error is <= 0.015 on every unseen face
    (measured 0.004-0.009 auto, 0.005-0.011 calibrated; the plain trackers 0.013 / 0.018
    on average in the same VIDEO mode, docs/tracking.md)."""
    for name, group in _by_face(held_out_symmetric).items():
        a = next(t for t in group if "~" not in t.name)
        b = next(t for t in group if "~" in t.name)
        e = mirror_error(a, b, condition)
        assert e is not None and e <= 0.015, (name, e)


def test_symmetric_tracker_keeps_the_wink(held_out_symmetric: list[Tracked]) -> None:
    """Mirror-averaging makes the tracker consistent, not symmetric: group3's wink stays
    on its side in the image and swaps in the mirror."""
    (face, flipped) = _by_face(held_out_symmetric)["group3"]
    for t, sign in ((face, 1.0), (flipped, -1.0)):
        w = solved(t, "none", "neutral")
        assert w is not None
        assert sign * _side_gap(w, "eyeBlink") > 0.15, t.name


def _side_gap(w: np.ndarray, base: str) -> float:
    return float(w[INDEX[base + "Left"]] - w[INDEX[base + "Right"]])


def test_real_wink_survives(held_out: list[Tracked]) -> None:
    """group3 (the laughing man in the group photo) has his left eye nearly shut, the right
    half open: the solver keeps them apart, and the mirror image swaps them (no profile:
    one made from this face would take the wink as its neutral)."""
    (face, flipped) = _by_face(held_out)["group3"]
    for t, sign in ((face, 1.0), (flipped, -1.0)):
        for kind in ("neutral", "disgust"):
            w = solved(t, "none", kind)
            assert w is not None
            assert sign * _side_gap(w, "eyeBlink") > 0.15, (t.name, kind)


@pytest.mark.parametrize("symmetric", [False, True])
def test_one_sided_smile_survives(model: Path, media: Path, symmetric: bool) -> None:
    """single_face.mp4's smile on the performer's left half only (a real smiling frame
    blended into a relaxed one along the face's midline): the side-bias removal keeps the
    left smile well above the right, and the mirror image swaps them; so does the
    mirror-averaged LiteRT tracker (symmetric)."""
    images, _ = read_frames(media / "single_face.mp4")
    relaxed, smiling = images[5], images[45]
    kind = "litert" if symmetric else "mediapipe"
    with create_tracker(kind, str(model), mode="image", symmetric=symmetric) as tracker:
        f = tracker(Frame(timestamp=0.0, image=smiling))
        assert f.landmarks is not None
        mid = float(np.median(f.landmarks[[1, 4, 0, 17, 152], 0])) * relaxed.shape[1]
        x = np.arange(relaxed.shape[1])[None, :, None]
        left = np.clip((x - mid) / 10 + 0.5, 0, 1)  # image right = performer's left
        half = (smiling * left + relaxed * (1 - left)).astype(np.uint8)
        got = [tracker(Frame(timestamp=0.0, image=im)) for im in (half, half[:, ::-1].copy())]
    for frame, sign in zip(got, (1.0, -1.0), strict=True):
        w = TrackingSolver(None)(dataclasses.replace(frame)).weights
        assert sign * _side_gap(w, "mouthSmile") > 0.15, (sign, _side_gap(w, "mouthSmile"))
        assert sign * _side_gap(frame.weights, "mouthSmile") > 0.25  # the model sees it too
