"""The virtual camera through pyvirtualcam's own Camera, with only the device faked.

The fake device is a backend registered with ``pyvirtualcam.register_backend`` (the
library's extension point); everything above it (Camera, frame checks, our thread) is real.
"""

from __future__ import annotations

import glob
import platform
import threading
import time
from typing import Any, ClassVar

import numpy as np
import pytest
import pyvirtualcam

from avatar_driver.frame import Frame
from avatar_driver.outputs import OutputOptions, create_output
from avatar_driver.outputs.virtualcam import (
    VirtualCamOptions,
    VirtualCamOutput,
    no_device_message,
    parse_size,
)
from avatar_driver.render.avatar import render_avatar
from avatar_driver.runner import RunOptions, open_pipeline
from avatar_driver.shapes import INDEX
from tests.conftest import run_cli


class CaptureBackend:
    """A pyvirtualcam backend that keeps what it is given."""

    instances: ClassVar[list[CaptureBackend]] = []
    delay = 0.0
    fail = False

    def __init__(
        self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw: Any
    ) -> None:
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.dev = device or "capture0"
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []
        self.closed = 0
        CaptureBackend.instances.append(self)

    def send(self, frame: np.ndarray) -> None:
        if self.fail:
            raise OSError("device unplugged")
        time.sleep(self.delay)
        self.frames.append(frame.copy())
        self.times.append(time.perf_counter())

    def close(self) -> None:
        self.closed += 1

    def device(self) -> str:
        return self.dev

    def native_fourcc(self) -> int | None:
        return None


class SlowBackend(CaptureBackend):
    delay = 0.2


class BrokenBackend(CaptureBackend):
    fail = True


@pytest.fixture(autouse=True)
def backends() -> None:
    CaptureBackend.instances.clear()
    pyvirtualcam.register_backend("capture", CaptureBackend)
    pyvirtualcam.register_backend("slow", SlowBackend)
    pyvirtualcam.register_backend("broken", BrokenBackend)


def _frame(t: float, **weights: float) -> Frame:
    f = Frame(timestamp=t, face_present=True)
    for k, v in weights.items():
        f.weights[INDEX[k]] = v
    return f


def test_frames_reach_the_device_at_size_and_rate() -> None:
    settings = VirtualCamOptions.model_validate(
        {"backend": "capture", "size": "320x240", "fps": 20}
    )
    opts = OutputOptions(settings=settings)
    out = create_output("virtualcam", opts)
    cam = CaptureBackend.instances[-1]
    assert (cam.width, cam.height, cam.fps) == (320, 240, 20.0)
    assert cam.fourcc == pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.RGB.value)
    render_avatar(_frame(0.0), 320, 240)  # the renderer's first call is slow: not timed
    last = _frame(1.0, jawOpen=1.0)
    for k in range(50):  # 100 frames a second offered for half a second
        out.send(_frame(k * 0.01))
        time.sleep(0.01)
    out.send(last)
    out.close()
    assert cam.closed == 1
    assert cam.frames and all(f.shape == (320 * 240 * 3,) for f in cam.frames)
    assert out.stats.frames_sent == len(cam.frames) and out.stats.errors == 0
    # Latest wins and the final frame is delivered before the device closes.
    assert np.array_equal(cam.frames[-1].reshape(240, 320, 3), render_avatar(last, 320, 240))
    # Delivered at the camera's 20 fps, not the 100 offered, over the run (single gaps and
    # one render's time jitter with the load of the machine, so they are not asserted).
    rate = (len(cam.times) - 1) / (cam.times[-1] - cam.times[0])
    assert rate <= 20 * 1.25
    assert len(cam.frames) <= 0.5 * 20 * 1.25 + 2


def test_a_burst_is_coalesced_not_queued() -> None:
    out = VirtualCamOutput(width=160, height=120, fps=10, backend="capture")
    cam = CaptureBackend.instances[-1]
    for k in range(200):
        out.send(_frame(k / 200))
    time.sleep(0.25)
    out.close()
    assert 1 <= len(cam.frames) <= 5


def test_a_slow_device_never_blocks_send() -> None:
    out = VirtualCamOutput(width=160, height=120, fps=30, backend="slow")
    worst = 0.0
    for k in range(30):
        t0 = time.perf_counter()
        out.send(_frame(k / 30))
        worst = max(worst, time.perf_counter() - t0)
        time.sleep(0.01)
    out.close()
    assert worst < 0.1  # the device takes 0.2 s per frame: a blocking send would show it


def test_device_errors_are_counted() -> None:
    out = VirtualCamOutput(width=160, height=120, fps=30, backend="broken")
    out.send(_frame(0.0))
    time.sleep(0.2)
    out.close()
    assert out.stats.errors >= 1 and out.stats.frames_sent == 0
    assert "device unplugged" in out.stats.last_error


def test_debug_view_in_a_real_pipeline() -> None:
    opts = RunOptions(
        source="demo",
        outputs=["virtualcam"],
        fast=False,
        max_frames=6,
        output_settings={
            "virtualcam": VirtualCamOptions.model_validate(
                {"backend": "capture", "view": "debug", "size": "320x240"}
            )
        },
    )
    with open_pipeline(opts) as pipeline:
        pipeline.run()
        out = pipeline.outputs[0]
    cam = CaptureBackend.instances[-1]
    assert out.stats.frames_sent == len(cam.frames) >= 3
    assert all(f.shape == (320 * 240 * 3,) for f in cam.frames)
    assert threading.active_count() < 50


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--vcam-size", "640by480", "expected WxH, got '640by480'"),
        ("--vcam-size", "641x480", "expected even numbers from 16 to 4096, got 641x480"),
        ("--vcam-view", "cartoon", "invalid choice: 'cartoon'"),  # argparse's choices
        ("--vcam-backend", "nope", "expected a backend of this machine ("),
        ("--vcam-fps", "0", "expected frames a second above 0 and at most 240, got '0'"),
        ("--vcam-fps", "fast", "got 'fast'"),
    ],
)
def test_bad_settings_exit_2_naming_the_flag(flag: str, value: str, message: str) -> None:
    """Checked before the source or any device opens: --source names a missing file."""
    proc = run_cli(
        ["run", "--source", "missing.mp4", "--output", "virtualcam", flag, value, "--quiet"]
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("avatar-driver") and f"error: {flag}" in proc.stderr.replace(
        "argument ", ""
    )
    assert message in proc.stderr and "missing.mp4" not in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1


def test_parse_size() -> None:
    assert parse_size("1280X720") == (1280, 720)
    assert parse_size((320, 240)) == (320, 240)


def test_no_device_message_per_os() -> None:
    assert "v4l2loopback" in no_device_message("Linux")
    for system in ("Windows", "Darwin"):
        assert "OBS" in no_device_message(system)
    for system in ("Linux", "Windows", "Darwin"):
        assert ". " not in no_device_message(system)  # one sentence


@pytest.mark.skipif(
    platform.system() != "Linux" or bool(glob.glob("/dev/video*")),
    reason="needs a Linux machine without a video device",
)
def test_without_a_device_the_command_says_how_and_exits_2() -> None:
    r = run_cli(
        ["run", "--source", "demo", "--fast", "--max-frames", "2", "--output", "virtualcam"]
    )
    assert r.returncode == 2
    assert "v4l2loopback" in r.stderr and "modprobe" in r.stderr
    assert r.stderr.count("\n") == 1  # one line, no traceback
