"""The mapping's program: the channel vector -> one float per mapping entry ("logical").

Expression gain, derived signals computed level by level (a matrix product for sums and
means, a gather-and-reduce for max, min and product), one matrix product for every
entry's source, gain, offset and input range, then clamp, curves and output range.

Hot-path rules: no Python work per parameter; every per-parameter choice was made at
compile time (`mapping.compile`) and lives in index and value arrays; optional steps
(gain, curves, ints) are skipped with one precomputed flag each. Each numpy call costs
about a microsecond whatever its size, so the per-frame work is a short list of calls
prepared once: ufuncs with ``out=`` into preallocated buffers and views made at compile
time (no slicing, no temporaries, no Python scalars), gathers as bound
``take(..., "clip")`` (``np.take`` is a slow wrapper and ``mode="raise"`` buffers its
output). The floating-point operations are the same ones, in the same order, as the
plain formulation (no reassociation, no ``np.clip``, which differs from maximum/minimum
on signed zeros), so wire bytes do not depend on these shortcuts. Scratch buffers live
in the program, so it is not reentrant (outputs run on the pipeline's thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..shapes import CHANNEL_NAMES

__all__ = ["Level", "Program"]


#: One prepared call, run as ``fn(a, b, out=out)``.
_Op = tuple[Callable[..., object], np.ndarray, np.ndarray, np.ndarray]


def _gather(src: np.ndarray, idx: np.ndarray, out: np.ndarray) -> None:
    """out[:] = src[idx] without a temporary (mode "raise" would buffer `out`)."""
    src.take(idx, None, out, "clip")


@dataclass
class Level:
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
    levels: list[Level]
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
