"""The zoom of MediaPipe's tracker on real media: far faces found in crops and tiles.

Variants are made from the shared clips with `avatar_driver.degrade.far` (the frame shrunk
into a same-size wall, the face at ~40 px) and moved with OpenCV; the reference is the
same tracker on the clean clip, its landmarks scaled like the pixels were.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from avatar_driver import degrade
from avatar_driver.frame import Frame
from avatar_driver.sources import VideoSource
from avatar_driver.tracking.landmarker import FaceTracker, face_frame
from avatar_driver.tracking.roi import tiles
from avatar_driver.tracking.zoom import TILE_SIDE, face_box, tile_grids

FAR = 0.2


def _images(media: Path, name: str) -> tuple[list[np.ndarray], float]:
    with VideoSource(media / name) as src:
        frames = list(src)
    fps = (len(frames) - 1) / frames[-1].timestamp
    return [f.image for f in frames], fps


def _track(
    model: Path, images: Sequence[np.ndarray], fps: float, *, zoom: bool = True
) -> tuple[list[Frame], int]:
    """Frames tracked in VIDEO mode, and how many crops and tiles the zoom ran."""
    with FaceTracker(model, mode="video", zoom=zoom) as tracker:
        out = [
            tracker(Frame(timestamp=k / fps, index=k, image=img)) for k, img in enumerate(images)
        ]
        return out, tracker.zoom.runs if tracker.zoom else 0


def _scaled(points: np.ndarray, w: int, h: int, scale: float) -> np.ndarray:
    """Clean normalised landmarks -> pixels of `degrade.far(img, scale)` (same placement)."""
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    return points[:, :2] * (sw, sh) + ((w - sw) // 2, (h - sh) // 2)


@pytest.fixture(scope="module")
def single(model: Path, media: Path) -> tuple[list[np.ndarray], float, list[Frame]]:
    images, fps = _images(media, "single_face.mp4")
    clean, runs = _track(model, images, fps)
    assert runs == 0  # a big face: the zoom never ran
    return images, fps, clean


def test_big_face_is_tracked_exactly_as_without_zoom(model: Path, single) -> None:
    images, fps, clean = single
    plain, _ = _track(model, images, fps, zoom=False)
    for a, b in zip(clean, plain, strict=True):
        assert a.face_present and b.face_present
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
        np.testing.assert_array_equal(a.pose, b.pose)


def test_far_face_found_and_mapped_back_onto_the_frame(model: Path, single) -> None:
    images, fps, clean = single
    far = [degrade.far(img, FAR) for img in images]
    h, w = far[0].shape[:2]
    plain, _ = _track(model, far, fps, zoom=False)
    assert sum(f.face_present for f in plain) < 0.1 * len(far)  # too small for the task
    got, runs = _track(model, far, fps)
    found = [k for k, f in enumerate(got) if f.face_present]
    assert len(found) >= 0.9 * len(far)
    assert runs <= len(far) + 5  # one crop per frame (plus a few tiles to find it)
    size = np.ptp(_scaled(clean[0].landmarks, w, h, FAR)[:, 1])
    assert size < 50  # the face really is far: under 50 px from brow to chin
    errors = [
        np.linalg.norm(
            got[k].landmarks[:, :2] * (w, h) - _scaled(clean[k].landmarks, w, h, FAR), axis=1
        ).mean()
        for k in found
    ]
    assert max(errors) < 2.0, max(errors)  # px; measured 0.6-0.8
    # The smile is read through the zoom too (the clean clip smiles from ~0.7 s).
    smile = np.array([[got[k].weights[23], clean[k].weights[23]] for k in found])
    assert np.corrcoef(smile.T)[0, 1] > 0.9


def test_pose_of_a_far_face_agrees_with_the_clean_one(model: Path, single) -> None:
    images, fps, clean = single
    got, _ = _track(model, [degrade.far(img, FAR) for img in images], fps)
    diff = np.array(
        [g.pose[:3] - c.pose[:3] for g, c in zip(got, clean, strict=True) if g.face_present]
    )
    assert np.abs(diff).max() < 5.0, np.abs(diff).max(axis=0)  # degrees; measured <= 2.3
    assert np.abs(np.median(diff, axis=0)).max() < 1.5


def test_a_crop_gives_the_whole_frame_pose_on_a_big_face(model: Path, single) -> None:
    """Head pose and translation are refitted on frame coordinates, not the crop's."""
    images = single[0][::8]
    with FaceTracker(model, mode="image") as tracker:
        for img in images:
            h, w = img.shape[:2]
            frame = Frame(timestamp=0.0, image=img)
            whole = tracker(frame)
            zoomed = tracker.zoom.look(img, face_box(whole.landmarks, w, h).scaled(1.8))
            assert zoomed is not None
            crop = face_frame(frame, zoomed)
            assert np.abs(crop.pose[:3] - whole.pose[:3]).max() < 1.5  # measured <= 0.7
            assert np.abs(crop.translation - whole.translation).max() < 0.5  # cm
            px = np.linalg.norm((crop.landmarks - whole.landmarks)[:, :2] * (w, h), axis=1)
            assert px.mean() < 1.5


