"""The dynamics stage's two small interfaces: a per-frame `Dynamics` and an array `Filter`.

A `Filter` smooths one vector of channels (the 52 weights then the 9 pose angles) against
source timestamps; `stage.FilterDynamics` wraps any filter with the face-loss policy and
turns it into a `Dynamics` that reads and returns `Frame`s.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..frame import Frame

__all__ = [
    "DEFAULT_DT",
    "Dynamics",
    "Filter",
    "NoFastPath",
    "SampleClock",
    "frame_dt",
]

#: Step assumed before two timestamps have been seen, or when a timestamp does not advance.
DEFAULT_DT = 1.0 / 30.0


class Dynamics(Protocol):
    """One stage of the pipeline: filters a frame's weights and pose."""

    def __call__(self, frame: Frame) -> Frame:
        """Return a new frame with filtered weights, pose and the microExpression extra."""
        ...

    def reset(self) -> None:
        """Forget all history (a new take or a seek)."""
        ...

    def set_neutral(self, weights: np.ndarray) -> None:
        """The calibrated neutral (52 weights) to ease to when the face is lost."""
        ...


class Filter(Protocol):
    """A vectorized filter over a fixed number of channels."""

    def step(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter one sample `x` (float64, not modified) taken at source time `t`."""
        ...

    def reset(self) -> None:
        """Forget all history; the next sample passes unchanged."""
        ...

    @property
    def movement(self) -> np.ndarray:
        """Per-channel share of the fast path in the last step, 0..1 (zeros if none)."""
        ...

    @property
    def deviation(self) -> np.ndarray:
        """Per-channel input minus the stable estimate in the last step (zeros if none)."""
        ...

    @property
    def activity(self) -> np.ndarray | None:
        """|deviation| * movement per channel, or None for a filter without a fast path.

        One buffer, updated in place by each step (zeros after a reset), so the stage can
        keep a view of it; the stage's microExpression is its maximum over the expression
        channels.
        """
        ...


def frame_dt(t: float, t_last: float | None, last_dt: float) -> float:
    """Seconds since the previous sample; a non-advancing timestamp reuses the last step.

    Replays may repeat a timestamp or jump back (a loop); treating that as one nominal
    frame keeps every filter finite and never divides by zero.
    """
    if t_last is None:
        return last_dt
    dt = t - t_last
    if not dt > 0.0 or dt != dt:
        return last_dt
    return dt


class NoFastPath:
    """The fast-path views of a `Filter` that has no fast path (One Euro, pass-through):
    zero movement and deviation, and no micro-expression evidence."""

    _zeros: np.ndarray

    @property
    def movement(self) -> np.ndarray:
        return self._zeros

    @property
    def deviation(self) -> np.ndarray:
        return self._zeros

    @property
    def activity(self) -> None:
        return None


class SampleClock:
    """A filter's source-time bookkeeping: the step from one sample to the next."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.t_last: float | None = None
        self.dt = DEFAULT_DT

    def advance(self, t: float) -> float | None:
        """Seconds since the previous sample (see `frame_dt`), or None for the first one,
        which a filter passes through unchanged."""
        if self.t_last is None:
            self.t_last = t
            return None
        self.dt = dt = frame_dt(t, self.t_last, self.dt)
        self.t_last = max(t, self.t_last)
        return dt
