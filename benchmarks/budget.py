"""Where the time goes on this machine: the CPU floor at the clip's frame rate, and what the
stages after the tracker cost as a function of the pause before them.

    python benchmarks/budget.py [--clip single_face.mp4] [--model PATH] [--rounds 3] [--json]

1. CPU floor, played at the clip's own rate (30 fps) with process CPU time over wall time:
   decoding and colour conversion alone (our video source), the MediaPipe call alone (on
   frames decoded beforehand), and the whole `avatar-driver` pipeline. The pipeline cannot
   cost less than the first two together.
2. Post-tracker cost against the pause before it: the real solver -> dynamics -> vrchat
   output chain (default mapping, to a loopback receiver) on frames tracked beforehand,
   timed after a busy-wait of 0 to 13 ms (the tracker's time here), with the solver's
   cover check alone (`region_texture`, and the plain full-resolution formula it is
   tested against, `region_texture_reference`), next to a floor chain
   that does the least such a chain can (one gather, 20 small ufunc calls, one dot, one
   prebuilt datagram sent) and to one lone np.add. Each runs over the clip's frames in
   its own block, once per pause per round, so slow spells of the shared machine are
   spread over every column. Then the real chain after 13 ms spent three ways: busy, asleep,
   or in the MediaPipe call itself (as in the pipeline).
"""

from __future__ import annotations

import argparse
import collections
import json
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tracked_clips import default_media, default_model

from avatar_driver.bench import LoopbackSink, bench
from avatar_driver.frame import Frame
from avatar_driver.runner import RunOptions, open_pipeline
from avatar_driver.solver.occlusion import region_texture, region_texture_reference
from avatar_driver.sources import open_source
from avatar_driver.tracking.landmarker import FaceTracker

ROOT = Path(__file__).resolve().parents[1]
PAUSES_MS = (0.0, 2.0, 4.0, 8.0, 13.0)
PAUSE_KINDS = ("busy-wait", "sleep", "MediaPipe call")


def _paced(items: Iterable[Any], fps: float) -> Iterator[Any]:
    """The items, each at its due time at `fps` (sleeping in between)."""
    start = time.perf_counter()
    for k, item in enumerate(items):
        delay = start + k / fps - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield item


def _cpu_share(run: Callable[[], object]) -> float:
    """Process CPU seconds per wall second while `run` runs."""
    t0, c0 = time.perf_counter(), time.process_time()
    run()
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def decode_share(clip: str, repeats: int) -> float:
    """Our video source alone (decode + BGR->RGB), played at the clip's rate."""

    def frames() -> Iterator[Frame]:
        for _ in range(repeats):
            source = open_source(clip)
            yield from source
            source.close()

    fps = _fps(clip)
    return _cpu_share(lambda: collections.deque(_paced(frames(), fps), maxlen=0))


def _fps(clip: str) -> float:
    source = open_source(clip)
    source.close()
    return source.fps


def tracker_share(clip: str, model: str, repeats: int) -> tuple[float, float]:
    """(CPU share, median ms) of the MediaPipe call alone on frames decoded beforehand."""
    source = open_source(clip)
    frames = list(source)
    fps = source.fps
    source.close()
    tracker = FaceTracker(model)
    times: list[float] = []
    step = 1.0 / fps
    try:
        for f in frames[:5]:  # warm-up (graph set-up), not counted
            tracker.detect(f)
        clock = [frames[-1].timestamp]

        def run() -> None:
            for f in _paced(frames * repeats, fps):
                clock[0] += step
                t = time.perf_counter()
                tracker.detect(Frame(timestamp=clock[0], image=f.image))
                times.append(time.perf_counter() - t)

        share = _cpu_share(run)
    finally:
        tracker.close()
    return share, 1000.0 * float(np.median(times))


def pipeline_share(clip: str, model: str, runs: int) -> float:
    """Median CPU share of the whole paced pipeline (as `avatar-driver bench` plays it)."""
    shares = [
        bench(clip, frames=None, model=model, dynamics="cortical", fast=False)["cpu_share"]
        for _ in range(runs)
    ]
    return float(np.median(shares))


def _busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class _FloorChain:
    """The least a post-tracker chain can do: one gather + tolist, 48 float products,
    20 ufunc calls and one dot on 52 values, and one prebuilt datagram sent."""

    def __init__(self, port: int) -> None:
        rng = np.random.default_rng(0)
        self.lm = rng.random((478, 3), dtype=np.float32)
        self.idx = np.arange(96)
        self.w = rng.random(52)
        self.buf = np.empty(52)
        self.matrix = np.eye(52)
        self.packet = bytearray(b"#bundle\0" + bytes(8) + b"\0" * 52 * 40)
        self.view = np.frombuffer(self.packet, dtype=">f4", count=52, offset=16)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))

    def __call__(self) -> None:
        s = 0.0
        for v in self.lm.take(self.idx).tolist()[:48]:
            s += v * v
        for _ in range(20):
            np.multiply(self.w, 1.0, out=self.buf)
        np.dot(self.matrix, self.buf, out=self.w)
        self.view[:] = self.w
        self.sock.send(self.packet)

    def close(self) -> None:
        self.sock.close()


