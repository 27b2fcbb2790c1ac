"""`Sample`: one applied frame of shape values, whatever protocol it came by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Sample:
    """Shape values of one frame by the sender's names.

    time: seconds on the stream's own clock when the sender gives one (VMC ``/VMC/Ext/T``,
        Live Link frame time), else on the receiver's monotonic clock; `stream_clock` says
        which, so a recording never mixes the two.
    head: head yaw, pitch, roll as the sender gave them (Live Link: -1..1 = -180..180 deg).
    """

    values: dict[str, float]
    time: float
    arrival: float
    stream_clock: bool
    head: tuple[float, float, float] | None = None
