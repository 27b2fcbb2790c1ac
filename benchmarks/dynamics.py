"""Benchmark of the expression dynamics: raw vs a One Euro grid vs the cortical filter.

Synthetic takes with known truth (rest, blinks, sustained expressions, speech-like jaw,
dropped frames) sampled at 30 and 60 fps with timestamp jitter, plus noise: Gaussian with
rare outliers, or resampled from real tracker output at rest (MediaPipe on the shared
clips). Prints one table per (fps, noise) and checks the goal of docs/dynamics.md; writes the figure
used by docs/dynamics.md. Two costs: the table's us/frame is the bare filter step over the
52 weights; the stage table times what a user runs, `make_dynamics(name)(frame)` (52 weights
and 9 pose angles, face-loss bookkeeping, clip, microExpression, a new Frame). The method is in
docs/dynamics.md; run

    python benchmarks/dynamics.py [--quick] [--seeds N] [--fps 30 60] [--figure PATH]
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avatar_driver.dynamics import DYNAMICS_NAMES, make_dynamics
from avatar_driver.dynamics.cortical import CORTICAL_DEFAULTS, CorticalFilter
from avatar_driver.dynamics.groups import CHANNEL_GROUP, group_arrays
from avatar_driver.dynamics.one_euro import OneEuroFilter
from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX, MEDIAPIPE_TO_CANONICAL, N_SHAPES, POSE_NAMES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FIGURE = ROOT / "docs" / "img" / "dynamics.png"
MEDIA = Path(os.environ.get("AVATAR_DRIVER_MEDIA", ROOT.parent / "shared" / "media"))

MIN_CUTOFFS = (0.3, 0.5, 1.0, 2.0, 3.0)
BETAS = (0.5, 1.0, 5.0, 10.0, 20.0, 30.0)
SIGMA = 0.02
OUTLIER_RATE = 0.01
OUTLIER_SIZE = 0.15
FINE_HZ = 1000  # truth is built on this grid, then sampled at the frame times

METRICS = (
    ("rest_jitter", "rest jit", "{:.5f}"),
    ("hold_jitter", "hold jit", "{:.5f}"),
    ("hold_error", "hold err", "{:.4f}"),
    ("blink_kept", "blink kept", "{:.3f}"),
    ("blink_half", "blink>0.5", "{:.3f}"),
    ("lag_ms", "lag ms", "{:.1f}"),
    ("overshoot", "overshoot", "{:.4f}"),
    ("rmse", "RMSE", "{:.4f}"),
    ("us_per_frame", "us/frame", "{:.1f}"),
)

# Which synthetic behaviour each channel gets; pairs share events like a real face.
BLINK = ("eyeBlinkLeft", "eyeBlinkRight")
SUSTAINED = (
    ("mouthSmileLeft", "mouthSmileRight"),
    ("browInnerUp",),
    ("browOuterUpLeft", "browOuterUpRight"),
    ("cheekSquintLeft", "cheekSquintRight"),
    ("mouthFrownLeft", "mouthFrownRight"),
    ("eyeSquintLeft", "eyeSquintRight"),
    ("noseSneerLeft", "noseSneerRight"),
)
SPEECH = {"jawOpen": 1.0, "mouthLowerDownLeft": 0.6, "mouthLowerDownRight": 0.6,
          "mouthFunnel": 0.4, "mouthClose": 0.3}  # fmt: skip


@dataclass
class Event:
    """One onset with known truth: where it starts, its half-level and where to look."""

    channel: int
    kind: str  # "blink" or "onset"
    start: float
    base: float
    peak: float
    end: float  # end of the rise (onset) or of the whole blink
    window_end: float


@dataclass
class Take:
    """A synthetic take: frame times, truth and noisy input (frames x 52), events."""

    t: np.ndarray
    truth: np.ndarray
    x: np.ndarray
    fine_t: np.ndarray
    fine: np.ndarray
    base: np.ndarray
    events: list[Event] = field(default_factory=list)
    active: np.ndarray = field(default_factory=lambda: np.zeros(N_SHAPES, bool))


def _raised(u: np.ndarray) -> np.ndarray:
    """0 -> 1 raised-cosine ramp for u in 0..1 (clipped)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0))


