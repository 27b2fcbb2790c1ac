"""Motion-adaptive rate: skip the tracker on a frame where the face has not moved.

Before each frame the face's crop is looked at as a 64x64 grey thumbnail (a few tens
of microseconds). If no 8x8 block of it differs from the thumbnail of the last tracked
frame by `threshold` grey levels on average, the face is taken to be still and the last
tracked result is repeated for this frame instead of running the models. At most
`max_skip` frames in a row are skipped, and the thumbnail is compared with the last
*tracked* frame, so slow drift still adds up to a tracked frame. Any change in the
crop (a blink starting, the mouth opening, the head turning) makes the next frame a
tracked one. Only for the LiteRT tracker, whose crop is known before it runs.
The default threshold (3 grey levels) keeps every blink peak of the shared clips; at 4
a half-closed blink's peak is skipped (benchmarks/tracker.py reports the error).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..closing import ClosesOnce
from ..frame import Frame
from .litert import LiteRtTracker
from .roi import Roi, crop

__all__ = ["AdaptiveRate"]

_THUMB = 64
_BLOCK = 8


class AdaptiveRate(ClosesOnce):
    """Wraps a LiteRtTracker stage; `skipped` counts the frames answered without it."""

    def __init__(
        self, tracker: LiteRtTracker, *, threshold: float = 3.0, max_skip: int = 1
    ) -> None:
        self.tracker = tracker
        self.threshold = threshold
        self.max_skip = max_skip
        self.skipped = 0
        self._last: Frame | None = None
        self._thumb: np.ndarray | None = None
        self._run = 0

    @staticmethod
    def thumbnail(image: np.ndarray, roi: Roi) -> np.ndarray:
        return crop(image, roi, _THUMB).mean(axis=2, dtype=np.float32)

    @staticmethod
    def change(a: np.ndarray, b: np.ndarray) -> float:
        """The largest mean grey-level change over the thumbnail's 8x8 blocks.

        Blocks, not the whole: a blink changes only the eyes' blocks, which a mean over
        the whole face would dilute below the camera's noise.
        """
        d = np.abs(a - b).reshape(_THUMB // _BLOCK, _BLOCK, _THUMB // _BLOCK, _BLOCK)
        return float(d.mean(axis=(1, 3)).max())

    def __call__(self, frame: Frame) -> Frame:
        roi = self.tracker.roi
        last = self._last
        if (
            last is not None
            and roi is not None
            and self._thumb is not None
            and frame.image is not None
            and self._run < self.max_skip
            and self.change(self.thumbnail(frame.image, roi), self._thumb) < self.threshold
        ):
            self._run += 1
            self.skipped += 1
            return dataclasses.replace(
                last,
                timestamp=frame.timestamp,
                index=frame.index,
                capture_time=frame.capture_time,
                image=frame.image,
            )
        out = self.tracker(frame)
        self._run = 0
        roi = self.tracker.roi
        if out.face_present and roi is not None and frame.image is not None:
            self._last, self._thumb = out, self.thumbnail(frame.image, roi)
        else:
            self._last, self._thumb = None, None
        return out

    def _close(self) -> None:
        self.tracker.close()
