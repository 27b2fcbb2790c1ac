"""Robustness benchmark: raw MediaPipe and the tool on degraded variants of the shared media.

    python benchmarks/robustness.py [--model PATH] [--media DIR] [--variants a,b] [--json]
                                    [--tracker mediapipe|litert] [--no-zoom] [--no-stills]
                                    [--no-group]

Variants (`avatar_driver.degrade`): far x0.5/0.3/0.2, headset, hand over the mouth, dark,
side light, blur, glasses; each made with OpenCV from every frame of single_face.mp4 and
face_noface.mov (covers placed with the landmarks found on the clean frame). Each variant
is tracked like the tool tracks a video (VIDEO mode, a fresh tracker per variant and clip,
`--tracker` picks MediaPipe's task or the LiteRT tracker with its zoom and tiles; the clean
reference is always the same tracker on the clean clip) and goes through two chains:
- raw: the tracker's weights as they come (a frame without a face reads all zeros);
- tool: solver (with a profile made from the clean clip's first 0.5 s, as a user calibrates
  once) then the default cortical dynamics (`tool_chain`).
"headset + own face" is the headset variant tracked through `headset.UpperFacePaste`
with the upper face recorded from the clean clip at 0.25 s (as `calibrate` records it
before the headset goes on); its raw column is MediaPipe on the pasted frames, its tool
column adds headset mode.
Metrics, over the frames where the clean clip has a face, against the same chain on the
clean clip:
- face: share of frames with a face; ghost: share of the frames without a face in the clean
  clip (face_noface.mov's title card) where the variant finds one;
- mouth r / MAE: Pearson r and mean |difference| of the jaw* and mouth* shapes, all frames
  and those shapes pooled into one series; "r c" is the stricter r of the same series with
  each shape's own mean removed (per clip, from each series separately), so a shape read
  at the right level but with the wrong movement does not count as agreement;
- smile: mean mouthSmile over single_face's smiling frames (0.7-2.3 s) / the clean value;
- jitter: mean over shapes of the std of the frame-to-frame change on single_face's
  neutral frames (t < 0.5 s);
- mouth covered / headset (tool): share of face frames whose mouth confidence is under 0.5,
  and share in headset mode (upper face not tracked).
The still laughing_hand.png gets a second table: face found and mouth MAE
against the clean still, IMAGE mode, solver only. The group photo group_six.jpg gets a
third: faces found with `--faces N` for N = 1..6 (IMAGE mode, zoom off and on for
MediaPipe). `--no-zoom` runs MediaPipe's task on the whole frame only (as before the
zoom, tracking/zoom.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from avatar_driver import degrade
from avatar_driver.dynamics import make_dynamics
from avatar_driver.frame import Frame
from avatar_driver.headset import UpperFacePaste, UpperFacePatch, record_patch
from avatar_driver.shapes import ARKIT_NAMES, INDEX, UNAVAILABLE
from avatar_driver.solver import TrackingSolver, profile_from_neutral
from avatar_driver.solver.calibration import Profile
from avatar_driver.solver.measures import measure
from avatar_driver.tracking.choice import TRACKERS, create_tracker
from avatar_driver.tracking.landmarker import FaceTracker

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CLIPS = ("single_face.mp4", "face_noface.mov")
#: bw_portrait.jpg is left out: a profile face with the mouth open that MediaPipe does not
#: find even clean and cropped around the head, so it has nothing to compare against.
STILLS = ("laughing_hand.png",)
GROUP = "group_six.jpg"
CALIBRATION_S = 0.5
NEUTRAL_S = 0.5
SMILE_S = (0.7, 2.3)
MOUTH = np.array([i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("jaw", "mouth"))])
SMILE = np.array([INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]])
_AVAILABLE = ~UNAVAILABLE

Chain = Callable[[Frame], Frame]


def read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of a clip as RGB, and its frame rate."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 30.0)
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return out, fps


def read_still(path: Path, max_width: int = 1280) -> np.ndarray:
    """A still as RGB, at most `max_width` wide (as a webcam would see it)."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"{path}: cannot read the image")
    if img.shape[1] > max_width:
        s = max_width / img.shape[1]
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def _strip(f: Frame) -> Frame:
    """The frame without its pixels (a stand-in keeps the aspect ratio)."""
    img = f.image
    if img is None:
        return f
    return dataclasses.replace(f, image=np.broadcast_to(np.uint8(0), img.shape))


