"""source -> shared stages -> lanes (solver -> dynamics -> outputs), one frame at a time.

A run has *shared* stages, run once per source frame (the tracker), then one *lane* per
performer: the stages their face goes through and the outputs that get it. With several
performers a `split` (the multi-face tracker) turns the source frame into one frame per
lane. The source is read on its own thread (see feed.FrameFeed), so decoding the next
frame overlaps tracking this one; the tracker's capture policy (`wants_image`, low-power
idling) goes to that thread. Each stage is a callable from frame to frame; the pipeline
times each one (per-frame microseconds kept in fixed arrays, so hours of running allocate
nothing) and ends by sending every output a neutral frame before closing it. Observers
(`Pipeline.add_tap`) see every frame; see docs/stages.md for the contracts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .feed import FrameFeed, WantsImage
from .frame import Frame
from .outputs.base import OutputBase, OutputStats
from .sources.base import SourceBase
from .status import StatusLine

__all__ = [
    "Lane",
    "LaneReport",
    "Pipeline",
    "RunResult",
    "Split",
    "Stage",
    "StageTimes",
    "Tap",
    "TapReport",
    "neutral_frame",
]

Stage = Callable[[Frame], Frame]
#: One source frame in, one frame per lane out (several performers on one camera).
Split = Callable[[Frame], Sequence[Frame]]
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
    """One performer: the stages their face goes through and the outputs that get it.

    `watched` is the stage a tap sees around (the frame going in and coming out): the
    dynamics, which the runner puts last; -1 means the lane's last stage.
    """

    stages: list[tuple[str, Stage]]
    outputs: list[OutputBase]
    watched: int = -1


@dataclass(frozen=True, slots=True)
class LaneReport:
    """One lane's part of a frame, as a tap sees it."""

    tracked: Frame  # coming into the lane (the tracker's result, before the solver)
    before: Frame  # going into the watched stage (the solver's result)
    after: Frame  # what the outputs were sent (the dynamics' result)
    outputs: tuple[tuple[str, OutputStats], ...]  # (unique name, live counters)


@dataclass(frozen=True, slots=True)
class TapReport:
    """Everything a tap gets after one frame went out to every output."""

    index: int  # the source frame's index
    quiet: bool  # a no-face frame made while the source delivered nothing
    latency_ms: float  # capture to the last output's send (0.0 for a quiet frame)
    lanes: tuple[LaneReport, ...]


#: An observer called on the pipeline thread after each frame (see `Pipeline.add_tap`).
Tap = Callable[[TapReport], None]


