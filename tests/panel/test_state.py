"""The monitor is on the pipeline only while a page looks or a command is pending, so a
closed page costs the run nothing (no tap, no report built)."""

from __future__ import annotations

import threading
import time

from avatar_driver.panel import Panel, RunContext
from avatar_driver.pipeline import Pipeline
from avatar_driver.runner import RunOptions, open_pipeline

from .conftest import wait_for


def test_the_tap_is_on_the_pipeline_only_while_needed() -> None:
    opts = RunOptions(source="demo", outputs=["none"])
    with open_pipeline(opts) as pipeline:
        pipeline.max_frames = 30 * 30  # stopped below long before
        panel = Panel.start(pipeline, RunContext(source="demo"), "127.0.0.1:0")
        monitor = panel.monitor
        run = threading.Thread(target=pipeline.run, daemon=True)
        run.start()
        try:
            time.sleep(0.5)
            assert monitor.frames == 0  # no page: the tap was never called
            monitor.connect()
            assert wait_for(lambda: monitor.frames > 5, 5)
            assert monitor.event is not None  # a page looks: the frames are kept
            monitor.disconnect()
            time.sleep(0.2)
            seen = monitor.frames
            time.sleep(0.5)
            assert monitor.frames == seen  # the page closed: off the pipeline again
            ran: list[int] = []

            def command(p: Pipeline) -> None:
                ran.append(len(p.lanes))

            monitor.submit(command)  # a command from the page: applied after one frame
            assert wait_for(lambda: ran == [1], 5)
            time.sleep(0.5)
            assert monitor.frames == seen + 1
        finally:
            pipeline.max_frames = 1  # ends the run at the next frame
            panel.close()
        run.join(40)


def test_the_stream_event_is_the_snapshot_as_json() -> None:
    """The hand-composed event text parses to what `snapshot` holds (values rounded as
    the page shows them)."""
    import json

    import pytest

    opts = RunOptions(source="demo", outputs=["none"])
    with open_pipeline(opts) as pipeline:
        pipeline.max_frames = 40
        panel = Panel.start(pipeline, RunContext(source="demo"), "127.0.0.1:0")
        monitor = panel.monitor
        monitor.connect()
        pipeline.run()
        panel.close()
    since = monitor.seq - 3
    text, end = monitor.event_json(since, slow=monitor.slow_part())
    event = json.loads(text)
    snap, end2 = monitor.snapshot(since, full=True)
    snap = json.loads(json.dumps(snap))
    assert end == end2 == monitor.seq and event.keys() == snap.keys()
    for key in ("fps", "cpu"):  # sampled at another moment
        event.pop(key), snap.pop(key)
    assert event.pop("confidence") == pytest.approx(snap.pop("confidence"), abs=1e-3)
    assert event == snap


def _events_for(url: str, seconds: float) -> list[tuple[float, dict[str, object]]]:
    """(arrival time, event) of the live stream read by a plain HTTP client."""
    import http.client
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=5)
    conn.request("GET", f"/events?{parts.query}")
    response = conn.getresponse()
    out: list[tuple[float, dict[str, object]]] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        line = response.readline()
        if line.startswith(b"data: "):
            out.append((time.perf_counter(), json.loads(line[6:])))
    conn.close()
    return out


def test_events_follow_the_frames() -> None:
    """Each event is sent right after a frame (so the page works while the pipeline waits
    for the camera): a 10 fps source gets ~10 events a second, each with a new frame's
    row, not the stream's 21 with every other one empty; a stalled source still gets
    its events, `STALLED_S` late."""
    opts = RunOptions(source="demo", outputs=["none"], max_fps=10)
    with open_pipeline(opts) as pipeline:
        pipeline.max_frames = 10 * 30
        panel = Panel.start(pipeline, RunContext(source="demo"), "127.0.0.1:0")
        run = threading.Thread(target=pipeline.run, daemon=True)
        run.start()
        try:
            events = _events_for(panel.url, 2.0)[1:]  # the first is sent on connecting
            rate = len(events) / (events[-1][0] - events[0][0]) * (len(events) - 1) / len(events)
            assert 7 <= rate <= 12, rate
            assert all("rows" in e for _, e in events)  # a new frame in every one
            monitor = panel.monitor
            due = time.perf_counter()
            assert monitor.frame_after(due, timeout=1.0)  # the next frame, within 0.1 s
            assert time.perf_counter() - due < 0.5
        finally:
            pipeline.max_frames = 1
            run.join(40)
        t0 = time.perf_counter()  # the run ended: no frame comes any more
        assert not panel.monitor.frame_after(t0, timeout=0.2)  # STALLED_S in the stream
        assert 0.15 <= time.perf_counter() - t0 < 1.0
        panel.close()