def open_tracker(kind: str, model: str, mode: str, zoom: bool = True, faces: int = 1) -> Any:
    """The tracker `kind`; MediaPipe's without its zoom when `zoom` is off."""
    if kind == "mediapipe":
        return FaceTracker(model, mode=mode, num_faces=faces, zoom=zoom)
    return create_tracker(kind, model, mode=mode, num_faces=faces)


def clean_landmarks(images: Sequence[np.ndarray], model: str) -> list[np.ndarray | None]:
    """Landmarks of each clean image, IMAGE mode (where each variant places its cover)."""
    with FaceTracker(model, mode="image") as tracker:
        return [tracker(Frame(timestamp=0.0, image=img)).landmarks for img in images]


def profile_of(frames: Sequence[Frame], until: float = CALIBRATION_S) -> Profile:
    """Profile from the relaxed first `until` seconds of tracked frames."""
    window = [f for f in frames if f.face_present and f.timestamp < until]
    assert window and window[0].landmarks is not None and window[0].image is not None
    aspect = window[0].image.shape[1] / window[0].image.shape[0]
    w = np.stack([f.weights for f in window])
    m = np.stack([measure(f.landmarks, aspect) for f in window if f.landmarks is not None])
    return profile_from_neutral(w, m, source=f"clean, first {until:g} s")


PASTED = "headset + own face"


def tool_chain(profile: Profile | None, variant: str) -> Chain:
    """The tool's stages after the tracker: solver then cortical dynamics (headset mode on
    for the pasted variant, as a user who recorded their upper face would run it)."""
    solver = TrackingSolver(profile, headset=True if variant == PASTED else None)
    dynamics = make_dynamics("cortical")
    dynamics.set_neutral(solver.neutral_weights())

    def chain(f: Frame) -> Frame:
        return dynamics(solver(f))

    return chain


@dataclasses.dataclass
class Run:
    """Per-frame results of one variant of one clip."""

    raw: list[Frame]
    tool: list[Frame]


def track_variant(
    images: Sequence[np.ndarray],
    lms: Sequence[np.ndarray | None],
    fps: float,
    variant: str,
    model: str,
    profile: Profile | None,
    patch: UpperFacePatch | None = None,
    kind: str = "mediapipe",
    zoom: bool = True,
) -> Run:
    """Track one variant in VIDEO mode and pass each frame through the tool chain.

    PASTED is the headset variant tracked through `UpperFacePaste` with `patch`."""
    chain = tool_chain(profile, variant) if profile is not None else None
    raw: list[Frame] = []
    tool: list[Frame] = []
    make = "headset" if variant == PASTED else variant
    with open_tracker(kind, model, "video", zoom) as mediapipe:
        tracker: Chain = mediapipe
        if variant == PASTED:
            assert patch is not None
            tracker = UpperFacePaste(mediapipe, patch, active=lambda: True)
        for k, (img, lm) in enumerate(zip(images, lms, strict=True)):
            pixels = img if make == "clean" else degrade.apply(make, img, lm, seed=k)
            f = tracker(Frame(timestamp=k / fps, index=k, image=pixels))
            raw.append(_strip(f))
            if chain is not None:
                tool.append(_strip(chain(f)))
    return Run(raw, tool)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else float("nan")


