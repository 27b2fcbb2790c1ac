"""`avatar-driver bench`: run a source through the pipeline unpaced and report per stage.

The vrchat output sends to a receiver we open on an ephemeral loopback port (so a VRChat
running on this machine is not disturbed), which also proves the datagrams arrive; more
outputs can be added with --output to see their cost and counters.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .pipeline import StageTimes
from .runner import RunOptions, open_pipeline

__all__ = ["LoopbackSink", "bench", "run_bench"]


_SINK = r"""
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
sock.settimeout(0.05)
count = 0
while True:
    try:
        sock.recv(65536)
        count += 1
    except (socket.timeout, TimeoutError):
        if sys.stdin.closed:
            break
        import select
        if select.select([sys.stdin], [], [], 0)[0]:
            break
print(count, flush=True)
"""


class LoopbackSink:
    """A loopback UDP receiver in its own process (so it takes no GIL time from the
    pipeline being measured) that counts datagrams until told to stop."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        self.port = int(self._proc.stdout.readline())
        self.datagrams = 0

    def close(self) -> None:
        if self._proc.returncode is not None:
            return
        time.sleep(0.1)  # let the last datagrams land
        out, _ = self._proc.communicate("stop\n", timeout=10)
        self.datagrams = int(out.strip() or 0)


def bench(
    source: str,
    *,
    frames: int | None,
    model: str | None,
    dynamics: str,
    fast: bool = True,
    low_power: bool | None = None,
    outputs: Sequence[str] = (),
    tracker: str = "mediapipe",
    adaptive: bool = False,
) -> dict[str, Any]:
    """Measure one run; returns the figures as a dict (the --json document).

    fast=True runs unpaced (throughput, per-stage cost); fast=False plays the source at
    its own rate like a camera, which is what CPU share and capture-to-send latency mean.
    """
    sink = LoopbackSink()
    try:
        return _measure(sink, source, frames=frames, model=model, dynamics=dynamics,
                        fast=fast, low_power=low_power, outputs=outputs, tracker=tracker,
                        adaptive=adaptive)  # fmt: skip
    finally:
        sink.close()  # also when the run failed: the sink must not outlive us


def _measure(
    sink: LoopbackSink,
    source: str,
    *,
    frames: int | None,
    model: str | None,
    dynamics: str,
    fast: bool,
    low_power: bool | None,
    outputs: Sequence[str],
    tracker: str,
    adaptive: bool,
) -> dict[str, Any]:
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    opts = RunOptions(
        source=source,
        outputs=[f"vrchat:127.0.0.1:{sink.port}", *outputs],
        dynamics=dynamics,
        model=model,
        fast=fast,
        max_frames=frames if frames else (300 if source.startswith("demo") else None),
        low_power=low_power,
        tracker=tracker,
        adaptive=adaptive,
    )
    with open_pipeline(opts) as pipeline:
        pipeline.keep_latencies = True
        startup_s = time.perf_counter() - t_start
        cpu_run = time.process_time()
        result = pipeline.run()
        cpu_s = time.process_time() - cpu_run
        fps = pipeline.source.fps
        out_stats = {
            name: vars(o.stats).copy()
            for name, o in zip(pipeline.output_names, pipeline.outputs, strict=True)
        }
    cpu_total_s = time.process_time() - cpu_start
    sink.close()  # counts what arrived; closing again later does nothing
    assert result.times is not None
    stages = result.times.summary()
    after = [n for n in stages if n != "tracker"]
    after_median = sum(stages[n]["median_us"] for n in after)
    total_mean = sum(s["mean_us"] for s in stages.values())
    lat = np.asarray(result.latencies_ms) if result.latencies_ms else np.zeros(1)
    over = _latency_over_tracker(lat, result.times)
    out_lat = result.output_latency
    assert out_lat is not None
    for name, stats in out_stats.items():
        ms = out_lat.samples(name)
        stats["latency_ms"] = {
            "median": float(np.median(ms)) if len(ms) else 0.0,
            "p95": float(np.percentile(ms, 95)) if len(ms) else 0.0,
        }
    media_s = result.frames / fps if fps else 0.0
    return {
        "source": source,
        "frames": result.frames,
        "faces": result.faces,
        "elapsed_s": result.elapsed_s,
        "fps": result.frames / result.elapsed_s if result.elapsed_s else 0.0,
        "startup_s": startup_s,
        "stages": stages,
        "after_tracker_median_us": after_median,
        "after_tracker_share": (
            sum(stages[n]["mean_us"] for n in after) / total_mean if total_mean else 0.0
        ),
        "latency_ms": {"median": float(np.median(lat)), "p95": float(np.percentile(lat, 95))},
        "latency_over_tracker_ms": {
            "median": float(np.median(over)),
            "p95": float(np.percentile(over, 95)),
        },
        "cpu_s_per_media_s": cpu_s / media_s if media_s else 0.0,
        "cpu_share": cpu_s / result.elapsed_s if result.elapsed_s else 0.0,
        "cpu_s_with_startup": cpu_total_s,
        "mode": "fast" if fast else "paced",
        "dropped": result.dropped,
        "latencies_ms": [round(x, 4) for x in result.latencies_ms],
        "outputs": out_stats,
        "datagrams_received": sink.datagrams,
    }


