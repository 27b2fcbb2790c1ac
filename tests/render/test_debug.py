"""The debug view: camera image, landmark dots, bars of the strongest shapes."""

from __future__ import annotations

import numpy as np

from avatar_driver.frame import Frame
from avatar_driver.render.debug import render_debug
from avatar_driver.shapes import INDEX

DOT = np.array((64, 255, 160))


def test_camera_image_with_landmarks_and_bars() -> None:
    img = np.full((240, 320, 3), 90, dtype=np.uint8)
    lm = np.zeros((478, 3), dtype=np.float32)
    lm[:, 0] = np.linspace(0.55, 0.95, 478)
    lm[:, 1] = 0.8
    f = Frame(timestamp=0.0, face_present=True, image=img, landmarks=lm)
    f.weights[INDEX["jawOpen"]] = 0.9
    out = render_debug(f, 640, 480)
    assert out.shape == (480, 640, 3)
    row = out[int(0.8 * 480)]
    assert (np.abs(row.astype(int) - DOT).max(axis=1) == 0).sum() > 100  # the dots
    assert np.array_equal(out[470, 630], [90, 90, 90])  # camera pixels elsewhere
    bars = (np.abs(out[:250, :260].astype(int) - (255, 196, 64)).max(axis=2) == 0).sum()
    assert bars > 200  # the jawOpen bar
    assert np.array_equal(img, np.full((240, 320, 3), 90))  # input untouched


def test_without_an_image() -> None:
    out = render_debug(Frame(timestamp=0.0), 320, 240)
    assert out.shape == (240, 320, 3) and out.dtype == np.uint8
