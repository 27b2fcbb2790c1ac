"""The solver seam: a stage from tracked frame to corrected frame."""

from __future__ import annotations

from typing import Protocol

from ..frame import Frame

__all__ = ["PassThroughSolver", "Solver"]


class Solver(Protocol):
    def __call__(self, frame: Frame) -> Frame: ...


class PassThroughSolver:
    """No corrections: the tracker's weights as they are."""

    def __call__(self, frame: Frame) -> Frame:
        return frame
