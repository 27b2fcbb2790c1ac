"""The page's calibration runs `calibrate.py`'s guided sequence on tracked frames of a clip."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from avatar_driver.frame import Frame
from avatar_driver.panel.calibrating import CalibrationRun
from avatar_driver.solver.calibration import Profile, load_profile
from avatar_driver.sources import open_source
from avatar_driver.tracking.landmarker import FaceTracker


@pytest.fixture(scope="module")
def tracked(model: Path, media: Path) -> list[Frame]:
    source = open_source(str(media / "single_face.mp4"))
    try:
        with FaceTracker(model, mode="video") as tracker:
            return [tracker(f) for f in source]
    finally:
        source.close()


def _feed(run: CalibrationRun, frames: list[Frame], seconds: float) -> None:
    """The clip over and over with advancing timestamps, as the pipeline tap would."""
    dt = 1.0 / 30.0
    n = 0
    while n * dt < seconds and run.state == "running":
        frame = frames[n % len(frames)]
        run.feed(dataclasses.replace(frame, timestamp=n * dt))
        n += 1
        if n % 64 == 0:
            time.sleep(0.02)  # the worker keeps up; a full backlog would drop frames


def test_guided_sequence_steps_through_all_seven_and_writes_a_profile(
    tracked: list[Frame], tmp_path: Path
) -> None:
    got: list[Profile] = []
    run = CalibrationRun(mode="guided", path=tmp_path / "p.toml", source="clip",
                         on_profile=got.append)  # fmt: skip
    _feed(run, tracked, 45.0)
    run.join(10)
    assert run.state == "done", run.out.lines
    steps = [line for line in run.out.lines if line.startswith("[")]
    assert [s.split("]")[0] for s in steps] == [f"[{k}/7" for k in range(1, 8)]
    assert any("hold it" in line for line in run.out.lines)
    assert got and got[0] == load_profile(tmp_path / "p.toml")
    assert got[0].frames > 30


def test_cancel_stops_the_sequence_without_a_profile(tracked: list[Frame], tmp_path: Path) -> None:
    run = CalibrationRun(mode="guided", path=tmp_path / "p.toml", source="clip",
                         on_profile=lambda p: None)  # fmt: skip
    _feed(run, tracked, 2.0)
    run.cancel()
    run.feed(tracked[0])
    run.join(10)
    assert run.state == "cancelled" and not (tmp_path / "p.toml").exists()


def test_no_face_while_relaxed_fails_with_the_reason(tmp_path: Path) -> None:
    run = CalibrationRun(mode="relaxed", path=tmp_path / "p.toml", source="demo",
                         on_profile=lambda p: None)  # fmt: skip
    for k in range(40):
        run.feed(Frame(timestamp=k / 30.0))
    run.join(10)
    assert run.state == "failed" and "no face found" in run.message
