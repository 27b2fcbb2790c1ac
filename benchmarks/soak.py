"""Soak: the demo source for 200,000 frames, unpaced, to vrchat, vmc and csv on loopback.

Checks what an evening beside a VR app needs: resident memory after warm-up grows by at
most 5 MB, every frame reaches every output (receivers in their own processes count the
datagrams, the VMC Apply messages and the CSV rows), and nothing raises.

    python benchmarks/soak.py [--frames 200000] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from avatar_driver.codecs.csv_take import parse_take
from avatar_driver.runner import RunOptions, open_pipeline

RECEIVER = r"""
import json, socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
datagrams = applies = 0
sock.settimeout(30.0)
try:
    while True:
        data = sock.recv(65536)
        sock.settimeout(3.0)
        datagrams += 1
        applies += data.count(b"/VMC/Ext/Blend/Apply\x00")
except (socket.timeout, TimeoutError):
    pass
print(json.dumps({"datagrams": datagrams, "applies": applies}), flush=True)
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def soak(frames: int, warmup: int) -> dict[str, Any]:
    receivers = {
        kind: subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
        for kind in ("vrchat", "vmc")
    }
    ports = {kind: int(p.stdout.readline()) for kind, p in receivers.items()}  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as tmp:
        take = Path(tmp) / "soak.csv"
        opts = RunOptions(
            source="demo",
            outputs=[
                f"vrchat:127.0.0.1:{ports['vrchat']}",
                f"vmc:127.0.0.1:{ports['vmc']}",
                f"csv:{take}",
            ],
            fast=True,
            max_frames=frames,
        )
        samples: list[tuple[int, float]] = []
        error = ""
        with open_pipeline(opts) as pipeline:
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(0.25):
                    samples.append((pipeline.times.count, rss_mb()))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            t0 = time.perf_counter()
            try:
                result = pipeline.run()
            except Exception as e:  # the soak reports it rather than dying
                error = f"{type(e).__name__}: {e}"
                raise
            finally:
                stop.set()
                sampler.join()
            elapsed = time.perf_counter() - t0
            end_rss = rss_mb()  # before reading the take back, which costs memory of its own
            stats = {o.kind: vars(o.stats).copy() for o in pipeline.outputs}
        rows = len(parse_take(take.read_text().splitlines()))
    counts = {kind: json.loads(p.communicate(timeout=60)[0]) for kind, p in receivers.items()}
    warm = [rss for n, rss in samples if n >= warmup]
    warm_rss = warm[0] if warm else float("nan")
    return {
        "frames": result.frames,
        "elapsed_s": elapsed,
        "fps": result.frames / elapsed,
        "rss_after_warmup_mb": warm_rss,
        "rss_end_mb": end_rss,
        "rss_growth_mb": end_rss - warm_rss,
        "rss_max_mb": max(r for _, r in samples) if samples else float("nan"),
        "vrchat": {"sent": stats["vrchat"]["datagrams"], "received": counts["vrchat"]["datagrams"],
                   "errors": stats["vrchat"]["errors"]},
        "vmc": {"frames": stats["vmc"]["frames_sent"], "applies_received": counts["vmc"]["applies"],
                "datagrams_sent": stats["vmc"]["datagrams"],
                "datagrams_received": counts["vmc"]["datagrams"], "errors": stats["vmc"]["errors"]},
        "csv": {"frames": stats["csv"]["frames_sent"], "rows": rows,
                "errors": stats["csv"]["errors"]},
        "error": error,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--warmup", type=int, default=None, help="frames before RSS baseline")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = soak(args.frames, args.warmup if args.warmup is not None else args.frames // 10)
    ok = (
        report["rss_growth_mb"] <= 5.0
        and report["vrchat"]["received"] == report["vrchat"]["sent"]
        and report["vmc"]["applies_received"] == report["frames"] + 1  # + the neutral frame
        and report["csv"]["rows"] == report["frames"]
        and not report["error"]
    )
    report["ok"] = ok
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return report


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
