"""Recenter and recalibrate: the head pose taken as straight ahead from the next face frame
on (real clip), and both reachable on a running command through POSIX signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.solver import TrackingSolver
from benchmarks.tracked_clips import TrackedClip
from tests.conftest import ROOT, cli_env


def test_recenter_zeroes_the_head_pose_from_the_next_face_frame(
    single_face: TrackedClip,
) -> None:
    frames = single_face.frames
    plain = [TrackingSolver(None)(f) for f in frames]
    solver = TrackingSolver(None)
    out = [solver(f) for f in frames[:30]]
    solver.recenter()
    out += [solver(f) for f in frames[30:]]
    head = np.stack([f.pose[:3] for f in out])
    head0 = np.stack([f.pose[:3] for f in plain])
    np.testing.assert_allclose(head[:30], head0[:30])
    assert np.abs(head[30]).max() == 0.0
    np.testing.assert_allclose(head[31:], head0[31:] - head0[30], atol=1e-5)
    assert np.abs(head0[30]).max() > 0.1  # the clip's head pose is not already zero
    np.testing.assert_allclose(out[30].translation, 0.0, atol=1e-6)


def test_head_gain_scales_the_recentred_head_pose(single_face: TrackedClip) -> None:
    """`head` in the gain table scales yaw, pitch and roll about straight ahead; the shapes
    and the eyes are left alone (a config's [solver.gain] or the panel's head slider)."""
    frames = single_face.frames
    plain = [TrackingSolver(None)(f) for f in frames]
    solver = TrackingSolver(None, gain={"head": 0.5})
    out = [solver(f) for f in frames]
    np.testing.assert_allclose([f.pose[:3] for f in out], [0.5 * f.pose[:3] for f in plain],
                               atol=1e-5)  # fmt: skip
    np.testing.assert_allclose([f.pose[3:] for f in out], [f.pose[3:] for f in plain])
    np.testing.assert_allclose([f.weights for f in out], [f.weights for f in plain])
    assert max(float(np.abs(f.pose[:3]).max()) for f in plain) > 1.0  # the head moves
    with pytest.raises(ValueError, match=r"expected one of eyes, .*head"):
        TrackingSolver(None, gain={"neck": 1.0})


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")
def test_signals_recenter_and_recalibrate_a_running_command(
    model: Path, media: Path, tmp_path: Path
) -> None:
    out = tmp_path / "take.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "avatar_driver", "run", "--source", str(media / "face_noface.mov"),
         "--output", f"csv:{out}", "--auto-calibrate", "--quiet"],
        cwd=ROOT, env=cli_env(model), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # the handlers are installed before the first frame: wait for the take to start (the
    # clip then plays at its own rate for 6.4 s)
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None
    # without the handlers both signals' default action would end the process
    proc.send_signal(signal.SIGUSR1)
    proc.send_signal(signal.SIGUSR2)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(out.read_text().splitlines()) > 30  # paced: a busy machine drops frames
