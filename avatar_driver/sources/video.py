"""Video files, stills and cameras, read with OpenCV (installed with mediapipe)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SourceError
from ..frame import Frame
from .base import SourceBase, WantsImage

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "CameraSource", "ImageSource", "VideoSource"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
#: Containers FFmpeg (OpenCV's backend) reads; anything else is refused before opening.
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv",
                  ".flv", ".ts", ".mts", ".m2ts", ".3gp", ".ogv", ".y4m"}  # fmt: skip


def _cv2() -> Any:
    # OpenCV prints its own warnings for every backend it tries; our errors say it better.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    os.environ.setdefault("OPENCV_VIDEOIO_DEBUG", "0")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg quiet: AV_LOG_QUIET
    import cv2

    # One thread: decoding already runs beside the tracker on the capture thread, and
    # OpenCV's pool nearly doubles the CPU per frame for no gain in speed here.
    cv2.setNumThreads(1)

    return cv2


class VideoSource(SourceBase):
    """A video file; timestamps from the container (or frame index / fps)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist")
        cv2 = _cv2()
        self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            raise SourceError(
                f"{self.path} is not a video this machine can decode "
                "(expected a video file such as .mp4, .mov or .avi, a still image, or a .csv take)"
            )
        self._first: np.ndarray | None = first
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 1000.0 else 30.0
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.description = f"video {self.path.name} ({self.fps:.1f} fps)"

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, *, wants_image: WantsImage | None = None) -> Iterator[Frame]:
        cv2 = _cv2()
        index = 0
        while True:
            t = index / self.fps
            rgb: np.ndarray | None = None
            if self._first is not None:
                rgb, self._first = cv2.cvtColor(self._first, cv2.COLOR_BGR2RGB), None
            else:
                # grab() decodes; retrieve() (colour conversion) only for frames someone
                # will look at.
                if not self._cap.grab():
                    self._check_complete(index)
                    return
                if wants_image is None or wants_image(t):
                    ok, bgr = self._cap.retrieve()
                    if not ok or bgr is None:
                        self._check_complete(index)
                        return
                    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield Frame(timestamp=t, index=index, capture_time=time.perf_counter(), image=rgb)
            index += 1

    def _check_complete(self, frames_read: int) -> None:
        """A file that ends well before its header's frame count is truncated or corrupt.

        Containers often count a few frames more than decode (no_face.mp4: 95 of 98), so
        only a shortfall of over 10% counts.
        """
        expected = self.frame_count
        if expected > 0 and frames_read < 0.9 * expected - 2:
            raise SourceError(
                f"{self.path} stopped after {frames_read} of {expected} frames: the file is "
                "truncated or corrupt (the avatar was sent a neutral face)"
            )

    def _close(self) -> None:
        self._cap.release()


class ImageSource(SourceBase):
    """A still image, tracked in IMAGE mode: one frame, or with `hold` the same picture
    `HOLD_FPS` times a second until stopped, so the avatar keeps the image's expression
    (`avatar-driver run` holds unless --fast)."""

    still = True
    HOLD_FPS = 10.0  # a still needs no more; every frame is tracked again

    def __init__(self, path: str | Path, *, hold: bool = False) -> None:
        self.hold = hold
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"image file {self.path} does not exist")
        bgr = _cv2().imread(str(self.path))
        if bgr is None:
            raise SourceError(f"{self.path} is not an image this machine can decode")
        self._rgb = _cv2().cvtColor(bgr, _cv2().COLOR_BGR2RGB)
        self.description = f"image {self.path.name}"

    @property
    def hold(self) -> bool:
        return self._hold

    @hold.setter
    def hold(self, value: bool) -> None:
        self._hold = value
        self.fps = self.HOLD_FPS if value else SourceBase.fps

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while index == 0 or (self.hold and not self._stop_requested):
            t = index / self.fps
            yield Frame(timestamp=t, index=index, capture_time=time.perf_counter(), image=self._rgb)
            index += 1


class CameraSource(SourceBase):
    """A webcam by index; timestamps from the monotonic clock at capture.

    If the camera stops delivering (unplugged, taken by another app), the source reopens
    it with backoff (0.5 s doubling to 5 s) until it returns or the run is stopped; `state`
    says so meanwhile, and the pipeline eases the avatar to neutral.
    """

    live = True
    RETRY_FIRST_S = 0.5
    RETRY_MAX_S = 5.0
    LOST_AFTER_FAILED_READS = 10

    def __init__(
        self,
        index: int = 0,
        *,
        width: int | None = None,
        height: int | None = None,
        opener: Callable[[int], Any] | None = None,
    ) -> None:
        self.index = index
        self._open = opener or (lambda i: _cv2().VideoCapture(i))
        self._size = (width, height)
        self._cap = self._open(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(
                f"camera {index} could not be opened: check that a webcam is connected and "
                "not used by another app, or pick another with --source camera:N "
                "(or use --source demo / a video file)"
            )
        self._configure()
        cv2 = _cv2()
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0
        self.description = f"camera {index}"
        self.reconnects = 0

    def _configure(self) -> None:
        cv2 = _cv2()
        width, height = self._size
        if width:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    def _sleep(self, seconds: float) -> bool:
        """Sleep in short steps; False if a stop was requested meanwhile."""
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            if self._stop_requested:
                return False
            time.sleep(0.05)
        return not self._stop_requested

    def _reconnect(self) -> bool:
        """Reopen until the camera delivers again; False if stopped first."""
        self._cap.release()
        delay = self.RETRY_FIRST_S
        while not self._stop_requested:
            self.state = f"camera {self.index} lost, retrying in {delay:.1f} s"
            if not self._sleep(delay):
                return False
            cap = self._open(self.index)
            if cap.isOpened() and cap.grab():
                self._cap = cap
                self._configure()
                self.state = ""
                self.reconnects += 1
                return True
            cap.release()
            delay = min(delay * 2, self.RETRY_MAX_S)
        return False

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, *, wants_image: WantsImage | None = None) -> Iterator[Frame]:
        cv2 = _cv2()
        start = time.perf_counter()
        index = 0
        failures = 0
        while not self._stop_requested:
            ok = self._cap.grab()
            now = time.perf_counter()
            t = now - start
            image: np.ndarray | None = None
            if ok and (wants_image is None or wants_image(t)):
                ok, bgr = self._cap.retrieve()
                ok = ok and bgr is not None
                if ok:
                    image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            if not ok:
                failures += 1
                if failures >= self.LOST_AFTER_FAILED_READS:
                    failures = 0
                    if not self._reconnect():
                        return
                elif not self._sleep(0.02):
                    return
                continue
            failures = 0
            yield Frame(timestamp=t, index=index, capture_time=now, image=image)
            index += 1

    def _close(self) -> None:
        self._cap.release()
