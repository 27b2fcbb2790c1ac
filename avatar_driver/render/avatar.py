"""A friendly 2D cartoon face drawn from a frame: the virtual camera's default look.

`render_avatar(frame, width, height)` is a pure function of the frame (weights, head pose,
gaze): same frame, same pixels, so tests can check what must be visible. The face is a few
hundred points on a rounded head, turned by the head pose in 3D and projected, then drawn
with OpenCV. The avatar faces the viewer like a camera image: the performer's left eye is
on the image's right, and turning to their left turns the face to the image's right.

Hot-path rule: one 3x3 rotation for all points, a handful of OpenCV fills on the full
image and small per-feature regions for clipped details (iris, teeth), no per-pixel Python.
The background is built once per size and copied.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from ..frame import Frame
from ..shapes import INDEX
from ..tracking.pose import matrix_from_euler

__all__ = ["AvatarAnchors", "anchors", "render_avatar"]

_AA = cv2.LINE_AA
_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT

SKIN = (255, 221, 196)
SKIN_SHADE = (240, 196, 170)
OUTLINE = (120, 72, 60)
HAIR = (92, 58, 46)
HAIR_LIGHT = (122, 80, 62)
SCLERA = (255, 255, 255)
IRIS = (74, 128, 196)
PUPIL = (28, 30, 44)
BROW = (86, 52, 40)
MOUTH = (150, 40, 56)
LIP = (214, 96, 104)
TONGUE = (236, 118, 128)
TEETH = (255, 253, 248)
BLUSH = (255, 150, 150)
SHIRT = (104, 150, 214)
SHIRT_DARK = (84, 124, 186)
BG_TOP = (196, 226, 250)
BG_BOTTOM = (236, 246, 255)


class AvatarAnchors:
    """Where the neutral, straight-ahead face's features sit (pixels), for tests and layout."""

    def __init__(self, width: int, height: int) -> None:
        self.radius = 0.3 * min(width, height * 1.2)
        self.center = (width / 2.0, height * 0.47)
        cx, cy = self.center
        r = self.radius
        #: the performer's left eye is drawn on the image's right
        self.left_eye = (cx + _EYE_X * r, cy - _EYE_Y * r)
        self.right_eye = (cx - _EYE_X * r, cy - _EYE_Y * r)
        self.mouth = (cx, cy - _MOUTH_Y * r)
        self.eye_size = (_EYE_W * r, _EYE_H * r)


_EYE_X, _EYE_Y, _EYE_W, _EYE_H = 0.36, 0.06, 0.15, 0.19
_EYE_CLOSED = 0.14  # openness below which an eye is drawn as a closed lash line
_MOUTH_Y = -0.45
_BROW_Y = 0.33


def anchors(width: int, height: int) -> AvatarAnchors:
    """Feature positions of the neutral face at this image size."""
    return AvatarAnchors(width, height)


@functools.lru_cache(maxsize=8)
def _background(width: int, height: int) -> np.ndarray:
    """A soft vertical gradient with a faint vignette (built once per size, never mutated)."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.array(BG_TOP, dtype=np.float32)
    bottom = np.array(BG_BOTTOM, dtype=np.float32)
    img = top + (bottom - top) * t
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    d = ((xx - width / 2) / width) ** 2 + ((yy - height * 0.45) / height) ** 2
    img = img * (1.0 - 0.18 * np.clip(d * 1.6, 0, 1))[..., None]
    out = np.ascontiguousarray(img.clip(0, 255).astype(np.uint8))
    out.setflags(write=False)
    return out


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Head rotation for points in face space (x to the image's right, y up, z to the viewer).

    The tracker's own convention (`tracking.pose`): yaw > 0 turns the nose to the image's
    right (the performer's left), pitch > 0 lifts the nose, roll > 0 tilts the top of the
    head to the image's right.
    """
    return matrix_from_euler(yaw, pitch, roll)[:3, :3]


def _on_face(xy: np.ndarray, bulge: float = 1.0) -> np.ndarray:
    """Lift 2D face-space points onto the rounded front of the head (adds z)."""
    out = np.empty((len(xy), 3))
    out[:, :2] = xy
    z = 1.15 - xy[:, 0] ** 2 * 0.9 - xy[:, 1] ** 2 * 0.5
    out[:, 2] = 0.55 * bulge * np.sqrt(np.maximum(z, 0.05))
    return out


