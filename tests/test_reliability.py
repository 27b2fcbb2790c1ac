"""Faults a long evening in VR brings: truncated clips, signals, dead targets, lost faces,
a camera that goes away and comes back."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from avatar_driver.codecs.csv_take import parse_take
from avatar_driver.dynamics import make_dynamics
from avatar_driver.frame import Frame
from avatar_driver.outputs.base import OutputBase
from avatar_driver.pipeline import Pipeline
from avatar_driver.sources.base import SourceBase
from avatar_driver.sources.video import CameraSource, VideoSource
from avatar_driver.tracking.landmarker import FaceTracker
from tests.conftest import ROOT, cli_env, free_udp_port, run_cli


class OscLog:
    """A python-osc server on loopback that keeps every (address, value) it hears."""

    def __init__(self) -> None:
        self.port = free_udp_port()
        self.values: list[tuple[str, Any]] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda addr, *args: self.values.append((addr, args)))
        self.server = BlockingOSCUDPServer(("127.0.0.1", self.port), dispatcher)
        self.server.timeout = 0.05

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.server.handle_request()

    def last(self) -> dict[str, Any]:
        return {addr: args[0] for addr, args in self.values}

    def close(self) -> None:
        self.server.server_close()


@pytest.fixture
def osc() -> Iterator[OscLog]:
    log = OscLog()
    yield log
    log.close()


def _cut_avi(media: Path, tmp_path: Path) -> Path:
    """The shared clip re-encoded as MJPG AVI (readable up to a cut), then cut in half."""
    cap = cv2.VideoCapture(str(media / "single_face.mp4"))
    full = tmp_path / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 360))
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        writer.write(bgr)
    writer.release()
    cap.release()
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_truncated_clip_stops_with_a_message_after_neutral(
    model: Path, media: Path, tmp_path: Path, osc: OscLog
) -> None:
    cut = _cut_avi(media, tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "avatar_driver", "run", "--source", str(cut), "--fast",
         "--output", f"vrchat:127.0.0.1:{osc.port}", "--mapping", "vrchat-arkit", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(model),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        osc.drain(0.1)
    osc.drain(0.3)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 2, err
    assert "truncated or corrupt" in err and "cut.avi" in err and "Traceback" not in err
    smiles = [v for a, (v, *_) in osc.values if a.lower().endswith("/mouthsmileleft")]
    assert smiles and max(smiles) > 0.3  # the half that exists was tracked
    last = osc.last()
    assert len(last) >= 52 and not any(last.values())  # and the very last frame is neutral


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stop_signal_sends_neutral_and_exits_0_within_a_second(
    osc: OscLog, signum: signal.Signals
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "avatar_driver", "run", "--source", "demo",
         "--output", f"vrchat:127.0.0.1:{osc.port}", "--mapping", "vrchat-arkit", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(),
    )  # fmt: skip
    try:
        osc.drain(3.0)
        assert osc.values, "the demo sent nothing"
        proc.send_signal(signum)
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < 5:
            osc.drain(0.05)
        took = time.monotonic() - t0
        osc.drain(0.3)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, err
    assert took < 1.0, took
    assert "Traceback" not in err
    last = osc.last()
    assert len(last) == 52  # every perfect-sync parameter...
    assert not any(last.values()), {k: v for k, v in last.items() if v}  # ...ends neutral


def test_a_dead_target_does_not_stall_the_others(tmp_path: Path) -> None:
    dead = free_udp_port()  # nothing listens here
    take = tmp_path / "take.csv"
    proc = run_cli(
        ["run", "--source", "demo", "--max-frames", "300", "--fast", "--quiet",
         "--output", f"vrchat:127.0.0.1:{dead}", "--output", f"csv:{take}"],
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(parse_take(take.read_text().splitlines())) == 300


def test_unresolvable_host_is_bad_input() -> None:
    proc = run_cli(["run", "--source", "demo", "--output", "vrchat:no-such-host.invalid:9000"])
    assert proc.returncode == 2
    assert "cannot resolve host" in proc.stderr and "Traceback" not in proc.stderr


class Recorder(OutputBase):
    kind = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    def send(self, frame: Frame) -> None:
        self.frames.append(frame)


class Alternating(SourceBase):
    """Real clip frames, face and no face in turns of `run` frames, at 30 fps."""

    def __init__(self, media: Path, run: int = 30, turns: int = 8) -> None:
        with VideoSource(media / "single_face.mp4") as a, VideoSource(media / "no_face.mp4") as b:
            self._face = [f.image for f in a]
            self._none = [f.image for f in b]
        self.run, self.turns = run, turns

    def __iter__(self) -> Iterator[Frame]:
        i = 0
        for turn in range(self.turns):
            images = self._face if turn % 2 == 0 else self._none
            for k in range(self.run):
                yield Frame(timestamp=i / 30, index=i, image=images[(40 + k) % len(images)])
                i += 1


def test_face_lost_and_found_many_times_eases_without_jumps(model: Path, media: Path) -> None:
    out = Recorder()
    with FaceTracker(model) as tracker:
        pipe = Pipeline(
            source=Alternating(media),
            shared=[("tracker", tracker)],
            stages=[("dynamics", make_dynamics("cortical"))],
            outputs=[out],
            fast=True,
        )
        pipe.run()
    w = np.array([f.weights for f in out.frames])
    ts = np.array([f.timestamp for f in out.frames])
    present = np.array([f.face_present for f in out.frames])
    assert present.sum() >= 100 and (~present).sum() >= 100
    # No stale expression: within one second of losing the face, the avatar is neutral.
    lost_at = ts[1:][present[:-1] & ~present[1:]]
    assert len(lost_at) >= 3
    for t in lost_at:
        later = (ts >= t + 1.0) & (ts < t + 1.0 + 1e-6 + 1 / 30) & ~present
        if later.any():
            assert w[later].max() <= 0.02
    # No jumps: frame-to-frame change stays well below a snap (the smile is ~0.9).
    assert np.abs(np.diff(w, axis=0)).max() < 0.5


class FlakyCapture:
    """A camera device that goes away for a while: a real clip read through OpenCV, whose
    reads fail between `fail_from` and `fail_until` wall seconds after opening."""

    opened = 0

    def __init__(self, path: Path, fail_from: float, fail_until: float, start: float) -> None:
        self._cap = cv2.VideoCapture(str(path))
        self._fail = (start + fail_from, start + fail_until)
        FlakyCapture.opened += 1

    def isOpened(self) -> bool:  # OpenCV spelling
        return bool(self._cap.isOpened()) and not self._down()

    def _down(self) -> bool:
        return self._fail[0] <= time.monotonic() < self._fail[1]

    def grab(self) -> bool:
        if self._down():
            return False
        time.sleep(1 / 30)
        if not self._cap.grab():  # loop the clip like a live camera
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            return bool(self._cap.grab())
        return True

    def retrieve(self) -> tuple[bool, Any]:
        return self._cap.retrieve()

    def get(self, prop: int) -> float:
        return 30.0

    def set(self, prop: int, value: float) -> bool:
        return True

    def release(self) -> None:
        self._cap.release()


def test_camera_unplugged_eases_to_neutral_and_resumes(model: Path, media: Path) -> None:
    start = time.monotonic()
    source = CameraSource(
        0, opener=lambda i: FlakyCapture(media / "single_face.mp4", 1.5, 3.0, start)
    )
    out = Recorder()
    states: list[str] = []

    class Watch(Recorder):
        def send(self, frame: Frame) -> None:
            states.append(source.state)
            if time.monotonic() - start > 6.0:
                raise KeyboardInterrupt  # the user presses Ctrl+C

        def finish(self, frame: Frame) -> None:
            pass

    with FaceTracker(model) as tracker:
        pipe = Pipeline(
            source=source,
            shared=[("tracker", tracker)],
            stages=[("dynamics", make_dynamics("cortical"))],
            outputs=[out, Watch()],
        )
        result = pipe.run()
    source.close()
    assert result.interrupted
    assert source.reconnects == 1
    assert any("lost" in s for s in states)
    frames = out.frames[:-1]  # the last one is the neutral frame sent on stop
    assert not out.frames[-1].face_present
    present = np.array([f.face_present for f in frames])
    ts = np.array([f.timestamp for f in frames])
    w = np.array([f.weights for f in frames])
    gap = ~present
    assert gap.any() and present[-10:].all()  # lost, then found again
    # While the camera was away, frames kept coming and the face eased to neutral.
    away = ts[gap]
    assert away.max() - away.min() > 0.8
    assert w[gap][-1].max() <= 0.05


@pytest.mark.parametrize(
    ("flag", "name", "needle"),
    [
        ("--mapping", "huge.toml", "the limit is"),
        ("--config", "huge-config.toml", "the limit is"),
        ("--calibration", "huge-profile.toml", "the limit is"),
    ],
)
def test_oversized_files_are_refused_by_name(
    tmp_path: Path, flag: str, name: str, needle: str
) -> None:
    """Files the tool reads are size-limited: a 2 MB file is refused, naming the file."""
    big = tmp_path / name
    big.write_text("# padding\n" * 210_000)
    proc = run_cli(["run", "--source", "demo", "--max-frames", "1", "--quiet", flag, str(big)])
    assert proc.returncode == 2, proc.stderr
    assert name in proc.stderr and needle in proc.stderr and "Traceback" not in proc.stderr


def test_oversized_take_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from avatar_driver.errors import SourceError
    from avatar_driver.sources import replay

    take = tmp_path / "take.csv"
    take.write_text("Timecode,BlendShapeCount\n" + "x" * 5000)
    monkeypatch.setattr(replay, "MAX_TAKE_BYTES", 4096)
    with pytest.raises(SourceError, match=r"take\.csv is larger than"):
        replay.ReplaySource(take)


def test_mapping_broken_while_running_keeps_the_last_good_one(tmp_path: Path, osc: OscLog) -> None:
    """The real command with a mapping file rewritten under it: bad, then good again."""
    mapping = tmp_path / "live.toml"
    head = "[mapping]\nrefresh_seconds = 0.2\n"  # something is sent at least 5 times a second
    mapping.write_text(head + '[[param]]\nname = "Jaw"\nsource = "jawOpen"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "avatar_driver", "run", "--source", "demo", "--quiet",
         "--output", f"vrchat:127.0.0.1:{osc.port}", "--mapping", str(mapping),
         "--vrchat-listen", "off"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(),
    )  # fmt: skip
    try:
        started = time.monotonic()
        while not osc.values and time.monotonic() - started < 30:  # a loaded machine starts slowly
            osc.drain(0.1)
        osc.drain(1.0)
        mapping.write_text(head + '[[param]]\nname = "Jaw"\nsource = "jawOpne"\n')  # a typo
        osc.drain(2.5)
        during_bad = len(osc.values)
        osc.drain(1.0)
        still_sending = len(osc.values) > during_bad
        mapping.write_text(head + '[[param]]\nname = "Smile"\nsource = "mouthSmileLeft"\n')
        osc.drain(2.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    addresses = [a for a, _ in osc.values]
    first_smile = addresses.index("/avatar/parameters/Smile")
    assert "/avatar/parameters/Jaw" in addresses[:first_smile]  # the old one kept going
    assert still_sending
    assert "/avatar/parameters/Jaw" not in addresses[first_smile:]
    assert err.count("keeping the last good one") == 1  # reported once, not every frame
    assert "jawOpne" in err and "live.toml" in err and "did you mean" in err.lower()
    assert "mapping reloaded" in err
