"""A virtual webcam (pyvirtualcam) showing the cartoon avatar or the debug view.

Rendering and sending run on a background thread that takes the latest frame (older ones
are dropped) and sends at most at the camera's frame rate, so a slow device or a slow
render never stalls the pipeline. A failed send is counted in `stats`, not raised.

Options (`VirtualCamOptions`: ``--vcam-*`` or ``[output.virtualcam]``): ``view`` ("avatar"
or "debug"), ``device``, ``size`` ("WxH" or a [w, h] pair), ``fps``, and ``backend`` (a
pyvirtualcam backend name: v4l2loopback, obs, unitycapture; tests register a capturing
one).
"""

from __future__ import annotations

import math
import platform
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import field_validator

from ..errors import OutputError
from ..frame import Frame
from .base import OutputBase, OutputOptions, OutputSettings, register_output, settings_for

__all__ = ["VIEWS", "VirtualCamOptions", "VirtualCamOutput", "no_device_message", "parse_size"]

VIEWS = ("avatar", "debug")
DEFAULT_SIZE = (640, 480)
DEFAULT_FPS = 30.0


def no_device_message(system: str | None = None) -> str:
    """One sentence saying how to get a virtual camera on this OS."""
    system = system or platform.system()
    if system == "Linux":
        return (
            "no virtual camera device found: install v4l2loopback and load it with "
            "'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=avatar-driver' "
            "(Debian/Ubuntu: 'sudo apt install v4l2loopback-dkms'), then try again"
        )
    return (
        "no virtual camera found: install OBS Studio (https://obsproject.com) and click "
        "'Start Virtual Camera' once, then try again"
    )


def parse_size(value: Any) -> tuple[int, int]:
    """``"640x480"`` or ``(640, 480)`` -> (width, height), both even and 16..4096;
    ValueError otherwise."""
    try:
        if isinstance(value, str):
            w_text, sep, h_text = value.lower().partition("x")
            if not sep:
                raise ValueError(value)
            w, h = int(w_text), int(h_text)
        elif isinstance(value, list | tuple) and not any(isinstance(v, bool) for v in value):
            w, h = (int(v) for v in value)
        else:
            raise ValueError(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected WxH, got {value!r}") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096) or w % 2 or h % 2:
        raise ValueError(f"expected even numbers from 16 to 4096, got {w}x{h}")
    return w, h


class VirtualCamOptions(OutputSettings):
    """`--vcam-*` / `[output.virtualcam]`: what the camera shows, which device, its size
    and rate, and the pyvirtualcam backend."""

    view: str = "avatar"
    device: str | None = None
    size: tuple[int, int] = DEFAULT_SIZE
    fps: float = DEFAULT_FPS
    backend: str | None = None

    @field_validator("view")
    @classmethod
    def _view(cls, v: str) -> str:
        if v not in VIEWS:
            raise ValueError(f"expected one of {', '.join(VIEWS)}, got {v!r}")
        return v

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v: Any) -> tuple[int, int]:
        return parse_size(v)

    @field_validator("fps", mode="before")
    @classmethod
    def _fps(cls, v: Any) -> float:
        try:
            fps = float(v) if not isinstance(v, bool) else math.nan
        except (TypeError, ValueError):
            fps = math.nan
        if not 0 < fps <= 240:
            raise ValueError(f"expected frames a second above 0 and at most 240, got {v!r}")
        return fps

    @field_validator("backend")
    @classmethod
    def _backend(cls, v: str | None) -> str | None:
        if v is None:
            return None
        import pyvirtualcam

        if v not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(sorted(pyvirtualcam.camera.BACKENDS)) or "none"
            raise ValueError(f"expected a backend of this machine ({known}), got {v!r}")
        return v


def _renderer(view: str) -> Callable[[Frame, int, int], np.ndarray]:
    if view == "avatar":
        from ..render.avatar import render_avatar

        return render_avatar
    if view == "debug":
        from ..render.debug import render_debug

        return render_debug
    raise OutputError(f"virtualcam: unknown view {view!r}; expected one of: {', '.join(VIEWS)}")


@register_output("virtualcam", "a virtual webcam showing the avatar (--vcam-view avatar|debug)")
class VirtualCamOutput(OutputBase):
    kind = "virtualcam"
    Options = VirtualCamOptions
    flag_prefix = "vcam"

    def __init__(
        self,
        *,
        width: int = DEFAULT_SIZE[0],
        height: int = DEFAULT_SIZE[1],
        fps: float = DEFAULT_FPS,
        view: str = "avatar",
        device: str | None = None,
        backend: str | None = None,
    ) -> None:
        if not fps > 0:
            raise OutputError(f"virtualcam: fps must be positive, got {fps}")
        self.view = view
        self.needs_image = view == "debug"
        self._render = _renderer(view)
        self.width, self.height, self.fps = width, height, float(fps)
        import pyvirtualcam

        if backend is not None and backend not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(sorted(pyvirtualcam.camera.BACKENDS)) or "none"
            raise OutputError(f"virtualcam: unknown backend {backend!r}; available: {known}")
        try:
            self._cam = pyvirtualcam.Camera(
                width, height, self.fps, fmt=pyvirtualcam.PixelFormat.RGB, device=device,
                backend=backend,
            )  # fmt: skip
        except RuntimeError as e:
            if device is None:
                raise OutputError(f"virtualcam: {no_device_message()}") from e
            detail = " ".join(str(e).split())
            raise OutputError(f"virtualcam: cannot open device {device!r} ({detail})") from e
        super().__init__(target=f"{self._cam.device} {width}x{height}@{self.fps:g} {view}")
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="virtualcam", daemon=True)
        self._thread.start()

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> VirtualCamOutput:
        settings = settings_for(options, VirtualCamOptions)
        width, height = settings.size
        return cls(
            width=width,
            height=height,
            fps=settings.fps,
            view=settings.view,
            device=settings.device or target or None,
            backend=settings.backend,
        )

    def send(self, frame: Frame) -> None:
        """Hand the frame to the camera thread (latest wins); never blocks on the device."""
        with self._cond:
            self._latest = frame
            self._cond.notify()

    def _loop(self) -> None:
        period = 1.0 / self.fps
        next_due = 0.0
        while True:
            with self._cond:
                while self._latest is None and not self._stop:
                    self._cond.wait()
                frame, self._latest = self._latest, None
                stopping = self._stop
            if frame is None:
                return
            wait = next_due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
                with self._cond:  # a newer frame may have come while we waited
                    if self._latest is not None:
                        frame, self._latest = self._latest, None
            started = time.perf_counter()
            try:
                self._cam.send(self._render(frame, self.width, self.height))
            except Exception as e:  # a device error must not kill the thread or the run
                self.stats.failed(e)
            else:
                self.stats.frames_sent += 1
            next_due = max(next_due, started) + period
            if stopping:
                return

    def _close(self) -> None:
        """Let the thread send the pending (final) frame, then release the device."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=2.0)
        try:
            self._cam.close()
        except Exception as e:
            self.stats.failed(e)
