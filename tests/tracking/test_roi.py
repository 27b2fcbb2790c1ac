"""Crop maths: image <-> crop mappings, boxes from landmarks and detections, tiles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from avatar_driver.tracking.roi import (
    LEFT_EYE_OUTER,
    RIGHT_EYE_OUTER,
    Roi,
    crop,
    crop_matrix,
    crop_to_image,
    letterbox,
    letterbox_to_image,
    roi_from_detection,
    roi_from_landmarks,
    tiles,
)


@pytest.mark.parametrize("rotation", [0.0, 0.4, -1.2, math.pi])
def test_crop_to_image_inverts_crop_matrix(rotation: float) -> None:
    roi = Roi(300.0, 200.0, 120.0, 90.0, rotation)
    w, h = 640, 360
    rng = np.random.default_rng(1)
    px = rng.uniform(0, 1, (50, 2)) * (w, h)
    m = crop_matrix(roi, 256)
    local = (px @ m[:, :2].T + m[:, 2]) / 256
    back = crop_to_image(np.c_[local, np.zeros(50)], roi, w, h)
    np.testing.assert_allclose(back[:, :2] * (w, h), px, atol=1e-3)


def test_corners_map_to_the_crop_corners() -> None:
    roi = Roi(50.0, 40.0, 20.0, 10.0, 0.3)
    m = crop_matrix(roi, (64, 32))
    got = roi.corners() @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(got, [[0, 0], [64, 0], [64, 32], [0, 32]], atol=1e-9)


def test_crop_cuts_the_box_out() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 140:160] = 255  # a white square centred at (150, 50)
    patch = crop(image, Roi(150.0, 50.0, 20.0, 20.0), 16)
    assert patch.shape == (16, 16, 3) and patch[2:-2, 2:-2].min() == 255
    empty = crop(image, Roi(50.0, 50.0, 20.0, 20.0), 16)
    assert empty.max() == 0


def _face(tilt: float) -> np.ndarray:
    """478 points in a 100 px disc around (320, 180), eye corners level then tilted."""
    rng = np.random.default_rng(0)
    pts = rng.uniform(-50, 50, (478, 2))
    pts[LEFT_EYE_OUTER] = (-30, -10)
    pts[RIGHT_EYE_OUTER] = (30, -10)
    c, s = math.cos(tilt), math.sin(tilt)
    pts = pts @ np.array([[c, s], [-s, c]]) + (320, 180)
    return pts / (640, 360)


@pytest.mark.parametrize("tilt", [0.0, 0.5, -0.7])
def test_roi_from_landmarks_turns_with_the_eyes(tilt: float) -> None:
    roi = roi_from_landmarks(_face(tilt), 640, 360)
    # Rotation undoes the tilt (positive tilt = clockwise on screen, y down).
    assert roi.rotation == pytest.approx(tilt, abs=1e-9)
    assert roi.width == roi.height  # square, on the long side
    assert roi.width >= 1.5 * 50  # grown around the face


def test_roi_from_detection_is_centred_and_grown() -> None:
    box = np.array([0.25, 0.25, 0.25, 0.5])
    kps = np.array([[0.3, 0.4], [0.45, 0.4]] + [[0.4, 0.5]] * 4)
    roi = roi_from_detection(box, kps, 400, 200)
    assert (roi.cx, roi.cy) == pytest.approx((150.0, 100.0))
    assert (roi.width, roi.height) == pytest.approx((150.0, 150.0))
    assert roi.rotation == pytest.approx(0.0)


def test_letterbox_round_trip() -> None:
    image = np.zeros((360, 640, 3), np.uint8)
    boxed, square = letterbox(image, 128)
    assert boxed.shape == (128, 128, 3)
    # The image spans the full width and the middle 360/640 of the height.
    top_left = letterbox_to_image(np.array([0.0, 0.5 - 0.5 * 360 / 640]), square, 640, 360)
    np.testing.assert_allclose(top_left, [0.0, 0.0], atol=1e-9)


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (640, 640)])
def test_tiles_cover_the_image(size: tuple[int, int]) -> None:
    w, h = size
    boxes = tiles(w, h, across=2)
    assert len(boxes) >= 2
    ys, xs = np.mgrid[0:h:7, 0:w:7]
    covered = np.zeros(xs.shape, bool)
    for b in boxes:
        covered |= (abs(xs - b.cx) <= b.width / 2) & (abs(ys - b.cy) <= b.height / 2)
    assert covered.all()
    assert all(b.width < max(w, h) for b in boxes)  # each tile zooms in
