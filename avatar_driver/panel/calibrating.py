"""Calibration from the page: `calibrate.py`'s own sequences, fed by the running pipeline.

The tracked frames (the solver's input, as `avatar-driver calibrate` sees them) are handed
over by the pipeline tap; the sequence runs on a worker thread and its prompts, which
`calibrate_guided` writes to a stream, become the page's step-by-step instructions.
"""

from __future__ import annotations

import dataclasses
import io
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO, cast

from ..calibrate import DEFAULT_NEUTRAL_SECONDS, GUIDED_STEPS, calibrate_clip, calibrate_guided
from ..errors import AvatarDriverError
from ..frame import Frame
from ..solver.calibration import Profile, load_profile, save_profile

__all__ = ["CalibrationRun"]

#: Frames buffered for the worker; a slower worker drops the oldest (calibration
#: statistics do not need every frame, and the pipeline must never wait).
_BACKLOG = 256
_WAIT_S = 5.0


class Cancelled(Exception):
    pass


class _Lines(io.TextIOBase):
    """A text stream that keeps whole lines, for the page to show."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._part = ""

    def write(self, s: str) -> int:
        text = self._part + s
        *done, self._part = text.split("\n")
        self.lines.extend(d for d in done if d)
        return len(s)


class CalibrationRun:
    """One calibration: ``guided`` (the seven steps) or ``relaxed`` (the clip mode: the
    next `seconds` show a relaxed face). On success the profile is written to `path`,
    read back with `load_profile` (as ``run --calibration`` reads it) and passed to
    `on_profile`."""

    def __init__(
        self,
        *,
        mode: str,
        path: str | Path,
        source: str,
        on_profile: Callable[[Profile], None],
        seconds: float = DEFAULT_NEUTRAL_SECONDS,
    ) -> None:
        if mode not in ("guided", "relaxed"):
            raise ValueError(f"calibration mode: expected guided or relaxed, got {mode!r}")
        self.mode, self.path, self.source, self.seconds = mode, Path(path), source, seconds
        self._on_profile = on_profile
        self._frames: queue.Queue[Frame] = queue.Queue(maxsize=_BACKLOG)
        self._stop = threading.Event()
        self.out = _Lines()
        self.state = "running"  # then "done", "failed" or "cancelled"
        self.message = ""
        self._thread = threading.Thread(target=self._run, name="panel-calibration", daemon=True)
        self._thread.start()

    @property
    def steps(self) -> list[str]:
        return [prompt for _, prompt in GUIDED_STEPS] if self.mode == "guided" else []

    def feed(self, frame: Frame) -> None:
        """From the pipeline thread: never blocks."""
        try:
            self._frames.put_nowait(frame)
        except queue.Full:
            try:
                self._frames.get_nowait()
                self._frames.put_nowait(frame)
            except (queue.Empty, queue.Full):
                pass

    def cancel(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _iter(self) -> Iterator[Frame]:
        t0: float | None = None
        while True:
            if self._stop.is_set():
                raise Cancelled
            try:
                frame = self._frames.get(timeout=_WAIT_S)
            except queue.Empty:
                raise AvatarDriverError(
                    f"no frames for {_WAIT_S:g} s: the source ended or stalled"
                ) from None
            if self.mode == "relaxed":  # calibrate_clip counts seconds from 0
                t0 = frame.timestamp if t0 is None else t0
                frame = dataclasses.replace(frame, timestamp=frame.timestamp - t0)
            yield frame

    def _run(self) -> None:
        try:
            if self.mode == "guided":
                profile = calibrate_guided(self._iter(), self.source, cast(TextIO, self.out))
            else:
                print(f"Relax your face: the next {self.seconds:g} s are recorded", file=self.out)
                profile = calibrate_clip(self._iter(), self.seconds, self.source)
            saved = save_profile(profile, self.path)
            profile = load_profile(saved)  # exactly what `run --calibration` will read
            self._on_profile(profile)
            self.message = f"profile written to {saved} ({profile.frames} relaxed frames)"
            self.state = "done"
        except Cancelled:
            self.state, self.message = "cancelled", "calibration cancelled"
        except AvatarDriverError as e:
            self.state, self.message = "failed", str(e)
        except Exception as e:  # shown on the page; the run goes on
            self.state, self.message = "failed", f"{type(e).__name__}: {e}"
        print(self.message, file=self.out)

    def status(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "state": self.state,
            "lines": self.out.lines[-12:],
            "message": self.message,
            "path": str(self.path),
        }
