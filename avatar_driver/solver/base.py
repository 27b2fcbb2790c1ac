"""The solver seam: a stage from tracked frame to corrected frame."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..frame import Frame, neutral_weights

__all__ = ["PassThroughSolver", "Solver"]


class Solver(Protocol):
    """A pipeline stage that also says which face is the performer's rest face."""

    def __call__(self, frame: Frame) -> Frame: ...

    def neutral_weights(self) -> np.ndarray:
        """The 52 weights of the calibrated neutral face (what face loss eases to)."""
        ...


class PassThroughSolver:
    """No corrections: the tracker's weights as they are."""

    def __call__(self, frame: Frame) -> Frame:
        return frame

    def neutral_weights(self) -> np.ndarray:
        return neutral_weights()
