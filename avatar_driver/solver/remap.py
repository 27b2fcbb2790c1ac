"""Per-shape piecewise-linear remap: the user's neutral to 0, their full range to 1.

Three pieces per shape: below `neutral` -> 0, `neutral`..`full` -> 0..1 linearly, above
`full` -> 1. Vectorized over the 52 shapes: a subtract, a multiply and a clip.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_SPAN", "Remap"]

#: Smallest allowed `full - neutral`: a narrower range would amplify tracker noise.
MIN_SPAN = 0.05


class Remap:
    """`remap(x)` maps float weights through each shape's (neutral, full) range."""

    def __init__(self, neutral: np.ndarray, full: np.ndarray) -> None:
        lo = np.asarray(neutral, dtype=np.float64).copy()
        hi = np.asarray(full, dtype=np.float64)
        if lo.shape != hi.shape:
            raise ValueError(f"neutral and full differ in shape: {lo.shape} vs {hi.shape}")
        span = hi - lo
        if np.any(span < MIN_SPAN - 1e-9):
            raise ValueError(f"every full - neutral must be >= {MIN_SPAN}")
        self.neutral = lo
        self.full = hi.copy()
        self._scale = 1.0 / span

    @classmethod
    def identity(cls, n: int) -> Remap:
        """The remap that changes nothing (0 -> 0, 1 -> 1)."""
        return cls(np.zeros(n), np.ones(n))

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Remapped copy of `x` (or written into `out`), clipped to 0..1."""
        y = np.subtract(x, self.neutral, out=out)
        np.multiply(y, self._scale, out=y)
        return np.clip(y, 0.0, 1.0, out=y)

    def update(self, neutral: np.ndarray, full: np.ndarray) -> None:
        """Replace the ranges in place (auto-calibration); spans below MIN_SPAN widen."""
        self.neutral[:] = neutral
        np.maximum(full, self.neutral + MIN_SPAN, out=self.full)
        self.refresh()

    def refresh(self) -> None:
        """Recompute after `neutral` and `full` were written in place (spans >= MIN_SPAN)."""
        np.subtract(self.full, self.neutral, out=self._scale)
        np.divide(1.0, self._scale, out=self._scale)
