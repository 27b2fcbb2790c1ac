"""The one-line live status on a terminal: rate, latency, face, per-output counters.

The line is rewritten in place with a carriage return, so it must never wrap: when the
per-output counters do not fit the terminal they are summed, and whatever still does not
fit is cut with an ellipsis.
"""

from __future__ import annotations

import os
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
        self,
        *,
        enabled: bool,
        stream: TextIO | None = None,
        interval: float = 0.5,
        columns: int | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.columns = columns  # None: the terminal's width, asked each time (it may change)
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
        head = f"{fps:5.1f} fps  {latency_ms:5.1f} ms  face {'yes' if face else 'no '}"
        if face and not upper_face:
            head += "  headset"
        if face and regions is not None:
            covered = [n for n, c in zip(REGION_NAMES, regions, strict=False) if c < 0.5]
            if not upper_face:  # the headset covers eyes and brows: only the mouth is news
                covered = [n for n in covered if n == "mouth"]
            if covered:
                head += "  covered: " + ",".join(covered)
        text = self._fit(head, outputs, note)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def _terminal_columns(self) -> int:
        if self.columns is not None:
            return self.columns
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return int(os.environ.get("COLUMNS", "") or 80)

    def _fit(self, head: str, outputs: Sequence[OutputBase], note: str) -> str:
        """The line, at most one column narrower than the terminal."""
        limit = max(20, self._terminal_columns() - 1)
        tail = f"  [{note}]" if note else ""
        each = "  ".join(
            f"{o.kind} {o.stats.frames_sent}"
            + (f" ({o.stats.errors} err)" if o.stats.errors else "")
            for o in outputs
        )
        text = f"{head}  {each}{tail}"
        if len(text) > limit and len(outputs) > 1:
            failing = [o.kind for o in outputs if o.stats.errors]
            sent = sum(o.stats.frames_sent for o in outputs)
            summary = f"{len(outputs)} outputs {sent} sent"
            if failing:
                summary += f" ({', '.join(failing)} err)"
            text = f"{head}  {summary}{tail}"
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def done(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