@functools.lru_cache(maxsize=16)
def _unit_circle(n: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.cos(a), np.sin(a)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> np.ndarray:
    c, s = _unit_circle(n)
    out = np.empty((n, 2))
    out[:, 0] = cx + rx * c
    out[:, 1] = cy + ry * s
    return out


@functools.lru_cache(maxsize=16)
def _bezier_weights(n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    return np.column_stack(((1 - t) ** 2, 2 * (1 - t) * t, t**2))


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 12) -> np.ndarray:
    return _bezier_weights(n) @ np.vstack((p0, p1, p2))


class _Projector:
    """Face space -> integer pixel coordinates (OpenCV fixed point), one matrix product."""

    def __init__(self, rot: np.ndarray, center: tuple[float, float], radius: float) -> None:
        self.rot = rot
        self.r = radius
        self._m = rot.T[:, :2] * np.array([radius, -radius]) * _ONE
        self._off = np.array(center) * _ONE

    def __call__(self, pts3: np.ndarray) -> np.ndarray:
        return np.rint(pts3 @ self._m + self._off).astype(np.int32)


def _fill(img: np.ndarray, pts: np.ndarray, color: tuple[int, int, int]) -> None:
    cv2.fillPoly(img, [pts], color, _AA, _SHIFT)


def _line(
    img: np.ndarray,
    pts: np.ndarray,
    color: tuple[int, int, int],
    width: float,
    closed: bool = False,
) -> None:
    cv2.polylines(img, [pts], closed, color, max(1, round(width)), _AA, _SHIFT)


def _clipped(
    img: np.ndarray, outline: np.ndarray, shapes: list[tuple[np.ndarray, tuple[int, int, int]]]
) -> None:
    """Draw filled shapes clipped to the polygon `outline`, working in its bounding box only."""
    pts = outline.astype(np.int64)
    x0 = max(int(pts[:, 0].min() >> _SHIFT) - 2, 0)
    y0 = max(int(pts[:, 1].min() >> _SHIFT) - 2, 0)
    x1 = min(int(pts[:, 0].max() >> _SHIFT) + 3, img.shape[1])
    y1 = min(int(pts[:, 1].max() >> _SHIFT) + 3, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    off = np.array([x0 << _SHIFT, y0 << _SHIFT], dtype=np.int32)
    roi = img[y0:y1, x0:x1]
    layer = roi.copy()
    mask = np.zeros(roi.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [outline - off], 255, cv2.LINE_8, _SHIFT)
    for shape, color in shapes:
        cv2.fillPoly(layer, [shape - off], color, _AA, _SHIFT)
    cv2.copyTo(layer, mask, roi)  # writes into the view


def _w(frame: Frame, name: str) -> float:
    return float(frame.weights[INDEX[name]])


def _gaze(frame: Frame, side: str) -> tuple[float, float]:
    """Gaze of one eye as (right, up) in -1..1 on the image, from the tracker's eye angles
    when it gives them, else from the eyeLook shapes."""
    base = 3 if side == "Left" else 6
    yaw, pitch = float(frame.pose[base]), float(frame.pose[base + 1])
    if abs(yaw) > 0.5 or abs(pitch) > 0.5:
        return float(np.clip(yaw / 30.0, -1, 1)), float(np.clip(pitch / 25.0, -1, 1))
    look_in, look_out = _w(frame, "eyeLookIn" + side), _w(frame, "eyeLookOut" + side)
    # The left eye looking out looks to the performer's left, the image's right.
    gx = (look_out - look_in) if side == "Left" else (look_in - look_out)
    gy = _w(frame, "eyeLookUp" + side) - _w(frame, "eyeLookDown" + side)
    return float(np.clip(gx, -1, 1)), float(np.clip(gy, -1, 1))


def _eye_lids(frame: Frame, side: str, sx: float) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(openness, squint, upper lid, lower lid) of one eye at face x = sx, from
    blink/squint/wide; an openness under `_EYE_CLOSED` is drawn as a closed eye."""
    blink = _w(frame, "eyeBlink" + side)
    squint = _w(frame, "eyeSquint" + side)
    wide = _w(frame, "eyeWide" + side)
    openness = float(np.clip((1.0 - blink) * (1.0 - 0.45 * squint) + 0.3 * wide, 0.0, 1.3))
    top_h = _EYE_H * openness
    bot_h = _EYE_H * (0.85 - 0.35 * squint) * min(1.0, openness + 0.2)
    a = np.linspace(0, np.pi, 16)
    upper = np.column_stack((sx - _EYE_W * np.cos(a), _EYE_Y + top_h * np.sin(a)))
    lower = np.column_stack((sx + _EYE_W * np.cos(a), _EYE_Y - bot_h * np.sin(a)))
    return openness, squint, upper, lower


def _draw_eye(img: np.ndarray, proj: _Projector, frame: Frame, side: str, sx: float) -> None:
    """One eye at face x = sx: lids from blink/squint/wide, iris from gaze."""
    openness, squint, upper, lower = _eye_lids(frame, side, sx)
    smile = _w(frame, "mouthSmile" + side)
    cx, cy = sx, _EYE_Y
    w, h = _EYE_W, _EYE_H
    r = proj.r
    if openness < _EYE_CLOSED:
        # Closed: a lash line, curved up into a happy arc when smiling.
        bend = -0.05 + 0.11 * min(1.0, smile + squint)
        pts = _bezier(np.array([cx - w, cy]), np.array([cx, cy - 2 * bend]), np.array([cx + w, cy]))
        _line(img, proj(_on_face(pts)), PUPIL, 0.028 * r)
        return
    outline = proj(_on_face(np.vstack((upper, lower))))
    gx, gy = _gaze(frame, side)
    ix, iy = cx + gx * w * 0.55, cy + gy * h * 0.45
    iris = proj(_on_face(_ellipse(ix, iy, w * 0.62, w * 0.66)))
    pupil = proj(_on_face(_ellipse(ix, iy, w * 0.3, w * 0.32)))
    shine = proj(_on_face(_ellipse(ix + w * 0.22, iy + w * 0.24, w * 0.14, w * 0.14, 12)))
    _clipped(img, outline, [(iris, IRIS), (pupil, PUPIL), (shine, SCLERA)])
    _line(img, proj(_on_face(upper)), PUPIL, 0.03 * r)
    _line(img, proj(_on_face(lower)), OUTLINE, 0.012 * r)


def _draw_eye_whites(img: np.ndarray, proj: _Projector, frame: Frame, side: str, sx: float) -> None:
    openness, _, upper, lower = _eye_lids(frame, side, sx)
    if openness >= _EYE_CLOSED:
        _fill(img, proj(_on_face(np.vstack((upper, lower)))), SCLERA)


def _draw_brow(img: np.ndarray, proj: _Projector, frame: Frame, side: str, sx: float) -> None:
    inner_up = _w(frame, "browInnerUp")
    outer_up = _w(frame, "browOuterUp" + side)
    down = _w(frame, "browDown" + side)
    sign = 1.0 if sx > 0 else -1.0  # outer end is away from the nose
    base = _BROW_Y
    inner = np.array([sx - sign * 0.13, base + 0.10 * inner_up - 0.09 * down])
    outer = np.array([sx + sign * 0.14, base - 0.02 + 0.10 * outer_up - 0.03 * down])
    mid = (inner + outer) / 2 + np.array([0.0, 0.05 + 0.02 * outer_up - 0.02 * down])
    pts = _bezier(inner, mid, outer, 10)
    _line(img, proj(_on_face(pts, 1.03)), BROW, 0.05 * proj.r)


def _draw_mouth(img: np.ndarray, proj: _Projector, frame: Frame) -> None:
    jaw = _w(frame, "jawOpen")
    close = _w(frame, "mouthClose")
    funnel, pucker = _w(frame, "mouthFunnel"), _w(frame, "mouthPucker")
    smile_l, smile_r = _w(frame, "mouthSmileLeft"), _w(frame, "mouthSmileRight")
    frown_l, frown_r = _w(frame, "mouthFrownLeft"), _w(frame, "mouthFrownRight")
    stretch = (_w(frame, "mouthStretchLeft") + _w(frame, "mouthStretchRight")) / 2
    lower_down = (_w(frame, "mouthLowerDownLeft") + _w(frame, "mouthLowerDownRight")) / 2
    upper_up = (_w(frame, "mouthUpperUpLeft") + _w(frame, "mouthUpperUpRight")) / 2
    press = (_w(frame, "mouthPressLeft") + _w(frame, "mouthPressRight")) / 2
    roll = (_w(frame, "mouthRollUpper") + _w(frame, "mouthRollLower")) / 2
    # The performer's left is the image's right (+x).
    shift = 0.12 * (_w(frame, "mouthLeft") - _w(frame, "mouthRight"))
    shift += 0.08 * (_w(frame, "jawLeft") - _w(frame, "jawRight"))
    half = 0.21 * (1 + 0.3 * stretch + 0.18 * (smile_l + smile_r) / 2 - 0.5 * pucker - 0.3 * funnel)
    half *= 1 - 0.15 * press
    cy = _MOUTH_Y - 0.06 * jaw
    lift_l = 0.09 * smile_l - 0.08 * frown_l  # corner on the image's right
    lift_r = 0.09 * smile_r - 0.08 * frown_r
    left = np.array([shift + half, cy + lift_l])
    right = np.array([shift - half, cy + lift_r])
    opening = max(
        0.0, 0.34 * jaw + 0.07 * lower_down + 0.04 * upper_up + 0.1 * funnel - 0.3 * close
    )
    opening *= 1 - 0.6 * roll
    round_ = 0.6 * max(funnel, pucker)
    smile_dip = 0.012 + 0.07 * (smile_l + smile_r) / 2 - 0.05 * (frown_l + frown_r) / 2
    top_ctrl = np.array([shift, cy + 0.02 + 0.03 * upper_up + round_ * opening * 0.5])
    if opening < 0.03:
        # Closed lips: one curve (a smile dips in the middle), or a small pout when puckered.
        mid = np.array([shift, cy - 2 * smile_dip - 0.005])
        if pucker > 0.4:
            lips = _ellipse(shift, cy, half * 0.9 + 0.03, 0.045 + 0.03 * pucker, 20)
            _fill(img, proj(_on_face(lips, 1.06)), LIP)
            _line(img, proj(_on_face(lips, 1.06)), MOUTH, 0.012 * proj.r, closed=True)
            return
        pts = _bezier(right, mid, left, 16)
        _line(img, proj(_on_face(pts, 1.04)), MOUTH, 0.03 * proj.r)
        return
    bottom_ctrl = np.array([shift, cy - 2 * opening - 2 * smile_dip * (1 - round_)])
    upper = _bezier(right, top_ctrl, left, 14)
    lower = _bezier(left, bottom_ctrl, right, 14)
    outline = proj(_on_face(np.vstack((upper, lower)), 1.04))
    low_y = cy - opening - smile_dip
    tongue = proj(
        _on_face(
            _ellipse(shift, low_y - opening * 0.55, half * 0.55, opening * 0.45 + 0.02, 20), 1.04
        )
    )
    teeth_h = min(0.05, opening * 0.35)
    tl = upper[0] + np.array([0.02, -0.002])
    tr = upper[-1] + np.array([-0.02, -0.002])
    drop = np.array([0.0, -teeth_h])
    teeth = np.vstack((upper[1:-1], tr + drop, tl + drop))
    draw = [(proj(_on_face(teeth, 1.04)), TEETH)] if funnel + pucker < 0.8 else []
    _fill(img, outline, MOUTH)
    _clipped(img, outline, [(tongue, TONGUE), *draw])
    _line(img, outline, LIP, 0.022 * proj.r, closed=True)


def render_avatar(frame: Frame, width: int = 640, height: int = 480) -> np.ndarray:
    """The avatar for one frame as an RGB uint8 image of shape (height, width, 3)."""
    img = _background(width, height).copy()
    a = AvatarAnchors(width, height)
    r = a.radius
    yaw, pitch, roll = (float(v) for v in frame.pose[:3])
    yaw, pitch, roll = (float(np.clip(v, -60, 60)) for v in (yaw, pitch, roll))
    rot = _rotation(yaw, pitch, roll)
    # The head pivots on the neck: turning moves the head's centre a little too.
    pivot_drop = 0.9
    offset = rot @ np.array([0.0, pivot_drop, 0.0]) - np.array([0.0, pivot_drop, 0.0])
    center = (a.center[0] + offset[0] * r, a.center[1] - offset[1] * r)
    proj = _Projector(rot, center, r)
    puff = _w(frame, "cheekPuff")

    # Body and neck (do not turn with the head).
    cx0, cy0 = a.center
    body = _ellipse(cx0, cy0 + 1.95 * r, 1.25 * r, 0.85 * r, 40)
    neck = np.array(
        [[cx0 - 0.24 * r, cy0 + 0.6 * r], [cx0 + 0.24 * r, cy0 + 0.6 * r],
         [cx0 + 0.27 * r, cy0 + 1.25 * r], [cx0 - 0.27 * r, cy0 + 1.25 * r]]
    )  # fmt: skip
    _fill(img, (body * _ONE).astype(np.int32), SHIRT)
    _fill(img, (neck * _ONE).astype(np.int32), SKIN_SHADE)
    collar = _ellipse(cx0, cy0 + 1.2 * r, 0.34 * r, 0.16 * r, 24)
    _fill(img, (collar * _ONE).astype(np.int32), SKIN_SHADE)
    _line(img, (body * _ONE).astype(np.int32), SHIRT_DARK, 0.02 * r, closed=True)

    # Hair behind, ears, face. The face's silhouette does not turn with yaw or pitch (a
    # rounded head looks the same from any side); only features on its front move.
    flat = _Projector(_rotation(0.0, 0.0, roll), center, r)
    back = _ellipse(-0.08 * math.sin(math.radians(yaw)), 0.1, 1.04, 1.1, 48)
    _fill(img, flat(np.column_stack((back, np.zeros(48)))), HAIR)
    for side in (-1.0, 1.0):
        ear = proj(
            np.column_stack((_ellipse(side * 0.9, -0.04, 0.13, 0.19, 16), np.full(16, -0.05)))
        )
        _fill(img, ear, SKIN_SHADE)
    face = _ellipse(0.0, -0.02, 0.88 * (1 + 0.06 * puff), 0.98, 64)
    outline = flat(np.column_stack((face, np.zeros(64))))
    _fill(img, outline, SKIN)
    _line(img, outline, OUTLINE, 0.015 * r, closed=True)
    # Fringe and blush lie on the face: clipped to its silhouette (the fringe to a slightly
    # larger one, so it covers the outline where hair meets the face).
    xs = np.linspace(-1.0, 1.0, 29)
    wave = 0.55 + 0.05 * np.cos(xs * 10.0) - 0.12 * xs**2
    fringe = np.vstack((np.column_stack((xs, wave)), np.array([[1.0, 1.3], [-1.0, 1.3]])))
    glow = max(_w(frame, "cheekSquintLeft"), _w(frame, "mouthSmileLeft"),
               _w(frame, "cheekSquintRight"), _w(frame, "mouthSmileRight"), puff)  # fmt: skip
    blush = tuple(int(s + (b - s) * (0.3 + 0.55 * glow)) for s, b in zip(SKIN, BLUSH, strict=True))
    hairline = flat(np.column_stack((face * 1.025, np.zeros(64))))
    _clipped(img, hairline, [(proj(_on_face(fringe)), HAIR)])
    cheeks = []
    for side in (-1.0, 1.0):
        cheek = _ellipse(
            side * (0.55 + 0.04 * puff), -0.25, 0.14 + 0.04 * puff, 0.085 + 0.02 * puff, 20
        )
        cheeks.append((proj(_on_face(cheek)), blush))
    _clipped(img, outline, cheeks)  # type: ignore[arg-type]
    shine = _bezier(np.array([-0.42, 0.78]), np.array([-0.18, 0.9]), np.array([0.08, 0.84]), 10)
    _line(img, flat(np.column_stack((shine, np.zeros(10)))), HAIR_LIGHT, 0.028 * r)

    # Nose: a small soft arc that wrinkles up with a sneer.
    sneer = (_w(frame, "noseSneerLeft") + _w(frame, "noseSneerRight")) / 2
    nose = _bezier(np.array([-0.06, -0.16 + 0.03 * sneer]), np.array([0.0, -0.23]),
                   np.array([0.06, -0.16 + 0.03 * sneer]), 8)  # fmt: skip
    _line(img, proj(_on_face(nose, 1.12)), OUTLINE, 0.018 * r)

    for eye, sx in (("Left", _EYE_X), ("Right", -_EYE_X)):
        _draw_eye_whites(img, proj, frame, eye, sx)
        _draw_eye(img, proj, frame, eye, sx)
        _draw_brow(img, proj, frame, eye, sx)
    _draw_mouth(img, proj, frame)
    if _w(frame, "tongueOut") > 0.05:
        t = _w(frame, "tongueOut")
        tongue = _ellipse(0.0, _MOUTH_Y - 0.1 - 0.1 * t, 0.1, 0.08 + 0.08 * t, 20)
        _fill(img, proj(_on_face(tongue, 1.08)), TONGUE)
    return img
