"""The cartoon avatar: what must be visible for known weights, and purity."""

from __future__ import annotations

import numpy as np

from avatar_driver.frame import Frame
from avatar_driver.render.avatar import IRIS, MOUTH, SCLERA, anchors, render_avatar
from avatar_driver.shapes import INDEX

W, H = 640, 480
A = anchors(W, H)


def face(**weights: float) -> Frame:
    f = Frame(timestamp=0.0, face_present=True)
    for name, value in weights.items():
        f.weights[INDEX[name]] = value
    return f


def box(img: np.ndarray, center: tuple[float, float], half_w: float, half_h: float) -> np.ndarray:
    x, y = center
    return img[int(y - half_h) : int(y + half_h), int(x - half_w) : int(x + half_w)]


def count(region: np.ndarray, color: tuple[int, int, int], tol: int = 12) -> int:
    return int((np.abs(region.astype(int) - color).max(axis=2) <= tol).sum())


def eye_white(img: np.ndarray, center: tuple[float, float]) -> int:
    ew, eh = A.eye_size
    return count(box(img, center, ew * 1.3, eh * 1.6), SCLERA, tol=6)


def test_image_format() -> None:
    img = render_avatar(face(), W, H)
    assert img.shape == (H, W, 3) and img.dtype == np.uint8
    assert render_avatar(face(), 320, 240).shape == (240, 320, 3)


def test_open_eyes_show_white_closed_eyes_do_not() -> None:
    open_img = render_avatar(face(), W, H)
    shut = render_avatar(face(eyeBlinkLeft=1.0, eyeBlinkRight=1.0), W, H)
    for eye in (A.left_eye, A.right_eye):
        assert eye_white(open_img, eye) > 150
        assert eye_white(shut, eye) == 0


def test_a_wink_closes_the_performers_left_eye_on_the_image_right() -> None:
    img = render_avatar(face(eyeBlinkLeft=1.0), W, H)
    assert A.left_eye[0] > W / 2
    assert eye_white(img, A.left_eye) == 0
    assert eye_white(img, A.right_eye) > 150


def test_open_mouth_is_drawn_open() -> None:
    """Closed lips are a thin line; an open mouth is a tall dark opening."""

    def tallest_dark_column(f: Frame) -> int:
        mw = A.radius * 0.35
        region = box(render_avatar(f, W, H), A.mouth, mw, mw * 1.6)
        dark = np.abs(region.astype(int) - MOUTH).max(axis=2) <= 20
        return int(dark.sum(axis=0).max())

    closed, opened = tallest_dark_column(face()), tallest_dark_column(face(jawOpen=1.0))
    assert closed <= 10
    assert opened >= 30


def test_gaze_moves_the_irises() -> None:
    def iris_x(f: Frame) -> float:
        ew, eh = A.eye_size
        region = box(render_avatar(f, W, H), A.left_eye, ew * 1.3, eh * 1.6)
        xs = np.nonzero(np.abs(region.astype(int) - IRIS).max(axis=2) <= 10)[1]
        return float(xs.mean())

    ahead = iris_x(face())
    f = face()
    f.pose[3:9] = (20.0, 0.0, 0.0, 20.0, 0.0, 0.0)  # eyes turned to the performer's left
    assert iris_x(f) > ahead + 3
    assert iris_x(face(eyeLookInLeft=1.0)) < ahead - 3  # left eye toward the nose


def test_head_turn_moves_the_face() -> None:
    def mouth_x(img: np.ndarray) -> float:
        xs = np.nonzero(np.abs(img.astype(int) - MOUTH).max(axis=2) <= 30)[1]
        return float(xs.mean())

    f = face(jawOpen=0.6)
    ahead = mouth_x(render_avatar(f, W, H))
    f.pose[0] = 30.0  # toward the performer's left, the image's right
    assert mouth_x(render_avatar(f, W, H)) > ahead + 10


def test_pure_function_of_the_frame() -> None:
    f = face(jawOpen=0.3, mouthSmileLeft=0.7, browInnerUp=0.5)
    f.pose[:3] = (12.0, -5.0, 8.0)
    before = (f.weights.copy(), f.pose.copy())
    a, b = render_avatar(f, W, H), render_avatar(f, W, H)
    assert np.array_equal(a, b) and a is not b
    assert np.array_equal(f.weights, before[0]) and np.array_equal(f.pose, before[1])
    a[:] = 0  # the cached background must not leak through a returned image
    assert np.array_equal(render_avatar(f, W, H), b)


def test_every_shape_renders_at_extremes() -> None:
    for k in range(52):
        f = Frame(timestamp=0.0)
        f.weights[k] = 1.0
        f.pose[:] = (60.0, -60.0, 60.0, 40.0, -40.0, 0.0, -40.0, 40.0, 0.0)
        assert render_avatar(f, 160, 120).shape == (120, 160, 3)
