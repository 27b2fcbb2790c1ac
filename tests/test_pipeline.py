"""The threaded pipeline: latest-wins drops, lossless --fast, clean stop, neutral last."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.frame import Frame
from avatar_driver.outputs.base import OutputBase
from avatar_driver.pipeline import Pipeline
from avatar_driver.sources import DemoSource, VideoSource
from avatar_driver.tracking.idle import IdleGate


class Recorder(OutputBase):
    """An output that keeps what it is given (our own Output extension point)."""

    kind = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []
        self.finished: Frame | None = None
        self.closes = 0

    def send(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.stats.frames_sent += 1

    def finish(self, frame: Frame) -> None:
        self.finished = frame

    def _close(self) -> None:
        self.closes += 1


def _interrupt_after(n: int):  # type: ignore[no-untyped-def]
    """A stage that behaves like Ctrl+C arriving during the n-th frame."""
    seen: list[int] = []

    def stage(frame: Frame) -> Frame:
        seen.append(frame.index)
        if len(seen) == n:
            raise KeyboardInterrupt
        return frame

    return stage


def _slow(seconds: float):  # type: ignore[no-untyped-def]
    def stage(frame: Frame) -> Frame:
        time.sleep(seconds)
        return frame

    return stage


def test_latest_wins_drops_old_frames_and_keeps_the_last(media: Path) -> None:
    out = Recorder()
    source = VideoSource(media / "single_face.mp4")  # 72 frames at 30 fps: 2.4 s
    pipe = Pipeline(source=source, stages=[("slow", _slow(0.1))], outputs=[out], fast=False)
    result = pipe.run()
    source.close()
    indices = [f.index for f in out.frames]
    assert indices == sorted(indices)
    assert result.frames == len(indices) < 40  # ~10 a second get through
    assert result.dropped >= 72 - 40
    assert result.frames + result.dropped == 72
    assert indices[-1] == 71  # the final frame is not lost
    # Latency stays one stage deep instead of growing with a backlog.
    lat = np.array(result.times.samples("slow")) if result.times else np.zeros(1)
    assert lat.size == result.frames


def test_fast_mode_is_lossless_and_overlaps_decoding(media: Path) -> None:
    out = Recorder()
    with VideoSource(media / "single_face.mp4") as source:
        pipe = Pipeline(source=source, stages=[("slow", _slow(0.005))], outputs=[out], fast=True)
        result = pipe.run()
    assert [f.index for f in out.frames] == list(range(72))
    assert result.dropped == 0


def test_stop_mid_run_closes_everything_and_sends_neutral() -> None:
    out = Recorder()
    source = DemoSource()
    pipe = Pipeline(
        source=source, stages=[("stop", _interrupt_after(20))], outputs=[out], fast=True
    )
    threads_before = threading.active_count()
    t0 = time.monotonic()
    result = pipe.run()
    assert time.monotonic() - t0 < 2.0
    assert result.interrupted and result.frames == 19
    assert pipe.feed is None  # the demo is generated inline: no capture thread at all
    assert threading.active_count() <= threads_before
    assert out.closes == 1
    assert out.finished is not None and not out.finished.face_present
    assert not out.finished.weights.any() and not out.finished.pose.any()
    assert out.finished.timestamp > out.frames[-1].timestamp


def test_max_fps_skips_frames_by_source_time() -> None:
    out = Recorder()
    pipe = Pipeline(
        source=DemoSource(), stages=[], outputs=[out], fast=True, max_frames=30, max_fps=10
    )
    result = pipe.run()
    ts = np.array([f.timestamp for f in out.frames])
    assert result.frames == 30 and result.skipped > 0
    assert np.diff(ts).min() >= 0.1 - 1e-9


def test_max_fps_keeps_the_asked_rate_not_a_divisor() -> None:
    """30 fps capped at 20 keeps two frames in three (not every other one: 15 fps)."""
    out = Recorder()
    pipe = Pipeline(
        source=DemoSource(), stages=[], outputs=[out], fast=True, max_frames=40, max_fps=20
    )
    result = pipe.run()
    ts = np.array([f.timestamp for f in out.frames])
    rate = (len(ts) - 1) / (ts[-1] - ts[0])
    assert 19.0 <= rate <= 20.5, rate
    assert result.skipped in (19, 20, 21)


def test_idle_gate_tracks_a_few_times_a_second_without_a_face() -> None:
    calls: list[float] = []

    def tracker(frame: Frame) -> Frame:
        calls.append(frame.timestamp)
        face = frame.timestamp >= 5.0  # no face for 5 s, then a face
        return Frame(timestamp=frame.timestamp, face_present=face)

    gate = IdleGate(tracker, after_s=1.0, probe_hz=4.0)
    pixels = np.zeros((2, 2, 3), np.uint8)
    frames = [gate(Frame(timestamp=i / 30, image=pixels)) for i in range(30 * 7)]
    before = [t for t in calls if t < 5.0]
    after = [t for t in calls if t >= 5.0]
    assert len(before) <= 30 + 4 * 4 + 2  # 1 s at full rate, then ~4 probes a second
    found = next(f.timestamp for f in frames if f.face_present)
    assert found - 5.0 <= 0.25 + 1e-9  # a returning face is picked up within one probe
    assert len(after) >= 30 * 2 - 8  # full rate again once a face is back


def test_stop_mid_clip_stops_the_capture_thread(media: Path) -> None:
    out = Recorder()
    with VideoSource(media / "single_face.mp4") as source:
        pipe = Pipeline(
            source=source, stages=[("stop", _interrupt_after(20))], outputs=[out], fast=False
        )
        result = pipe.run()
    assert result.interrupted
    assert pipe.feed is not None and not pipe.feed._thread.is_alive()
    assert out.closes == 1 and out.finished is not None and not out.finished.face_present


def test_idle_gate_does_not_probe_a_frame_without_pixels() -> None:
    calls: list[float] = []

    def tracker(frame: Frame) -> Frame:
        calls.append(frame.timestamp)
        return Frame(timestamp=frame.timestamp, face_present=False)

    gate = IdleGate(tracker, after_s=0.0, probe_hz=3.0)
    pixels = np.zeros((2, 2, 3), np.uint8)
    gate(Frame(timestamp=0.0, image=pixels))
    gate(Frame(timestamp=0.5, image=pixels))  # still no face: idle from here on
    assert gate.idle
    assert not gate.needs_image(0.6) and gate.needs_image(0.9)
    out = gate(Frame(timestamp=0.9, image=None))  # the capture thread guessed "no pixels"
    assert not out.face_present and calls == [0.0, 0.5]


class SlowRecorder(Recorder):
    """A recorder that takes `seconds` to send, like a slow network or disk."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def send(self, frame: Frame) -> None:
        time.sleep(self.seconds)
        super().send(frame)


