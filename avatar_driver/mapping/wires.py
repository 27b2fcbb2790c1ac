"""The mapping's wires: logical values -> what goes on the wire.

Floats and ints as they are, bools through a threshold (with hysteresis when a
`MappingState` is given), VRChat binary parameters as one bool per bit plus the optional
Negative bit. Wires can be swapped without recompiling the program
(`CompiledMapping.with_wires`), which is how the VRChat output follows the current avatar.
The same hot-path rules as `program` hold (see its module doc).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .program import Program

__all__ = [
    "BIT",
    "BOOL",
    "DIRECT",
    "NEGATIVE",
    "OSC_TYPE",
    "Entry",
    "Wire",
    "WireStage",
    "wires_as_written",
]

DIRECT, BOOL, BIT, NEGATIVE = 0, 1, 2, 3
#: Row v holds the 8 bits of v, least significant first (binary parameters).
_BIT_TABLE = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.float64)
#: OSC type tag of each mapping entry type.
OSC_TYPE = {"float": "f", "int": "i", "bool": "b", "binary": "b"}


@dataclass(frozen=True)
class Entry:
    """One mapping entry as compiled (for summaries and for matching an avatar)."""

    name: str
    address: str
    type: str
    source: str
    in_range: tuple[float, float]
    out_range: tuple[float, float]
    curve: str = "linear"
    clamp: bool = True
    threshold: float = 0.5
    hysteresis: float = 0.1
    bits: int = 4
    negative: bool = False


@dataclass(frozen=True)
class Wire:
    """One wire parameter: where its value comes from and how it is encoded."""

    name: str
    address: str
    type: str  # "f", "i" or "b"
    src: int  # index of the entry it reads
    kind: int = DIRECT  # DIRECT, BOOL, BIT or NEGATIVE
    bit: int = 0
    nbits: int = 0
    on: float = 0.5
    off: float = 0.5


def wires_as_written(entries: Sequence[Entry]) -> list[Wire]:
    """The wire parameters a mapping declares when no avatar says otherwise."""
    wires: list[Wire] = []
    for i, e in enumerate(entries):
        if e.type == "binary":
            for k in range(e.bits):
                step = str(1 << k)
                wires.append(Wire(e.name + step, e.address + step, "b", i, BIT, k, e.bits))
            if e.negative:
                wires.append(Wire(e.name + "Negative", e.address + "Negative", "b", i, NEGATIVE))
        elif e.type == "bool":
            half = e.hysteresis / 2
            wires.append(
                Wire(e.name, e.address, "b", i, BOOL, on=e.threshold + half, off=e.threshold - half)
            )
        else:
            wires.append(Wire(e.name, e.address, OSC_TYPE[e.type], i))
    return wires


def _bound(program: Program, entry: int) -> float:
    """How large an entry's logical value can get (inf: no bound known)."""
    if entry in program.int_idx:
        return 255.0  # rounded and clipped to a byte
    if entry in program.curve_idx:
        return np.inf
    return max(abs(float(program.lo[entry])), abs(float(program.hi[entry])))


