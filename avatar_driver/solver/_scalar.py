"""Small numeric helpers for the solver's hot path.

A numpy call costs about 1 us however small its arrays, so values that come in ones and
twos (per-eye measures, gaze angles) are computed on Python floats; the few numpy calls
left on the 52 weights write into their arrays with `out=`.
The float helpers follow numpy's NaN rules, so they give what the array code gave.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

__all__ = ["clip", "maximum"]

F = TypeVar("F", float, np.ndarray)


def maximum(a: float, b: float) -> float:
    """`np.maximum(a, b)` for two floats (NaN in either gives NaN, unlike `max`)."""
    return b if b > a or b != b else a


def clip(x: F, lo: float, hi: float) -> F:
    """`np.clip` for arrays, two comparisons for floats: one formula serves both."""
    if isinstance(x, np.ndarray):
        out: Any = np.clip(x, lo, hi)
        return out
    return lo if x < lo else hi if x > hi else x  # NaN stays NaN, as in np.clip
