"""Low-power mode: with no face in view, run the tracker only a few times a second.

Frames in between skip the tracker and go on as "no face" frames, so the face-lost ease
and the outputs keep their steady rate at almost no cost; the pipeline hands
`needs_image` to the capture thread as its policy, so their pixels are not even
converted. Timing uses source timestamps, so a replay of a file behaves exactly like the
live run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..frame import Frame
from .landmarker import no_face

__all__ = ["IdleGate"]


class IdleGate:
    """Wraps the tracker stage; idles after `after_s` without a face, probing `probe_hz`."""

    def __init__(
        self, tracker: Callable[[Frame], Frame], *, after_s: float = 1.0, probe_hz: float = 3.0
    ) -> None:
        self.tracker = tracker
        self.after_s = after_s
        self.probe_interval = 1.0 / probe_hz
        self._last_face: float | None = None
        self._last_probe = -np.inf
        self.skipped = 0

    @property
    def idle(self) -> bool:
        return self._last_face is None or self._last_probe - self._last_face > self.after_s

    def needs_image(self, t: float) -> bool:
        """Whether the frame at source time t will be tracked (its pixels are needed).

        Asked by the capture thread ahead of `__call__`; a wrong guess costs one frame: a
        frame that arrives without pixels is simply not probed.
        """
        return not self.idle or t - self._last_probe >= self.probe_interval

    def __call__(self, frame: Frame) -> Frame:
        t = frame.timestamp
        if frame.image is None or (self.idle and t - self._last_probe < self.probe_interval):
            self.skipped += 1
            return no_face(frame)
        self._last_probe = t
        out = self.tracker(frame)
        if out.face_present or self._last_face is None:
            self._last_face = t
        return out