def test_the_crop_follows_a_face_moving_across_the_frame(model: Path, single) -> None:
    images, fps, clean = single
    h, w = images[0].shape[:2]
    n = len(images)
    shift = np.linspace(-0.3, 0.3, n) * w  # ~250 px left to right, ~3.5 px a frame
    moved = []
    for img, dx in zip(images, shift, strict=True):
        m = np.float32([[1, 0, dx], [0, 1, 0]])
        far = degrade.far(img, FAR)
        moved.append(cv2.warpAffine(far, m, (w, h), borderMode=cv2.BORDER_REPLICATE))
    got, runs = _track(model, moved, fps)
    found = [k for k, f in enumerate(got) if f.face_present]
    assert len(found) >= 0.9 * n
    assert runs <= n + 10
    centre = np.array([got[k].landmarks[:, 0].mean() * w for k in found])
    expected = np.array([_scaled(clean[k].landmarks, w, h, FAR)[:, 0].mean() for k in found])
    expected += shift[found]
    # Within a couple of px all the way (the smoothing may lag a moving face a little).
    assert np.abs(centre - expected).max() < 2.0, np.abs(centre - expected).max()  # measured < 1
    assert centre[-1] - centre[0] > 0.5 * w


def test_a_far_face_lost_and_found_again(model: Path, media: Path) -> None:
    images, fps = _images(media, "face_noface.mov")
    face, card = images[:60], images[-40:]  # the man, then the cartoon title (no face)
    clip = [degrade.far(img, FAR) for img in face + card + face]
    got, _ = _track(model, clip, fps)
    present = np.array([f.face_present for f in got])
    assert present[10:60].all()  # found within 10 frames (tiles), then followed
    assert present[60:100].sum() <= 2  # lost on the title card (a stray find tolerated)
    back = int(np.argmax(present[100:]))
    assert back <= 12  # found again within 12 frames of the face's return
    assert present[100 + back :].mean() >= 0.9