def make_take(
    rng: np.random.Generator,
    fps: float,
    duration: float,
    noise: Callable[[np.random.Generator, int], np.ndarray] | None,
) -> Take:
    """Build truth on a 1 kHz grid, sample it at jittered frame times with drops, add noise."""
    ft = np.arange(int(duration * FINE_HZ)) / FINE_HZ
    base = rng.uniform(0.02, 0.25, N_SHAPES)
    fine = np.tile(base, (ft.size, 1))
    events: list[Event] = []
    active = np.zeros(N_SHAPES, bool)

    # blinks: close 35 %, closed 15 %, open 50 % of 120-250 ms, every 2-5 s
    bl = [INDEX[n] for n in BLINK]
    active[bl] = True
    base[bl] = rng.uniform(0.02, 0.1)
    fine[:, bl] = base[bl]
    s = rng.uniform(0.5, 2.0)
    while s < duration - 1.0:
        d, peak = rng.uniform(0.12, 0.25), rng.uniform(0.7, 1.0)
        u = (ft - s) / d
        shape = np.where(u < 0.35, _raised(u / 0.35), 1.0 - _raised((u - 0.5) / 0.5))
        shape[(u < 0) | (u > 1)] = 0.0
        for c in bl:
            fine[:, c] = np.maximum(fine[:, c], base[c] + (peak - base[c]) * shape)
            events.append(Event(c, "blink", s, base[c], peak, s + d, s + d + 0.15))
        s += d + rng.uniform(2.0, 5.0)

    # sustained expressions: 0.3-1 s onsets, 3-10 s holds, 0.5-1.5 s releases
    for names in SUSTAINED:
        cs = [INDEX[n] for n in names]
        active[cs] = True
        s = rng.uniform(0.5, 3.0)
        while s < duration - 2.0:
            on, hold, off = rng.uniform(0.3, 1.0), rng.uniform(3.0, 10.0), rng.uniform(0.5, 1.5)
            amp = rng.uniform(0.3, 0.75)
            rise = _raised((ft - s) / on)
            fall = _raised((ft - s - on - hold) / off)
            for c in cs:
                level = min(base[c] + amp * rng.uniform(0.9, 1.0), 1.0)
                fine[:, c] += (level - base[c]) * (rise - fall)
                events.append(Event(c, "onset", s, base[c], level, s + on, s + on + 1.0))
            s += on + hold + off + rng.uniform(1.5, 4.0)

    # speech: bursts of 1-3 s, syllables of 3-7 Hz and 0.15-0.5 amplitude
    sp = {INDEX[n]: g for n, g in SPEECH.items()}
    active[list(sp)] = True
    env = np.zeros(ft.size)
    s = rng.uniform(0.5, 2.0)
    while s < duration - 3.0:
        end = s + rng.uniform(1.0, 3.0)
        while s < end:
            f, amp = rng.uniform(3.0, 7.0), rng.uniform(0.15, 0.5)
            u = (ft - s) * f
            env = np.where((u >= 0) & (u < 1), amp * (0.5 - 0.5 * np.cos(2 * np.pi * u)), env)
            s += 1.0 / f
        s += rng.uniform(1.0, 3.0)
    for c, gain in sp.items():
        fine[:, c] = base[c] + gain * env

    # frame times: jittered, with runs of 2-10 dropped frames every 4-10 s
    n = int(duration * fps) - 1
    t = (np.arange(n) + rng.uniform(-0.15, 0.15, n)) / fps
    t = np.clip(t, 0.0, ft[-1])
    keep = np.ones(n, bool)
    s = rng.uniform(2.0, 6.0)
    while s < duration - 1.0:
        k = int(s * fps)
        keep[k : k + int(rng.integers(2, 11))] = False
        s += rng.uniform(4.0, 10.0)
    t = t[keep]
    idx = np.minimum(np.round(t * FINE_HZ).astype(int), ft.size - 1)
    truth = fine[idx]
    if noise is None:
        eps = rng.normal(0.0, SIGMA, truth.shape)
        out = rng.random(truth.shape) < OUTLIER_RATE
        eps[out] += OUTLIER_SIZE * rng.choice((-1.0, 1.0), int(out.sum()))
    else:
        eps = noise(rng, t.size)
    x = np.clip(truth + eps, 0.0, 1.0)
    x[:, INDEX["tongueOut"]] = 0.0  # the tracker reports it unavailable
    return Take(t, truth, x, ft, fine, base, events, active)


