"""Turns decoded VMC protocol messages into `Sample`s.

``/VMC/Ext/Blend/Val (name, value)`` messages accumulate and ``/VMC/Ext/Blend/Apply``
commits them, as the protocol says. ``/VMC/Ext/T`` gives the stream clock; when a frame
comes without one, its time is extrapolated from the last ``T`` by arrival time so a
recording stays on one clock. Messages with wrong argument types are counted and dropped.
"""

from __future__ import annotations

import math

from .osc import OscMessage
from .sample import Sample

__all__ = ["MAX_PENDING", "VmcAssembler"]

MAX_PENDING = 512  # distinct names in one frame; more is a flood, not a face
STREAM_CLOCK_TIMEOUT = 2.0  # seconds without /VMC/Ext/T before falling back to arrival

_VAL = "/VMC/Ext/Blend/Val"
_APPLY = "/VMC/Ext/Blend/Apply"
_TIME = "/VMC/Ext/T"
_BONE = "/VMC/Ext/Bone/Pos"


def _number(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


class VmcAssembler:
    """Stateful: pending values survive between datagrams until an Apply arrives."""

    def __init__(self) -> None:
        self.pending: dict[str, float] = {}
        self.bad_messages = 0
        self.last_stream_time: float | None = None
        self.last_stream_arrival = 0.0
        self.head_quaternion: tuple[float, float, float, float] | None = None

    def feed(self, messages: list[OscMessage], arrival: float) -> list[Sample]:
        """Samples committed by this datagram's Apply messages, in order."""
        # A T anywhere in the datagram stamps the frames it carries, wherever it sits.
        packet_time: float | None = None
        for address, args in messages:
            if address == _TIME:
                t = _number(args[0]) if len(args) == 1 else None
                if t is None:
                    self.bad_messages += 1
                else:
                    packet_time = t
        if packet_time is not None:
            self.last_stream_time, self.last_stream_arrival = packet_time, arrival

        out: list[Sample] = []
        for address, args in messages:
            if address == _VAL:
                if len(args) != 2 or not isinstance(args[0], str):
                    self.bad_messages += 1
                    continue
                v = _number(args[1])
                if v is None or (len(self.pending) >= MAX_PENDING and args[0] not in self.pending):
                    self.bad_messages += 1
                    continue
                self.pending[args[0]] = min(1.0, max(0.0, v))
            elif address == _APPLY:
                if self.pending:
                    out.append(self._sample(packet_time, arrival))
                    self.pending = {}
            elif address == _BONE:
                self._bone(args)
        return out

    def _bone(self, args: tuple[object, ...]) -> None:
        if len(args) != 8 or not isinstance(args[0], str):
            self.bad_messages += 1
            return
        nums = [_number(a) for a in args[1:]]
        if any(n is None for n in nums):
            self.bad_messages += 1
            return
        if args[0] == "Head":
            qx, qy, qz, qw = (float(n) for n in nums[3:])  # type: ignore[arg-type]
            self.head_quaternion = (qx, qy, qz, qw)

    def _sample(self, packet_time: float | None, arrival: float) -> Sample:
        if packet_time is not None:
            return Sample(self.pending, packet_time, arrival, True)
        last = self.last_stream_time
        if last is not None and arrival - self.last_stream_arrival <= STREAM_CLOCK_TIMEOUT:
            return Sample(self.pending, last + (arrival - self.last_stream_arrival), arrival, True)
        return Sample(self.pending, arrival, arrival, False)
