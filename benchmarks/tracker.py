"""The two trackers side by side: CPU against a bare MediaPipe loop, cost, and agreement.

    python benchmarks/tracker.py [--clip single_face.mp4] [--rounds 3] [--passes 4] [--json]

1. Whole-process CPU, played at the clip's own rate like a camera: each variant runs in a
   process of its own (so no other tracker's threads run beside it) and reports the CPU
   seconds of all its threads per second of media, start-up excluded, and its whole
   lifetime's CPU (start-up included) as the OS counts it for the finished child:
     bare       a bare 20-line MediaPipe FaceLandmarker loop (decode, detect_for_video)
     litert     the same loop with tracking.litert.LiteRtTracker (1 thread)
     litert-2t  the same with 2 LiteRT threads
     pipeline-mediapipe / pipeline-litert   the whole `avatar-driver` pipeline
                (`bench`'s paced run: tracker, solver, dynamics, vrchat to a loopback sink)
     pipeline-litert-adaptive   the same with --adaptive (still frames skipped)
   "+ over trk" is each frame's capture-to-sent latency minus that frame's tracker time
   (median over frames; the goal: at most 1 ms). Variants take turns (A B C ... A B C
   ...) for `--rounds` rounds; every ratio is against the bare loop of the same round,
   and the median ratio is quoted. The pipeline drops a frame that comes due while the
   last is still being tracked, so on a busy machine CPU per frame done (and frames done
   per second) is reported too.
2. Tracker ms per frame (unpaced, frames decoded beforehand) and the agreement of the
   LiteRT tracker with MediaPipe's on the shared clips and photos (tracking/compare.py).

The machine may be shared and noisy: quote ratios from one run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tracked_clips import add_media_and_model

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = (
    "bare",
    "litert",
    "litert-2t",
    "pipeline-mediapipe",
    "pipeline-litert",
    "pipeline-litert-adaptive",
)
QUALITY_CLIPS = (
    "single_face.mp4",
    "face_noface.mov",
    "laughing_hand.png",
    "bw_portrait.jpg",
    "group_six.jpg",
)


def _bare_loop(clip: str, model: str, passes: int, make: Any) -> tuple[float, float, int]:
    """(CPU s, media s, frames) of decode + track played at the clip's rate, `passes` times."""
    import cv2

    cap = cv2.VideoCapture(clip)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    cap.release()
    tracker_call, close = make(model)
    frames = 0
    c0 = time.process_time()
    start = time.perf_counter()
    for _ in range(passes):
        cap = cv2.VideoCapture(clip)
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            delay = start + frames / fps - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            tracker_call(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), frames / fps)
            frames += 1
        cap.release()
    cpu = time.process_time() - c0
    close()
    return cpu, frames / fps, frames


def _mediapipe(model: str) -> tuple[Any, Any]:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    landmarker = vision.FaceLandmarker.create_from_options(
        vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=model),
            running_mode=vision.RunningMode.VIDEO,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
    )

    def call(rgb: np.ndarray, t: float) -> None:
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        landmarker.detect_for_video(image, int(t * 1000))

    return call, landmarker.close


def _litert(threads: int) -> Any:
    def make(model: str) -> tuple[Any, Any]:
        from avatar_driver.frame import Frame
        from avatar_driver.tracking.litert import LiteRtTracker

        tracker = LiteRtTracker(model, num_threads=threads)
        return (lambda rgb, t: tracker(Frame(timestamp=t, image=rgb))), tracker.close

    return make


def child(variant: str, clip: str, model: str, passes: int) -> dict[str, Any]:
    """One variant's figures (runs in its own process)."""
    if variant.startswith("pipeline-"):
        from avatar_driver.bench import bench

        cpu = media = 0.0
        frames = 0
        lat: list[float] = []
        over: list[float] = []
        trk: list[float] = []
        for _ in range(passes):
            kind = variant.removeprefix("pipeline-").removesuffix("-adaptive")
            r = bench(clip, frames=None, model=model, dynamics="cortical", fast=False,
                      tracker=kind, adaptive=variant.endswith("-adaptive"))  # fmt: skip
            cpu_s = r["cpu_share"] * r["elapsed_s"]
            cpu += cpu_s
            media += cpu_s / r["cpu_s_per_media_s"]
            frames += r["frames"]  # fewer than the clip's when a late frame was dropped
            lat.append(r["latency_ms"]["median"])
            over.append(r["latency_over_tracker_ms"]["median"])
            trk.append(r["stages"]["tracker"]["median_us"] / 1000.0)
        out: dict[str, Any] = {"cpu_s": cpu, "media_s": media, "frames": frames}
        out.update(latency_ms=float(np.median(lat)), tracker_ms=float(np.median(trk)),
                   over_tracker_ms=float(np.median(over)))  # fmt: skip
        return out
    make = {"bare": _mediapipe, "litert": _litert(1), "litert-2t": _litert(2)}[variant]
    cpu, media, frames = _bare_loop(clip, model, passes, make)
    return {"cpu_s": cpu, "media_s": media, "frames": frames}


