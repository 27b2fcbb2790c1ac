"""Rough edges a new user hit, each with the behaviour they should have met instead."""

from __future__ import annotations

import csv
import io
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.outputs.base import OutputBase
from avatar_driver.pipeline import Pipeline
from avatar_driver.runner import RunOptions, open_pipeline
from avatar_driver.shapes import ARKIT_NAMES, N_SHAPES
from avatar_driver.sources import DemoSource
from avatar_driver.sources.demo import SWEEP_STEPS
from avatar_driver.status import StatusLine
from tests.conftest import ROOT, cli_env, model_path, run_cli
from tests.test_pipeline import Recorder


def test_bench_with_a_bad_source_prints_one_line_and_no_traceback() -> None:
    proc = run_cli(["bench", "--source", "missing-clip.mp4"])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "missing-clip.mp4" in proc.stderr


def test_debug_shows_the_traceback_and_keeps_exit_2() -> None:
    env = {**cli_env(), "AVATAR_DRIVER_DEBUG": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "avatar_driver", "run", "--source", "missing-clip.mp4"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "SourceError" in proc.stderr
    assert proc.stderr.rstrip().endswith("is not a file that exists, nor camera or demo")


class _Named(OutputBase):
    def __init__(self, kind: str, sent: int, errors: int = 0) -> None:
        super().__init__()
        self.kind = kind
        self.stats.frames_sent, self.stats.errors = sent, errors

    def send(self, frame) -> None:  # type: ignore[no-untyped-def]
        pass


def test_the_status_line_fits_80_columns_with_several_outputs() -> None:
    outs = [_Named(k, 123456) for k in ("vrchat", "vmc", "livelink", "ifacialmocap", "blender")]
    outs[1].stats.errors = 7
    stream = io.StringIO()
    line = StatusLine(enabled=True, stream=stream, interval=0.0, columns=80)
    line.update(100, 12.3, True, outs)
    line.update(200, 12.3, True, outs, note="camera 0 lost, retrying in 0.5 s")
    written = stream.getvalue().split("\r")[1:]
    assert written and all(len(w) <= 79 for w in written), [len(w) for w in written]
    assert "5 outputs 617280 sent (vmc err)" in written[0]
    # Few outputs still show each one's counter.
    stream = io.StringIO()
    StatusLine(enabled=True, stream=stream, interval=0.0, columns=80).update(1, 1.0, True, outs[:2])
    assert "vrchat 123456  vmc 123456 (7 err)" in stream.getvalue()


def test_demo_sweep_runs_one_pass_and_names_the_current_step() -> None:
    demo = DemoSource("sweep")
    states: list[str] = []
    frames = []
    for frame in demo:
        frames.append(frame)
        states.append(demo.state)
    assert len(frames) == SWEEP_STEPS * 30  # one pass, then the source ends
    assert states[0] == f"1/{SWEEP_STEPS} {ARKIT_NAMES[0]}"
    assert states[30 * 17 + 5] == f"18/{SWEEP_STEPS} {ARKIT_NAMES[17]}"
    assert states[-1] == f"{SWEEP_STEPS}/{SWEEP_STEPS} head yaw back"
    assert all(s.split(" ", 1)[1] in ARKIT_NAMES for s in states[: 30 * N_SHAPES])


def _still(media: Path, tmp_path: Path, frame: int) -> Path:
    import cv2

    cap = cv2.VideoCapture(str(media / "single_face.mp4"))
    for _ in range(frame + 1):
        _, bgr = cap.read()
    cap.release()
    still = tmp_path / f"frame{frame}.png"
    cv2.imwrite(str(still), bgr)
    return still


def _smiles(take: Path) -> list[float]:
    rows = list(csv.reader(take.open()))
    col = rows[0].index("MouthSmileLeft")
    return [float(r[col]) for r in rows[1:]]


def test_a_still_image_holds_its_expression_until_stopped(
    model: Path, media: Path, tmp_path: Path
) -> None:
    still = _still(media, tmp_path, 60)  # smiling (t = 2.0 s)
    take = tmp_path / "take.csv"
    opts = RunOptions(source=str(still), outputs=[f"csv:{take}"], model=str(model),
                      hold_still=True, max_frames=15, dynamics="none")  # fmt: skip
    with open_pipeline(opts) as pipe:
        assert pipe.source.fps == 10.0
        result = pipe.run()
    assert result.frames == 15 and result.faces == 15  # held, not one frame then neutral
    smile = _smiles(take)
    assert len(smile) == 15  # every held frame (a take records no neutral row)
    assert min(smile) > 0.3 and np.ptp(smile) < 0.02, smile


def test_without_final_neutral_the_outputs_keep_the_last_expression() -> None:
    out = Recorder()
    pipe = Pipeline(source=DemoSource(), stages=[], outputs=[out], max_frames=5, fast=True,
                    final_neutral=False)  # fmt: skip
    pipe.run()
    assert out.finished is None and out.closes == 1 and len(out.frames) == 5


@pytest.mark.parametrize("final", ["--final-neutral", "--no-final-neutral"])
def test_no_final_neutral_on_the_command_line(final: str) -> None:
    """Into the Blender stream (python-osc's server as the add-on's stand-in receiver)."""
    from tests.outputs.test_vmc import osc_server

    with osc_server() as (port, got):
        proc = run_cli(["run", "--source", "demo", "--quiet", "--max-frames", "20",
                        "--output", f"blender:127.0.0.1:{port}", final])  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    values = [args for addr, args in got if addr == "/VMC/Ext/Blend/Val"]
    last = dict(values[-52:])
    assert len(last) == 52
    if final == "--final-neutral":
        assert max(last.values()) == 0.0
    else:
        assert max(last.values()) > 0.05  # the demo's last expression stays on the avatar


def test_a_folder_given_as_model_says_it_is_a_folder(media: Path, tmp_path: Path) -> None:
    proc = run_cli(
        ["run", "--source", str(media / "single_face.mp4"), "--model", str(tmp_path),
         "--output", "none", "--quiet"]
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"model file {tmp_path} (from --model) is a folder" in proc.stderr


def test_tests_find_a_model_cached_by_model_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = model_path()
    if real is None:
        pytest.skip("no model")
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(real, cache / "face_landmarker.task")  # where `model fetch` puts it
    monkeypatch.delenv("AVATAR_DRIVER_MODEL", raising=False)
    monkeypatch.setenv("AVATAR_DRIVER_CACHE", str(cache))
    assert model_path() == cache / "face_landmarker.task"


def test_a_held_image_stops_on_ctrl_c(model: Path, media: Path, tmp_path: Path) -> None:
    still = _still(media, tmp_path, 0)
    take = tmp_path / "take.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "avatar_driver", "run", "--source", str(still), "--quiet",
         "--output", f"csv:{take}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env=cli_env(model),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if take.exists() and len(take.read_text().splitlines()) > 10:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert len(take.read_text().splitlines()) > 10  # held: many rows, not one
