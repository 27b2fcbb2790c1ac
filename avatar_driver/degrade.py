"""Degraded variants of real face images: the rooms users actually track in.

Used by `benchmarks/robustness.py` and the tests, never by a run. Each variant is made
with OpenCV from a clean RGB image and, where it covers part of the face, the landmarks
MediaPipe found on the clean image (so the cover sits where a headset, a hand or glasses
would): the face itself is real, only the room is made.

- far x S: the image shrunk by S into a same-size canvas (a plain wall of the room's edge
  colour), the face staying where it was relative to the frame centre;
- headset: a dark box from the brows to below the eyes, face-wide, and a strap to the edges;
- hand: a skin-coloured blob (palm and fingers) over the mouth and chin;
- dark: gamma 2.2 and 0.35 gain, then sensor noise (sigma 6 of 255); very dark: gain 0.15,
  noise sigma 10;
- side light: brightness falling from 1.3 to 0.25 across the frame;
- blur: Gaussian, sigma 1 % of the frame width;
- glasses: dark rims round both eyes, a bridge and temples, lightly tinted lenses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["VARIANTS", "Variant", "apply", "far", "headset", "upper_face_box"]

Variant = Callable[[np.ndarray, np.ndarray | None, np.random.Generator], np.ndarray]

_BROW_TOP = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
_EYES = (33, 133, 159, 145, 362, 263, 386, 374)
_MOUTH = (61, 291, 0, 17, 13, 14)


def _cv2() -> Any:
    import cv2

    return cv2


def _px(lm: np.ndarray, img: np.ndarray, idx: tuple[int, ...]) -> np.ndarray:
    h, w = img.shape[:2]
    return lm[list(idx), :2] * np.array([w, h], dtype=np.float64)


def far(img: np.ndarray, scale: float) -> np.ndarray:
    """The image shrunk by `scale`, centred on a wall of its edges' median colour."""
    cv2 = _cv2()
    h, w = img.shape[:2]
    edge = np.concatenate((img[0], img[-1], img[:, 0], img[:, -1]))
    canvas = np.empty_like(img)
    canvas[...] = np.median(edge, axis=0).astype(img.dtype)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    y0, x0 = (h - sh) // 2, (w - sw) // 2
    canvas[y0 : y0 + sh, x0 : x0 + sw] = small
    return canvas


