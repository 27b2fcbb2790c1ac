"""`Sample`: one applied frame of shape values, whatever protocol it came by."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Sample:
    """Shape values of one frame by the sender's names.

    time: seconds on the stream's own clock when the sender gives one (VMC ``/VMC/Ext/T``,
        Live Link frame time), else on the receiver's monotonic clock; `stream_clock` says
        which, so a recording never mixes the two.
    head: head yaw, pitch, roll as the sender gave them (Live Link: -1..1 = -180..180 deg).
    pose: head and eye rotations by role ("head", "left_eye", "right_eye") as (yaw, pitch,
        roll) in radians with `core.bones` signs, whatever the protocol; only the roles the
        sender gave. A frame may carry a pose and no shape values (a bones-only datagram).
    """

    values: dict[str, float]
    time: float
    arrival: float
    stream_clock: bool
    head: tuple[float, float, float] | None = None
    pose: dict[str, tuple[float, float, float]] = field(default_factory=dict)
