"""Non-blocking UDP receiver: drains the socket, decodes, keeps counters and the newest
value per name.

Nothing here blocks or spawns a thread: the add-on calls `Receiver.drain` from a
``bpy.app.timers`` callback on Blender's main thread. `drain` never raises for anything a
sender can do; bad datagrams are counted and dropped.
"""

from __future__ import annotations

import collections
import errno
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import livelink, osc
from .arkit import N_SHAPES
from .bones import Angles
from .sample import Sample
from .vmc import VmcAssembler

__all__ = [
    "DEFAULT_PORTS",
    "MAX_DATAGRAM",
    "PROTOCOLS",
    "Receiver",
    "ReceiverError",
    "Stats",
]

PROTOCOLS = ("VMC", "LIVELINK")
DEFAULT_PORTS = {"VMC": 39540, "LIVELINK": 11111}
MAX_DATAGRAM = 16384  # a full VMC frame (52 shapes + ~55 bones) is well under 8 KB
MAX_PACKETS_PER_DRAIN = 2048  # bounds one timer tick even under a flood
MAX_NAMES = 512  # distinct names remembered; a flood of random names cannot grow memory
RATE_WINDOW = 1.0
#: Radians per Live Link pose unit: -1..1 is -180..180 degrees (what Unreal reads).
LIVELINK_NORMALIZED = math.pi


class ReceiverError(OSError):
    """The socket could not be opened; the message is meant for the panel."""


@dataclass(slots=True)
class Stats:
    packets: int = 0  # datagrams read
    frames: int = 0  # samples applied
    malformed: int = 0  # datagrams dropped whole (undecodable or wrong protocol)
    oversized: int = 0  # datagrams over MAX_DATAGRAM, dropped unread
    bad_messages: int = 0  # single VMC messages with wrong argument types
    names_dropped: int = 0  # values for names beyond MAX_NAMES

    @property
    def dropped(self) -> int:
        """Everything the panel reports as "malformed, dropped"."""
        return self.malformed + self.oversized + self.bad_messages + self.names_dropped


class Receiver:
    """One protocol on one UDP port.

    `latest` holds the newest value per incoming name (what the live view applies);
    `drain` also returns every sample in arrival order (what a recording keeps).
    """

    def __init__(
        self,
        protocol: str = "VMC",
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        livelink_scale: float = LIVELINK_NORMALIZED,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        self.protocol = protocol
        self.host = host
        self.port = DEFAULT_PORTS[protocol] if port is None else port
        self.clock = clock
        self.stats = Stats()
        self.latest: dict[str, float] = {}
        self.head: tuple[float, float, float] | None = None
        #: Newest pose per role (radians, `core.bones` signs), whatever the protocol.
        self.pose: dict[str, Angles] = {}
        #: Live Link head and eye values times this are radians (`LIVELINK_NORMALIZED`).
        self.livelink_scale = livelink_scale
        self.last_arrival: float | None = None
        self._arrivals: collections.deque[float] = collections.deque(maxlen=100_000)
        self._vmc = VmcAssembler()
        self._sock: socket.socket | None = None

    # -- socket -----------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        """Bind the socket; a port in use becomes a `ReceiverError` with a readable message."""
        if self._sock is not None:
            return
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
            family, _, _, _, addr = infos[0]
        except (OSError, UnicodeError) as e:
            raise ReceiverError(f"cannot resolve {self.host!r}: {e}") from e
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            # No SO_REUSEADDR: on Linux it would let two receivers share the port silently.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind(addr)
            sock.setblocking(False)
        except OSError as e:
            sock.close()
            if e.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                raise ReceiverError(
                    f"port {self.port} on {self.host} is already in use "
                    "(another receiver running? pick another port)"
                ) from e
            raise ReceiverError(f"cannot listen on {self.host}:{self.port}: {e.strerror}") from e
        self._sock = sock

    def close(self) -> None:
        """Release the port; safe to call twice."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Receiver:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data ---------------------------------------------------------------------------
    def drain(self, max_packets: int = MAX_PACKETS_PER_DRAIN) -> list[Sample]:
        """Read every waiting datagram (up to `max_packets`) and return the samples."""
        out: list[Sample] = []
        sock = self._sock
        if sock is None:
            return out
        for _ in range(max_packets):
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                # e.g. ECONNREFUSED/ICMP noise on some platforms: count it, keep the socket.
                self.stats.malformed += 1
                break
            out.extend(self.feed(data, self.clock()))
        return out

    def feed(self, data: bytes, arrival: float) -> list[Sample]:
        """Decode one datagram as if it had just arrived (the socket path, and tests)."""
        self.stats.packets += 1
        self.last_arrival = arrival
        self._arrivals.append(arrival)
        if len(data) > MAX_DATAGRAM:
            self.stats.oversized += 1
            return []
        if self.protocol == "VMC":
            samples = self._feed_vmc(data, arrival)
        else:
            samples = self._feed_livelink(data, arrival)
        for s in samples:
            self._merge(s)
        self.stats.frames += len(samples)
        return samples

    def _feed_vmc(self, data: bytes, arrival: float) -> list[Sample]:
        try:
            messages = osc.decode_packet(data)
        except osc.OscError:
            self.stats.malformed += 1
            return []
        before = self._vmc.bad_messages
        samples = self._vmc.feed(messages, arrival)
        self.stats.bad_messages += self._vmc.bad_messages - before
        return samples

    def _feed_livelink(self, data: bytes, arrival: float) -> list[Sample]:
        try:
            p = livelink.decode_packet(data)
        except livelink.LiveLinkError:
            self.stats.malformed += 1
            return []
        return [Sample(p.shapes, p.time, arrival, True, p.head, self._livelink_pose(p))]

    def _livelink_pose(self, p: livelink.LiveLinkPacket) -> dict[str, Angles]:
        """Head and eye (yaw, pitch, roll) from values 52-60, in radians and in avatar-driver's
        signs (Live Link sends Unreal's: pitch and roll flipped, see `livelink.POSE_SIGN`)."""
        k = self.livelink_scale
        sy, sp, sr = livelink.POSE_SIGN[:3]
        v = p.values
        pose: dict[str, Angles] = {}
        for role, start in (("head", N_SHAPES), ("left_eye", N_SHAPES + 3),
                            ("right_eye", N_SHAPES + 6)):  # fmt: skip
            if len(v) >= start + 3:
                pose[role] = (v[start] * k * sy, v[start + 1] * k * sp, v[start + 2] * k * sr)
        return pose

    def _merge(self, s: Sample) -> None:
        latest = self.latest
        for name, value in s.values.items():
            if name in latest or len(latest) < MAX_NAMES:
                latest[name] = value
            else:
                self.stats.names_dropped += 1
        if s.head is not None:
            self.head = s.head
        self.pose.update(s.pose)

    # -- state for the panel ----------------------------------------------------------------
    def rate(self, now: float | None = None) -> float:
        """Datagrams per second over the last second."""
        now = self.clock() if now is None else now
        arrivals = self._arrivals
        while arrivals and arrivals[0] < now - RATE_WINDOW:
            arrivals.popleft()
        return len(arrivals) / RATE_WINDOW

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last datagram, None before the first."""
        if self.last_arrival is None:
            return None
        return (self.clock() if now is None else now) - self.last_arrival

    def receiving(self, now: float | None = None, timeout: float = 1.0) -> bool:
        age = self.age(now)
        return age is not None and age <= timeout
