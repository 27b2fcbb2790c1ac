"""Turns decoded VMC protocol messages into `Sample`s.

``/VMC/Ext/Blend/Val (name, value)`` messages accumulate and ``/VMC/Ext/Blend/Apply``
commits them, as the protocol says. ``/VMC/Ext/T`` gives the stream clock; when a frame
comes without one, its time is extrapolated from the last ``T`` by arrival time so a
recording stays on one clock. Messages with wrong argument types are counted and dropped.

``/VMC/Ext/Bone/Pos (name, px, py, pz, qx, qy, qz, qw)`` for ``Head``, ``LeftEye`` and
``RightEye`` (Unity's left-handed space, local to the parent bone; `core.bones` converts)
become the frame's pose. A bone anywhere in a datagram belongs to the frame that datagram
applies (avatar-driver sends it after the Apply, VSeeFace before); a datagram with bones
and no Apply is a pose-only frame. Other bones are ignored, not counted as errors.
"""

from __future__ import annotations

import math

from .bones import VMC_BONES, Angles, unity_position, vmc_angles
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
        #: Newest pose per role (radians, `core.bones` signs) and head position (Blender
        #: frame, metres), for the panel.
        self.pose: dict[str, Angles] = {}
        self.head_position: tuple[float, float, float] | None = None

    def feed(self, messages: list[OscMessage], arrival: float) -> list[Sample]:
        """Samples committed by this datagram's Apply messages, in order."""
        # A T anywhere in the datagram stamps the frames it carries, wherever it sits.
        packet_time: float | None = None
        pose: dict[str, Angles] = {}
        has_apply = False
        for address, args in messages:
            if address == _TIME:
                t = _number(args[0]) if len(args) == 1 else None
                if t is None:
                    self.bad_messages += 1
                else:
                    packet_time = t
            elif address == _BONE:
                self._bone(args, pose)
            elif address == _APPLY:
                has_apply = True
        self.pose.update(pose)
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
            elif address == _APPLY and (self.pending or pose):
                out.append(self._sample(packet_time, arrival, pose))
                self.pending, pose = {}, {}
        if pose and not has_apply:
            out.append(self._sample(packet_time, arrival, pose, values={}))
        return out

    def _bone(self, args: tuple[object, ...], pose: dict[str, Angles]) -> None:
        if len(args) != 8 or not isinstance(args[0], str):
            self.bad_messages += 1
            return
        nums = [_number(a) for a in args[1:]]
        if any(n is None for n in nums):
            self.bad_messages += 1
            return
        role = VMC_BONES.get(args[0])
        if role is None:
            return
        px, py, pz, qx, qy, qz, qw = (float(n) for n in nums)  # type: ignore[arg-type]
        if qx * qx + qy * qy + qz * qz + qw * qw < 1e-12:
            self.bad_messages += 1  # a zero quaternion is no rotation at all
            return
        pose[role] = vmc_angles(qx, qy, qz, qw)
        if role == "head":
            self.head_position = unity_position(px, py, pz)

    def _sample(
        self,
        packet_time: float | None,
        arrival: float,
        pose: dict[str, Angles],
        values: dict[str, float] | None = None,
    ) -> Sample:
        vals = self.pending if values is None else values
        if packet_time is not None:
            return Sample(vals, packet_time, arrival, True, pose=pose)
        last = self.last_stream_time
        if last is not None and arrival - self.last_stream_arrival <= STREAM_CLOCK_TIMEOUT:
            t = last + (arrival - self.last_stream_arrival)
            return Sample(vals, t, arrival, True, pose=pose)
        return Sample(vals, arrival, arrival, False, pose=pose)
