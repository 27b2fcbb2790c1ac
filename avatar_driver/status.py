"""The one-line live status on a terminal: rate, latency, face, per-output counters."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

import numpy as np

from .frame import REGION_NAMES
from .outputs.base import OutputBase

__all__ = ["StatusLine"]


class StatusLine:
    """Rewrites one terminal line at most `interval` seconds apart; silent when disabled."""

    def __init__(
        self, *, enabled: bool, stream: TextIO | None = None, interval: float = 0.5
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interval = interval
        self._last = 0.0
        self._frames_at_last = 0
        self._width = 0

    def update(
        self,
        frames: int,
        latency_ms: float,
        face: bool,
        outputs: Sequence[OutputBase],
        *,
        note: str = "",
        regions: np.ndarray | None = None,
        upper_face: bool = True,
    ) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < self.interval:
            return
        if frames or not note:
            fps = (frames - self._frames_at_last) / (now - self._last) if self._last else 0.0
            self._last, self._frames_at_last = now, frames
        else:  # no frames (the source went quiet): keep the counters, show the note
            fps = 0.0
            self._last = now
        outs = "  ".join(
            f"{o.kind} {o.stats.frames_sent}"
            + (f" ({o.stats.errors} err)" if o.stats.errors else "")
            for o in outputs
        )
        text = f"{fps:5.1f} fps  {latency_ms:5.1f} ms  face {'yes' if face else 'no '}  {outs}"
        if face and not upper_face:
            text += "  headset"
        if face and regions is not None:
            covered = [n for n, c in zip(REGION_NAMES, regions, strict=False) if c < 0.5]
            if not upper_face:  # the headset covers eyes and brows: only the mouth is news
                covered = [n for n in covered if n == "mouth"]
            if covered:
                text += "  covered: " + ",".join(covered)
        if note:
            text += f"  [{note}]"
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
