"""What MediaPipe's zoom (tracking/zoom.py) costs: the tracker with and without it.

    python benchmarks/zoom.py [--model PATH] [--media DIR] [--rounds 3] [--json]

Unpaced, frames decoded beforehand, VIDEO mode, a fresh tracker per run. Cases:
    clean      single_face.mp4 as it is (a big face: the zoom should never run)
    far x0.3   degrade.far 0.3 (~58 px face: found only through the zoom)
    far x0.2   degrade.far 0.2 (~38 px face)
    no face    no_face.mp4 (nothing to find: one tile per frame beside the whole frame)
For each case and round the plain tracker (`zoom=False`) and the zooming one take turns;
the table gives the median over rounds of ms per frame (wall) and CPU ms per frame (all
threads, process time), their ratio zoom / plain of the same round, the zoom's task runs
per frame and the share of frames with a face; then the zoom's own check on a big face
(`Zoom.faces` given the whole frame's faces), timed alone. The machine may be shared:
quote ratios.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from robustness import read_frames
from tracked_clips import add_media_and_model

from avatar_driver import degrade
from avatar_driver.frame import Frame
from avatar_driver.tracking.landmarker import FaceTracker
from avatar_driver.tracking.zoom import face_arrays


def run_once(model: str, images: list[np.ndarray], fps: float, zoom: bool) -> dict[str, float]:
    """One pass: wall and CPU ms per frame, zoom runs per frame, share of faces found."""
    with FaceTracker(model, mode="video", zoom=zoom) as tracker:
        tracker(Frame(timestamp=0.0, image=images[0]))  # graph start-up outside the timing
        if tracker.zoom is not None:
            tracker.zoom.reset()
            tracker.zoom.runs = 0
        found = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for k, img in enumerate(images[1:], start=1):
            found += tracker(Frame(timestamp=k / fps, index=k, image=img)).face_present
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = len(images) - 1
        runs = tracker.zoom.runs if tracker.zoom is not None else 0
    return {"ms": 1000 * wall / n, "cpu_ms": 1000 * cpu / n, "runs": runs / n, "face": found / n}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_and_model(ap)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    media = Path(args.media)
    single, fps = read_frames(media / "single_face.mp4")
    empty, empty_fps = read_frames(media / "no_face.mp4")
    cases = {
        "clean": (single, fps),
        "far x0.3": ([degrade.far(i, 0.3) for i in single], fps),
        "far x0.2": ([degrade.far(i, 0.2) for i in single], fps),
        "no face": (empty, empty_fps),
    }
    table: dict[str, dict[str, float]] = {}
    for name, (images, rate) in cases.items():
        rounds = []
        for k in range(args.rounds):
            if k % 2:  # ABBA: neither variant always runs second
                zoomed = run_once(str(args.model), images, rate, zoom=True)
                plain = run_once(str(args.model), images, rate, zoom=False)
            else:
                plain = run_once(str(args.model), images, rate, zoom=False)
                zoomed = run_once(str(args.model), images, rate, zoom=True)
            rounds.append((plain, zoomed))

        def med(key: str, i: int, rounds: list[Any] = rounds) -> float:
            return float(np.median([r[i][key] for r in rounds]))

        table[name] = {
            "plain_ms": med("ms", 0),
            "zoom_ms": med("ms", 1),
            "ratio_ms": float(np.median([z["ms"] / p["ms"] for p, z in rounds])),
            "plain_cpu_ms": med("cpu_ms", 0),
            "zoom_cpu_ms": med("cpu_ms", 1),
            "ratio_cpu": float(np.median([z["cpu_ms"] / p["cpu_ms"] for p, z in rounds])),
            "zoom_runs": med("runs", 1),
            "plain_face": med("face", 0),
            "zoom_face": med("face", 1),
        }
    print(f"MediaPipe tracker with and without its zoom ({args.rounds} rounds, medians)\n")
    print(
        "| case | ms plain | ms zoom | zoom/plain | CPU ms plain | CPU ms zoom | zoom/plain "
        "| zoom runs/frame | face plain | face zoom |"
    )
    print("|" + " --- |" * 10)
    for name, m in table.items():
        print(
            f"| {name} | {m['plain_ms']:.1f} | {m['zoom_ms']:.1f} | {m['ratio_ms']:.2f} "
            f"| {m['plain_cpu_ms']:.1f} | {m['zoom_cpu_ms']:.1f} | {m['ratio_cpu']:.2f} "
            f"| {m['zoom_runs']:.2f} | {m['plain_face']:.2f} | {m['zoom_face']:.2f} |"
        )
    check = check_cost(str(args.model), single, fps)
    print(f"\nThe zoom's own work on a big face (clean, whole-frame results given): {check:.0f} us")
    if args.json:
        print(json.dumps({"cases": table, "check_us": check}, indent=1))
    return {"cases": table, "check_us": check}


def check_cost(model: str, images: list[np.ndarray], fps: float) -> float:
    """Microseconds per frame of `Zoom.faces` deciding not to zoom on a big face (the only
    work the zoom adds then), timed alone on the whole frame's results."""
    with FaceTracker(model, mode="video") as tracker:
        assert tracker.zoom is not None
        found = [face_arrays(tracker.detect(Frame(timestamp=k / fps, image=img)))
                 for k, img in enumerate(images)]  # fmt: skip
        t0 = time.perf_counter()
        for k, (img, faces) in enumerate(zip(images, found, strict=True)):
            tracker.zoom.faces(img, k / fps, faces)
        took = time.perf_counter() - t0
        assert tracker.zoom.runs == 0
    return 1e6 * took / len(images)


if __name__ == "__main__":
    main()
