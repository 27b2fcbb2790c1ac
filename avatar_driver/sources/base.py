"""What every source is: an iterator of frames with a nominal rate, closed exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..closing import ClosesOnce
from ..frame import Frame

__all__ = ["SourceBase", "WantsImage"]

#: A capture policy: asked with a frame's timestamp before its pixels are converted;
#: False means nobody will look at them (low-power idling), so the frame comes without an
#: image.
WantsImage = Callable[[float], bool]


class SourceBase(ClosesOnce):
    """What every source is (contract in docs/stages.md); subclasses set the attributes
    and `__iter__` (close-once comes from `ClosesOnce`).

    needs_tracker: frames carry pixels that the tracker must turn into weights (camera,
        video, image) rather than weights already (demo, replay).
    live: frames arrive in real time (camera): never paced, never "fast".
    still: a single image (the tracker then uses IMAGE mode).
    fps: nominal frame rate, used to pace files and to stamp takes.
    """

    needs_tracker = True
    live = False
    still = False
    fps = 30.0
    description = "source"
    state = ""  # shown in the status line when not empty ("camera lost, retrying")
    _stop_requested = False

    def request_stop(self) -> None:
        """Ask a blocking `__iter__` (a camera waiting to come back) to end soon."""
        self._stop_requested = True

    def frames(self, *, wants_image: WantsImage | None = None) -> Iterator[Frame]:
        """The frames, converting pixels only where `wants_image(t)` says so (None: all).
        Sources without pixels to convert ignore the policy."""
        return iter(self)

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError
