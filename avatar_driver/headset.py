"""The performer's own neutral upper face pasted over a VR headset before tracking.

With a headset on, MediaPipe still finds the face but reads the lower face worse: the
smile ~20 % low, pucker invented (its blendshape head sees the whole face at once). Giving
it the face it expects helps: `calibrate` records the relaxed upper face (brows to the
upper nose) before the headset goes on, and in headset mode `UpperFacePaste` warps that
patch onto each frame, aligned by a similarity transform on landmarks the headset leaves
visible (nose tip, cheeks and jaw line, from the previous frame), with a feathered edge.
The solver still sees the real pixels (so the headset stays detected) and still holds the
eyes and brows at neutral: the pasted eyes are not the performer's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CalibrationError
from .frame import Frame

__all__ = ["ANCHORS", "UpperFacePaste", "UpperFacePatch", "paste", "record_patch"]

#: Landmarks the alignment uses: nose tip and wings, cheek sides, jaw corners (visible under
#: a headset, and moved little by expressions; the chin and mouth corners are not used).
ANCHORS = (4, 48, 278, 132, 361, 58, 288, 172, 397, 152)
_BROW_TOP = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
_EYES = (33, 133, 159, 145, 362, 263, 386, 374)
_FEATHER = 0.08  # share of the patch height blurred at its edge


def _cv2() -> Any:
    import cv2

    return cv2


@dataclasses.dataclass
class UpperFacePatch:
    """RGB pixels of the relaxed upper face and the `ANCHORS` positions in them (pixels)."""

    pixels: np.ndarray
    points: np.ndarray

    def save(self, path: str | Path) -> Path:
        cv2 = _cv2()
        p = Path(path)
        if not cv2.imwrite(str(p), cv2.cvtColor(self.pixels, cv2.COLOR_RGB2BGR)):
            raise CalibrationError(f"cannot write the upper-face image {p}")
        return p

    @classmethod
    def load(cls, path: str | Path, points: list[float]) -> UpperFacePatch:
        cv2 = _cv2()
        p = Path(path)
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CalibrationError(f"upper-face image {p} is missing or not an image")
        pts = np.asarray(points, dtype=np.float64)
        if pts.shape != (2 * len(ANCHORS),):
            raise CalibrationError(
                f"upper_face.points: expected {2 * len(ANCHORS)} numbers, got {pts.size}"
            )
        return cls(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)), pts.reshape(-1, 2))


def _pixels(lm: np.ndarray, shape: tuple[int, ...], idx: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    return lm[list(idx), :2].astype(np.float64) * (w, h)


def record_patch(image: np.ndarray, landmarks: np.ndarray) -> UpperFacePatch:
    """The relaxed upper face of one frame: above the brows to most of the way to the nose
    tip, the face's width and a margin (larger than a headset, so it covers it)."""
    brows = _pixels(landmarks, image.shape, _BROW_TOP)
    eyes = _pixels(landmarks, image.shape, _EYES)
    sides = _pixels(landmarks, image.shape, (234, 454))
    nose = _pixels(landmarks, image.shape, (4,))[0]
    eye_w = float(np.linalg.norm(eyes[0] - eyes[5]))
    lower = float(eyes[:, 1].max())
    h, w = image.shape[:2]
    x0 = int(max(0.0, sides[:, 0].min() - 0.25 * eye_w))
    x1 = int(min(w, sides[:, 0].max() + 0.25 * eye_w))
    y0 = int(max(0.0, brows[:, 1].min() - 0.45 * eye_w))
    y1 = int(min(h, lower + 0.75 * (nose[1] - lower)))
    pts = _pixels(landmarks, image.shape, ANCHORS) - (x0, y0)
    return UpperFacePatch(np.ascontiguousarray(image[y0:y1, x0:x1]), pts)


def paste(image: np.ndarray, landmarks: np.ndarray, patch: UpperFacePatch) -> np.ndarray:
    """`image` with the patch warped onto the face the landmarks describe (a new array)."""
    cv2 = _cv2()
    target = _pixels(landmarks, image.shape, ANCHORS)
    m, _ = cv2.estimateAffinePartial2D(patch.points.astype(np.float32), target.astype(np.float32))
    if m is None:
        return image
    ph, pw = patch.pixels.shape[:2]
    mask = np.zeros((ph, pw), np.float32)
    edge = max(1, int(_FEATHER * ph))
    mask[edge:-edge, edge:-edge] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), edge / 2 + 0.5)
    h, w = image.shape[:2]
    warped = cv2.warpAffine(patch.pixels, m, (w, h), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    out = image * (1.0 - alpha) + warped * alpha
    return np.ascontiguousarray(out.astype(np.uint8))


def _lower_face_seen(image: np.ndarray, landmarks: np.ndarray) -> bool:
    """The real pixels show a mouth where the landmarks put it (`solver.occlusion`)."""
    from .solver.occlusion import REGION_RANGE, region_texture

    lo, hi = REGION_RANGE["mouth"]
    return float(region_texture(image, landmarks)[2]) >= (lo + hi) / 2


class UpperFacePaste:
    """Wraps the tracker stage: while `active()`, the patch is pasted before tracking.

    The returned frame keeps the real image (the solver measures covered regions on it);
    only the tracker saw the pasted one. Alignment uses the previous frame's landmarks.
    When the real pixels show no mouth where the pasted face was found, the frame is
    tracked again without the paste and pasting stops until a face is seen again.
    """

    def __init__(
        self,
        tracker: Callable[[Frame], Frame],
        patch: UpperFacePatch,
        active: Callable[[], bool],
    ) -> None:
        self.tracker = tracker
        self.patch = patch
        self.active = active
        self._last: np.ndarray | None = None

    def __call__(self, frame: Frame) -> Frame:
        img = frame.image
        if img is None or self._last is None or not self.active():
            out = self.tracker(frame)
        else:
            out = self.tracker(dataclasses.replace(frame, image=paste(img, self._last, self.patch)))
            out = dataclasses.replace(out, image=img)
            if out.landmarks is None or not _lower_face_seen(img, out.landmarks):
                # the pasted face was found where the real frame shows no mouth (the
                # performer left, or a hand covers it): track the real pixels instead
                out = self.tracker(frame)
        # no face: stop pasting (a pasted face on an empty frame would be "found")
        self._last = out.landmarks if out.face_present else None
        return out

    def close(self) -> None:
        close = getattr(self.tracker, "close", None)
        if close is not None:
            close()