def metrics(
    runs: dict[str, Run], clean: dict[str, Run], fps: dict[str, float], chain: str
) -> dict[str, float]:
    """The table's columns for one variant (all clips pooled) and one chain."""
    got, ref, face, n = [], [], 0, 0
    covered: list[float] = []
    headset: list[float] = []
    ghosts, empty = 0, 0
    smile: list[float] = []
    jitter: list[float] = []
    for clip, run in runs.items():
        frames = getattr(run, chain)
        base = getattr(clean[clip], chain)
        keep = np.array([f.face_present for f in clean[clip].raw])
        w = np.stack([f.weights for f in frames])
        w0 = np.stack([f.weights for f in base])
        got.append(w[keep][:, MOUTH])
        ref.append(w0[keep][:, MOUTH])
        face += sum(f.face_present for f, k in zip(run.raw, keep, strict=True) if k)
        ghosts += sum(f.face_present for f, k in zip(run.raw, keep, strict=True) if not k)
        empty += int((~keep).sum())
        covered += [float(f.regions[2] < 0.5) for f in frames if f.regions is not None]
        headset += [float(not f.upper_face) for f in frames if f.face_present]
        n += int(keep.sum())
        if clip == CLIPS[0]:
            t = np.arange(len(frames)) / fps[clip]
            sm = (t >= SMILE_S[0]) & (t < SMILE_S[1])
            clean_smile = float(w0[sm][:, SMILE].mean())
            smile.append(float(w[sm][:, SMILE].mean()) / clean_smile)
            rest = w[t < NEUTRAL_S][:, _AVAILABLE]
            seen = np.array([f.face_present for f in run.raw])[t < NEUTRAL_S]
            ok = rest[seen] if seen.sum() > 2 else rest[:0]
            jitter.append(float(np.diff(ok, axis=0).std(axis=0).mean()) if len(ok) else np.nan)
    g, r = np.concatenate(got), np.concatenate(ref)
    centred = np.concatenate([a - a.mean(axis=0) for a in got])
    centred_ref = np.concatenate([b - b.mean(axis=0) for b in ref])
    return {
        "face": face / max(n, 1),
        "ghost": ghosts / empty if empty else float("nan"),
        "mouth_r": pearson(g, r),
        "mouth_rc": pearson(centred, centred_ref),
        "mouth_mae": float(np.abs(g - r).mean()),
        "smile": smile[0] if smile else float("nan"),
        "jitter": jitter[0] if jitter else float("nan"),
        "mouth_covered": float(np.mean(covered)) if covered else float("nan"),
        "headset": float(np.mean(headset)) if headset else float("nan"),
    }


def still_metrics(
    stills: dict[str, np.ndarray],
    model: str,
    variants: Sequence[str],
    kind: str = "mediapipe",
    zoom: bool = True,
) -> dict[str, dict[str, float]]:
    """Face found (share of stills) and mouth MAE against the clean still, IMAGE mode."""
    out: dict[str, dict[str, float]] = {}
    with open_tracker(kind, model, "image", zoom) as tracker:
        clean = {k: tracker(Frame(timestamp=0.0, image=v)) for k, v in stills.items()}
        for variant in variants:
            found, maes = 0, []
            for name, img in stills.items():
                lm = clean[name].landmarks
                pixels = img if variant == "clean" else degrade.apply(variant, img, lm)
                f = tracker(Frame(timestamp=0.0, image=pixels))
                solver = TrackingSolver(None)
                found += f.face_present
                if clean[name].face_present:
                    a = solver(f).weights[MOUTH]
                    b = TrackingSolver(None)(clean[name]).weights[MOUTH]
                    maes.append(float(np.abs(a - b).mean()))
            out[variant] = {
                "face": found / len(stills),
                "mouth_mae": float(np.mean(maes)) if maes else float("nan"),
            }
    return out


def group_faces(image: np.ndarray, model: str, kind: str, zoom: bool) -> dict[int, int]:
    """Faces found on the group photo with `--faces N`, N = 1..6 (IMAGE mode, as a still)."""
    out = {}
    for n in range(1, 7):
        with open_tracker(kind, model, "image", zoom, faces=n) as tracker:
            if kind == "mediapipe":
                out[n] = len(tracker.faces(Frame(timestamp=0.0, image=image)))
            else:
                out[n] = len(tracker.track_faces(Frame(timestamp=0.0, image=image)))
    return out


def _f(v: float, digits: int) -> str:
    return "-" if v != v else f"{v:.{digits}f}"


