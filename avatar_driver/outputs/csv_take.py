"""Record the take as a Live Link Face CSV (weights and pose only, never pixels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..codecs.csv_take import POSE_SCALE, format_header, format_row
from ..errors import OutputError
from ..frame import Frame
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
            self._file = self.path.open("w", encoding="utf-8", newline="\n")
        except OSError as e:
            raise OutputError(f"csv: cannot write {self.path} ({e.strerror})") from e
        self._file.write(format_header() + "\n")
        self._row = np.zeros(61, dtype=np.float64)
        self._t0: float | None = None

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> CsvOutput:
        if not target:
            raise OutputError("csv needs a file name: --output csv:FILE.csv")
        return cls(path=Path(target).expanduser(), fps=options.fps)

    def send(self, frame: Frame) -> None:
        if self._t0 is None:
            self._t0 = frame.timestamp
        row = self._row
        row[:52] = frame.weights
        np.multiply(frame.pose, POSE_SCALE, out=row[52:])
        try:
            self._file.write(format_row(frame.timestamp - self._t0, self.fps, row) + "\n")
        except OSError as e:
            self.stats.failed(e)
            return
        self.stats.frames_sent += 1

    def finish(self, frame: Frame) -> None:
        """A take records what was performed: no synthetic neutral row at the end."""

    def _close(self) -> None:
        try:
            self._file.close()
        except OSError as e:
            self.stats.failed(e)
