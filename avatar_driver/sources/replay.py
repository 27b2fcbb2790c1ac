"""Replay of a recorded Live Link Face CSV take (ours or the iPhone app's): no tracker.

Frames are stamped with the take's own timecode (seconds from 00:00:00:00, unwrapped
across midnight), so Live Link frame numbers and a re-recorded take continue it; every
stage downstream only uses differences of timestamps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..codecs.csv_take import Take, parse_take, take_to_pose
from ..errors import SourceError
from ..frame import Frame
from ..shapes import N_SHAPES, UNAVAILABLE
from .base import SourceBase

__all__ = ["MAX_TAKE_BYTES", "ReplaySource"]

MAX_TAKE_BYTES = 512 << 20


class ReplaySource(SourceBase):
    """Frames from a take, stamped with the take's own timecodes."""

    needs_tracker = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"take {self.path} does not exist")
        if self.path.stat().st_size > MAX_TAKE_BYTES:
            raise SourceError(f"take {self.path} is larger than {MAX_TAKE_BYTES >> 20} MB")
        try:
            with self.path.open(encoding="utf-8", newline="") as f:
                self.take: Take = parse_take(f)
        except UnicodeDecodeError as e:
            raise SourceError(f"take {self.path} is not a text CSV file ({e.reason})") from e
        except ValueError as e:
            raise SourceError(f"take {self.path} is not a Live Link Face CSV: {e}") from e
        self.fps = float(self.take.fps)
        self.description = f"take {self.path.name} ({len(self.take)} frames, {self.take.fps:g} fps)"
        # tongueOut counts as measured only if the take carries it.
        self._unavailable = UNAVAILABLE & ~self.take.values[:, :N_SHAPES].any(axis=0)

    def __iter__(self) -> Iterator[Frame]:
        values = self.take.values
        poses = take_to_pose(values[:, N_SHAPES:]).astype(np.float32)
        start = self.take.start
        for i, t in enumerate(self.take.timestamps.tolist()):
            row = values[i]
            yield Frame(
                timestamp=start + t,
                weights=np.clip(row[:N_SHAPES], 0.0, 1.0),
                pose=poses[i],
                face_present=True,
                confidence=1.0,
                index=i,
                capture_time=time.perf_counter(),
                unavailable=self._unavailable,
            )