def _table(rows: dict[str, dict[str, dict[str, float]]]) -> str:
    head = (
        "| variant | face | ghost | mouth r raw | mouth r tool | r c raw | r c tool "
        "| MAE raw | MAE tool "
        "| smile raw | smile tool | jitter raw | jitter tool | mouth covered | headset |"
    )
    lines = [head, "|" + " --- |" * 15]
    for name, m in rows.items():
        raw, tool = m["raw"], m["tool"]
        lines.append(
            f"| {name} | {raw['face']:.2f} | {_f(raw['ghost'], 2)} | {_f(raw['mouth_r'], 3)} "
            f"| {_f(tool['mouth_r'], 3)} | {_f(raw['mouth_rc'], 3)} | {_f(tool['mouth_rc'], 3)} "
            f"| {raw['mouth_mae']:.4f} | {tool['mouth_mae']:.4f} "
            f"| {raw['smile']:.2f} | {tool['smile']:.2f} | {_f(raw['jitter'], 4)} "
            f"| {_f(tool['jitter'], 4)} | {_f(tool['mouth_covered'], 2)} "
            f"| {_f(tool['headset'], 2)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.environ.get("AVATAR_DRIVER_MODEL"))
    ap.add_argument("--media", default=os.environ.get("AVATAR_DRIVER_MEDIA"))
    ap.add_argument("--variants", help="comma-separated subset of the variants")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    ap.add_argument("--tracker", choices=TRACKERS, default="mediapipe")
    ap.add_argument("--no-stills", action="store_true", help="skip the stills table")
    ap.add_argument("--no-group", action="store_true", help="skip the group photo table")
    ap.add_argument(
        "--no-zoom", action="store_true", help="MediaPipe's task on the whole frame only"
    )
    args = ap.parse_args(argv)
    zoom = not args.no_zoom
    model = args.model or str(SHARED / "models" / "face_landmarker.task")
    media = Path(args.media) if args.media else SHARED / "media"
    known = [*degrade.VARIANTS, PASTED]
    variants = known
    if args.variants:
        variants = [v.strip() for v in args.variants.split(",")]
        unknown = [v for v in variants if v not in known]
        if unknown:
            print(f"--variants: unknown {unknown}; known: {known}", file=sys.stderr)
            raise SystemExit(2)
    t0 = time.perf_counter()
    clips: dict[str, tuple[list[np.ndarray], list[np.ndarray | None], float]] = {}
    for name in CLIPS:
        images, rate = read_frames(media / name)
        clips[name] = (images, clean_landmarks(images, model), rate)
    rates = {k: v[2] for k, v in clips.items()}
    clean: dict[str, Run] = {}
    profiles: dict[str, Profile] = {}
    patches: dict[str, UpperFacePatch] = {}
    for name, (images, lms, rate) in clips.items():
        # the upper face recorded as `calibrate` does: a relaxed frame before the headset
        k = next(i for i, lm in enumerate(lms) if lm is not None and i / rate >= 0.25)
        landmarks = lms[k]
        assert landmarks is not None
        patches[name] = record_patch(images[k], landmarks)
        first = track_variant(images, lms, rate, "clean", model, None, kind=args.tracker, zoom=zoom)
        # the profile needs the aspect ratio: the stripped frames keep it
        profiles[name] = profile_of(first.raw)
        clean[name] = track_variant(
            images, lms, rate, "clean", model, profiles[name], kind=args.tracker, zoom=zoom
        )
    rows: dict[str, dict[str, dict[str, float]]] = {
        "clean": {c: metrics(clean, clean, rates, c) for c in ("raw", "tool")}
    }
    for variant in variants:
        runs = {
            name: track_variant(
                images, lms, rate, variant, model, profiles[name], patches[name], args.tracker, zoom
            )
            for name, (images, lms, rate) in clips.items()
        }
        rows[variant] = {c: metrics(runs, clean, rates, c) for c in ("raw", "tool")}
        print(f"  {variant}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    stills = {name: read_still(media / name) for name in STILLS}
    still_rows = (
        {}
        if args.no_stills
        else still_metrics(
            stills, model, ["clean", *(v for v in variants if v != PASTED)], args.tracker, zoom
        )
    )
    group = (
        {} if args.no_group else group_faces(read_still(media / GROUP), model, args.tracker, zoom)
    )
    how = args.tracker + ("" if zoom or args.tracker != "mediapipe" else ", no zoom")
    print(f"Clips: {', '.join(CLIPS)} ({how}, VIDEO mode, frames where the clean")
    print("clip has a face)\n")
    print(_table(rows))
    print(f"\nStills: {', '.join(STILLS)} (IMAGE mode, solver without a profile)\n")
    print("| variant | face | mouth MAE vs clean |\n| --- | --- | --- |")
    for name, m in still_rows.items():
        print(f"| {name} | {m['face']:.2f} | {m['mouth_mae']:.4f} |")
    if group:
        print(f"\nGroup photo: {GROUP} (IMAGE mode), faces found with --faces N\n")
        print("| N | " + " | ".join(str(n) for n in group) + " |")
        print("| --- |" + " --- |" * len(group))
        print("| found | " + " | ".join(str(v) for v in group.values()) + " |")
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    result = {"clips": rows, "stills": still_rows, "group": group}
    if args.json:
        print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
