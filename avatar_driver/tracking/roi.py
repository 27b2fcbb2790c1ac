"""Face boxes: the rotated square crop a landmark model looks through, and its maths.

A `Roi` is a rotated rectangle in image pixels. The tracker keeps one per face: from the
last landmarks (`roi_from_landmarks`: their box, turned by the eye line, grown 1.5x so the
face stays inside while it moves) or, when the face is lost, from a detection
(`roi_from_detection`). `crop` cuts it out at the model's resolution, so a small or far
face is simply a small box zoomed in; `crop_to_image` maps the model's points back.
`letterbox` / `letterbox_to_image` do the same for a whole-image detector input, and
`tiles` splits a frame into overlapping boxes for a detector when nothing is known yet
(faces too small for one whole-frame pass).

The conventions follow MediaPipe's rect calculators (DetectionsToRects,
RectTransformation, ImageToTensor) so the same crop gives the same landmarks: rotation in
radians, positive turns the box clockwise on screen (image y points down), and a crop's
corners map to the model input's pixel corners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LEFT_EYE_OUTER",
    "RIGHT_EYE_OUTER",
    "Roi",
    "crop",
    "crop_matrix",
    "crop_to_image",
    "letterbox",
    "letterbox_to_image",
    "roi_from_detection",
    "roi_from_landmarks",
    "tiles",
]

#: Mesh landmarks that set the crop's roll (outer eye corners, image left then right).
LEFT_EYE_OUTER = 33
RIGHT_EYE_OUTER = 263
#: How much bigger than the face its crop is (MediaPipe's face landmark graph: 1.5).
FACE_MARGIN = 1.5


@dataclass(frozen=True, slots=True)
class Roi:
    """A rotated rectangle in image pixels: centre, size, rotation (radians, clockwise)."""

    cx: float
    cy: float
    width: float
    height: float
    rotation: float = 0.0

    def scaled(self, factor: float, *, square: bool = False) -> Roi:
        """Grown by `factor` about its centre; `square` first makes it square on its long side."""
        w, h = self.width, self.height
        if square:
            w = h = max(w, h)
        return Roi(self.cx, self.cy, w * factor, h * factor, self.rotation)

    def corners(self) -> np.ndarray:
        """(4, 2) pixel corners: top-left, top-right, bottom-right, bottom-left of the crop."""
        half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * (self.width / 2, self.height / 2)
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        return half @ np.array([[c, s], [-s, c]]) + (self.cx, self.cy)


def _angle(start: np.ndarray, end: np.ndarray) -> float:
    """Rotation that makes the start->end line (pixels) horizontal, in (-pi, pi]."""
    angle = -math.atan2(-(float(end[1]) - float(start[1])), float(end[0]) - float(start[0]))
    return math.remainder(angle, 2 * math.pi)


def roi_from_landmarks(
    points: np.ndarray, width: int, height: int, *, margin: float = FACE_MARGIN
) -> Roi:
    """The next frame's crop from face landmarks (normalised (N, 2+) image coordinates).

    Their axis-aligned box, turned so the outer eye corners lie level, made square and
    grown by `margin` (MediaPipe's face landmark graph does the same).
    """
    xy = np.asarray(points, dtype=np.float64)[:, :2] * (width, height)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    centre = (lo + hi) / 2
    box = Roi(
        float(centre[0]),
        float(centre[1]),
        float(hi[0] - lo[0]),
        float(hi[1] - lo[1]),
        _angle(xy[LEFT_EYE_OUTER], xy[RIGHT_EYE_OUTER]),
    )
    return box.scaled(margin, square=True)


def roi_from_detection(
    box: np.ndarray, keypoints: np.ndarray, width: int, height: int, *, margin: float = FACE_MARGIN
) -> Roi:
    """A crop from a face detection: box (xmin, ymin, w, h) and keypoints, normalised.

    Keypoints 0 and 1 are the eyes (image left, image right), which set the rotation; the
    box grows by `margin` (MediaPipe's face detector graph).
    """
    x0, y0, w, h = (float(v) for v in box)
    kp = np.asarray(keypoints, dtype=np.float64)[:, :2] * (width, height)
    roi = Roi((x0 + w / 2) * width, (y0 + h / 2) * height, w * width, h * height)
    return Roi(roi.cx, roi.cy, roi.width, roi.height, _angle(kp[0], kp[1])).scaled(margin)


def crop_matrix(roi: Roi, size: int | tuple[int, int]) -> np.ndarray:
    """2x3 affine map from image pixels to crop pixels (cv2.warpAffine's direction)."""
    out_w, out_h = (size, size) if isinstance(size, int) else size
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    # Into the box's own frame (un-rotate about the centre), then scale box -> output.
    sx, sy = out_w / roi.width, out_h / roi.height
    m = np.array([[c * sx, s * sx, 0.0], [-s * sy, c * sy, 0.0]])
    m[:, 2] = (out_w / 2, out_h / 2) - m[:, :2] @ (roi.cx, roi.cy)
    return m


def crop(
    image: np.ndarray,
    roi: Roi,
    size: int | tuple[int, int],
    *,
    replicate: bool = True,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The box cut out of `image` at `size` (bilinear); outside pixels repeat the edge.

    `out`: a buffer to write into (a tracker reuses one per frame); used when its shape
    and type fit, else a new array is returned.
    """
    import cv2

    out_w, out_h = (size, size) if isinstance(size, int) else size
    border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
    return cv2.warpAffine(
        image, crop_matrix(roi, (out_w, out_h)), (out_w, out_h), dst=out,
        flags=cv2.INTER_LINEAR, borderMode=border,
    )  # fmt: skip


def crop_to_image(points: np.ndarray, roi: Roi, width: int, height: int) -> np.ndarray:
    """Points normalised to the crop (N, 3: x, y, z) -> normalised to the image.

    z is scaled like x: by the length of the crop's x axis in normalised image units, as
    MediaPipe's landmark projection does.
    """
    p = np.asarray(points, dtype=np.float64)
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    u = (p[:, 0] - 0.5) * roi.width
    v = (p[:, 1] - 0.5) * roi.height
    out = np.empty((len(p), 3), dtype=np.float32)
    out[:, 0] = (roi.cx + c * u - s * v) / width
    out[:, 1] = (roi.cy + s * u + c * v) / height
    out[:, 2] = p[:, 2] * (roi.width * math.hypot(c / width, s / height))
    return out


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Roi]:
    """The whole image fitted into a size x size square (black bars), and the square's Roi.

    The Roi is the square in image pixels the model sees, so `letterbox_to_image` (or
    `crop_to_image`) maps its outputs back.
    """
    h, w = image.shape[:2]
    side = float(max(w, h))
    roi = Roi(w / 2, h / 2, side, side)
    return crop(image, roi, size, replicate=False), roi


def letterbox_to_image(xy: np.ndarray, roi: Roi, width: int, height: int) -> np.ndarray:
    """(N, 2) points normalised to a letterboxed input -> normalised to the image."""
    p = np.asarray(xy, dtype=np.float64)
    return np.stack(
        ((roi.cx + (p[..., 0] - 0.5) * roi.width) / width,
         (roi.cy + (p[..., 1] - 0.5) * roi.height) / height),
        axis=-1,
    )  # fmt: skip


def tiles(width: int, height: int, *, across: int = 2, overlap: float = 0.25) -> list[Roi]:
    """Square boxes covering the image, `across` per row, overlapping by `overlap`.

    For a detector that wants faces at least a few tenths of its input: one tile of a
    2x2 split doubles the apparent size of every face in it.
    """
    side = max(width, height) / (across - (across - 1) * overlap) if across > 1 else None
    if side is None:
        return [Roi(width / 2, height / 2, float(max(width, height)), float(max(width, height)))]
    side = min(side, float(max(width, height)))
    step = side * (1 - overlap)
    rows = max(1, math.ceil((height - side) / step) + 1) if height > side else 1
    cols = max(1, math.ceil((width - side) / step) + 1) if width > side else 1
    out = []
    for r in range(rows):
        cy = height / 2 if rows == 1 else side / 2 + r * (height - side) / (rows - 1)
        for k in range(cols):
            cx = width / 2 if cols == 1 else side / 2 + k * (width - side) / (cols - 1)
            out.append(Roi(cx, cy, side, side))
    return out
