"""Capture and decoding on their own thread, handing frames to the pipeline.

Two hand-off policies, both holding at most one frame (never a growing backlog):
- latest-wins (live cameras, and files played at their own rate): a new frame replaces an
  unread one, so a slow tracker always works on the newest picture; `dropped` counts the
  replaced frames;
- lossless (files with --fast): the reader waits until the pipeline took the frame, so
  decoding the next frame overlaps tracking this one and no frame is lost.
A source error raised on the reader thread is re-raised in the pipeline's thread. With a
`heartbeat`, a source that goes quiet (a camera unplugged) yields None now and then, so
the pipeline keeps its outputs alive meanwhile. With `wants_image` (the tracker's capture
policy), the source converts only the pixels of frames that will be tracked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

from .frame import Frame
from .sources.base import SourceBase, WantsImage

__all__ = ["FrameFeed", "WantsImage"]


class FrameFeed:
    """Iterate `frames` on a daemon thread; iterate the feed to receive them."""

    def __init__(
        self,
        frames: Iterable[Frame],
        *,
        latest_wins: bool,
        pace: Callable[[Frame], None] | None = None,
        heartbeat: float | None = None,
        wants_image: WantsImage | None = None,
    ) -> None:
        self._source = frames
        self._frames = (
            frames.frames(wants_image=wants_image) if isinstance(frames, SourceBase) else frames
        )
        self.heartbeat = heartbeat
        self.latest_wins = latest_wins
        self._pace = pace
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._done = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="avatar-driver-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for frame in self._frames:
                if self._stop.is_set():
                    break
                if self._pace is not None:
                    self._pace(frame)
                    frame.capture_time = time.perf_counter()  # "captured" when its time came
                with self._cond:
                    if not self.latest_wins:
                        while self._slot is not None and not self._stop.is_set():
                            self._cond.wait(0.1)
                    elif self._slot is not None:
                        self.dropped += 1
                    self._slot = frame
                    self._cond.notify_all()
                # Let the pipeline take the GIL now: decoding the next frame holds it for
                # about a millisecond, which would otherwise be added to this frame's latency.
                time.sleep(0)
                if self._stop.is_set():
                    break
        except BaseException as e:  # handed to the consumer, raised there
            self._error = e
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def __iter__(self) -> Iterator[Frame | None]:
        """Frames as they come; None when `heartbeat` seconds pass without one (a live
        source gone quiet), so the pipeline can keep easing the avatar meanwhile."""
        while True:
            waited_since = time.perf_counter()
            with self._cond:
                while self._slot is None and not self._done:
                    self._cond.wait(0.05)
                    if self.heartbeat and time.perf_counter() - waited_since >= self.heartbeat:
                        break
                frame, self._slot = self._slot, None
                self._cond.notify_all()
                done = self._done
            if frame is None and not done:
                yield None
                continue
            if frame is not None:
                if not self.latest_wins:
                    # Lossless hand-off: time spent waiting for the tracker is not capture
                    # latency a camera would have; count from when the pipeline takes it.
                    frame.capture_time = time.perf_counter()
                yield frame
                continue
            if self._error is not None:
                raise self._error
            return

    def stop(self, timeout: float = 1.0) -> bool:
        """Ask the reader to stop and wait for it; False if it is stuck (e.g. in a driver)."""
        self._stop.set()
        request_stop = getattr(self._source, "request_stop", None)
        if request_stop is not None:
            request_stop()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()
