"""A mapping compiled into arrays: applying it is a few numpy operations per frame.

Hot-path rule: `apply` does no Python work per parameter; everything per parameter was
turned into arrays when the mapping was compiled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..shapes import ARKIT_NAMES, CHANNEL_NAMES, pascal

__all__ = ["CompiledMapping", "perfect_sync_mapping"]


class CompiledMapping:
    """Output parameters as a linear map of the channels, clipped, with OSC types.

    names: parameter names; addresses: full OSC addresses; types: "f", "i" or "b" each;
    matrix: (n_params, n_channels) weights; lo/hi: clip bounds per parameter.
    """

    def __init__(
        self,
        names: Sequence[str],
        addresses: Sequence[str],
        types: Sequence[str],
        matrix: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        *,
        source: str = "<built-in>",
    ) -> None:
        self.names = tuple(names)
        self.addresses = tuple(addresses)
        self.types = tuple(types)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)
        self.source = source

    def __len__(self) -> int:
        return len(self.names)

    def apply(self, channels: np.ndarray) -> np.ndarray:
        """Parameter values (float64) for one frame's channels (`Frame.channels()`)."""
        return np.clip(self.matrix @ channels, self.lo, self.hi)


def perfect_sync_mapping(
    prefix: str = "/avatar/parameters/", *, pascal_case: bool = False
) -> CompiledMapping:
    """Each of the 52 ARKit shapes as a float 0..1 under `prefix` (perfect-sync)."""
    names = [pascal(n) if pascal_case else n for n in ARKIT_NAMES]
    matrix = np.zeros((len(names), len(CHANNEL_NAMES)))
    matrix[np.arange(len(names)), np.arange(len(names))] = 1.0
    return CompiledMapping(
        names,
        [prefix + n for n in names],
        ["f"] * len(names),
        matrix,
        np.zeros(len(names)),
        np.ones(len(names)),
    )