def test_each_output_has_its_own_capture_to_sent_latency() -> None:
    outs = [SlowRecorder(0.002), Recorder(), SlowRecorder(0.002)]
    pipe = Pipeline(source=DemoSource(), stages=[], outputs=outs, max_frames=30, fast=True)
    pipe.keep_latencies = True
    result = pipe.run()
    assert pipe.output_names == ["recorder", "recorder #2", "recorder #3"]
    lat = result.output_latency
    assert lat is not None and lat.count == result.frames == 30
    first, second, third = (lat.samples(n) for n in pipe.output_names)
    # Sent in order, each after the one before it; the slow sends show in the gaps.
    assert np.all(first > 0) and np.all(first <= second) and np.all(second < third)
    assert np.all(third - second >= 0.002 * 1000 * 0.9)
    # The last output's latency is the frame's overall capture -> sent latency (taken a
    # moment later, so never above it and, but for a preempted frame, just below it).
    overall = np.asarray(result.latencies_ms)
    assert np.all(third <= overall)
    assert np.median(overall - third) < 0.05


def _plus(amount: float):  # type: ignore[no-untyped-def]
    """A stage that raises every weight by `amount` (a new frame, like real stages)."""

    def stage(frame: Frame) -> Frame:
        return dataclasses.replace(frame, weights=frame.weights + np.float32(amount))

    return stage