def run_filter(
    step: Callable[[np.ndarray, float], np.ndarray], take: Take
) -> tuple[np.ndarray, float]:
    """Output (frames x 52) and microseconds per frame of `step` over the take."""
    y = np.empty_like(take.x)
    x, t = take.x, take.t
    t0 = time.perf_counter()
    for k in range(t.size):
        y[k] = step(x[k], float(t[k]))
    us = (time.perf_counter() - t0) / t.size * 1e6
    return np.clip(y, 0.0, 1.0), us


def take_frames(take: Take, seed: int = 0) -> list[Frame]:
    """The take as the stage sees it: float32 weights, a swaying noisy pose, face present.

    The pose has its own generator so the take (and the quality tables) do not change.
    """
    rng = np.random.default_rng(10_000 + seed)
    t = take.t[:, None]
    sway = np.array([18.0, 6.0, 4.0, 15.0, 8.0, 0.0, 15.0, 8.0, 0.0])
    period = np.array([11.0, 7.0, 13.0, 5.0, 9.0, 1.0, 5.0, 9.0, 1.0])
    pose = sway * np.sin(2 * np.pi * t / period) + rng.normal(0.0, 0.5, (t.size, len(POSE_NAMES)))
    w32, p32 = take.x.astype(np.float32), pose.astype(np.float32)
    return [
        Frame(timestamp=float(take.t[k]), weights=w32[k], pose=p32[k], face_present=True,
              confidence=1.0, index=k)
        for k in range(take.t.size)
    ]  # fmt: skip


def run_stage(name: str, frames: Sequence[Frame]) -> np.ndarray:
    """Microseconds of each `make_dynamics(name)(frame)` call over the frames, in order."""
    dyn = make_dynamics(name)
    us = np.empty(len(frames))
    clock = time.perf_counter_ns
    for k, f in enumerate(frames):
        t0 = clock()
        dyn(f)
        us[k] = clock() - t0
    return us / 1000.0


def _quiet_mask(take: Take, before: float = 0.5, after: float = 0.2) -> np.ndarray:
    """Frames whose truth has not changed from `before` s earlier to `after` s later."""
    moving = np.zeros_like(take.fine, dtype=bool)
    moving[1:] = np.abs(np.diff(take.fine, axis=0)) > 1e-9
    cum = np.concatenate((np.zeros((1, N_SHAPES)), np.cumsum(moving, axis=0)))
    lo = np.clip(np.round((take.t - before) * FINE_HZ).astype(int), 0, take.fine_t.size)
    hi = np.clip(np.round((take.t + after) * FINE_HZ).astype(int) + 1, 0, take.fine_t.size)
    return (cum[hi] - cum[lo]) == 0


def _crossing(t: np.ndarray, y: np.ndarray, level: float, t_from: float) -> float | None:
    """First time after `t_from` that y rises through `level` (linear between frames)."""
    k0 = int(np.searchsorted(t, t_from))
    above = np.flatnonzero(y[k0:] >= level)
    if above.size == 0:
        return None
    k = k0 + int(above[0])
    if k == 0 or y[k - 1] >= level:
        return float(t[k])
    f = (level - y[k - 1]) / (y[k] - y[k - 1])
    return float(t[k - 1] + f * (t[k] - t[k - 1]))


