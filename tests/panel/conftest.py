"""Panel fixtures: a real run with its panel (a subprocess), a real headless Chromium.

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright without `playwright
install`; without either the browser tests skip with the reason (fail under
AVATAR_DRIVER_REQUIRE_ALL=1).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT, _missing, cli_env

CHROMIUM = os.environ.get("AVATAR_DRIVER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
_URL = re.compile(r"panel at (http://\S+)")


class PanelRun:
    """`avatar-driver run ... --panel` in a subprocess; `url` is what it printed."""

    def __init__(self, args: Sequence[str], model: Path | None = None, cwd: Path = ROOT) -> None:
        cmd = [sys.executable, "-m", "avatar_driver", "run", "--quiet", "--panel", "127.0.0.1:0"]
        self.proc = subprocess.Popen(
            [*cmd, *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=cli_env(model), cwd=cwd,
        )  # fmt: skip
        self.lines: list[str] = []
        found = threading.Event()
        self.url = ""

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line)
                m = _URL.search(line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60):
            self.stop()
            raise AssertionError("the run printed no panel address:\n" + "".join(self.lines))
        self.base, self.token = self.url.split("/?token=")
        self.hostport = self.base.removeprefix("http://")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright not installed (pip install playwright; no `playwright install`)")
    if not Path(CHROMIUM).is_file():
        _missing(f"{CHROMIUM} not found (Debian: apt-get install chromium)")
    import tempfile

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 1000},
        )  # fmt: skip
        yield context
        context.close()


def _clip_frames(media: Path) -> tuple[list[Any], float]:
    import cv2

    src = cv2.VideoCapture(str(media / "single_face.mp4"))
    frames = []
    while True:
        ok, img = src.read()
        if not ok:
            break
        frames.append(img)
    fps = src.get(cv2.CAP_PROP_FPS) or 30.0
    src.release()
    return frames, fps


def _write_looped(frames: list[Any], fps: float, out: Path) -> Path:
    """The frames forward then backward, 25 times (~60 s; the loop has no jump cut)."""
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for k in range(25):
        for img in frames if k % 2 == 0 else frames[::-1]:
            writer.write(img)
    writer.release()
    return out


@pytest.fixture(scope="session")
def long_clip(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """single_face.mp4 looped to ~60 s (a page needs a run longer than 2.4 s)."""
    frames, fps = _clip_frames(media)
    return _write_looped(frames, fps, tmp_path_factory.mktemp("clip") / "single_face_looped.mp4")


@pytest.fixture(scope="session")
def tilted_clip(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The looped clip turned 15 degrees in the picture: the head is rolled throughout."""
    import cv2

    frames, fps = _clip_frames(media)
    h, w = frames[0].shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 15.0, 1.0)
    tilted = [cv2.warpAffine(f, turn, (w, h), borderMode=cv2.BORDER_REPLICATE) for f in frames]
    return _write_looped(tilted, fps, tmp_path_factory.mktemp("clip") / "tilted_looped.mp4")


@pytest.fixture(scope="session")
def hand_clip(media: Path, model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The looped clip with a hand over the mouth throughout (`degrade`'s "hand", placed on
    each frame's tracked landmarks)."""
    import cv2

    from avatar_driver import degrade
    from avatar_driver.frame import Frame
    from avatar_driver.tracking.landmarker import FaceTracker

    frames, fps = _clip_frames(media)
    covered = []
    with FaceTracker(model, mode="image") as tracker:
        for k, bgr in enumerate(frames):
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            lm = tracker(Frame(timestamp=k / fps, index=k, image=rgb)).landmarks
            hand = degrade.apply("hand", rgb, lm, seed=k) if lm is not None else rgb
            covered.append(cv2.cvtColor(hand, cv2.COLOR_RGB2BGR))
    return _write_looped(covered, fps, tmp_path_factory.mktemp("clip") / "hand_looped.mp4")


def wait_for(pred: Any, timeout: float = 20.0, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return pred()
