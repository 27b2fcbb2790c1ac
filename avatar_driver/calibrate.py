"""The `calibrate` command: record a user's neutral face and range into a profile.

On a camera, a guided sequence in the terminal: each step is announced, counted down and
then recorded for a few seconds. On a video file, the first `--neutral-seconds` are taken
as the relaxed face. The profile is written as TOML (`solver.calibration`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from .errors import CalibrationError, ConfigError
from .frame import Frame
from .headset import UpperFacePatch, record_patch
from .solver.calibration import (
    Profile,
    UpperFaceRef,
    profile_from_neutral,
    profile_from_steps,
    save_profile,
)
from .solver.measures import measure

__all__ = ["GUIDED_STEPS", "run_calibrate"]

DEFAULT_NEUTRAL_SECONDS = 0.5
COUNTDOWN_S = 3
RECORD_S = 2.5
#: (step name, what the user is asked to do); names match `calibration.STEP_TARGETS`.
GUIDED_STEPS: tuple[tuple[str, str], ...] = (
    ("relax", "Relax your face and look at the camera"),
    ("blink", "Close both eyes and keep them closed"),
    ("open wide", "Open your eyes and mouth wide"),
    ("smile", "Smile broadly"),
    ("raise brows", "Raise your eyebrows"),
    ("frown", "Frown: pull your brows down"),
    ("puff cheeks", "Puff out your cheeks"),
)

Sample = tuple[np.ndarray, np.ndarray]


class UpperFaceRecorder:
    """Keeps the relaxed upper face of the first face frame from `after` seconds on (the
    middle of the relaxed window), for headset mode (`headset.record_patch`)."""

    def __init__(self) -> None:
        self.patch: UpperFacePatch | None = None

    def offer(self, frame: Frame, t: float, after: float) -> None:
        if self.patch is not None or t < after or not frame.face_present:
            return
        if frame.image is not None and frame.landmarks is not None:
            self.patch = record_patch(frame.image, frame.landmarks)


def _sample(frame: Frame) -> Sample | None:
    if not frame.face_present or frame.landmarks is None:
        return None
    img = frame.image
    aspect = img.shape[1] / img.shape[0] if img is not None else 1.0
    return frame.weights.astype(np.float64), measure(frame.landmarks, aspect)


def _stack(samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    if not samples:
        return np.zeros((0, 52)), np.zeros((0, 1))
    return np.stack([w for w, _ in samples]), np.stack([m for _, m in samples])


def calibrate_clip(
    frames: Iterator[Frame],
    seconds: float,
    source: str,
    upper: UpperFaceRecorder | None = None,
) -> Profile:
    """Profile from the relaxed first `seconds` of tracked frames."""
    samples: list[Sample] = []
    for frame in frames:
        if frame.timestamp >= seconds:
            break
        if upper is not None:
            upper.offer(frame, frame.timestamp, seconds / 2)
        if (s := _sample(frame)) is not None:
            samples.append(s)
    if not samples:
        raise CalibrationError(
            f"no face found in the first {seconds:g} s of {source}: nothing to calibrate from"
        )
    w, m = _stack(samples)
    return profile_from_neutral(w, m, source=f"{source}, first {seconds:g} s")


def calibrate_guided(
    frames: Iterator[Frame], source: str, out: TextIO, upper: UpperFaceRecorder | None = None
) -> Profile:
    """Profile from the guided sequence, prompting on `out` with a countdown per step."""
    steps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, (name, prompt) in enumerate(GUIDED_STEPS, 1):
        print(f"[{i}/{len(GUIDED_STEPS)}] {prompt}", file=out, flush=True)
        samples: list[Sample] = []
        start: float | None = None
        shown = COUNTDOWN_S + 1
        for frame in frames:
            start = frame.timestamp if start is None else start
            t = frame.timestamp - start
            if t < COUNTDOWN_S:
                left = COUNTDOWN_S - int(t)
                if left < shown:
                    shown = left
                    print(f"  {left}...", file=out, flush=True)
                continue
            if t >= COUNTDOWN_S + RECORD_S:
                break
            if shown > 0:
                shown = 0
                print("  hold it", file=out, flush=True)
            if name == "relax" and upper is not None:
                upper.offer(frame, t, COUNTDOWN_S + RECORD_S / 2)
            if (s := _sample(frame)) is not None:
                samples.append(s)
        if name == "relax" and not samples:
            raise CalibrationError("no face seen while relaxed: check the camera and light")
        print(f"  done ({len(samples)} frames with a face)", file=out, flush=True)
        steps[name] = _stack(samples)
    return profile_from_steps(steps, source=source)


def run_calibrate(args: argparse.Namespace) -> int:
    """Entry point of `avatar-driver calibrate`."""
    from .sources import open_source
    from .tracking.choice import create_tracker
    from .tracking.model import resolve_model

    seconds = args.neutral_seconds
    if seconds is not None and not 0.0 < seconds <= 60.0:
        raise ConfigError(f"--neutral-seconds: expected 0 < S <= 60, got {seconds:g}")
    source = open_source(args.source)
    try:
        if not source.needs_tracker or source.still:
            raise ConfigError(
                f"calibrate needs a camera or a video of your face, got {source.description}"
            )
        model = resolve_model(args.model)
        kind = getattr(args, "tracker", "mediapipe")
        every = getattr(args, "mirror_average", 0)
        if every < 0:
            raise ConfigError(f"--mirror-average: expected N >= 0, got {every}")
        upper = UpperFaceRecorder()
        with create_tracker(
            kind, model.path, mode="video", symmetric=every > 0, mirror_every=max(1, every)
        ) as tracker:
            frames = (tracker(f) for f in source)
            if source.live:
                if seconds is not None:
                    print("--neutral-seconds applies to video files; ignored", file=sys.stderr)
                profile = calibrate_guided(frames, args.source, sys.stderr, upper)
            else:
                profile = calibrate_clip(
                    frames, seconds or DEFAULT_NEUTRAL_SECONDS, source.description, upper
                )
    finally:
        source.close()
    if upper.patch is not None:  # the relaxed upper face, beside the profile (headset mode)
        out = Path(args.out).expanduser()
        image = upper.patch.save(out.with_name(out.stem + ".upper.png"))
        ref = UpperFaceRef(image=image.name, points=upper.patch.points.ravel().round(2).tolist())
        profile = profile.model_copy(update={"upper_face": ref})
    path = save_profile(profile, args.out)
    raised = sorted(profile.shapes.items(), key=lambda kv: -kv[1][0])[:3]
    top = ", ".join(f"{n} {v[0]:.2f}" for n, v in raised)
    print(
        f"calibration profile written to {path} ({profile.frames} relaxed frames; "
        f"highest neutrals: {top})"
    )
    return 0