def _latency_over_tracker(latency_ms: np.ndarray, times: StageTimes) -> np.ndarray:
    """Per frame, capture to sent minus that frame's own tracker time (ms).

    The difference of the two medians mixes different frames and, on a noisy machine,
    overstates what the pipeline adds to the tracker; both are recorded once per frame.
    """
    tracker = times.samples("tracker") if "tracker" in times.names else np.zeros(0)
    if len(tracker) != len(latency_ms):  # no tracker (demo), or no frame at all
        return latency_ms
    return latency_ms - tracker / 1000.0


def run_bench(args: argparse.Namespace) -> int:
    tracker = getattr(args, "tracker", "mediapipe")
    adaptive = getattr(args, "adaptive", False)
    if tracker == "both":  # the two trackers side by side on this source
        from .tracking.compare import run_compare

        return run_compare(args.source, model=args.model, as_json=args.json)
    dyn = args.dynamics or "cortical"
    extra = args.output or ()
    report = bench(
        args.source, frames=args.frames, model=args.model, dynamics=dyn, outputs=extra,
        tracker=tracker, adaptive=adaptive,
    )  # fmt: skip
    if not args.no_paced:
        paced = bench(
            args.source, frames=args.frames, model=args.model, dynamics=dyn, fast=False,
            low_power=True, outputs=extra, tracker=tracker, adaptive=adaptive,
        )  # fmt: skip
        report["paced"] = {
            k: paced[k]
            for k in (
                "frames", "faces", "fps", "cpu_share", "latency_ms", "latency_over_tracker_ms",
                "dropped", "stages", "outputs",
            )
        }  # fmt: skip
    from .vrchat.discovery_bench import measure_discovery

    report["vrchat_discovery"] = measure_discovery()
    if not args.latencies:
        report.pop("latencies_ms")
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(f"source: {report['source']}  frames: {report['frames']}  faces: {report['faces']}")
    print(f"{'stage':<10} {'median us':>10} {'p95 us':>10}")
    for name, s in report["stages"].items():
        print(f"{name:<10} {s['median_us']:>10.1f} {s['p95_us']:>10.1f}")
    print(
        f"after the tracker: {report['after_tracker_median_us']:.1f} us median per frame "
        f"({100 * report['after_tracker_share']:.1f}% of pipeline time)"
    )
    print(f"throughput: {report['fps']:.1f} frames/s   start-up: {report['startup_s']:.2f} s")
    lat = report["latency_ms"]
    print(f"latency: {lat['median']:.2f} ms median, {lat['p95']:.2f} ms p95")
    print(f"cpu: {report['cpu_s_per_media_s']:.2f} s per second of media")
    for name, s in report["outputs"].items():
        lat = s["latency_ms"]
        print(
            f"output {name}: {s['frames_sent']} frames, {s['errors']} errors, "
            f"capture->sent {lat['median']:.2f} ms median, {lat['p95']:.2f} ms p95"
        )
    print(f"datagrams received by the loopback sink: {report['datagrams_received']}")
    d = report["vrchat_discovery"]
    if "error" in d:
        print(f"vrchat discovery (OSCQuery): {d['error']}")
    else:
        o, la, ref = d["from_output"], d["from_launch"], d["launch_reference"]

        def sec(x: float | None) -> str:
            return "never" if x is None else f"{x:.2f} s"

        print(
            f"vrchat discovery (OSCQuery, private netns): first correct packet "
            f"{sec(o['median_s'])} after the output started (max {sec(o['max_s'])}, "
            f"{o['runs']} runs), {sec(la['median_s'])} after launch (explicit target, no "
            f"discovery: {sec(ref['median_s'])}); goal {d['goal_s']:g} s"
        )
    if "paced" in report:
        p = report["paced"]
        print(
            f"played at its own rate ({p['frames']} frames, low-power on): "
            f"{100 * p['cpu_share']:.1f}% of one core, latency capture->send "
            f"{p['latency_ms']['median']:.2f} ms median, {p['latency_ms']['p95']:.2f} ms p95"
        )
    return 0
