"""Pipeline benchmark: one table for the demo source and the shared clips.

Per-stage median/p95 microseconds, throughput (unpaced), capture-to-send latency and CPU
share when played at the source's own rate (like a camera), start-up time of the real
command to its first datagram, and a plot of per-frame latency over a run.

    python benchmarks/pipeline.py [--media DIR] [--model PATH] [--plot docs/img/latency.png]

The machine is shared and noisy: compare figures from one run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tracked_clips import add_media_and_model

from avatar_driver.bench import bench

ROOT = Path(__file__).resolve().parents[1]


def startup_seconds(source: str, model: str | None, repeats: int = 3) -> float:
    """Median seconds from launching `avatar-driver run` to its first datagram arriving."""
    times = []
    for _ in range(repeats):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(30)
        port = sock.getsockname()[1]
        env = dict(os.environ)
        if model:
            env["AVATAR_DRIVER_MODEL"] = model
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "avatar_driver", "run", "--source", source,
             "--output", f"vrchat:127.0.0.1:{port}", "--quiet", "--fast", "--max-frames", "5"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            sock.recv(65536)
        except TimeoutError:
            proc.kill()
            err = proc.communicate()[1][-2000:]
            raise SystemExit(f"no datagram from {source}: {err}") from None
        times.append(time.perf_counter() - t0)
        proc.wait(30)
        sock.close()
    times.sort()
    return times[len(times) // 2]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_and_model(parser)
    parser.add_argument("--plot", default=None, help="write the latency plot here (PNG)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    media = Path(args.media)
    sources = ["demo"] + [
        str(media / name)
        for name in ("single_face.mp4", "face_noface.mov", "no_face.mp4")
        if (media / name).is_file()
    ]
    rows: dict[str, Any] = {}
    for src in sources:
        fast = bench(src, frames=None, model=args.model, dynamics="cortical")
        paced = bench(
            src, frames=150 if src == "demo" else None, model=args.model,
            dynamics="cortical", fast=False, low_power=True,
        )  # fmt: skip
        rows[Path(src).name] = {
            "fast": fast,
            "paced": paced,
            "startup_s": startup_seconds(src, args.model),
        }
    if args.json:
        print(json.dumps(rows, indent=2, default=float))
    else:
        _print_table(rows)
    if args.plot:
        _plot(rows, Path(args.plot))
    return rows


def _print_table(rows: dict[str, Any]) -> None:
    stages = ["tracker", "solver", "dynamics", "outputs"]
    head = f"{'source':<18}" + "".join(f"{s + ' med/p95 us':>24}" for s in stages)
    head += f"{'fps':>8}{'paced trk ms':>14}{'lat med/p95 ms':>18}{'cpu %':>8}{'start s':>9}"
    print(head)
    for name, r in rows.items():
        fast, paced = r["fast"], r["paced"]
        cells = ""
        for s in stages:
            st = fast["stages"].get(s)
            cells += f"{st['median_us']:>13.1f} /{st['p95_us']:>9.1f}" if st else f"{'-':>24}"
        lat = paced["latency_ms"]
        trk = paced["stages"].get("tracker")
        trk_ms = f"{trk['median_us'] / 1000:>14.2f}" if trk else f"{'-':>14}"
        print(
            f"{name:<18}{cells}{fast['fps']:>8.1f}{trk_ms}"
            f"{lat['median']:>10.2f} /{lat['p95']:>6.2f}"
            f"{100 * paced['cpu_share']:>8.1f}{r['startup_s']:>9.2f}"
        )
    print("fps: unpaced throughput; paced trk, latency (capture -> packets sent) and cpu: played")
    print("at the source's own rate with low-power on; start: command launch -> first datagram.")


def _plot(rows: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    for name, r in rows.items():
        lat = r["paced"]["latencies_ms"]
        ax.plot(range(len(lat)), lat, label=name, lw=1)
    ax.set_xlabel("frame")
    ax.set_ylabel("capture -> sent (ms)")
    ax.set_title("Per-frame latency, played at the source's own rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