def metrics(take: Take, y: np.ndarray, us: float) -> dict[str, float]:
    """The spec's metrics of output `y` against the take's truth."""
    quiet = _quiet_mask(take)
    at_base = np.abs(take.truth - take.base) < 1e-9
    rest = quiet & at_base
    hold = quiet & ~at_base & (take.truth > take.base + 0.05)
    dy = np.diff(y, axis=0)
    rest_pairs = rest[1:] & rest[:-1]
    hold_pairs = hold[1:] & hold[:-1]
    kept, half, lags, over = [], [], [], []
    for ev in take.events:
        c, t = ev.channel, take.t
        win = (t >= ev.start) & (t <= ev.window_end)
        if not win.any():
            continue
        if ev.kind == "blink":
            in_blink = (t >= ev.start) & (t <= ev.end)
            if not in_blink.any():
                continue  # the whole blink fell in dropped frames
            true_peak = float(take.truth[in_blink, c].max())
            out_peak = float(y[win, c].max())
            kept.append(out_peak / true_peak)
            half.append(out_peak >= 0.5)
        else:
            after = (t >= ev.end) & (t <= ev.end + 0.5)
            if after.any():
                over.append(max(0.0, float(y[after, c].max()) - ev.peak))
        level = ev.base + 0.5 * (ev.peak - ev.base)
        fk = int(ev.start * FINE_HZ)
        above = np.flatnonzero(take.fine[fk:, c] >= level)
        if above.size == 0:
            continue
        t_true = take.fine_t[fk + int(above[0])]
        t_out = _crossing(t, y[:, c], level, max(ev.start, t_true - 0.15))
        if t_out is None or t_out > ev.window_end:
            t_out = ev.window_end  # never reached: count the whole window as lag
        lags.append(t_out - t_true)
    act = take.active
    return {
        "rest_jitter": float(np.std(dy[rest_pairs])),
        "hold_jitter": float(np.std(dy[hold_pairs])),
        "hold_error": float(np.mean(np.abs(y - take.truth)[hold])),
        "blink_kept": float(np.mean(kept)) if kept else float("nan"),
        "blink_half": float(np.mean(half)) if half else float("nan"),
        "lag_ms": 1000.0 * float(np.mean(lags)) if lags else float("nan"),
        "overshoot": float(np.mean(over)) if over else float("nan"),
        "rmse": float(np.sqrt(np.mean((y[:, act] - take.truth[:, act]) ** 2))),
        "us_per_frame": us,
    }


def cortical_step(
    overrides: dict[str, dict[str, float]] | None = None,
) -> Callable[..., np.ndarray]:
    """The package's cortical filter with its per-group defaults, over the 52 weights."""
    arrays = group_arrays(CORTICAL_DEFAULTS, overrides or {}, CHANNEL_GROUP[:N_SHAPES])
    return CorticalFilter(N_SHAPES, **arrays).step


def one_euro_step(
    min_cutoff: float, beta: float, d_cutoff: float = 1.0
) -> Callable[..., np.ndarray]:
    """The package's One Euro filter at one grid setting, over the 52 weights."""
    return OneEuroFilter(N_SHAPES, min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff).step


def _copy(x: np.ndarray, t: float) -> np.ndarray:
    return np.array(x)


def filters(
    grid: Sequence[tuple[float, float]],
) -> dict[str, Callable[[], Callable[..., np.ndarray]]]:
    """Name -> factory of a fresh step function, for every filter in the comparison."""
    out: dict[str, Callable[[], Callable[..., np.ndarray]]] = {"raw": lambda: _copy}
    for mc, b in grid:
        out[f"one-euro {mc:g}/{b:g}"] = functools.partial(one_euro_step, mc, b)
    out["cortical"] = cortical_step
    return out