def _cover(frame: Frame, texture: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """The solver's per-region cover check alone (solver.occlusion) on a tracked frame."""
    if frame.image is not None and frame.landmarks is not None:
        texture(frame.image, frame.landmarks)


def pause_scan(
    clip: str, model: str, rounds: int
) -> tuple[dict[str, dict[float, float]], dict[str, float]]:
    """Median microseconds of each chain after each pause (see the module doc), and of
    the real chain after 13 ms spent in different ways (busy, asleep, in MediaPipe)."""
    sink = LoopbackSink()
    opts = RunOptions(
        source=clip, outputs=[f"vrchat:127.0.0.1:{sink.port}"], model=model, low_power=False
    )
    samples: dict[str, dict[float, list[float]]] = {
        k: {p: [] for p in PAUSES_MS} for k in ("chain", "cover", "cover-full", "floor", "np.add")
    }
    by_kind: dict[str, list[float]] = {k: [] for k in PAUSE_KINDS}
    perf = time.perf_counter_ns
    a, out_buf = np.ones(52), np.empty(52)
    with open_pipeline(opts) as pipe:
        tracker = pipe.shared[0][1]
        assert isinstance(tracker, FaceTracker)  # low_power=False: the bare tracker
        tracked = [tracker(f) for f in pipe.source]
        (_, solver), (_, dynamics) = pipe.lanes[0].stages
        output = pipe.outputs[0]
        floor = _FloorChain(sink.port)
        try:
            chains: dict[str, Callable[[Frame], object]] = {
                "chain": lambda f: output.send(dynamics(solver(f))),
                "cover": lambda f: _cover(f, region_texture),
                "cover-full": lambda f: _cover(f, region_texture_reference),
                "floor": lambda f: floor(),
                "np.add": lambda f: np.add(a, a, out=out_buf),
            }
            for _ in range(rounds):
                for pause in PAUSES_MS:
                    for key, chain in chains.items():
                        column = samples[key][pause]
                        for frame in tracked:
                            _busy_wait(pause / 1000.0)
                            t = perf()
                            chain(frame)
                            column.append((perf() - t) / 1000.0)
                pauses: dict[str, Callable[[Frame], object]] = {
                    "busy-wait": lambda f: _busy_wait(0.013),
                    "sleep": lambda f: time.sleep(0.013),
                    "MediaPipe call": tracker.detect,
                }
                for kind, pause_with in pauses.items():
                    for frame in tracked:
                        pause_with(frame)
                        t = perf()
                        output.send(dynamics(solver(frame)))
                        by_kind[kind].append((perf() - t) / 1000.0)
        finally:
            floor.close()
    sink.close()
    medians = {k: {p: float(np.median(v)) for p, v in cols.items()} for k, cols in samples.items()}
    return medians, {k: float(np.median(v)) for k, v in by_kind.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=str(Path(default_media()) / "single_face.mp4"))
    parser.add_argument("--model", default=default_model())
    parser.add_argument("--rounds", type=int, default=3, help="pause-scan rounds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    decode = decode_share(args.clip, repeats=4)
    track, track_ms = tracker_share(args.clip, args.model, repeats=4)
    whole = pipeline_share(args.clip, args.model, runs=3)
    scan, by_kind = pause_scan(args.clip, args.model, args.rounds)
    report = {
        "clip": args.clip,
        "cpu_share": {"decode": decode, "tracker": track, "pipeline": whole},
        "tracker_ms": track_ms,
        "after_pause_us": {k: {str(p): v for p, v in cols.items()} for k, cols in scan.items()},
        "chain_after_13ms_us": by_kind,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return report
    print(f"clip: {args.clip}")
    print("CPU of one core, played at the clip's rate:")
    print(f"  decode + colour conversion alone  {100 * decode:5.1f} %")
    print(f"  MediaPipe call alone              {100 * track:5.1f} %  ({track_ms:.2f} ms a frame)")
    print(f"  the two together                  {100 * (decode + track):5.1f} %")
    print(f"  whole pipeline (bench, paced)     {100 * whole:5.1f} %")
    print("microseconds after a busy pause of (median):")
    print(f"  {'':<34}" + "".join(f"{p:>7.0f} ms" for p in PAUSES_MS))
    labels = {
        "chain": "solver + dynamics + vrchat output",
        "cover": "  of which the cover check",
        "cover-full": "cover check at full resolution",
        "floor": "floor chain",
        "np.add": "one np.add of 52 floats",
    }
    for key, label in labels.items():
        print(f"  {label:<34}" + "".join(f"{scan[key][p]:>10.1f}" for p in PAUSES_MS))
    print("solver + dynamics + vrchat output after 13 ms of (median us):")
    print("  " + "   ".join(f"{k} {v:.1f}" for k, v in by_kind.items()))
    return report


if __name__ == "__main__":
    main()
