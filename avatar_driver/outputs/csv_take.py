"""Record the take as a Live Link Face CSV (weights and pose only, never pixels).

Each row's timecode is the frame's own time at the take's rate: a camera or video run
starts at 00:00:00:00, a replayed take continues its own timecode. Two rows never share a
frame (HH:MM:SS:FF): a frame that would land on the previous one takes the next.

A take that cannot be written is not a take: a failing write raises `OutputError` (one
line, exit 2) instead of being counted, and the file is line-buffered so every row before
the failure is on disk.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from ..codecs.csv_take import (
    N_VALUES,
    format_frame_row,
    format_header,
    frame_time,
    pose_to_take,
)
from ..errors import OutputError
from ..frame import Frame
from ..shapes import N_SHAPES
from .base import OutputBase, OutputOptions, register_output

__all__ = ["CsvOutput"]


@register_output("csv", "Live Link Face CSV take: csv:FILE")
class CsvOutput(OutputBase):
    kind = "csv"

    def __init__(self, *, path: str | Path, fps: float = 30.0) -> None:
        super().__init__(target=str(path))
        self.path = Path(path)
        self.fps = max(1, round(fps))
        if self.path.is_dir():
            raise OutputError(f"csv: {self.path} is a folder; expected a file name")
        if not self.path.parent.is_dir():
            raise OutputError(f"csv: folder {self.path.parent} does not exist")
        try:
            self._file = self.path.open("w", encoding="utf-8", newline="\n", buffering=1)
        except OSError as e:
            raise OutputError(f"csv: cannot write {self.path} ({e.strerror})") from e
        self._row = np.zeros(N_VALUES, dtype=np.float64)
        self._last: int | None = None
        self.rows = 0
        self._write(format_header())

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> CsvOutput:
        if not target:
            raise OutputError("csv needs a file name: --output csv:FILE.csv")
        return cls(path=Path(target).expanduser(), fps=options.fps)

    def _write(self, line: str) -> None:
        try:
            self._file.write(line + "\n")
        except OSError as e:
            self.stats.failed(e)
            with contextlib.suppress(OSError):
                self._file.close()  # the failed row stays out; the rows before stay in
            raise OutputError(
                f"csv: cannot write {self.path} ({e.strerror or e}); "
                f"the {self.rows} rows written before are kept"
            ) from e

    def send(self, frame: Frame) -> None:
        number, sub = frame_time(frame.timestamp, self.fps)
        if self._last is not None and number <= self._last:
            number, sub = self._last + 1, 0.0
        row = self._row
        row[:N_SHAPES] = frame.weights
        row[N_SHAPES:] = pose_to_take(frame.pose)
        self._write(format_frame_row(number, self.fps, row, sub))
        self._last = number
        self.rows += 1
        self.stats.frames_sent += 1

    def finish(self, frame: Frame) -> None:
        """A take records what was performed: no synthetic neutral row at the end."""

    def _close(self) -> None:
        try:
            self._file.close()
        except OSError as e:
            self.stats.failed(e)