# ---------------------------------------------------------------------------- real noise
def real_residuals(model: str | None = None) -> np.ndarray | None:
    """Rest residuals (frames x 52) of MediaPipe on the shared clips, or None if missing.

    Frame-to-frame noise around a per-channel running median (5 frames) over the first 20
    neutral frames of single_face.mp4 and the face frames of face_noface.mov.
    """
    if model is None:
        from avatar_driver.errors import ModelError
        from avatar_driver.tracking.model import resolve_model

        try:  # as the tool finds it: $AVATAR_DRIVER_MODEL, then the `model fetch` cache
            model = str(resolve_model(None, download=False).path)
        except ModelError:
            model = str(ROOT.parent / "shared" / "models" / "face_landmarker.task")
    clips = [(MEDIA / "single_face.mp4", 20), (MEDIA / "face_noface.mov", None)]
    if not Path(model).is_file() or not all(p.is_file() for p, _ in clips):
        print(f"note: real-noise variant skipped (model {model} or clips in {MEDIA} missing)")
        return None
    try:
        import cv2
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as e:
        print(f"note: real-noise variant skipped ({e})")
        return None
    parts = []
    for path, limit in clips:
        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=model),
            running_mode=vision.RunningMode.VIDEO,
            output_face_blendshapes=True,
            num_faces=1,
        )
        rows: list[np.ndarray] = []
        with vision.FaceLandmarker.create_from_options(opts) as lm:
            cap = cv2.VideoCapture(str(path))
            fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
            k = 0
            while limit is None or k < limit:
                ok, bgr = cap.read()
                if not ok:
                    break
                img = mp.Image(image_format=mp.ImageFormat.SRGB, data=bgr[:, :, ::-1].copy())
                res = lm.detect_for_video(img, int(k * 1000 / fps))
                k += 1
                if not res.face_blendshapes:
                    continue
                w = np.zeros(N_SHAPES)
                scores = [c.score for c in res.face_blendshapes[0]]
                w[MEDIAPIPE_TO_CANONICAL] = scores[1:]
                rows.append(w)
            cap.release()
        if len(rows) >= 5:
            a = np.array(rows)
            pad = np.pad(a, ((2, 2), (0, 0)), mode="edge")
            med = np.median(np.stack([pad[i : i + len(a)] for i in range(5)]), axis=0)
            parts.append(a - med)
    if not parts:
        print("note: real-noise variant skipped (no face found in the clips)")
        return None
    return np.concatenate(parts)


def resampler(res: np.ndarray, block: int = 8) -> Callable[[np.random.Generator, int], np.ndarray]:
    """Noise by block bootstrap of each channel's own real residuals (keeps correlation)."""

    def noise(rng: np.random.Generator, n: int) -> np.ndarray:
        out = np.empty((n, N_SHAPES))
        for k in range(0, n, block):
            starts = rng.integers(0, res.shape[0] - block + 1, N_SHAPES)
            rows = starts[None, :] + np.arange(block)[:, None]
            seg = res[rows, np.arange(N_SHAPES)[None, :]]
            out[k : k + block] = seg[: min(block, n - k)]
        return out

    return noise


# ---------------------------------------------------------------------------- the run
@dataclass
class Result:
    """Mean metrics over seeds for each filter, per (fps, noise variant).

    stage: per fps, for each dynamics name, the median and p95 microseconds of a whole
    stage call (`make_dynamics(name)(frame)`) over the Gaussian takes of every seed.
    """

    tables: dict[tuple[int, str], dict[str, dict[str, float]]]
    stage: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)

    def goal(self, key: tuple[int, str]) -> dict[str, bool]:
        """The goal (docs/dynamics.md) for the cortical filter on one table, point by point."""
        tab = self.tables[key]
        oe = {k: v for k, v in tab.items() if k.startswith("one-euro")}
        cort = tab["cortical"]
        best_rest = min(v["rest_jitter"] for v in oe.values())
        best_hold = min(v["hold_jitter"] for v in oe.values())

        def meets(v: dict[str, float]) -> bool:
            return (
                v["rest_jitter"] <= best_rest
                and v["hold_jitter"] <= best_hold
                and v["blink_kept"] >= 0.97
                and v["blink_half"] >= 1.0
                and v["lag_ms"] <= 25.0
            )

        out = {
            "rest jitter <= best One Euro": cort["rest_jitter"] <= best_rest,
            "hold jitter <= best One Euro": cort["hold_jitter"] <= best_hold,
            "blink peak kept >= 0.97": cort["blink_kept"] >= 0.97,
            "every blink above 0.5": cort["blink_half"] >= 1.0,
            "onset lag <= 25 ms": cort["lag_ms"] <= 25.0,
            "<= 20 us per frame (52 channels)": cort["us_per_frame"] <= 20.0,
            "no One Euro setting meets all": not any(meets(v) for v in oe.values()),
        }
        if key[1] == "gauss" and key[0] in self.stage:  # the stage is timed on these takes
            stage_us = self.stage[key[0]]["cortical"]["median"]
            out["<= 20 us per frame, whole stage (61 channels, median)"] = stage_us <= 20.0
        return out


