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