def test_group_photo_gives_every_asked_performer_a_face(model: Path, media: Path) -> None:
    img = cv2.cvtColor(cv2.imread(str(media / "group_six.jpg")), cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    frame = Frame(timestamp=0.0, image=img)
    with FaceTracker(model, mode="image", num_faces=5, zoom=False) as plain:
        assert len(plain.faces(frame)) < 5  # the whole frame alone misses some
    far = Frame(timestamp=0.0, image=degrade.far(img, 0.5))  # ~55-65 px faces
    for n, seen in ((1, frame), (5, frame), (6, frame), (6, far)):
        with FaceTracker(model, mode="image", num_faces=n) as tracker:
            faces = tracker.faces(seen)
        assert len(faces) == n
        boxes = [face_box(f.landmarks, w, h) for f in faces]
        centres = np.array([(b.cx, b.cy) for b in boxes])
        gaps = np.linalg.norm(centres[:, None] - centres[None], axis=2) + np.eye(n) * 1e9
        size = 1.0 if seen is frame else 0.5
        assert gaps.min() > 100 * size  # px: n different people, not one face twice
        assert all(80 * size < b.width < 200 * size for b in boxes)  # faces are ~110-130 px


def test_group_video_follows_five_performers(model: Path, media: Path) -> None:
    """A video of the group (the photo held): tiles add faces frame by frame, then crops
    follow all five and the whole frame rests."""
    img = cv2.cvtColor(cv2.imread(str(media / "group_six.jpg")), cv2.COLOR_BGR2RGB)
    with FaceTracker(model, mode="video", num_faces=5) as tracker:
        counts = [len(tracker.faces(Frame(timestamp=k / 30, image=img))) for k in range(20)]
        assert tracker.zoom is not None and tracker.zoom.active
    assert counts[-8:] == [5] * 8, counts


def test_tile_grids_get_finer_down_to_a_few_hundred_px() -> None:
    assert tile_grids(640, 360) == [2, 3]
    assert tile_grids(1280, 720) == [2, 3, 5]
    assert tile_grids(320, 240) == []  # the whole frame is small enough already
    for w, h in ((1280, 720), (1920, 1080)):
        sides = [tiles(w, h, across=n)[0].width for n in tile_grids(w, h)]
        assert sides == sorted(sides, reverse=True) and sides[-1] <= TILE_SIDE


def _laughing(media: Path) -> np.ndarray:
    """laughing_hand.png (a face not tuned on) at a webcam's 1280 px width, as RGB."""
    img = cv2.imread(str(media / "laughing_hand.png"), cv2.IMREAD_COLOR)
    img = cv2.resize(img, (1280, round(img.shape[0] * 1280 / img.shape[1])))
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


@pytest.mark.parametrize(("scale", "within"), [(0.2, 10), (0.15, 32)])
def test_far_face_in_a_big_frame_is_found_by_finer_tiles(
    model: Path, media: Path, scale: float, within: int
) -> None:
    """A 58 px / 44 px face in a 1280 px frame (held still as a video): the 320 px tiles
    find it (the whole frame and 512 px tiles do not), then the crop keeps it."""
    img = _laughing(media)
    w = img.shape[1]
    with FaceTracker(model, mode="image", zoom=False) as still:
        clean = still(Frame(timestamp=0.0, image=img))
    assert 35 < np.ptp(clean.landmarks[:, 0]) * w * scale < 65  # px wide in the far frame
    far = degrade.far(img, scale)
    got, _ = _track(model, [far] * 40, 30.0)
    present = np.array([f.face_present for f in got])
    first = int(np.argmax(present))
    assert present.any() and first <= within
    assert present[first:].mean() >= 0.9
    diff = np.array([f.pose[:3] - clean.pose[:3] for f in got if f.face_present])
    assert np.abs(np.median(diff, axis=0)).max() < 6.0  # degrees; measured 1.7 / 4.2


def test_tiles_follow_a_change_of_frame_size(model: Path, media: Path, single) -> None:
    """A camera switched mid-run (640x360 -> 1280 px): the tiles are made for the new size."""
    small = [degrade.far(img, FAR) for img in single[0][:20]]
    big = [degrade.far(_laughing(media), 0.2)] * 40  # a 58 px face in the middle
    got, _ = _track(model, small + big, 30.0)
    present = np.array([f.face_present for f in got[20:]])
    assert present.any() and int(np.argmax(present)) <= 32  # 30 tiles at 1280 px
    assert present[int(np.argmax(present)) :].mean() >= 0.9