def upper_face_box(img: np.ndarray, lm: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixels a VR headset covers: above the brows to the upper nose, face-wide
    and a little more (a Quest-sized visor at a webcam's distance)."""
    brows = _px(lm, img, _BROW_TOP)
    eyes = _px(lm, img, _EYES)
    sides = _px(lm, img, (234, 454))
    nose = _px(lm, img, (4,))[0]
    eye_w = float(np.linalg.norm(eyes[0] - eyes[5]))
    x0 = float(sides[:, 0].min()) - 0.1 * eye_w
    x1 = float(sides[:, 0].max()) + 0.1 * eye_w
    y0 = float(brows[:, 1].min()) - 0.25 * eye_w
    lower = float(eyes[:, 1].max())
    y1 = lower + 0.6 * (float(nose[1]) - lower)
    h, w = img.shape[:2]
    return (
        int(max(0, x0)),
        int(max(0, y0)),
        int(min(w, x1)),
        int(min(h, y1)),
    )


def headset(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """A dark headset box over the upper face and a strap to the frame's edges."""
    cv2 = _cv2()
    out = img.copy()
    if lm is None:
        return out
    x0, y0, x1, y1 = upper_face_box(img, lm)
    mid = (y0 + y1) // 2
    strap = max(2, (y1 - y0) // 4)
    cv2.rectangle(out, (0, mid - strap // 2), (out.shape[1], mid + strap // 2), (25, 25, 28), -1)
    r = max(2, (y1 - y0) // 5)
    cv2.rectangle(out, (x0 + r, y0), (x1 - r, y1), (48, 48, 54), -1)
    cv2.rectangle(out, (x0, y0 + r), (x1, y1 - r), (48, 48, 54), -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(out, (cx, cy), r, (48, 48, 54), -1)
    cv2.line(out, (x0 + r, y0 + 2), (x1 - r, y0 + 2), (90, 90, 96), 2)  # a highlight
    return out


def _skin(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Median colour of the cheeks (the performer's own skin, as their hand would be)."""
    pts = _px(lm, img, (205, 425, 50, 280)).astype(int)
    h, w = img.shape[:2]
    patches = [
        img[max(0, y - 3) : min(h, y + 4), max(0, x - 3) : min(w, x + 4)].reshape(-1, 3)
        for x, y in pts
    ]
    return np.median(np.concatenate(patches), axis=0)


def hand(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """A skin-coloured palm and four fingers over the mouth and chin."""
    cv2 = _cv2()
    out = img.copy()
    if lm is None:
        return out
    mouth = _px(lm, img, _MOUTH)
    c = mouth.mean(axis=0)
    width = float(np.linalg.norm(mouth[0] - mouth[1]))
    colour = tuple(float(v) for v in np.clip(_skin(img, lm) * (0.92, 0.85, 0.82), 0, 255))
    palm = (int(c[0] + 0.2 * width), int(c[1] + 0.35 * width))
    cv2.ellipse(out, palm, (int(0.9 * width), int(0.75 * width)), 0, 0, 360, colour, -1)
    for k in range(4):  # fingers across the mouth, from the performer's side
        y = int(c[1] - 0.35 * width + k * 0.28 * width)
        cv2.ellipse(
            out, (int(c[0] - 0.3 * width), y), (int(0.95 * width), int(0.14 * width)),
            -8, 0, 360, colour, -1,
        )  # fmt: skip
        shade = tuple(v * 0.8 for v in colour)
        cv2.line(out, (int(c[0] - 1.1 * width), y + int(0.13 * width)),
                 (int(c[0] + 0.6 * width), y + int(0.13 * width)), shade, 1)  # fmt: skip
    noise = rng.normal(0.0, 4.0, out.shape)
    mask = np.any(out != img, axis=2)
    out[mask] = np.clip(out[mask] + noise[mask], 0, 255).astype(np.uint8)
    return out


def dark(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """A dim room: gamma 2.2, gain 0.35, sensor noise sigma 6 (of 255)."""
    x = (img.astype(np.float64) / 255.0) ** 2.2 * 0.35 * 255.0
    x += rng.normal(0.0, 6.0, img.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def very_dark(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """A room lit by the screen: gamma 2.2, gain 0.15, sensor noise sigma 10 (of 255)."""
    x = (img.astype(np.float64) / 255.0) ** 2.2 * 0.15 * 255.0
    x += rng.normal(0.0, 10.0, img.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def side_light(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """A window on one side: brightness 1.3 at the left edge to 0.25 at the right."""
    gain = np.linspace(1.3, 0.25, img.shape[1])[None, :, None]
    return np.clip(img * gain, 0, 255).astype(np.uint8)


def blur(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Out of focus or motion-smeared: Gaussian, sigma 1 % of the width."""
    cv2 = _cv2()
    sigma = 0.01 * img.shape[1]
    return np.ascontiguousarray(cv2.GaussianBlur(img, (0, 0), sigma))


def glasses(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Dark rims round both eyes, a bridge and temples; the lenses slightly tinted."""
    cv2 = _cv2()
    out = img.copy()
    if lm is None:
        return out
    eyes = _px(lm, img, _EYES)
    sides = _px(lm, img, (234, 454))
    left, right = eyes[4:].mean(axis=0), eyes[:4].mean(axis=0)
    eye_w = float(np.linalg.norm(eyes[0] - eyes[1]))
    axes = (int(0.85 * eye_w), int(0.6 * eye_w))
    thick = max(1, round(0.12 * eye_w))
    lens = out.copy()
    for c in (left, right):
        cv2.ellipse(lens, (int(c[0]), int(c[1])), axes, 0, 0, 360, (70, 60, 50), -1)
    out = cv2.addWeighted(out, 0.8, lens, 0.2, 0.0)
    for c in (left, right):
        cv2.ellipse(out, (int(c[0]), int(c[1])), axes, 0, 0, 360, (20, 20, 20), thick)
    cv2.line(out, (int(right[0] + axes[0]), int(right[1])),
             (int(left[0] - axes[0]), int(left[1])), (20, 20, 20), thick)  # fmt: skip
    for c, s, d in ((right, sides[0], -1), (left, sides[1], 1)):
        cv2.line(out, (int(c[0] + d * axes[0]), int(c[1])), (int(s[0]), int(s[1])),
                 (20, 20, 20), thick)  # fmt: skip
    return out


def _far(scale: float) -> Variant:
    def variant(img: np.ndarray, lm: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        return far(img, scale)

    variant.__doc__ = f"The face at {scale:g} of its size (further from the camera)."
    return variant


#: Name -> variant(rgb, clean landmarks or None, rng) -> rgb of the same size.
VARIANTS: dict[str, Variant] = {
    "far x0.5": _far(0.5),
    "far x0.3": _far(0.3),
    "far x0.2": _far(0.2),
    "headset": headset,
    "hand": hand,
    "dark": dark,
    "very dark": very_dark,
    "side light": side_light,
    "blur": blur,
    "glasses": glasses,
}


def apply(name: str, img: np.ndarray, lm: np.ndarray | None, seed: int = 0) -> np.ndarray:
    """One variant of one image (deterministic for a seed)."""
    return np.ascontiguousarray(VARIANTS[name](img, lm, np.random.default_rng(seed)))