def test_a_tap_sees_each_lane_before_and_after_its_watched_stage() -> None:
    from avatar_driver.pipeline import Lane, TapReport

    outs = [Recorder(), Recorder()]
    lanes = [
        Lane([("solver", _plus(0.1)), ("dynamics", _plus(0.2))], [outs[0]]),
        Lane([("solver", _plus(0.3)), ("dynamics", _plus(0.4))], [outs[1]], watched=1),
    ]
    pipe = Pipeline(source=DemoSource(), lanes=lanes, max_frames=10, fast=True)
    reports: list[TapReport] = []
    pipe.add_tap(reports.append)
    result = pipe.run()
    assert len(reports) == result.frames == 10
    last = reports[-1]
    assert [r.index for r in reports] == [f.index for f in outs[0].frames]
    for lane, out, step in zip(last.lanes, outs, [0.2, 0.4], strict=True):
        assert lane.after is out.frames[-1]  # what the outputs were sent
        np.testing.assert_allclose(lane.after.weights - lane.before.weights, step, atol=1e-6)
        assert lane.outputs[0][1] is out.stats
        assert lane.tracked.index == lane.after.index  # the frame that came into the lane
    assert [name for lane in last.lanes for name, _ in lane.outputs] == pipe.output_names
    assert last.lanes[0].outputs[0][1].frames_sent == 10  # live counters, read after the run


def test_a_failing_tap_is_removed_and_the_run_goes_on(capsys) -> None:  # type: ignore[no-untyped-def]
    out = Recorder()
    pipe = Pipeline(source=DemoSource(), stages=[], outputs=[out], max_frames=5, fast=True)
    calls: list[int] = []

    def bad(report) -> None:  # type: ignore[no-untyped-def]
        calls.append(report.index)
        raise ValueError("panel bug")

    pipe.add_tap(bad)
    assert pipe.run().frames == 5 and len(out.frames) == 5
    assert len(calls) == 1
    assert "tap failed and was removed (ValueError: panel bug)" in capsys.readouterr().err


def test_a_split_gives_each_lane_its_own_frame_and_the_shared_stage_runs_once() -> None:
    from avatar_driver.pipeline import Lane

    shared_calls: list[int] = []

    def tracker(frame: Frame) -> Frame:
        shared_calls.append(frame.index)
        return frame

    def split(frame: Frame) -> list[Frame]:
        return [dataclasses.replace(frame, confidence=k / 10) for k in range(3)]

    outs = [Recorder() for _ in range(3)]
    pipe = Pipeline(
        source=DemoSource(),
        shared=[("tracker", tracker)],
        split=("faces", split),
        lanes=[Lane([("dynamics", _plus(0.0))], [o]) for o in outs],
        max_frames=8,
        fast=True,
    )
    pipe.run()
    assert shared_calls == list(range(8))
    assert [o.frames[0].confidence for o in outs] == [0.0, 0.1, 0.2]
    assert pipe.times.names == ["tracker", "faces", "dynamics", "outputs"]


def test_the_capture_policy_goes_to_the_feed_not_the_source(media: Path) -> None:
    """`wants_image` is handed to the capture thread: frames it declines come without
    pixels, and an output that shows the picture turns the policy off."""
    seen: list[bool] = []

    def look(frame: Frame) -> Frame:
        seen.append(frame.image is not None)
        return frame

    def every_third(t: float) -> bool:
        return round(t * 30) % 3 == 0

    with VideoSource(media / "single_face.mp4") as source:
        pipe = Pipeline(
            source=source, stages=[("look", look)], outputs=[Recorder()], fast=True,
            wants_image=every_third,
        )  # fmt: skip
        pipe.run()
    assert seen == [i % 3 == 0 for i in range(72)]

    class Shows(Recorder):
        needs_image = True

    seen.clear()
    with VideoSource(media / "single_face.mp4") as source:
        pipe = Pipeline(
            source=source, stages=[("look", look)], outputs=[Shows()], fast=True,
            wants_image=every_third,
        )  # fmt: skip
        pipe.run()
    assert all(seen) and len(seen) == 72


def test_swap_stage_replaces_a_stage_from_the_next_frame() -> None:
    out = Recorder()
    pipe = Pipeline(source=DemoSource(), stages=[("dynamics", _plus(0.0))], outputs=[out],
                    max_frames=10, fast=True)  # fmt: skip

    def tap(report) -> None:  # type: ignore[no-untyped-def]
        if report.index == 4:
            pipe.swap_stage(0, "dynamics", _plus(0.5))

    pipe.add_tap(tap)
    pipe.run()
    lifted = [bool((f.weights >= 0.5).all()) for f in out.frames]
    assert lifted == [False] * 5 + [True] * 5
    with pytest.raises(KeyError, match="no stage 'solver'"):
        pipe.swap_stage(0, "solver", _plus(0.1))
