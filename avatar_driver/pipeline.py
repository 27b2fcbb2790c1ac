"""source -> tracker -> solver -> dynamics -> outputs, one frame at a time.

The source is read on its own thread (see feed.FrameFeed), so decoding the next frame
overlaps tracking this one. Each stage is a callable from frame to frame; the pipeline
times each one (per-frame microseconds kept in fixed arrays, so hours of running allocate
nothing) and ends by sending every output a neutral frame before closing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .feed import FrameFeed
from .frame import Frame
from .outputs.base import OutputBase
from .sources.base import SourceBase
from .status import StatusLine

__all__ = [
    "LaneView",
    "Pipeline",
    "RunResult",
    "StageInput",
    "StageTimes",
    "TapEvent",
    "neutral_frame",
]

Stage = Callable[[Frame], Frame]
#: A live source silent this long gets a no-face frame, so faces ease out while a camera
#: is unplugged instead of freezing mid-expression.
QUIET_HEARTBEAT_S = 0.1


def _inline(source: Iterable[Frame], pace: Callable[[Frame], None] | None) -> Iterator[Frame]:
    """Frames straight from the source, paced like the feed thread would."""
    for frame in source:
        if pace is not None:
            pace(frame)
            frame.capture_time = time.perf_counter()
        yield frame


class StageTimes:
    """Per-stage durations of the last `capacity` frames, in microseconds."""

    def __init__(self, names: Sequence[str], capacity: int = 100_000) -> None:
        self.names = list(names)
        self.capacity = capacity
        self._data = np.zeros((len(self.names), capacity), dtype=np.float64)
        self.count = 0

    def record(self, row: Sequence[float]) -> None:
        self._data[:, self.count % self.capacity] = row
        self.count += 1

    def samples(self, name: str) -> np.ndarray:
        n = min(self.count, self.capacity)
        return self._data[self.names.index(name), :n]

    def summary(self) -> dict[str, dict[str, float]]:
        """Median and p95 microseconds per stage."""
        out: dict[str, dict[str, float]] = {}
        for name in self.names:
            s = self.samples(name)
            if len(s):
                out[name] = {
                    "median_us": float(np.median(s)),
                    "p95_us": float(np.percentile(s, 95)),
                    "mean_us": float(s.mean()),
                }
        return out


@dataclass
class RunResult:
    frames: int = 0
    faces: int = 0
    elapsed_s: float = 0.0
    interrupted: bool = False
    dropped: int = 0  # replaced by a newer frame before the pipeline took them
    skipped: int = 0  # left out to keep under --max-fps
    times: StageTimes | None = None
    latencies_ms: list[float] = field(default_factory=list)
    #: Capture -> this output's packets handed over, ms, one column per output
    #: (`Pipeline.output_names`); the last output's is `latencies_ms`.
    output_latency: StageTimes | None = None


def _unique(names: Sequence[str]) -> list[str]:
    """The names, a repeated one numbered from its second use ("vrchat #2")."""
    out: list[str] = []
    for name in names:
        n, candidate = 1, name
        while candidate in out:
            n += 1
            candidate = f"{name} #{n}"
        out.append(candidate)
    return out


def neutral_frame(last: Frame | None, fps: float) -> Frame:
    """The rest face sent on stop: zero weights, centred pose, face flag off."""
    t = (last.timestamp + 1.0 / fps) if last else 0.0
    index = (last.index + 1) if last else 0
    return Frame(timestamp=t, index=index, face_present=False, capture_time=time.perf_counter())


@dataclass
class Lane:
    """One performer: the stages their face goes through and the outputs that get it."""

    stages: list[tuple[str, Stage]]
    outputs: list[OutputBase]


class StageInput:
    """A stage that remembers its last input and output (for taps); `stage` may be swapped
    for another between frames, on the pipeline thread."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.last: Frame | None = None
        self.out: Frame | None = None

    def __call__(self, frame: Frame) -> Frame:
        self.last = frame
        self.out = out = self.stage(frame)
        return out


