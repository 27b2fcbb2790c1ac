"""What the control panel costs a run: CPU and output latency with and without a page open.

    python benchmarks/panel.py [--seconds 15] [--rounds 2] [--clip PATH] [--model PATH] [--json]

Each configuration is its own process playing the source at its own rate to a VRChat
output on loopback: no panel, panel with no page, panel with a page open in headless
Chromium (Debian's, driven by Playwright). CPU is the run process's own (getrusage, so
Chromium's is not counted), in % of one core over the wall time; latency is capture to
the VRChat output's packets sent, per frame. Sources: the demo (no tracker: the smallest
base, so the panel's share shows most) and, with the model, the shared clip looped.
Rounds alternate the configurations, so slow spells of the shared machine spread over all.

Besides the difference of whole-process CPU (noisy: the clip's base is ~30 % of a core),
"panel threads" is the panel's own CPU counted directly: its server and stream threads
(/proc/self/task/*/schedstat) plus the tap's time on the pipeline thread (thread_time
around each call). "browser" is Chromium's CPU for the page (its processes under this
one), which the run does not pay but the machine does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODES = ("no panel", "panel, no page", "panel, plain client", "panel, page open")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def child(source: str, seconds: float, panel: bool) -> None:
    """One run in this process; prints the panel address, then one JSON line of results."""
    from avatar_driver.outputs.vrchat import VRChatOptions
    from avatar_driver.panel import Panel, RunContext
    from avatar_driver.panel.state import Monitor
    from avatar_driver.runner import RunOptions, open_pipeline

    tap_ns = [0]
    tap = Monitor.__call__

    def timed_tap(self: Monitor, event: Any) -> None:  # the tap's cost, on the pipeline thread
        t = time.thread_time_ns()
        tap(self, event)
        tap_ns[0] += time.thread_time_ns() - t

    Monitor.__call__ = timed_tap  # type: ignore[method-assign]

    opts = RunOptions(source=source, outputs=["vrchat:127.0.0.1:9"],
                      output_settings={"vrchat": VRChatOptions(listen="off")})  # fmt: skip
    with open_pipeline(opts) as pipeline:
        pipeline.keep_latencies = True
        pipeline.max_frames = int(seconds * pipeline.source.fps)
        p = Panel.start(pipeline, RunContext(source=source), "127.0.0.1:0") if panel else None
        if p is not None:
            print(f"panel at {p.url}", flush=True)
        input()  # the parent says go (after opening the page)
        main = threading.get_native_id()
        r0, t0, p0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter(), _threads()
        tap_ns[0] = 0
        result = pipeline.run()
        r1, t1, p1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter(), _threads()
        panel_ns = tap_ns[0] + sum(ns - p0.get(tid, 0) for tid, ns in p1.items() if tid != main
                                   and tid in _panel_threads())  # fmt: skip
        if p is not None:
            p.close()
    assert result.output_latency is not None
    lat = result.output_latency.samples(result.output_latency.names[0])
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({
        "cpu_pct": 100.0 * cpu / (t1 - t0), "frames": result.frames,
        "panel_threads_pct": 100.0 * panel_ns / 1e9 / (t1 - t0),
        "latency_median_ms": float(np.median(lat)), "latency_p95_ms": float(np.percentile(lat, 95)),
    }), flush=True)  # fmt: skip


def _threads() -> dict[int, int]:
    """CPU nanoseconds of each of this process's threads (the scheduler's own count)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[int(tid)] = int(f.read().split()[0])
        except OSError:
            pass  # the thread ended
    return out


def _panel_threads() -> set[int]:
    """The panel's threads: its server and the request threads it starts (streams)."""
    names = ("panel-server", "process_request_thread")
    return {t.native_id for t in threading.enumerate()
            if t.native_id is not None and any(n in t.name for n in names)}  # fmt: skip


