"""The `none` dynamics' filter: weights and pose pass unchanged.

`make_dynamics("none")` still wraps it with the face-loss policy: a user who turns
smoothing off still wants the avatar to relax when the face is gone, not to freeze.
"""

from __future__ import annotations

import numpy as np

from .base import NoFastPath

__all__ = ["PassThrough"]


class PassThrough(NoFastPath):
    """A `Filter` that returns a copy of its input."""

    def __init__(self, n: int) -> None:
        self._zeros = np.zeros(n)

    def reset(self) -> None:
        """Nothing to forget."""

    def step(self, x: np.ndarray, t: float) -> np.ndarray:
        """The input, copied."""
        return np.array(x, dtype=np.float64)