@dataclass
class LaneView:
    """One lane after a frame: the frames into the solver (as tracked) and into and out
    of the dynamics (raw and filtered)."""

    lane: Lane
    tracked: Frame | None
    raw: Frame | None
    filtered: Frame | None


@dataclass
class TapEvent:
    pipeline: Pipeline
    lanes: list[LaneView]
    latency_ms: float


class Pipeline:
    """Runs a source through the stages to the outputs until the source ends or is stopped.

    `stages` and `outputs` are the first performer's lane; `more_lanes` adds performers
    (``--faces N``), whose tracker stages share one detection per frame (see
    tracking.faces). Every lane gets every source frame.
    """

    def __init__(
        self,
        *,
        source: SourceBase,
        stages: Sequence[tuple[str, Stage]],
        outputs: Sequence[OutputBase],
        more_lanes: Sequence[Lane] = (),
        fast: bool = False,
        max_frames: int | None = None,
        status: StatusLine | None = None,
        keep_latencies: bool = False,
        max_fps: float | None = None,
    ) -> None:
        self.source = source
        self.lanes = [Lane(list(stages), list(outputs)), *more_lanes]
        self.stages = self.lanes[0].stages
        self.outputs = [out for lane in self.lanes for out in lane.outputs]
        self.fast = fast or source.live
        self.max_frames = max_frames
        self.status = status or StatusLine(enabled=False)
        self.keep_latencies = keep_latencies
        self.min_interval = 1.0 / max_fps if max_fps else 0.0
        self.feed: FrameFeed | None = None
        self.times = StageTimes([n for n, _ in self.stages] + ["outputs"])
        self.output_names = _unique([out.describe() for out in self.outputs])
        self.output_latency = StageTimes(self.output_names)
        self.last: Frame | None = None
        self._taps: list[Callable[[TapEvent], None]] = []

    def _pacer(self) -> Callable[[Frame], None]:
        """Play a file at its own rate: wait until each frame's time has come."""
        origin: list[float] = []

        def pace(frame: Frame) -> None:
            if not origin:
                origin.extend((time.perf_counter(), frame.timestamp))
            delay = origin[0] + (frame.timestamp - origin[1]) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

        return pace

    def run(self) -> RunResult:
        result = RunResult(times=self.times, output_latency=self.output_latency)
        start = time.perf_counter()
        n_stages = len(self.stages)
        row = [0.0] * (n_stages + 1)
        sent = [0.0] * len(self.outputs)  # capture -> each output done, this frame (ms)
        paced = not self.fast and not self.source.live
        pace = self._pacer() if paced else None
        frames: Iterable[Frame | None]
        if self.source.needs_tracker:
            # Capture and decoding release the GIL: on their own thread they overlap the
            # tracker. Synthetic sources (demo, takes) are pure Python and would only
            # contend for the GIL, so they run inline.
            self.feed = FrameFeed(
                self.source,
                latest_wins=not self.fast or self.source.live,
                pace=pace,
                heartbeat=QUIET_HEARTBEAT_S if self.source.live else None,
            )
            frames = self.feed
        else:
            frames = _inline(self.source, pace)
        next_due = -float("inf")
        try:
            for item in frames:
                if self.max_frames is not None and result.frames >= self.max_frames:
                    break
                if item is None:  # the camera went quiet: no face, so the avatar eases
                    if self.last is not None:
                        self._quiet()
                    continue
                if self.min_interval:
                    # A due time that advances by the interval (not from the last frame
                    # taken), so 30 fps capped at 20 keeps two frames in three.
                    t = item.timestamp
                    if t < next_due - 1e-6:
                        result.skipped += 1
                        continue
                    late = next_due <= t - self.min_interval
                    next_due = (t if late else next_due) + self.min_interval
                row[:] = [0.0] * (n_stages + 1)
                frame = item
                first = 0  # this lane's first column in `sent`
                for k, lane in enumerate(self.lanes):
                    out_frame = self._run_lane(lane, item, row, sent, first)
                    first += len(lane.outputs)
                    if k == 0:
                        frame = out_frame
                t_end = time.perf_counter()
                self.times.record(row)
                if sent:
                    self.output_latency.record(sent)
                latency_ms = (t_end - frame.capture_time) * 1000.0
                if self.keep_latencies:
                    result.latencies_ms.append(latency_ms)
                result.frames += 1
                result.faces += frame.face_present
                self.last = frame
                if self._taps:
                    self._call_taps(latency_ms)
                self.status.update(
                    result.frames, latency_ms, frame.face_present, self.outputs,
                    note=getattr(self.source, "state", ""),
                )  # fmt: skip
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            result.elapsed_s = time.perf_counter() - start
            if self.feed is not None:
                result.dropped = self.feed.dropped
                self.feed.stop()
            self.status.done()
            self.finish()
        return result

    # -- observer seam (the panel's; the house helper's `add_tap` may replace it) -------

    def add_tap(self, tap: Callable[[TapEvent], None]) -> None:
        """Call `tap(event)` on the pipeline thread after each frame's outputs are sent.

        The first tap wraps each lane's solver and dynamics stages in a `StageInput`, so
        the event can show the frames before them; without a tap nothing is wrapped.
        A tap is where settings change: between frames, on this thread.
        """
        if not self._taps:
            for lane in self.lanes:
                wrap = ("solver", "dynamics")
                lane.stages[:] = [(n, StageInput(s) if n in wrap else s) for n, s in lane.stages]
            self.stages = self.lanes[0].stages
        self._taps.append(tap)

    def _call_taps(self, latency_ms: float) -> None:
        views = []
        for lane in self.lanes:
            found = {n: s for n, s in lane.stages if isinstance(s, StageInput)}
            solver, dyn = found.get("solver"), found.get("dynamics")
            views.append(LaneView(
                lane=lane,
                tracked=solver.last if solver else None,
                raw=dyn.last if dyn else None,
                filtered=dyn.out if dyn else None,
            ))  # fmt: skip
        event = TapEvent(pipeline=self, lanes=views, latency_ms=latency_ms)
        for tap in self._taps:
            tap(event)

    @staticmethod
    def _run_lane(
        lane: Lane, frame: Frame, row: list[float], sent: list[float], first: int
    ) -> Frame:
        """One performer's stages and outputs; adds each stage's microseconds to `row`
        and puts each output's capture-to-sent milliseconds in `sent[first:]`."""
        perf = time.perf_counter_ns
        stages = lane.stages
        for k, (_, stage) in enumerate(stages):
            t_start = perf()
            frame = stage(frame)
            row[k] += (perf() - t_start) / 1000.0
        t_start = t_sent = perf()
        captured = frame.capture_time * 1e9
        for j, out in enumerate(lane.outputs, first):
            out.send(frame)
            t_sent = perf()
            sent[j] = (t_sent - captured) / 1e6
        row[len(stages)] += (t_sent - t_start) / 1000.0
        return frame

    def _quiet(self) -> None:
        """A no-face frame while the source delivers nothing (tracker skipped)."""
        assert self.last is not None
        now = time.perf_counter()
        quiet = Frame(
            timestamp=self.last.timestamp + max(0.0, now - self.last.capture_time),
            index=self.last.index,
            face_present=False,
            capture_time=self.last.capture_time,
        )
        for lane in self.lanes:
            frame = quiet
            for name, stage in lane.stages:
                if name != "tracker":
                    frame = stage(frame)
            for out in lane.outputs:
                out.send(frame)
        self.status.update(
            0, 0.0, False, self.outputs, note=getattr(self.source, "state", "no frames")
        )

    def finish(self) -> None:
        """Neutral frame to every output, then close each exactly once."""
        neutral = neutral_frame(self.last, self.source.fps)
        for out in self.outputs:
            try:
                out.finish(neutral)
            except Exception as e:  # an output's bug must not keep the others open
                out.stats.failed(e)
            finally:
                out.close()
