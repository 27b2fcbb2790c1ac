"""A compiled mapping: its program (channels -> logical values, `program`) joined with
its wires (logical values -> wire values, `wires`); applying it is a few numpy operations
per frame. State (bool hysteresis, last sent values) lives in a `MappingState`, never in
the mapping, so one compiled mapping can serve several outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .program import Program
from .state import MappingState
from .summary import describe
from .wires import Entry, Wire, WireStage, wires_as_written

if TYPE_CHECKING:
    from ..frame import Frame

__all__ = ["CompiledMapping"]


class CompiledMapping:
    """A compiled mapping: `apply(channels)` gives one float per wire parameter.

    names, addresses, types ("f", "i" or "b") describe the wire parameters, binary entries
    already expanded into their bits. `entries` are the mapping's own entries (what a
    summary shows); `wires` say how each wire parameter reads them.
    """

    def __init__(
        self,
        program: Program,
        entries: Sequence[Entry],
        wires: Sequence[Wire] | None = None,
        *,
        source: str = "<built-in>",
        send_threshold: float = 0.002,
        refresh_seconds: float = 2.0,
        derived: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.program = program
        self.entries = tuple(entries)
        chosen = wires_as_written(self.entries) if wires is None else wires
        self.wires = tuple(sorted(chosen, key=lambda w: w.kind))  # stable: order kept per kind
        self.source = source
        self.send_threshold = send_threshold
        self.refresh_seconds = refresh_seconds
        self.derived = tuple(derived)
        self.names = tuple(w.name for w in self.wires)
        self.addresses = tuple(w.address for w in self.wires)
        self.types = tuple(w.type for w in self.wires)
        self._stage = WireStage(self.wires, program)
        self.n_bools = len(self._stage.mid)

    def __len__(self) -> int:
        return len(self.wires)

    def __repr__(self) -> str:
        return (
            f"CompiledMapping({self.source!r}, {len(self.entries)} entries, "
            f"{len(self.wires)} wire parameters)"
        )

    def logical(self, channels: np.ndarray) -> np.ndarray:
        """One float per entry (before bool thresholds and bit encoding)."""
        return self.program.run(channels)

    def apply(self, channels: np.ndarray, state: MappingState | None = None) -> np.ndarray:
        """Wire values (float64) for one frame's channels (`Frame.channels()`).

        Without a state, bools use the middle of their hysteresis band; with one, they
        keep their last value inside the band.
        """
        self.program.load(channels)
        return self._stage.run(self.program, state.bool_on if state is not None else None)

    def apply_frame(self, frame: Frame, state: MappingState | None = None) -> np.ndarray:
        """`apply(frame.channels(), state)`, the channels written straight into the
        program's work vector (one array and one copy fewer per frame)."""
        frame.channels(out=self.program.channel_buffer)
        return self._stage.run(self.program, state.bool_on if state is not None else None)

    def with_wires(self, wires: Sequence[Wire]) -> CompiledMapping:
        """The same entries sent as other wire parameters (e.g. what an avatar declares)."""
        return CompiledMapping(
            self.program,
            self.entries,
            wires,
            source=self.source,
            send_threshold=self.send_threshold,
            refresh_seconds=self.refresh_seconds,
            derived=self.derived,
        )

    def new_state(self) -> MappingState:
        """Fresh per-output state: bool hysteresis and send-on-change memory."""
        return MappingState(self)

    def describe(self) -> str:
        """A readable summary: each entry, its source, type and ranges."""
        return describe(self)