class WireStage:
    """Logical values -> wire values, all parameters at once.

    Wires are kept sorted by kind (direct, bool, bit, negative). Everything the wires read
    is computed into one work vector ``[logical | bools | Negative flags | bits]`` and
    the result is a single gather from it (`_final`), so nothing is concatenated or
    scattered per kind. Binary entries are encoded once each, those with a Negative bit
    first (so sign and absolute value are one call on a view each). Their bits come from
    one row gather of a 256 x 8 bit table: ``take(..., 'clip')`` sends negative codes (and
    NaN's, as the uint8 cast did) to row 0, which is what ``max(value, 0)`` did.
    """

    def __init__(self, wires: Sequence[Wire], program: Program) -> None:
        kinds = [w.kind for w in wires]
        if kinds != sorted(kinds):
            raise ValueError("wires must be sorted by kind")
        by = {k: [w for w in wires if w.kind == k] for k in (DIRECT, BOOL, BIT, NEGATIVE)}
        bools = by[BOOL]
        on = np.array([w.on for w in bools])
        off = np.array([w.off for w in bools])
        self.mid = (on + off) / 2
        self.off = off
        # x >= on is x > (the float below on), so the hysteresis is one comparison
        # against a threshold picked by the state; not so for on = -inf (kept exact).
        self._exact_on = bool(np.any(on == -np.inf))
        self.on = on
        self.on_below = np.nextafter(on, -np.inf)
        self._thr = np.empty(len(on))
        # Binary entries: those with a Negative wire first, each once, with its width.
        neg_src = {w.src for w in by[NEGATIVE]}
        ents: list[int] = []
        nbits: dict[int, int] = {}
        for w in by[NEGATIVE] + by[BIT]:
            if w.src not in nbits:
                ents.append(w.src)
                nbits[w.src] = 0
            nbits[w.src] = max(nbits[w.src], w.nbits)
        pos = {e: i for i, e in enumerate(ents)}
        n_bool, n_bin, n_neg = len(bools), len(ents), len(neg_src)
        self.has_bool = bool(n_bool)
        self.has_bin = bool(n_bin)
        self.n = len(wires)
        # Work vector layout.
        n_entries = len(program.matrix)
        base_bool = n_entries
        base_neg = base_bool + n_bool
        base_bits = base_neg + n_neg
        ws = np.zeros(base_bits + 8 * n_bin)
        self._ws = ws
        #: Where the program writes the logical values.
        self.logical = ws[:n_entries]
        self._bool_out = ws[base_bool:base_neg]
        self._neg_out = ws[base_neg:base_bits]
        self._bits_out = ws[base_bits:].reshape(n_bin, 8)
        final = [w.src for w in by[DIRECT]]
        final += [base_bool + j for j in range(n_bool)]
        final += [base_bits + 8 * pos[w.src] + w.bit for w in by[BIT]]
        final += [base_neg + pos[w.src] for w in by[NEGATIVE]]
        self._final = np.array(final, dtype=np.intp)
        self._direct = np.array([w.src for w in by[DIRECT]], dtype=np.intp)
        # Inputs of bools and binary entries: one gather into one buffer.
        self._src = np.array([w.src for w in bools] + ents, dtype=np.intp)
        gathered = np.empty(len(self._src))
        self._gathered = gathered
        self._bool_x = gathered[:n_bool]
        self._bin = gathered[n_bool:]
        self._bin_neg = self._bin[:n_neg]
        self._neg_flag = np.zeros(n_neg, dtype=bool)
        self.bin_scale = np.array([float(1 << nbits[e]) for e in ents])
        self.bin_max = np.array([float((1 << nbits[e]) - 1) for e in ents])
        self._zero = np.zeros(())
        # min(value, 2**bits - 1) before the cast can be left to the table (a code past
        # its end reads the last row) when every entry has the same width and a bounded
        # value, so that the scaled value cannot reach the integer cast's limit (where
        # it would read row 0); NaN casts to that limit either way, and reads row 0.
        widths = {nbits[e] for e in ents}
        bounded = all(_bound(program, e) < 2.0**52 for e in ents)
        self._saturate = not (len(widths) == 1 and bounded)
        self._table = _BIT_TABLE if self._saturate else _BIT_TABLE[: 1 << widths.pop()]

    def run(self, program: Program, bool_state: np.ndarray | None) -> np.ndarray:
        """Run `program` (channels already loaded) and return new wire values."""
        logical = self.logical
        program.finish(logical)
        if not (self.has_bool or self.has_bin):
            return logical[self._direct]
        logical.take(self._src, None, self._gathered, "clip")
        if self.has_bool:
            x = self._bool_x
            if bool_state is None:
                np.greater_equal(x, self.mid, self._bool_out)
            else:
                if self._exact_on:
                    now = np.where(bool_state, x > self.off, x >= self.on)
                    bool_state[:] = now
                else:
                    thr = self._thr
                    thr[:] = self.on_below
                    np.putmask(thr, bool_state, self.off)
                    np.greater(x, thr, out=bool_state)
                self._bool_out[:] = bool_state
        if self.has_bin:
            a = self._bin
            if len(self._bin_neg):
                neg = self._bin_neg
                np.less(neg, self._zero, out=self._neg_flag)
                self._neg_out[:] = self._neg_flag
                np.absolute(neg, neg)
            np.multiply(a, self.bin_scale, out=a)
            if self._saturate:
                np.minimum(a, self.bin_max, out=a)
            self._table.take(a.astype(np.intp), 0, self._bits_out, "clip")
        return self._ws[self._final]
