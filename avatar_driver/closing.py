"""Close-once plumbing shared by sources, outputs and the tracker.

Each holds an OS resource (a capture device, a socket, a MediaPipe graph) that must be
released exactly once, however many times and from wherever `close()` is called, and
every one is a context manager.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["ClosesOnce"]


class ClosesOnce:
    """`close()` runs `_close()` the first time only; `with obj:` closes on exit."""

    _closed = False

    def _close(self) -> None:
        """Release resources; called once by `close`."""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
