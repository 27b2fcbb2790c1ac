"""Per-output mapping state: kept out of the mapping so one compiled mapping can serve
several outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .compiled import CompiledMapping

__all__ = ["MappingState"]


class MappingState:
    """What one output remembers between frames: bools inside their hysteresis band and
    the values last sent, for send-on-change with a periodic full refresh."""

    def __init__(self, mapping: CompiledMapping) -> None:
        self.mapping = mapping
        self.bool_on = np.zeros(mapping.n_bools, dtype=bool)
        n = len(mapping)
        self.last_sent = np.full(n, np.inf)
        is_f = np.array([t == "f" for t in mapping.types], dtype=bool)
        # Floats must move by more than the threshold; ints and bools on any change.
        self.threshold = np.where(is_f, mapping.send_threshold, 0.0)
        self.next_refresh = -np.inf
        self._diff = np.empty(n)

    def select(self, values: np.ndarray, now: float) -> np.ndarray | None:
        """Which values to send now: None means all (a full refresh), else a bool mask.

        The returned values count as sent.
        """
        if now >= self.next_refresh:
            self.next_refresh = now + self.mapping.refresh_seconds
            self.last_sent[:] = values
            return None
        diff = self._diff
        np.subtract(values, self.last_sent, diff)
        np.absolute(diff, diff)
        mask = np.greater(diff, self.threshold)
        np.copyto(self.last_sent, values, where=mask)
        return mask

    def force_refresh(self) -> None:
        """Send everything on the next `select` (after an avatar change or reload)."""
        self.next_refresh = -np.inf
