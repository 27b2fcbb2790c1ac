"""Weak shapes on synthetic expressions: how far eyeWide and noseSneer / mouthUpperUp reach.

    python benchmarks/weak_shapes.py [--model PATH] [--media DIR]

No clip here has a posed surprise or disgust, so they are made: the relaxed frames of
single_face.mp4 and face_noface.mov (t < 0.5 s) and laughing_hand.png are warped with
OpenCV, moving landmark neighbourhoods up by a smooth (Gaussian) displacement field:
- "surprise": upper eyelids up by 0.12 eye widths, brows up by 0.15;
- "disgust": upper lip up by 0.12 mouth widths, nose wings up by 0.05.
Each warped image is tracked in IMAGE mode; the table gives the mean over frames of the raw
model weight and the solver's (no profile) for the shapes the warp should move. SYNTHETIC:
a warp moves skin, not muscles (no wrinkles at the nose, no sclera above the iris), so a
model trained on real faces may read it less than a real expression; use the numbers to
compare estimates, not as the shapes' true reach. Also prints the solver's mirror
consistency (mean |w - swapLR(w of the flipped image)|) per clip.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX
from avatar_driver.solver import TrackingSolver
from avatar_driver.tracking.landmarker import FaceTracker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from robustness import clean_landmarks, read_frames, read_still
from tracked_clips import mirror_disagreement, run_solver, track_clip

SHARED = Path(__file__).resolve().parents[2] / "shared"
_UPPER_LIDS = (159, 158, 160, 157, 161, 386, 385, 387, 384, 388)
_BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
_UPPER_LIP = (0, 37, 267, 39, 269, 40, 270, 185, 409, 13, 82, 312)
_NOSE_WINGS = (48, 278, 64, 294, 129, 358)
SHAPES = {
    "surprise": ("eyeWideLeft", "eyeWideRight", "browInnerUp", "browOuterUpLeft"),
    "disgust": ("noseSneerLeft", "noseSneerRight", "mouthUpperUpLeft", "mouthUpperUpRight"),
}


Moves = list[tuple[tuple[int, ...], float, float]]


def warp(img: np.ndarray, lm: np.ndarray, moves: Moves) -> np.ndarray:
    """Move each landmark group up by `amount` pixels, Gaussian falloff of `sigma` eye widths
    (narrow for lids and lips, so the opposite lid or lip stays and the aperture opens)."""
    import cv2

    h, w = img.shape[:2]
    pts = lm[:, :2] * (w, h)
    eye_w = float(np.linalg.norm(pts[33] - pts[133]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = np.zeros((h, w), np.float32)
    for idx, amount, spread in moves:
        sigma = spread * eye_w
        for x, y in pts[list(idx)]:
            g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma * sigma))
            dy = np.maximum(dy, amount * g)  # max, not sum: neighbours do not add up
    # output pixel (x, y) shows the input at (x, y + dy): content moves up by dy
    src_y = (yy + dy).astype(np.float32)
    return cv2.remap(img, xx, src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def expression(img: np.ndarray, lm: np.ndarray, kind: str) -> np.ndarray:
    h, w = img.shape[:2]
    pts = lm[:, :2] * (w, h)
    eye_w = float(np.linalg.norm(pts[33] - pts[133]))
    mouth_w = float(np.linalg.norm(pts[61] - pts[291]))
    if kind == "surprise":
        return warp(img, lm, [(_UPPER_LIDS, 0.12 * eye_w, 0.12), (_BROWS, 0.15 * eye_w, 0.3)])
    return warp(img, lm, [(_UPPER_LIP, 0.12 * mouth_w, 0.12), (_NOSE_WINGS, 0.05 * mouth_w, 0.2)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.environ.get("AVATAR_DRIVER_MODEL"))
    ap.add_argument("--media", default=os.environ.get("AVATAR_DRIVER_MEDIA"))
    args = ap.parse_args(argv)
    model = args.model or str(SHARED / "models" / "face_landmarker.task")
    media = Path(args.media) if args.media else SHARED / "media"
    faces: dict[str, list[np.ndarray]] = {}
    for name in ("single_face.mp4", "face_noface.mov"):
        images, fps = read_frames(media / name)
        faces[name] = images[: int(0.5 * fps)]
    faces["laughing_hand.png"] = [read_still(media / "laughing_hand.png")]
    print("| face | expression | shape | raw neutral | raw warped | solver warped |")
    print("| --- | --- | --- | --- | --- | --- |")
    with FaceTracker(model, mode="image") as tracker:
        for name, images in faces.items():
            lms = clean_landmarks(images, model)
            for kind, shapes in SHAPES.items():
                rows: dict[str, tuple[list[float], list[float], list[float]]] = {
                    s: ([], [], []) for s in shapes
                }
                for img, lm in zip(images, lms, strict=True):
                    if lm is None:
                        continue
                    clean = tracker(Frame(timestamp=0.0, image=img))
                    f = tracker(Frame(timestamp=0.0, image=expression(img, lm, kind)))
                    if not f.face_present:
                        continue
                    solved = TrackingSolver(None)(f)
                    for s in shapes:
                        rows[s][0].append(clean.weights[INDEX[s]])
                        rows[s][1].append(f.weights[INDEX[s]])
                        rows[s][2].append(solved.weights[INDEX[s]])
                for s, (a, b, c) in rows.items():
                    if b:
                        print(f"| {name} | {kind} | {s} | {np.mean(a):.3f} | {np.mean(b):.3f} "
                              f"| {np.mean(c):.3f} |")  # fmt: skip
    print("\n| clip | solver mirror consistency (all shapes) |\n| --- | --- |")
    for name in ("single_face.mp4", "face_noface.mov"):
        clip = track_clip(media / name, model)
        tool = run_solver(TrackingSolver(None), clip.frames)
        flipped = run_solver(TrackingSolver(None), clip.mirrored)
        print(f"| {name} | {mirror_disagreement(tool, flipped)[0]:.4f} |")


if __name__ == "__main__":
    main()
