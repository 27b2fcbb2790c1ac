"""What the page shows: the pipeline tap keeps references, the server builds snapshots.

The tap runs on the pipeline thread and does as little as possible: with no page
connected it only drains pending commands; with one, it keeps the last frames (frames
are immutable by convention, so a reference is enough) and copies raw and filtered
channels into a preallocated ring for the plot. Everything else (JSON, JPEG, CPU) is
done on the server's threads, reading those references.
"""

from __future__ import annotations

import dataclasses
import queue
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dynamics.groups import CHANNEL_GROUP, GROUP_NAMES, N_CHANNELS
from ..frame import Frame
from ..outputs.base import OutputBase
from ..pipeline import Pipeline, TapEvent
from ..shapes import N_SHAPES

__all__ = ["PLOT_SECONDS", "Command", "Monitor", "describe_output"]

#: Seconds of channel history the plot can show.
PLOT_SECONDS = 10.0
_RING = 1024  # rows: 10 s at up to ~100 fps
_BOX_PAD = 0.02

Command = Callable[[Pipeline], None]


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _Rate:
    """A rate over the last ~second, from counts sampled on the reader's thread."""

    def __init__(self) -> None:
        self._t = time.perf_counter()
        self._n = 0
        self.value = 0.0

    def sample(self, n: int, now: float) -> float:
        if now - self._t >= 0.5:
            self.value = (n - self._n) / (now - self._t)
            self._t, self._n = now, n
        return self.value


class _Cpu:
    """This process's CPU use in % of one core (getrusage), averaged over ~a second."""

    def __init__(self) -> None:
        self._t = time.perf_counter()
        self._c = _cpu_seconds()
        self.value = 0.0

    def sample(self, now: float) -> float:
        if now - self._t >= 1.0:
            c = _cpu_seconds()
            self.value = 100.0 * (c - self._c) / (now - self._t)
            self._t, self._c = now, c
        return self.value


def describe_output(out: OutputBase) -> dict[str, Any]:
    """Kind, target, counters and what the output sends, from what it exposes."""
    inner = getattr(out, "inner", out)  # a paused output wraps the real one
    stats = inner.stats
    info: dict[str, Any] = {
        "kind": inner.kind,
        "target": inner.target,
        "frames": stats.frames_sent,
        "errors": stats.errors,
        "last_error": stats.last_error,
        "datagrams": stats.datagrams,
        "paused": inner is not out,
    }
    mapping = getattr(inner, "mapping", None)
    if mapping is not None:
        source = getattr(mapping, "source", "") or ""
        info["mapping"] = source.rsplit("/", 1)[-1]
        try:
            info["parameters"] = len(mapping)
        except TypeError:
            names = getattr(mapping, "names", None)
            info["parameters"] = len(names) if names is not None else None
    avatar = getattr(inner, "avatar", None)
    if avatar is not None:
        info["avatar"] = getattr(avatar, "name", "") or getattr(avatar, "id", "")
    elif hasattr(inner, "avatar"):
        info["avatar"] = ""  # knows avatars, none announced yet
    info["mappable"] = hasattr(inner, "set_mapping")
    return info


def _regions(frame: Frame) -> dict[str, float] | None:
    """Per-region confidence, when the frame carries it (a field named *confidence*)."""
    for f in dataclasses.fields(frame):
        if f.name == "confidence" or "confidence" not in f.name:
            continue
        value = getattr(frame, f.name)
        if value is None:
            continue
        if isinstance(value, dict):
            return {str(k): float(v) for k, v in value.items()}
        names = getattr(value, "_fields", None) or getattr(type(value), "NAMES", None)
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        labels = (
            list(names)
            if names and len(names) == len(arr)
            else [f"region {k + 1}" for k in range(len(arr))]
        )
        return {n: float(v) for n, v in zip(labels, arr, strict=False)}
    return None


