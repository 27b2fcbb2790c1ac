"""Covered face regions: how visible the eyes, brows and mouth are, and what to show when not.

MediaPipe always returns a full face: a hand over the mouth gives confident wrong mouth
shapes (a smile read as 0.05 with a frown), a VR headset gives noise for the eyes and
brows, and its confidence does not drop. The landmarks still say where each region is, so
the pixels there can be checked.

**The signal** (`region_texture`): the grey-level spread (std) inside each region's
landmark outline, grown by 30 %, over the spread of the whole face oval. Lips, teeth and
eyes are the most contrasted parts of a face (ratio 0.8-1.2 for the mouth, 0.4-1.7 for
the eyes); a palm or a headset visor is nearly flat (mouth 0.08-0.23 under a hand, eyes
and brows ~0 under a headset). Measured on single_face.mp4, face_noface.mov and
laughing_hand.png, clean and with the hand, headset, dark, blur, side-light and glasses
variants of `avatar_driver.degrade` (numbers in docs/tracking.md). Other signals were
weaker: the lips' redness against the cheeks (Cr) is negative on a toothy smile and gone
in greyscale; the blendshapes alone cannot tell a covered neutral mouth from a real one.
Honest limit: the covers are drawn (flat colour plus a little noise); a real hand has more
texture (creases, fingers' edges) and a real headset a logo and shading, so the margins
on real covers are smaller than measured here.

**What is shown** (`OcclusionGuard`): a region whose (smoothed) confidence falls below
0.5 holds its channels' last clear values for `hold` seconds, then eases them to the
calibrated neutral over `ease` seconds (the face-loss policy of the dynamics, per region);
when it clears they blend back over `recover` seconds. The pixels are checked every
`CHECK_S` seconds, and at once when a weight moved `MOVED` from the last check's (a cover
that changes the tracker's reading is caught on its first frame); only checked frames'
values are ever held.

**Headset mode**: eyes and brows forced to neutral (gaze centred) and `Frame.upper_face`
False, on `--headset` or automatically when the upper face reads as covered for
`HEADSET_ON_S` seconds (off again after `HEADSET_OFF_S` seconds clear).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from ..dynamics.face_loss import FaceLoss
from ..frame import REGION_NAMES, Frame, with_face
from ..shapes import ARKIT_NAMES

__all__ = [
    "CHECK_S",
    "HEADSET_OFF_S",
    "HEADSET_ON_S",
    "MOVED",
    "REGION_CHANNELS",
    "REGION_RANGE",
    "OcclusionGuard",
    "RegionConfidence",
    "region_texture",
    "region_texture_reference",
]

#: Shapes each region moves (eyes also move the eye pose, pose[3:9]).
REGION_CHANNELS: dict[str, np.ndarray] = {
    "eyes": np.array([i for i, n in enumerate(ARKIT_NAMES) if n.startswith("eye")]),
    "brows": np.array([i for i, n in enumerate(ARKIT_NAMES) if n.startswith("brow")]),
    "mouth": np.array(
        [i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("jaw", "mouth", "tongue"))]
        + [ARKIT_NAMES.index("cheekPuff")]
    ),
}
#: Texture ratio (see the module docstring) at confidence 0 and at 1, per region. Measured
#: (min over frames): clear mouth 0.53 (blur), 0.48 under a headset (the visor widens the
#: face's spread), 0.08-0.23 under a hand; clear eyes 0.42 (dark laugh), brows 0.80,
#: both 0.00 under a headset. Confidence 0.5 (covered) sits between.
REGION_RANGE: dict[str, tuple[float, float]] = {
    "eyes": (0.08, 0.25),
    "brows": (0.08, 0.3),
    "mouth": (0.22, 0.45),
}
#: Seconds the upper face must read as covered (or clear) to switch headset mode on (off).
HEADSET_ON_S = 1.0
HEADSET_OFF_S = 1.0
#: Source seconds between two pixel checks while the weights stay put, and how far (weight
#: units) any weight must move from the last check's to check at once (`OcclusionGuard`).
CHECK_S = 0.2
MOVED = 0.15
#: Confidence under which a region counts as covered; seconds a rising confidence is smoothed.
COVERED = 0.5
SMOOTH_S = 0.1

_FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
_OUTLINES: dict[str, tuple[tuple[int, ...], ...]] = {
    "eyes": (
        (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398),
        (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    ),
    "brows": ((336, 296, 334, 293, 300, 276, 283, 282, 295, 285),
              (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)),
    "mouth": ((61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84,
               181, 91, 146),),
}  # fmt: skip
#: A face crop this wide or wider is halved until it is narrower than twice this, so the
#: cost stays bounded for a face near the camera.
_CROP_W = 160
#: Outlines are grown by this factor about their centre (a mouth's lips sit on its outline).
_GROW = 1.3
#: Every outline the check draws, face oval first, as one index array into the landmarks
#: (so one gather and one grow serve all six polygons), with each one's region (None: the
#: face oval) and its rows in that array.
_POLYGONS: list[tuple[str | None, tuple[int, ...]]] = [(None, _FACE_OVAL)] + [
    (name, outline) for name in REGION_NAMES for outline in _OUTLINES[name]
]
_POLY_INDEX = np.concatenate([outline for _, outline in _POLYGONS])
#: x and y of each outline point in a flattened (478, 3) landmark array: one `take`.
_POLY_FLAT = (3 * _POLY_INDEX[:, None] + np.arange(2)).ravel()
_POLY_SLICES = [
    slice(int(a), int(b))
    for a, b in itertools.pairwise(np.cumsum([0] + [len(o) for _, o in _POLYGONS]))
]
_REGION_POLYGONS = {
    name: [k for k, (n, _) in enumerate(_POLYGONS) if n == name] for name in REGION_NAMES
}


def _grow_matrix() -> np.ndarray:
    """`_GROW_MATRIX @ points` moves each outline point `_GROW` times as far from its
    outline's centre (the mean of its points); the face oval's rows are the identity."""
    n = len(_POLY_INDEX)
    grow = np.zeros((n, n))
    for k, part in enumerate(_POLY_SLICES):
        g = 1.0 if k == 0 else _GROW
        size = part.stop - part.start
        grow[part, part] = (1.0 - g) / size + g * np.eye(size)
    return grow.astype(np.float32)


#: The grow of every outline as one matrix product (a linear map, so it commutes with the
#: pixel scale and shift applied after it).
_GROW_MATRIX = _grow_matrix()


def region_texture(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(3,) grey std in each region's outline (grown 30 %) over the face oval's std.

    Measured on the face's box only, turned grey, halved while wider than 2 `_CROP_W`
    (a webcam's face is usually narrower: no resize at all), with OpenCV's masked std
    (no boolean copies); every outline comes from one gather and one matrix product, the
    box from Python floats. It runs after the tracker's pause, with cold caches, where
    each call costs several microseconds. `region_texture_reference` is the plain
    full-resolution formula it is tested against.
    """
    import cv2

    h, w = image.shape[:2]
    if landmarks.ndim == 2 and landmarks.shape[1] == 3:
        points = landmarks.take(_POLY_FLAT).reshape(-1, 2)
    else:
        points = landmarks[_POLY_INDEX, :2]
    grown = _GROW_MATRIX @ points.astype(np.float32, copy=False)
    xs, ys = grown[_POLY_SLICES[0]].T.tolist()
    x0, y0 = max(math.floor(min(xs) * w), 0), max(math.floor(min(ys) * h), 0)
    x1, y1 = min(math.ceil(max(xs) * w), w), min(math.ceil(max(ys) * h), h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.ones(len(REGION_NAMES), dtype=np.float32)
    grey = image[y0:y1, x0:x1]
    if grey.ndim == 3:
        code = cv2.COLOR_RGBA2GRAY if grey.shape[2] == 4 else cv2.COLOR_RGB2GRAY
        grey = cv2.cvtColor(grey, code)
    scale = 1.0
    while grey.shape[1] >= 2 * _CROP_W and grey.shape[0] >= 8:
        # means of 2x2 blocks: OpenCV's fast area path (any other factor is ~10x slower)
        half_h, half_w = grey.shape[0] // 2, grey.shape[1] // 2
        grey = cv2.resize(grey[: 2 * half_h, : 2 * half_w], (half_w, half_h),
                          interpolation=cv2.INTER_AREA)  # fmt: skip
        scale /= 2
    grown *= (w * scale, h * scale)
    grown -= (x0 * scale, y0 * scale)
    pixels = grown.astype(np.int32)
    polygons = [pixels[part] for part in _POLY_SLICES]
    mask = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(mask, polygons[:1], 1)
    face_std = float(cv2.meanStdDev(grey, mask=mask)[1][0, 0]) if mask.any() else 0.0
    out = np.ones(len(REGION_NAMES), dtype=np.float32)
    if face_std < 1e-6:
        return out
    for k, name in enumerate(REGION_NAMES):
        mask[...] = 0
        cv2.fillPoly(mask, [polygons[j] for j in _REGION_POLYGONS[name]], 1)
        if cv2.countNonZero(mask) > 3:
            out[k] = float(cv2.meanStdDev(grey, mask=mask)[1][0, 0]) / face_std
    return out


def region_texture_reference(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The plain formula at full resolution (numpy masks): what `region_texture` estimates."""
    import cv2

    h, w = image.shape[:2]
    out = np.ones(len(REGION_NAMES), dtype=np.float32)
    pts = landmarks[:, :2].astype(np.float64) * (w, h)
    if _face_box(pts[list(_FACE_OVAL)], w, h) is None:
        return out
    rgb = image[..., :3] if image.ndim == 3 else image
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    oval = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(oval, [pts[list(_FACE_OVAL)].astype(np.int32)], 1)
    face_std = float(grey[oval.astype(bool)].std()) if oval.any() else 0.0
    if face_std < 1e-6:
        return out
    for k, name in enumerate(REGION_NAMES):
        mask = np.zeros(grey.shape, np.uint8)
        for outline in _OUTLINES[name]:
            p = pts[list(outline)]
            c = p.mean(axis=0)
            cv2.fillPoly(mask, [(c + _GROW * (p - c)).astype(np.int32)], 1)
        inside = grey[mask.astype(bool)]
        out[k] = float(inside.std()) / face_std if inside.size > 3 else 1.0
    return out


def _face_box(oval: np.ndarray, w: int, h: int) -> tuple[int, int, int, int] | None:
    """The face oval's pixel box clipped to the image, or None if under 4 pixels a side."""
    x0, y0 = np.floor(oval.min(axis=0)).astype(int)
    x1, y1 = np.ceil(oval.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return int(x0), int(y0), int(x1), int(y1)


class RegionConfidence:
    """Per-frame region confidences 0..1 from the texture ratios.

    A drop is taken at once (the first covered frame's wrong shape must not become the held
    one); a rise is smoothed over `SMOOTH_S`, so a cover leaving does not flicker.
    """

    def __init__(self) -> None:
        self._lo = np.array([REGION_RANGE[n][0] for n in REGION_NAMES])
        self._span = np.array([REGION_RANGE[n][1] for n in REGION_NAMES]) - self._lo
        self._value: np.ndarray | None = None
        self._t: float | None = None

    def reset(self) -> None:
        self._value = self._t = None

    def __call__(self, image: np.ndarray, landmarks: np.ndarray, t: float) -> np.ndarray:
        raw = np.clip((region_texture(image, landmarks) - self._lo) / self._span, 0.0, 1.0)
        if self._value is None or self._t is None:
            self._value = raw
        else:
            dt = min(max(t - self._t, 0.0), 0.5)
            a = 1.0 - math.exp(-dt / SMOOTH_S)
            # falls at once (the first covered frame must not be shown), rises smoothly
            self._value = np.minimum(raw, self._value + a * (raw - self._value))
        self._t = t
        return self._value.astype(np.float32)


@dataclasses.dataclass
class _Region:
    """One region's channels (indices into weights, and whether the eye pose goes too)."""

    name: str
    index: np.ndarray
    pose: bool
    loss: FaceLoss
    covered: bool = False


class OcclusionGuard:
    """Estimates `Frame.regions` and holds then eases covered regions to neutral.

    neutral: the calibrated rest weights (52,). headset: True forces headset mode, None
    detects it, False never enters it. Times are the frame's source seconds.

    The pixels are checked (`RegionConfidence`) every `check_every` seconds, and on any
    frame whose weights moved more than `moved` from those of the last check; other frames
    reuse the last confidences. A cover is slow next to a frame, and one that changes
    what the tracker reads is seen on its first frame; one that does not shows what a
    hold would show. Only checked values are held: a frame between checks is shown but
    never becomes the held shape.
    """

    def __init__(
        self,
        neutral: np.ndarray,
        *,
        headset: bool | None = None,
        hold: float = 0.25,
        ease: float = 0.4,
        recover: float = 0.15,
        check_every: float = CHECK_S,
        moved: float = MOVED,
    ) -> None:
        self.neutral = np.asarray(neutral, dtype=np.float64)
        self.headset_setting = headset
        self.headset = headset is True
        self.confidence = RegionConfidence()
        self.check_every = check_every
        self.moved = moved
        self._regions = []
        for name in REGION_NAMES:
            idx = REGION_CHANNELS[name]
            pose = name == "eyes"
            rest = np.concatenate((self.neutral[idx], np.zeros(6 if pose else 0)))
            loss = FaceLoss(rest, hold=hold, ease=ease, recover=recover)
            self._regions.append(_Region(name, idx, pose, loss))
        self._upper_since: float | None = None  # when the upper face last changed state
        self._conf = np.ones(len(REGION_NAMES), dtype=np.float32)
        self._levels = self._conf.tolist()  # the same as floats, for the per-frame tests
        self._checked_at = -math.inf  # source time of the last check
        self._checked: np.ndarray | None = None  # the weights then (a frame's: never written)
        self._moved_by = np.empty(len(neutral), dtype=np.float32)  # (cv2.norm: slower cold)

    def _check_due(self, weights: np.ndarray, t: float) -> bool:
        """Check the pixels now: the first frame, `check_every` since the last check (or
        time went back), or the weights moved more than `moved` from the last check's."""
        last = self._checked
        if last is None or not 0.0 <= t - self._checked_at < self.check_every:
            return True
        moved = self._moved_by
        np.subtract(weights, last, out=moved)
        np.abs(moved, out=moved)
        return bool(moved.max() > self.moved)

    def __call__(self, frame: Frame, image: np.ndarray | None) -> Frame:
        """The frame (weights and pose already solved) with regions set and covers eased."""
        if not frame.face_present or frame.landmarks is None or image is None:
            return frame
        t = float(frame.timestamp)
        checked = self._check_due(frame.weights, t)
        if checked:
            self._conf = self.confidence(image, frame.landmarks, t)
            self._levels = self._conf.tolist()
            self._checked_at, self._checked = t, frame.weights
        levels = self._levels
        self._update_headset(levels, t)
        weights, pose = frame.weights, frame.pose
        copied = False  # weights and pose are the frame's until a region writes them
        for region, level in zip(self._regions, levels, strict=True):
            upper = region.name != "mouth"
            covered = level < COVERED
            forced = upper and self.headset
            if not (forced or covered or checked or region.loss.blending):
                continue  # clear, unchecked and not blending back: the live values stand
            if not copied:
                weights, pose, copied = weights.copy(), pose.copy(), True
            if forced:
                weights[region.index] = self.neutral[region.index]
                if region.pose:
                    pose[3:9] = 0.0
                continue
            if covered:
                shown = region.loss.lost(t)
            else:
                live = weights[region.index].astype(np.float64)
                if region.pose:
                    live = np.concatenate((live, pose[3:9]))
                shown = region.loss.found(t, live, keep=checked)
            if region.pose:
                weights[region.index], pose[3:9] = shown[:-6], shown[-6:]
            else:
                weights[region.index] = shown
        out = with_face(frame, weights, pose, frame.extras)
        out.regions, out.upper_face = self._conf, not self.headset
        return out

    def _update_headset(self, levels: list[float], t: float) -> None:
        """Headset mode on after the upper face reads covered for a while, off likewise."""
        if self.headset_setting is not None:
            return
        covered = max(levels[0], levels[1]) < COVERED
        if covered == self.headset:
            self._upper_since = None
            return
        if self._upper_since is None:
            self._upper_since = t
        if t - self._upper_since >= (HEADSET_ON_S if covered else HEADSET_OFF_S):
            self.headset = covered
            self._upper_since = None