def run(
    fps_list: Sequence[int] = (30, 60),
    seeds: int = 3,
    duration: float = 60.0,
    grid: Sequence[tuple[float, float]] | None = None,
    real: bool = True,
    log: Callable[[str], None] = print,
) -> Result:
    """Run every filter on every take; mean metrics over seeds."""
    grid = list(grid) if grid is not None else [(m, b) for m in MIN_CUTOFFS for b in BETAS]
    variants: list[tuple[str, Callable[[np.random.Generator, int], np.ndarray] | None]]
    variants = [("gauss", None)]
    if real:
        res = real_residuals()
        if res is not None:
            variants.append(("real", resampler(res)))
    tables: dict[tuple[int, str], dict[str, dict[str, float]]] = {}
    stage: dict[int, dict[str, dict[str, float]]] = {}
    for fps in fps_list:
        stage_us: dict[str, list[np.ndarray]] = {name: [] for name in DYNAMICS_NAMES}
        for vname, noise in variants:
            acc: dict[str, list[dict[str, float]]] = {}
            for seed in range(seeds):
                take = make_take(np.random.default_rng(seed), fps, duration, noise)
                for name, make in filters(grid).items():
                    y, us = run_filter(make(), take)
                    acc.setdefault(name, []).append(metrics(take, y, us))
                if noise is None:
                    frames = take_frames(take, seed)
                    for name in DYNAMICS_NAMES:
                        stage_us[name].append(run_stage(name, frames))
            tables[(fps, vname)] = {
                name: {k: _mean(k, [r[k] for r in rs]) for k, _, _ in METRICS}
                for name, rs in acc.items()
            }
            log(f"done: {fps} fps, {vname} noise, {seeds} seed(s) of {duration:g} s")
        stage[fps] = {
            name: {"median": float(np.median(np.concatenate(v))),
                   "p95": float(np.percentile(np.concatenate(v), 95))}
            for name, v in stage_us.items()
        }  # fmt: skip
    return Result(tables, stage)


def _mean(key: str, values: list[float]) -> float:
    """Mean over seeds; the median for timings, which other processes disturb."""
    if key == "us_per_frame":
        return float(np.median(values))
    return float(np.nanmean(values))


def format_table(tab: dict[str, dict[str, float]]) -> str:
    """A Markdown table of one (fps, noise) run."""
    head = "| filter | " + " | ".join(h for _, h, _ in METRICS) + " |"
    rule = "|" + " --- |" * (len(METRICS) + 1)
    rows = [
        f"| {name} | " + " | ".join(fmt.format(v[k]) for k, _, fmt in METRICS) + " |"
        for name, v in tab.items()
    ]
    return "\n".join([head, rule, *rows])


def format_stage(costs: dict[str, dict[str, float]]) -> str:
    """A Markdown table of the whole stage's cost per dynamics name."""
    rows = [f"| {name} | {v['median']:.1f} | {v['p95']:.1f} |" for name, v in costs.items()]
    return "\n".join(
        ["| dynamics | us/frame median | us/frame p95 |", "| --- | --- | --- |", *rows]
    )