def _run_child(variant: str, clip: str, model: str, passes: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", variant, "--clip", clip, "--model", model,
           "--passes", str(passes)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)
    if proc.returncode:
        raise SystemExit(f"{variant} failed: {err[-2000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def cpu_table(clip: str, model: str, rounds: int, passes: int) -> dict[str, Any]:
    """Per-variant median CPU per media second and median ratio to the bare loop."""
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    for _ in range(rounds):
        for v in VARIANTS:
            runs[v].append(_run_child(v, clip, model, passes))
    table: dict[str, Any] = {}
    bare = runs["bare"]
    for v, rs in runs.items():
        per_media = [r["cpu_s"] / r["media_s"] for r in rs]
        ratio = [a / (b["cpu_s"] / b["media_s"]) for a, b in zip(per_media, bare, strict=True)]
        whole = [r["process_cpu_s"] / b["process_cpu_s"] for r, b in zip(rs, bare, strict=True)]
        per_frame = [r["cpu_s"] / r["frames"] for r in rs]
        frame_ratio = [a / (b["cpu_s"] / b["frames"]) for a, b in zip(per_frame, bare, strict=True)]
        row = {
            "cpu_ms_per_frame": 1000 * float(np.median(per_frame)),
            "frame_ratio_to_bare": float(np.median(frame_ratio)),
            "frames_done": float(np.median([r["frames"] / r["media_s"] for r in rs])),
            "cpu_per_media_s": float(np.median(per_media)),
            "ratio_to_bare": float(np.median(ratio)),
            "ratio_range": [float(min(ratio)), float(max(ratio))],
            "whole_process_ratio": float(np.median(whole)),
        }
        for key in ("latency_ms", "tracker_ms", "over_tracker_ms"):
            if key in rs[0]:
                row[key] = float(np.median([r[key] for r in rs]))
        table[v] = row
    return table


def quality(media: Path, model: str) -> dict[str, Any]:
    from avatar_driver.tracking.compare import agreement, load_frames, track

    rows = {}
    for name in QUALITY_CLIPS:
        path = media / name
        if not path.is_file():
            continue
        frames = load_frames(str(path))
        still = path.suffix.lower() in (".jpg", ".png")
        ref = track("mediapipe", model, frames, still=still)
        rows[name] = agreement(ref, track("litert", model, frames, still=still))
        if not still:
            rows[name + " --adaptive"] = agreement(
                ref, track("litert", model, frames, adaptive=True)
            )
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_and_model(parser)
    parser.add_argument("--clip", default=None, help="clip for the CPU table (single_face.mp4)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passes", type=int, default=4, help="times the clip plays per run")
    parser.add_argument("--no-cpu", action="store_true", help="only the quality table")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    media = Path(args.media)
    clip = args.clip or str(media / "single_face.mp4")
    if not Path(clip).is_file():
        raise SystemExit(f"clip {clip} not found (set AVATAR_DRIVER_MEDIA or pass --clip)")
    if args.child:
        result = child(args.child, clip, args.model, args.passes)
        # The whole process as the OS counts it: every thread, start-up included.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["process_cpu_s"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(result))
        return {}
    report: dict[str, Any] = {"load": os.getloadavg(), "cores": os.cpu_count()}
    if not args.no_cpu:
        report["cpu"] = cpu_table(clip, args.model, args.rounds, args.passes)
    report["quality"] = quality(media, args.model)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report, clip)
    return report


def _print(report: dict[str, Any], clip: str) -> None:
    load = ", ".join(f"{x:.1f}" for x in report["load"])
    print(f"machine: {report['cores']} cores, load average {load} at the start")
    if "cpu" in report:
        print(f"\nCPU played at its own rate ({Path(clip).name}), ratios to the bare loop:")
        print(f"{'variant':<26}{'cpu s/media s':>14}{'ratio (min-max)':>22}{'whole proc':>12}"
              f"{'fps done':>9}{'cpu ms/frame':>13}{'ratio':>7}"
              f"{'tracker ms':>12}{'latency ms':>12}{'+ over trk':>11}")  # fmt: skip
        for v, r in report["cpu"].items():
            lo, hi = r["ratio_range"]
            trk = f"{r['tracker_ms']:>12.2f}" if "tracker_ms" in r else f"{'-':>12}"
            lat = f"{r['latency_ms']:>12.2f}" if "latency_ms" in r else f"{'-':>12}"
            over = f"{r['over_tracker_ms']:>11.2f}" if "over_tracker_ms" in r else f"{'-':>11}"
            print(f"{v:<26}{r['cpu_per_media_s']:>14.3f}{r['ratio_to_bare']:>10.2f} "
                  f"({lo:.2f}-{hi:.2f}){r['whole_process_ratio']:>12.2f}"
                  f"{r['frames_done']:>9.1f}{r['cpu_ms_per_frame']:>13.2f}"
                  f"{r['frame_ratio_to_bare']:>7.2f}{trk}{lat}{over}")  # fmt: skip
    print("\nLiteRT tracker against MediaPipe's (frames where both see a face):")
    print(f"{'clip':<29}{'faces mp/lt':>12}{'ms mp/lt':>14}{'lm px':>8}{'MAE':>8}{'max':>7}"
          f"{'mouth/jaw r':>12}{'blinks':>8}{'pose deg':>9}")  # fmt: skip
    for name, q in report["quality"].items():
        faces = f"{q['faces_ref']}/{q['faces_other']}"
        ms = f"{q['ms_ref']:.1f}/{q['ms_other']:.1f}"
        if "weights_mae" not in q:
            if q.get("different_face"):
                print(f"{name:<29}{faces:>12}{ms:>14}   (each found a different face)")
                continue
            seen = "either" if not q["faces_other"] else "MediaPipe's (litert: a small face)"
            print(f"{name:<29}{faces:>12}{ms:>14}   (no face in {seen})")
            continue
        r = f"{q['mouth_jaw_r_min']:.3f}" if "mouth_jaw_r_min" in q else "-"
        print(f"{name:<29}{faces:>12}{ms:>14}{q['landmark_px_mean']:>8.2f}"
              f"{q['weights_mae']:>8.4f}{q['weights_max']:>7.3f}{r:>12}"
              f"{q['blink_peaks']:>8}{q['pose_deg_mae']:>9.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
