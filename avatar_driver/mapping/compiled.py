"""A mapping compiled into arrays: applying it is a few numpy operations per frame.

Two layers. The *program* turns the channel vector into one float per mapping entry
("logical" values): expression gain, derived signals computed level by level (a matrix
product for sums and means, a gather-and-reduce for max, min and product), one matrix
product for every entry's source, gain, offset and input range, then clamp, curves and
output range. The *wires* turn logical values into what goes on the wire: floats and ints
as they are, bools through a threshold (with hysteresis when a `MappingState` is given),
VRChat binary parameters as one bool per bit plus the optional Negative bit. The wires can
be swapped without recompiling the program (`with_wires`), which is how the VRChat output
follows the current avatar.

Hot-path rules: `apply` does no Python work per parameter; every per-parameter choice was
made at compile time and lives in index and value arrays; optional steps (gain, curves,
bools, bits) are skipped with one precomputed flag each when a mapping does not use them.
Each numpy call costs about a microsecond whatever its size (more with cold caches, as in
the pipeline), so the per-frame work is a short list of calls prepared once: ufuncs with
``out=`` into preallocated buffers and views made at compile time (no slicing, no
temporaries, no Python scalars, which numpy converts on every call), gathers as bound
``take(..., "clip")`` (``np.take`` is a slow wrapper and ``mode="raise"`` buffers its
output), and one final gather that builds the result. The floating-point operations are
the same ones, in the same order, as the plain formulation (no reassociation, no
``np.clip``, which differs from maximum/minimum on signed zeros), so wire bytes do not
depend on these shortcuts. Scratch buffers live in the program and the wire stage, so
`apply` is not reentrant (outputs run on the pipeline's thread).
State (bool hysteresis, last sent values) lives in a `MappingState`, never in the mapping,
so one compiled mapping can serve several outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..shapes import ARKIT_NAMES, CHANNEL_NAMES, pascal

if TYPE_CHECKING:
    from ..frame import Frame

__all__ = [
    "CompiledMapping",
    "Entry",
    "MappingState",
    "Program",
    "Wire",
    "perfect_sync_mapping",
]

DIRECT, BOOL, BIT, NEGATIVE = 0, 1, 2, 3
#: Row v holds the 8 bits of v, least significant first (binary parameters).
_BIT_TABLE = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.float64)
_OSC_TYPE = {"float": "f", "int": "i", "bool": "b", "binary": "b"}


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
            wires.append(Wire(e.name, e.address, _OSC_TYPE[e.type], i))
    return wires


#: One prepared call, run as ``fn(a, b, out=out)``.
_Op = tuple[Callable[..., object], np.ndarray, np.ndarray, np.ndarray]


def _gather(src: np.ndarray, idx: np.ndarray, out: np.ndarray) -> None:
    """out[:] = src[idx] without a temporary (mode "raise" would buffer `out`)."""
    src.take(idx, None, out, "clip")


@dataclass
class _Level:
    """Derived signals that depend only on earlier levels: outputs fill w[start:stop].

    Each value is clamp(gain * source ** gamma + offset); for linear nodes without gamma
    the gain and offset are folded into `lin`.
    """

    start: int
    lin_stop: int
    lin: np.ndarray  # (lin_stop - start, start) weights over w[:start]
    # (start, stop, np.maximum / np.minimum / np.multiply, one index array per operand)
    reduce: list[tuple[int, int, np.ufunc, list[np.ndarray]]] = field(default_factory=list)
    post_start: int = 0  # non-linear nodes get gain/offset here (linear ones folded it)
    post_gain: np.ndarray | None = None
    post_offset: np.ndarray | None = None
    stop: int = 0
    clamp_lo: np.ndarray | None = None
    clamp_hi: np.ndarray | None = None
    gamma_start: int = 0  # linear nodes with gamma sit in w[gamma_start:lin_stop]
    gamma: np.ndarray | None = None


@dataclass
class Program:
    """Channels -> one float per entry. Built by `mapping.compile`; see the module doc.

    `matrix` rows hold each entry's source, gain, offset, input and output range folded
    together, so a linear entry is one row of one matrix product plus a clip; entries with
    a curve are taken back to 0..1, bent, and put back.
    """

    n_work: int
    levels: list[_Level]
    matrix: np.ndarray  # (n_entries, n_work)
    lo: np.ndarray  # clip bounds in output units (-inf/inf when unclamped)
    hi: np.ndarray
    out_lo: np.ndarray
    out_span: np.ndarray
    curve_idx: np.ndarray  # entries with a curve; the *_pos arrays index into this subset
    sym_pos: np.ndarray
    gamma_pos: np.ndarray
    gamma: np.ndarray
    smooth_pos: np.ndarray
    points_pos: np.ndarray
    points_x: np.ndarray  # (n, K) knots, last one repeated as padding
    points_y: np.ndarray
    points_slope: np.ndarray
    int_idx: np.ndarray
    channel_gain: np.ndarray | None = None  # per ARKit shape; None when all 1

    def __post_init__(self) -> None:
        self._w = np.zeros(self.n_work)
        self._w[0] = 1.0
        self._channels = self._w[1 : 1 + len(CHANNEL_NAMES)]
        self._clip = bool(np.isfinite(self.lo).any() or np.isfinite(self.hi).any())
        self._curve_lo = self.out_lo[self.curve_idx]
        self._curve_span = self.out_span[self.curve_idx]
        self._curves = bool(len(self.curve_idx))
        self._ints = bool(len(self.int_idx))
        self._level_ops = self._compile_levels()
        self._ops = self._level_ops

    def _compile_levels(self) -> list[_Op]:
        """The derived-signal levels as prepared calls on preallocated views.

        Same arithmetic as level by level: one dot, the reductions (their operands
        gathered by one take per level), gamma, post gain/offset, clamp.
        """
        w = self._w
        zero = np.zeros(())
        ops: list[_Op] = []
        for lv in self.levels:
            if lv.lin_stop > lv.start:
                ops.append((np.dot, lv.lin, w[: lv.start], w[lv.start : lv.lin_stop]))
            if lv.reduce:
                flat = np.concatenate([c for _, _, _, cols in lv.reduce for c in cols])
                gathered = np.empty(len(flat))
                ops.append((_gather, w, flat.astype(np.intp), gathered))
                pos = 0
                for a, b, ufunc, cols in lv.reduce:
                    seg, m = w[a:b], b - a
                    views = [gathered[pos + k * m : pos + (k + 1) * m] for k in range(len(cols))]
                    pos += m * len(cols)
                    ops.append((ufunc, views[0], views[1], seg))
                    ops.extend((ufunc, seg, v, seg) for v in views[2:])
            if lv.gamma is not None:
                seg = w[lv.gamma_start : lv.lin_stop]
                ops.append((np.maximum, seg, zero, seg))
                ops.append((np.power, seg, lv.gamma, seg))
            if lv.post_gain is not None and lv.post_offset is not None:
                seg = w[lv.post_start : lv.stop]
                ops.append((np.multiply, seg, lv.post_gain, seg))
                ops.append((np.add, seg, lv.post_offset, seg))
            if lv.clamp_lo is not None and lv.clamp_hi is not None:
                seg = w[lv.start : lv.stop]
                ops.append((np.maximum, seg, lv.clamp_lo, seg))
                ops.append((np.minimum, seg, lv.clamp_hi, seg))
        return ops

    def set_channel_gain(self, gain: np.ndarray | None) -> None:
        self.channel_gain = None if gain is None or np.all(gain == 1.0) else gain
        self._ops = self._level_ops
        if self.channel_gain is not None:
            g = self._w[1 : 1 + len(self.channel_gain)]
            self._ops = [
                (np.multiply, g, self.channel_gain, g),
                (np.minimum, g, np.ones(()), g),
                *self._level_ops,
            ]

    @property
    def channel_buffer(self) -> np.ndarray:
        """The channel slots of the work vector (for `Frame.channels(out=...)`)."""
        return self._channels

    def load(self, channels: np.ndarray) -> None:
        """Copy one frame's channels into the work vector (then `finish`)."""
        self._w[1 : 1 + len(channels)] = channels

    def finish(self, out: np.ndarray) -> None:
        """Run the program on the loaded channels; logical values go into `out`.

        `out` is a C-contiguous float64 array (or view) of one value per entry.
        """
        for fn, a, b, o in self._ops:
            fn(a, b, out=o)
        np.dot(self.matrix, self._w, out)
        if self._clip:
            np.maximum(out, self.lo, out=out)
            np.minimum(out, self.hi, out=out)
        if self._curves:
            t = (out[self.curve_idx] - self._curve_lo) / self._curve_span
            self._apply_curves(t)
            out[self.curve_idx] = self._curve_lo + t * self._curve_span
        if self._ints:
            out[self.int_idx] = np.clip(np.rint(out[self.int_idx]), 0, 255)

    def run(self, channels: np.ndarray) -> np.ndarray:
        """Logical values (a new float64 array) for one frame's channels."""
        self.load(channels)
        out = np.empty(len(self.matrix))
        self.finish(out)
        return out

    def _apply_curves(self, t: np.ndarray) -> None:
        sym = self.sym_pos
        if len(sym):
            s = 2.0 * t[sym] - 1.0
            sign = np.sign(s)
            t[sym] = np.abs(s)
        if len(self.gamma_pos):
            t[self.gamma_pos] = np.maximum(t[self.gamma_pos], 0.0) ** self.gamma
        if len(self.smooth_pos):
            x = np.clip(t[self.smooth_pos], 0.0, 1.0)
            t[self.smooth_pos] = x * x * (3.0 - 2.0 * x)
        if len(self.points_pos):
            xs, ys = self.points_x, self.points_y
            x = np.clip(t[self.points_pos], xs[:, 0], xs[:, -1])
            seg = (x[:, None] >= xs[:, 1:-1]).sum(axis=1)
            rows = np.arange(len(x))
            t[self.points_pos] = ys[rows, seg] + (x - xs[rows, seg]) * self.points_slope[rows, seg]
        if len(sym):
            t[sym] = (sign * t[sym] + 1.0) / 2.0