def figure(path: Path, fps: float = 30.0, seed: int = 7) -> None:
    """Step, blink and held-smile responses of raw, One Euro 1/5 and cortical."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    t = np.arange(int(4.0 * fps)) / fps
    cases = {
        "step 0.1 -> 0.7": np.where(t >= 1.0, 0.7, 0.1),
        "blink (180 ms)": 0.05
        + 0.9
        * np.where(
            (t >= 1.0) & (t < 1.18),
            np.where(t < 1.063, _raised((t - 1.0) / 0.063), 1 - _raised((t - 1.09) / 0.09)),
            0.0,
        ),
        "held smile": 0.1 + 0.5 * _raised((t - 0.8) / 0.5),
    }
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
    for ax, (title, truth) in zip(axes, cases.items(), strict=True):
        eps = rng.normal(0, SIGMA, t.size)
        out = rng.random(t.size) < OUTLIER_RATE * 3  # a few more, so one shows
        eps[out] += OUTLIER_SIZE
        x = np.clip(truth + eps, 0, 1)
        runs = {
            "raw": x,
            "One Euro 1/5": _series(OneEuroFilter(1, min_cutoff=1.0, beta=5.0, d_cutoff=1.0), x, t),
            "One Euro 0.3/30": _series(
                OneEuroFilter(1, min_cutoff=0.3, beta=30.0, d_cutoff=1.0), x, t
            ),
            "cortical": _series(
                CorticalFilter(1, **{k: v[0] for k, v in _eye_arrays().items()}), x, t
            ),
        }
        ax.plot(t, truth, color="black", lw=2.5, alpha=0.35, label="truth")
        styles = {"raw": ("0.6", 0.8), "One Euro 1/5": ("tab:blue", 1.4),
                  "One Euro 0.3/30": ("tab:green", 1.0), "cortical": ("tab:red", 1.8)}  # fmt: skip
        for name, y in runs.items():
            color, lw = styles[name]
            ax.plot(t, y, color=color, lw=lw, label=name, drawstyle="steps-post")
        ax.set_title(f"{title}, {fps:g} fps, noise 0.02 + outliers")
        ax.set_xlabel("seconds")
        ax.set_xlim(0.5, 2.5 if "held" not in title else 4.0)
    axes[0].set_ylabel("weight")
    axes[0].legend(loc="upper left", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _eye_arrays() -> dict[str, np.ndarray]:
    return group_arrays(CORTICAL_DEFAULTS, {}, ("eyes",))


def _series(f: CorticalFilter | OneEuroFilter, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.array([f.step(x[k : k + 1], float(t[k]))[0] for k in range(t.size)])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run, print the tables and goal checks, write the figure."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 seed of 20 s, 30 fps only")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--duration", type=float, default=60.0, help="seconds per take")
    p.add_argument("--fps", type=int, nargs="+", default=[30, 60])
    p.add_argument("--figure", type=Path, default=DEFAULT_FIGURE)
    p.add_argument("--no-figure", action="store_true")
    p.add_argument("--no-real", action="store_true", help="skip the real-noise variant")
    a = p.parse_args(argv)
    seeds, duration, fps = a.seeds, a.duration, a.fps
    if a.quick:
        seeds, duration, fps = 1, 20.0, [30]
    result = run(fps, seeds, duration, real=not a.no_real, log=lambda s: print(s, file=sys.stderr))
    for (f, v), tab in result.tables.items():
        noise = "Gaussian 0.02 + 1% outliers" if v == "gauss" else "real tracker noise"
        print(f"\n### {f} fps, {noise}\n")
        print(format_table(tab))
        print()
        for what, ok in result.goal((f, v)).items():
            print(f"- {'yes' if ok else 'NO '} {what}")
    for f, costs in result.stage.items():
        print(f"\n### Whole stage, {f} fps: make_dynamics(name)(frame), 52 weights + 9 pose\n")
        print(format_stage(costs))
    if not a.no_figure:
        figure(a.figure)
        print(f"\nfigure: {a.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