def _browser_seconds() -> float:
    """CPU seconds of the Chromium processes started under this process."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, str, float]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        fields = rest.split()
        stats[int(pid)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    me, total = os.getpid(), 0.0
    for ppid, name, cpu in stats.values():
        if "chrom" not in name:
            continue
        while ppid not in (me, 0, 1) and ppid in stats:
            ppid = stats[ppid][0]
        total += cpu if ppid == me else 0.0
    return total


def one(source: str, seconds: float, mode: str, browser: Any, model: str | None) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if model:
        env["AVATAR_DRIVER_MODEL"] = model
    cmd = [sys.executable, __file__, "--child", source, "--seconds", str(seconds)]
    if mode != MODES[0]:
        cmd.append("--panel")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    page = None
    client: PlainClient | None = None
    if mode != MODES[0]:
        url = proc.stdout.readline().split("panel at ", 1)[1].strip()
        if mode == MODES[2]:
            client = PlainClient(url)
        if mode == MODES[3]:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#shapes .row")
    b0 = _browser_seconds()
    t0 = time.perf_counter()
    proc.stdin.write("\n")
    proc.stdin.flush()
    ups: float | None = None
    if page is not None:  # the page's own count of updates in the last second, mid-run
        time.sleep(seconds / 2)
        ups = int(page.get_attribute("body", "data-ups") or 0)
    line = proc.stdout.readline()
    browser_pct = 100.0 * (_browser_seconds() - b0) / (time.perf_counter() - t0)
    if client is not None:
        ups = client.close()
    proc.wait(30)
    if page is not None:
        page.close()
    out: dict[str, Any] = json.loads(line)
    out["page_updates_per_s"] = ups
    out["browser_pct"] = browser_pct if page is not None else None
    return out


class PlainClient:
    """What the page asks for (the stream, pictures included) without a browser's
    rendering, from this process: the run's CPU then shows the panel's own cost only."""

    def __init__(self, url: str) -> None:
        import http.client
        import threading
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.host, self.token = parts.netloc, parts.query.removeprefix("token=")
        self.events = 0
        self.stop = threading.Event()
        self._conn = http.client.HTTPConnection
        self._t0 = time.perf_counter()
        self.threads = [threading.Thread(target=self._stream, daemon=True)]
        for t in self.threads:
            t.start()

    def _stream(self) -> None:
        c = self._conn(self.host, timeout=10)
        c.request("GET", f"/events?token={self.token}")
        r = c.getresponse()
        while not self.stop.is_set():
            line = r.readline()
            if not line:
                break
            self.events += line.startswith(b"data: ")
        c.close()

    def close(self) -> float:
        rate = self.events / (time.perf_counter() - self._t0)
        self.stop.set()
        return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--panel", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=2)
    media = os.environ.get("AVATAR_DRIVER_MEDIA", str(ROOT.parent / "shared" / "media"))
    ap.add_argument("--clip", default=str(Path(media) / "single_face.mp4"))
    ap.add_argument("--model", default=os.environ.get("AVATAR_DRIVER_MODEL"))
    ap.add_argument("--sources", choices=("both", "demo", "clip"), default="both")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.seconds, args.panel)
        return
    from playwright.sync_api import sync_playwright

    sources = [] if args.sources == "clip" else ["demo"]
    tmp = tempfile.TemporaryDirectory()
    if args.sources != "demo" and args.model and Path(args.clip).is_file():
        sources.append(_looped(Path(args.clip), Path(tmp.name), args.seconds + 5))
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        for _ in range(args.rounds):
            for source in sources:
                for mode in MODES:
                    r = one(source, args.seconds, mode, browser, args.model)
                    results.setdefault(source, {}).setdefault(mode, []).append(r)
        browser.close()
    summary: dict[str, dict[str, dict[str, Any]]] = {
        ("demo" if s == "demo" else "clip"): {
            mode: {k: float(np.median([r[k] for r in rs])) if rs[0][k] is not None else None
                   for k in rs[0]}
            for mode, rs in by_mode.items()
        }
        for s, by_mode in results.items()
    }  # fmt: skip
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print("| source | configuration | frames | CPU % of a core | added | panel threads"
          " | latency median / p95 ms | page updates/s | browser |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")  # fmt: skip
    for source, by_mode in summary.items():
        base = by_mode[MODES[0]]["cpu_pct"]
        for mode, r in by_mode.items():
            ups = "" if r["page_updates_per_s"] is None else f"{r['page_updates_per_s']:.0f}"
            web = "" if r["browser_pct"] is None else f"{r['browser_pct']:.1f}"
            lat = f"{r['latency_median_ms']:.2f} / {r['latency_p95_ms']:.2f}"
            cpu = f"{r['cpu_pct']:.2f} | {r['cpu_pct'] - base:+.2f} | {r['panel_threads_pct']:.2f}"
            print(f"| {source} | {mode} | {r['frames']:.0f} | {cpu} | {lat} | {ups} | {web} |")
    for source, rounds in results.items():  # the page's rounds one by one: their spread
        name = "demo" if source == "demo" else "clip"
        bases = [r["cpu_pct"] for r in rounds[MODES[0]]]
        pages = rounds[MODES[3]]
        added = ", ".join(f"{r['cpu_pct'] - b:+.2f}" for r, b in zip(pages, bases, strict=True))
        own = ", ".join(f"{r['panel_threads_pct']:.2f}" for r in pages)
        print(f"\n{name}, page open, round by round: added {added}; panel threads {own}")


def _looped(clip: Path, folder: Path, seconds: float) -> str:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    frames = []
    while (ok := cap.read())[0]:
        frames.append(ok[1])
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out = folder / "looped.mp4"
    h, w = frames[0].shape[:2]
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]
    writer = cv2.VideoWriter(str(out), fourcc, fps, (w, h))
    k = 0
    while k * len(frames) < seconds * fps:
        for img in frames if k % 2 == 0 else frames[::-1]:
            writer.write(img)
        k += 1
    writer.release()
    return str(out)


if __name__ == "__main__":
    main()
