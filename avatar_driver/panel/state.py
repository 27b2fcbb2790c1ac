"""What the page shows: the pipeline tap keeps references, the server builds snapshots.

The tap runs on the pipeline thread and does as little as possible: it is only on the
pipeline while a page is open or a command or calibration is pending (otherwise the
pipeline has no tap and builds no report); while a page looks, it keeps the last frames (frames
are immutable by convention, so a reference is enough) and copies raw and filtered
channels into a preallocated ring for the plot. Everything else (JSON, JPEG, CPU) is
done on the server's threads, reading those references.
"""

from __future__ import annotations

import base64
import json
import queue
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dynamics.groups import N_CHANNELS
from ..frame import REGION_NAMES, Frame
from ..outputs.base import OutputBase
from ..pipeline import Pipeline, TapReport
from ..shapes import N_SHAPES

__all__ = ["PLOT_SECONDS", "Command", "Monitor", "describe_output"]

#: Seconds of channel history the plot can show.
PLOT_SECONDS = 10.0
_RING = 1024  # rows: 10 s at up to ~100 fps

Command = Callable[[Pipeline], None]
# A ring row: raw weights, raw pose, filtered weights, filtered pose.
_RAW_W, _RAW_P = slice(0, N_SHAPES), slice(N_SHAPES, N_CHANNELS)
_FILT_W, _FILT_P = slice(N_CHANNELS, N_CHANNELS + N_SHAPES), slice(N_CHANNELS + N_SHAPES, None)


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
    info["mappable"] = bool(getattr(inner, "uses_mapping", False))
    return info


def _regions(frame: Frame) -> dict[str, float] | None:
    """Per-region visibility (`Frame.regions`: 1 clear, 0 covered), when the solver gave it."""
    if frame.regions is None:
        return None
    return {n: float(v) for n, v in zip(REGION_NAMES, frame.regions, strict=False)}


