"""The debug look: the camera image with the landmarks and live bars of the strongest shapes.

A pure function of the frame, like the avatar. Without a camera image (demo, replay) the
bars and pose are drawn on a dark background.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..frame import Frame
from ..shapes import ARKIT_NAMES

__all__ = ["render_debug"]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BAR = (255, 196, 64)
_DOT = (64, 255, 160)
_TEXT = (255, 255, 255)


def render_debug(frame: Frame, width: int = 640, height: int = 480, *, bars: int = 8) -> np.ndarray:
    """Camera image (or a dark panel), landmarks as dots, the `bars` strongest shapes."""
    if frame.image is not None and frame.image.ndim == 3:
        src = frame.image[..., :3]
        if src.shape[0] != height or src.shape[1] != width:
            img = cv2.resize(src, (width, height), interpolation=cv2.INTER_LINEAR)
        else:
            img = src.copy()
    else:
        img = np.full((height, width, 3), 28, dtype=np.uint8)
    if frame.landmarks is not None and len(frame.landmarks):
        xy = np.asarray(frame.landmarks)[:, :2] * (width, height)
        pts = np.rint(xy).astype(np.intp)
        ok = (
            (pts[:, 0] >= 1) & (pts[:, 0] < width - 1) & (pts[:, 1] >= 1) & (pts[:, 1] < height - 1)
        )
        px, py = pts[ok, 0], pts[ok, 1]
        for dx, dy in ((0, 0), (1, 0), (0, 1), (-1, 0), (0, -1)):
            img[py + dy, px + dx] = _DOT
    scale = height / 480.0
    row = max(12, round(22 * scale))
    panel_w = round(250 * scale)
    top = round(10 * scale)
    y1 = top + row * (bars + 2)
    roi = img[top:y1, 0:panel_w]
    roi[:] = (roi * 0.45).astype(np.uint8)
    order = np.argsort(frame.weights)[::-1][:bars]
    font = 0.45 * scale
    for k, i in enumerate(order):
        y = top + row * (k + 1)
        v = float(np.clip(frame.weights[i], 0.0, 1.0))
        cv2.putText(img, ARKIT_NAMES[i], (round(6 * scale), y), _FONT, font, _TEXT, 1, cv2.LINE_AA)
        x0 = round(150 * scale)
        cv2.rectangle(img, (x0, y - row // 2), (x0 + round(90 * scale * v), y), _BAR, -1)
    yaw, pitch, roll = (float(v) for v in frame.pose[:3])
    status = f"yaw {yaw:+.0f} pitch {pitch:+.0f} roll {roll:+.0f}"
    status += "" if frame.face_present else "  (no face)"
    cv2.putText(img, status, (round(6 * scale), y1 - row // 3), _FONT, font, _TEXT, 1, cv2.LINE_AA)
    return img