class Monitor:
    """The pipeline tap (`__call__`) plus the snapshots the server sends."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.command_errors: list[str] = []
        self._lock = threading.Lock()
        self.clients = 0
        #: Called with lane 0's tracked frame while a calibration runs.
        self.frame_sink: Callable[[Frame], None] | None = None
        self.event: TapEvent | None = None
        self.movement: np.ndarray | None = None
        self.frames = 0
        self.seq = 0  # rows written to the ring
        self._t = np.zeros(_RING)
        self._raw = np.zeros((_RING, N_CHANNELS), np.float32)
        self._filt = np.zeros((_RING, N_CHANNELS), np.float32)
        self._fps = _Rate()
        self._cpu = _Cpu()

    # -- pipeline thread ----------------------------------------------------------------

    def __call__(self, event: TapEvent) -> None:
        """After each frame: apply pending commands; keep the frame only if someone looks."""
        self.frames += 1
        while not self.commands.empty():
            command = self.commands.get_nowait()
            try:
                command(event.pipeline)
            except Exception as e:  # a bad setting must not stop the run
                self.command_errors.append(f"{type(e).__name__}: {e}")
        sink = self.frame_sink
        if sink is not None and event.lanes[0].tracked is not None:
            sink(event.lanes[0].tracked)
        if not self.clients:
            return
        self.event = event
        lane = event.lanes[0]
        raw, filt = lane.raw, lane.filtered
        if raw is not None and filt is not None:
            row = self.seq % _RING
            self._t[row] = filt.timestamp
            r, f = self._raw[row], self._filt[row]
            r[:N_SHAPES], r[N_SHAPES:] = raw.weights, raw.pose
            f[:N_SHAPES], f[N_SHAPES:] = filt.weights, filt.pose
            self.seq += 1
        dyn = _stage(lane.lane.stages, "dynamics")
        movement = getattr(dyn, "movement", None)
        self.movement = None if movement is None else np.array(movement, np.float32)

    # -- server threads -------------------------------------------------------------------

    def connect(self) -> None:
        with self._lock:
            self.clients += 1

    def disconnect(self) -> None:
        with self._lock:
            self.clients -= 1

    def snapshot(self, plot: list[int], since: int) -> tuple[dict[str, Any], int]:
        """The page's live state, and the plot rows from ring row `since` on."""
        now = time.perf_counter()
        event = self.event
        snap: dict[str, Any] = {
            "fps": round(self._fps.sample(self.frames, now), 1),
            "cpu": round(self._cpu.sample(now), 1),
            "frames": self.frames,
            "outputs": [
                {"name": name, **describe_output(out)}
                for name, out in zip(
                    self.pipeline.output_names,
                    [o for lane in self.pipeline.lanes for o in lane.outputs],
                    strict=False,
                )
            ],
            "source": getattr(self.pipeline.source, "description", ""),
            "note": getattr(self.pipeline.source, "state", ""),
            "errors": self.command_errors[-3:],
        }
        if event is not None:
            snap["latency_ms"] = round(event.latency_ms, 2)
            snap.update(_frame_state(event.lanes[0].filtered or event.lanes[0].tracked))
            tracked = event.lanes[0].tracked
            if tracked is not None and tracked.landmarks is not None and tracked.face_present:
                lm = tracked.landmarks[:, :2]
                snap["landmarks"] = np.round(lm, 4).reshape(-1).tolist()
                lo, hi = lm.min(axis=0) - _BOX_PAD, lm.max(axis=0) + _BOX_PAD
                snap["box"] = [round(float(v), 4) for v in (*lo, *hi)]
        if self.movement is not None:
            snap["movement"] = _per_group(self.movement)
        end = self.seq
        start = max(since, end - _RING + 1, 0)
        if plot and end > start:
            rows = np.arange(start, end) % _RING
            snap["plot"] = {
                "t": np.round(self._t[rows], 4).tolist(),
                "raw": np.round(self._raw[rows][:, plot], 4).T.tolist(),
                "filtered": np.round(self._filt[rows][:, plot], 4).T.tolist(),
            }
        return snap, end

    def image(self) -> np.ndarray | None:
        """The newest camera picture (RGB), if the source has pictures."""
        event = self.event
        frame = event.lanes[0].tracked if event is not None else None
        return frame.image if frame is not None else None


def _stage(stages: list[tuple[str, Any]], name: str) -> Any:
    for n, s in stages:
        if n == name:
            return getattr(s, "stage", s)
    return None


def _per_group(values: np.ndarray) -> dict[str, float]:
    groups = np.asarray(CHANNEL_GROUP)
    return {g: round(float(values[groups == g].max()), 3) for g in GROUP_NAMES}


def _frame_state(frame: Frame | None) -> dict[str, Any]:
    if frame is None:
        return {}
    out: dict[str, Any] = {
        "face": bool(frame.face_present),
        "confidence": round(float(frame.confidence), 3),
        "weights": np.round(frame.weights, 3).tolist(),
        "pose": np.round(frame.pose, 1).tolist(),
        "translation": np.round(frame.translation, 1).tolist(),
        "extras": np.round(frame.extras, 3).tolist(),
    }
    regions = _regions(frame)
    if regions is not None:
        out["regions"] = regions
    return out