class Monitor:
    """The pipeline tap (`__call__`) plus the snapshots the server sends."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.command_errors: list[str] = []
        self._lock = threading.Lock()
        self._attached = False
        self.clients = 0
        #: Called with lane 0's tracked frame while a calibration runs.
        self.frame_sink: Callable[[Frame], None] | None = None
        self.event: TapReport | None = None
        self.movement: np.ndarray | None = None
        self.frames = 0
        self.seq = 0  # rows written to the ring
        self._t = np.zeros(_RING)
        #: per frame: raw channels (weights then pose), then the filtered ones
        self._rows = np.zeros((_RING, 2 * N_CHANNELS), np.float32)
        self._part: tuple[TapReport | None, dict[str, Any]] = (None, {})
        self._part_json: tuple[TapReport | None, str] = (None, "")
        self._fps = _Rate()
        self._cpu = _Cpu()
        #: The streams send right after a frame: the tap notifies once the earliest
        #: waiting stream's due time (`_wake_at`) has passed, so each event costs its
        #: stream one wake-up.
        self._frame_done = threading.Condition()
        self._wake_at = float("inf")
        #: When the tap last saw a frame (perf_counter).
        self.frame_at = 0.0

    # -- pipeline thread ----------------------------------------------------------------

    def __call__(self, event: TapReport) -> None:
        """After each frame: apply pending commands; keep the frame only if someone looks;
        with nobody looking and nothing pending, leave the pipeline (`attach` comes back)."""
        self.frames += 1
        while not self.commands.empty():
            command = self.commands.get_nowait()
            try:
                command(self.pipeline)
            except Exception as e:  # a bad setting must not stop the run
                self.command_errors.append(f"{type(e).__name__}: {e}")
        sink = self.frame_sink
        if sink is not None and event.lanes[0].tracked is not None:
            sink(event.lanes[0].tracked)
        if not self.clients:
            if sink is None:
                self._detach()
            return
        self.event = event
        lane = event.lanes[0]
        raw, filt = lane.before, lane.after
        if raw is not None and filt is not None:
            row = self.seq % _RING
            self._t[row] = filt.timestamp
            r = self._rows[row]
            r[:N_SHAPES], r[N_SHAPES:N_CHANNELS] = raw.weights, raw.pose
            r[N_CHANNELS : N_CHANNELS + N_SHAPES], r[N_CHANNELS + N_SHAPES :] = (
                filt.weights,
                filt.pose,
            )
            self.seq += 1
        dyn = _stage(self.pipeline.lanes[0].stages, "dynamics")
        movement = getattr(dyn, "movement", None)
        self.movement = None if movement is None else np.array(movement, np.float32)
        now = time.perf_counter()
        self.frame_at = now
        if now >= self._wake_at:
            with self._frame_done:
                self._wake_at = float("inf")
                self._frame_done.notify_all()

    # -- server threads -------------------------------------------------------------------

    def attach(self) -> None:
        """Tap the pipeline (again): a page opened, a command or a calibration is pending.
        Without any, the pipeline runs with no tap at all, so a closed page costs nothing."""
        with self._lock:
            if not self._attached:
                self._attached = True
                self.pipeline.add_tap(self)

    def _detach(self) -> None:
        with self._lock:  # a command queued before this lock is taken is still run
            if self.clients or self.frame_sink is not None or not self.commands.empty():
                return
            self._attached = False
            self.pipeline.remove_tap(self)

    def submit(self, command: Command) -> None:
        """Run `command(pipeline)` on the pipeline thread after the next frame."""
        self.commands.put(command)
        self.attach()

    def connect(self) -> None:
        with self._lock:
            self.clients += 1
            self._fps = _Rate()  # the tap did not count frames while no page looked
        self.attach()

    def disconnect(self) -> None:
        with self._lock:
            self.clients -= 1

    def frame_after(self, due: float, timeout: float) -> bool:
        """Wait until the pipeline finishes a frame at or after `due` (True), or until
        `due + timeout` (False: the source stalled).

        The streams send right after a frame, so the page does its work while the
        pipeline waits for the camera, not while the tracker runs (2 cores shared)."""
        end = due + timeout
        with self._frame_done:
            while self.frame_at < due:
                left = end - time.perf_counter()
                if left <= 0:
                    return False
                self._wake_at = min(self._wake_at, due)
                self._frame_done.wait(left)
            return True

    def snapshot(self, since: int, *, full: bool = True) -> tuple[dict[str, Any], int]:
        """The page's live state, with the channel rows from ring row `since` on (raw then
        filtered weights and pose: the bars show the newest, the plot all).

        `full` adds what changes slowly (outputs, source, errors), which the stream sends
        a few times a second only.
        """
        now = time.perf_counter()
        event = self.event
        snap: dict[str, Any] = {
            "fps": round(self._fps.sample(self.frames, now), 1),
            "cpu": round(self._cpu.sample(now), 1),
            "frames": self.frames,
        }
        if full:
            snap.update(self.slow_part())
        if event is not None:
            snap.update(self._frame_part(event))
        end = self.seq
        start = max(since, end - _RING + 1, 0)
        if end > start:  # whole rows: the page picks its channels, numpy only slices here
            a, b = start % _RING, end % _RING
            pick = (lambda x: x[a:b]) if a < b else (lambda x: np.concatenate((x[a:], x[:b])))
            snap["rows"] = {"t": _b64(pick(self._t), "<f8"), "v": _b64(pick(self._rows))}
        return snap, end

    def event_json(self, since: int, *, slow: dict[str, Any] | None = None) -> tuple[str, int]:
        """The stream's event text, as `snapshot` would give it once JSON-encoded, cheaper:
        the newest frame's values are encoded once per frame for every tab, only the small
        per-tab head, the new channel rows and `slow` (the parts sent a few times a second)
        are encoded per event."""
        now = time.perf_counter()
        fps, cpu = self._fps.sample(self.frames, now), self._cpu.sample(now)
        parts = [f'"fps":{fps:.1f},"cpu":{cpu:.1f},"frames":{self.frames}']
        event = self.event
        if event is not None:
            if self._part_json[0] is not event:
                self._part_json = (event, self._frame_text(event))
            parts.append(self._part_json[1])
        end = self.seq
        start = max(since, end - _RING + 1, 0)
        if end > start:
            a, b = start % _RING, end % _RING
            t, v = (self._t[a:b], self._rows[a:b]) if a < b else (
                np.concatenate((self._t[a:], self._t[:b])),
                np.concatenate((self._rows[a:], self._rows[:b])),
            )  # fmt: skip
            parts.append(f'"rows":{{"t":"{_b64(t, "<f8")}","v":"{_b64(v)}"}}')
        if slow:
            parts.append(json.dumps(slow, default=_plain, separators=(",", ":"))[1:-1])
        return "{" + ",".join(parts) + "}", end

    def _frame_text(self, event: TapReport) -> str:
        """`_frame_part` as JSON members, formatted directly: the stream's one per-frame
        encoding (a dict through json.dumps cost several times more on a busy machine)."""
        lane = event.lanes[0]
        frame = lane.after or lane.tracked
        text = f'"latency_ms":{event.latency_ms:.2f}'
        if frame is not None:
            face, upper = _JS[bool(frame.face_present)], _JS[bool(frame.upper_face)]
            text += _FACE_JSON % (face, float(frame.confidence), upper)
            if frame.regions is not None:
                text += _REGIONS_JSON % tuple(frame.regions.tolist())
        movement = self.movement
        if movement is not None:
            text += f',"m":"{_b64(movement)}"'
        return text

    def slow_part(self) -> dict[str, Any]:
        """What changes slowly (outputs, source, errors): a few times a second is enough."""
        outputs = [o for lane in self.pipeline.lanes for o in lane.outputs]
        return {
            "outputs": [
                {"name": name, **describe_output(out)}
                for name, out in zip(self.pipeline.output_names, outputs, strict=False)
            ],
            "source": getattr(self.pipeline.source, "description", ""),
            "note": getattr(self.pipeline.source, "state", ""),
            "errors": self.command_errors[-3:],
        }

    def _frame_part(self, event: TapReport) -> dict[str, Any]:
        """The newest frame's values, computed once per frame whatever the tabs."""
        if self._part[0] is event:
            return self._part[1]
        lane = event.lanes[0]
        frame = lane.after or lane.tracked
        part: dict[str, Any] = {"latency_ms": round(event.latency_ms, 2)}
        if frame is not None:
            part["face"] = bool(frame.face_present)
            part["confidence"] = round(float(frame.confidence), 3)
            part["upper_face"] = bool(frame.upper_face)  # False: headset mode
            regions = _regions(frame)
            if regions is not None:
                part["regions"] = regions
        movement = self.movement
        if movement is not None:  # per channel; the page shows each group's strongest
            part["m"] = _b64(movement)
        self._part = (event, part)
        return part

    def picture(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The newest camera picture (RGB) and its landmarks (x, y in 0..1), if any."""
        event = self.event
        frame = event.lanes[0].tracked if event is not None else None
        if frame is None or frame.image is None:
            return None, None
        lm = frame.landmarks if frame.face_present else None
        return frame.image, None if lm is None else lm[:, :2]


_JS = {True: "true", False: "false"}
#: `_frame_text`'s members as one %-template each: one C call per frame, not a loop.
_FACE_JSON = ',"face":%s,"confidence":%.3f,"upper_face":%s'
_REGIONS_JSON = ',"regions":{' + ",".join(f'"{n}":%.3f' for n in REGION_NAMES) + "}"


def _stage(stages: list[tuple[str, Any]], name: str) -> Any:
    for n, s in stages:
        if n == name:
            return getattr(s, "stage", s)
    return None


def _b64(values: np.ndarray, dtype: str = "<f4") -> str:
    """Numbers as base64 of little-endian floats (a Float32Array on the page): one C call
    each way instead of a Python object and a JSON number per value."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode()


def _plain(value: Any) -> Any:
    """numpy scalars (a stat or setting may be one) as Python numbers, for JSON."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