class Pipeline:
    """Runs a source through shared stages and lanes until it ends or is stopped.

    shared: (name, stage) pairs run once per source frame, before the lanes (the tracker).
    split: (name, split) turning the shared result into one frame per lane (several
        performers); without it every lane gets the same frame.
    lanes: one per performer. `stages` and `outputs` are a shorthand for a single lane.
    wants_image: the tracker's capture policy (`IdleGate.needs_image`), handed to the
        capture thread so frames nobody will track skip colour conversion; ignored when an
        output shows the picture (`OutputBase.needs_image`).
    final_neutral: send every output the neutral face on stop (False: the outputs keep
        the last expression, e.g. a take recorded into Blender).
    """

    def __init__(
        self,
        *,
        source: SourceBase,
        stages: Sequence[tuple[str, Stage]] = (),
        outputs: Sequence[OutputBase] = (),
        lanes: Sequence[Lane] | None = None,
        shared: Sequence[tuple[str, Stage]] = (),
        split: tuple[str, Split] | None = None,
        wants_image: WantsImage | None = None,
        fast: bool = False,
        max_frames: int | None = None,
        status: StatusLine | None = None,
        keep_latencies: bool = False,
        max_fps: float | None = None,
        final_neutral: bool = True,
    ) -> None:
        if lanes is not None and (stages or outputs):
            raise ValueError("give either lanes or stages/outputs (one lane), not both")
        self.source = source
        self.lanes = list(lanes) if lanes is not None else [Lane(list(stages), list(outputs))]
        if not self.lanes:
            raise ValueError("a pipeline needs at least one lane")
        if len({len(lane.stages) for lane in self.lanes}) > 1:
            raise ValueError("every lane needs the same stages (they are timed side by side)")
        self.shared = list(shared)
        self.split = split
        self.outputs = [out for lane in self.lanes for out in lane.outputs]
        self.wants_image = None if any(o.needs_image for o in self.outputs) else wants_image
        self.fast = fast or source.live
        self.max_frames = max_frames
        self.status = status or StatusLine(enabled=False)
        self.keep_latencies = keep_latencies
        self.min_interval = 1.0 / max_fps if max_fps else 0.0
        self.feed: FrameFeed | None = None
        # Columns: shared stages, the split, lane stages by position (summed over lanes,
        # named after the first lane's), then all outputs together.
        names = [n for n, _ in self.shared] + ([split[0]] if split else [])
        self._n_shared = len(names)
        names += [n for n, _ in self.lanes[0].stages] + ["outputs"]
        self.times = StageTimes(names)
        self._row = [0.0] * len(names)
        self.output_names = _unique([out.describe() for out in self.outputs])
        self.output_latency = StageTimes(self.output_names)
        self._sent = [0.0] * len(self.outputs)  # capture -> each output done (ms), this frame
        self.last: Frame | None = None
        self.final_neutral = final_neutral
        self._taps: tuple[Tap, ...] = ()
        self._watch: list[tuple[Frame, Frame, Frame]] = []  # per lane, filled only with taps

    # -- observers -------------------------------------------------------------------

    def add_tap(self, tap: Tap) -> None:
        """Call `tap(report)` after every frame (see `TapReport`; contract in
        docs/stages.md). Runs on the pipeline thread, so it must return quickly and copy
        what it keeps; a tap that raises is removed with a one-line warning. Safe to call
        from another thread while running; costs nothing while no tap is registered."""
        self._taps = (*self._taps, tap)

    def remove_tap(self, tap: Tap) -> None:
        self._taps = tuple(t for t in self._taps if t is not tap)

    def swap_stage(self, lane: int, name: str, stage: Stage) -> Stage:
        """Put `stage` in place of lane `lane`'s stage called `name` (a control panel
        changing the dynamics); returns the old one. Takes effect from the next frame
        when called from a tap (the pipeline thread); from another thread, a frame in
        flight may still meet the old stage."""
        stages = self.lanes[lane].stages
        for j, (n, old) in enumerate(stages):
            if n == name:
                stages[j] = (name, stage)  # one item assignment: atomic for the loop
                return old
        raise KeyError(f"lane {lane} has no stage {name!r}; it has {[n for n, _ in stages]}")

    # -- running ---------------------------------------------------------------------

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
        frames = self._frames()
        try:
            self._loop(frames, result)
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

    def _frames(self) -> Iterable[Frame | None]:
        """The source's frames: from the capture thread when it has pixels to decode."""
        paced = not self.fast and not self.source.live
        pace = self._pacer() if paced else None
        if not self.source.needs_tracker:
            # Synthetic sources (demo, takes) are pure Python and would only contend for
            # the GIL on a thread of their own, so they run inline.
            return _inline(self.source, pace)
        # Capture and decoding release the GIL: on their own thread they overlap the tracker.
        self.feed = FrameFeed(
            self.source,
            latest_wins=not self.fast or self.source.live,
            pace=pace,
            heartbeat=QUIET_HEARTBEAT_S if self.source.live else None,
            wants_image=self.wants_image,
        )
        return self.feed

    def _loop(self, frames: Iterable[Frame | None], result: RunResult) -> None:
        next_due = -float("inf")
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
            self._step(item, result)

    def _step(self, item: Frame, result: RunResult) -> None:
        """One source frame: shared stages, every lane, then the books."""
        row = self._row
        row[:] = [0.0] * len(row)
        per_lane = self._run_shared(item, row)
        frame = item
        first = 0  # this lane's first column in `_sent`
        for k, lane in enumerate(self.lanes):
            out_frame = self._run_lane(k, lane, per_lane[k], row, first)
            first += len(lane.outputs)
            if k == 0:
                frame = out_frame
        t_end = time.perf_counter()
        self.times.record(row)
        if self._sent:
            self.output_latency.record(self._sent)
        latency_ms = (t_end - frame.capture_time) * 1000.0
        if self.keep_latencies:
            result.latencies_ms.append(latency_ms)
        result.frames += 1
        result.faces += frame.face_present
        self.last = frame
        if self._taps:
            self._report(frame.index, quiet=False, latency_ms=latency_ms)
        self.status.update(
            result.frames, latency_ms, frame.face_present, self.outputs,
            note=getattr(self.source, "state", ""),
            regions=frame.regions, upper_face=frame.upper_face,
        )  # fmt: skip

    def _run_shared(self, frame: Frame, row: list[float]) -> Sequence[Frame]:
        """The shared stages once, then one frame per lane; times into `row`."""
        perf = time.perf_counter_ns
        col = 0
        for _, stage in self.shared:
            t_start = perf()
            frame = stage(frame)
            row[col] += (perf() - t_start) / 1000.0
            col += 1
        if self.split is None:
            return [frame] * len(self.lanes)
        t_start = perf()
        frames = self.split[1](frame)
        row[col] += (perf() - t_start) / 1000.0
        if len(frames) != len(self.lanes):
            raise RuntimeError(f"split gave {len(frames)} frames for {len(self.lanes)} lanes")
        return frames

    def _run_lane(self, k: int, lane: Lane, frame: Frame, row: list[float], first: int) -> Frame:
        """One performer's stages and outputs; adds each stage's microseconds to `row`
        and puts each output's capture-to-sent milliseconds in `_sent[first:]`."""
        perf = time.perf_counter_ns
        stages = lane.stages
        col = self._n_shared
        watched = lane.watched % len(stages) if stages and self._taps else -1
        tracked = before = frame
        for j, (_, stage) in enumerate(stages):
            if j == watched:
                before = frame
            t_start = perf()
            frame = stage(frame)
            row[col + j] += (perf() - t_start) / 1000.0
        t_start = t_sent = perf()
        captured = frame.capture_time * 1e9
        sent = self._sent
        for j, out in enumerate(lane.outputs, first):
            out.send(frame)
            t_sent = perf()
            sent[j] = (t_sent - captured) / 1e6
        row[-1] += (t_sent - t_start) / 1000.0
        if self._taps:
            self._keep_watch(k, tracked, before, frame)
        return frame

    def _quiet(self) -> None:
        """A no-face frame through every lane while the source delivers nothing (the
        shared stages, which need pixels, are skipped)."""
        assert self.last is not None
        now = time.perf_counter()
        quiet = Frame(
            timestamp=self.last.timestamp + max(0.0, now - self.last.capture_time),
            index=self.last.index,
            face_present=False,
            capture_time=self.last.capture_time,
        )
        for k, lane in enumerate(self.lanes):
            frame = before = quiet
            for _, stage in lane.stages:
                before, frame = frame, stage(frame)
            for out in lane.outputs:
                out.send(frame)
            if self._taps:
                self._keep_watch(k, quiet, before, frame)
        if self._taps:
            self._report(quiet.index, quiet=True, latency_ms=0.0)
        self.status.update(
            0, 0.0, False, self.outputs, note=getattr(self.source, "state", "no frames")
        )

    # -- taps ------------------------------------------------------------------------

    def _keep_watch(self, k: int, tracked: Frame, before: Frame, after: Frame) -> None:
        while len(self._watch) <= k:
            self._watch.append((tracked, before, after))
        self._watch[k] = (tracked, before, after)

    def _report(self, index: int, *, quiet: bool, latency_ms: float) -> None:
        if len(self._watch) < len(self.lanes):  # a tap added halfway through this frame
            return
        names = iter(self.output_names)
        lanes = tuple(
            LaneReport(
                tracked=tracked,
                before=before,
                after=after,
                outputs=tuple((next(names), out.stats) for out in lane.outputs),
            )
            for lane, (tracked, before, after) in zip(self.lanes, self._watch, strict=False)
        )
        report = TapReport(index=index, quiet=quiet, latency_ms=latency_ms, lanes=lanes)
        for tap in self._taps:
            try:
                tap(report)
            except Exception as e:  # an observer's bug must not stop the avatar
                self.remove_tap(tap)
                print(
                    f"avatar-driver: a pipeline tap failed and was removed "
                    f"({type(e).__name__}: {e})",
                    file=sys.stderr,
                )

    def finish(self) -> None:
        """Neutral frame to every output (unless `final_neutral` is off), then close each
        exactly once."""
        neutral = neutral_frame(self.last, self.source.fps)
        for out in self.outputs:
            try:
                if self.final_neutral:
                    out.finish(neutral)
            except Exception as e:  # an output's bug must not keep the others open
                out.stats.failed(e)
            finally:
                out.close()