def _bound(program: Program, entry: int) -> float:
    """How large an entry's logical value can get (inf: no bound known)."""
    if entry in program.int_idx:
        return 255.0  # rounded and clipped to a byte
    if entry in program.curve_idx:
        return np.inf
    return max(abs(float(program.lo[entry])), abs(float(program.hi[entry])))


class _WireStage:
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
        self._stage = _WireStage(self.wires, program)
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
        lines = [f"{self.source}: {len(self.entries)} parameters, {len(self.wires)} on the wire"]
        for name, text in self.derived:
            lines.append(f"  derived {name} = {text}")
        width = max((len(e.name) for e in self.entries), default=0)
        for e in self.entries:
            kind = e.type
            if e.type == "binary":
                kind = f"binary {e.bits} bits" + (" + Negative" if e.negative else "")
            elif e.type == "bool":
                kind = f"bool > {e.threshold:g} (hysteresis {e.hysteresis:g})"
            (a, b), (c, d) = e.in_range, e.out_range
            rng = f"[{a:g}, {b:g}] -> [{c:g}, {d:g}]"
            extra = "" if e.curve == "linear" else f" curve {e.curve}"
            extra += "" if e.clamp else " unclamped"
            lines.append(
                f"  {e.name:<{width}}  {kind:<8}  {rng}{extra}  <- {e.source}  @ {e.address}"
            )
        return "\n".join(lines)


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


def perfect_sync_mapping(
    prefix: str = "/avatar/parameters/", *, pascal_case: bool = False
) -> CompiledMapping:
    """Each of the 52 ARKit shapes as a float 0..1 under `prefix` (perfect-sync)."""
    from .compile import compile_mapping
    from .schema import MappingFile

    names = [pascal(n) if pascal_case else n for n in ARKIT_NAMES]
    spec = MappingFile.model_validate(
        {
            "mapping": {"prefix": prefix},
            "param": [{"name": n, "source": s} for n, s in zip(names, ARKIT_NAMES, strict=True)],
        }
    )
    return compile_mapping(spec, source="perfect-sync" + (" (PascalCase)" if pascal_case else ""))
