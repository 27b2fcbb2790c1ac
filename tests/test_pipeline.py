"""The threaded pipeline: latest-wins drops, lossless --fast, clean stop, neutral last."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

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
