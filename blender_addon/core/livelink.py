"""Decoder for Live Link Face UDP packets (the iPhone app's ARKit stream, version 6).

Layout, big-endian, checked against Unreal's publisher and PyPI ``pylivelinkface``:
u8 version (6) | i32 n + n bytes device id | i32 n + n bytes subject name | i32 frame |
f32 subframe | i32 fps numerator | i32 fps denominator | u8 count | count x f32.
The app sends a 36-byte device id, but lengths are read, never assumed.

Value i is Unreal's ``EARFaceBlendShape(i)`` (`CHANNEL_NAMES`; AugmentedReality
``ARTrackable.h``, also PyPI ``pylivelinkface`` and VRCFaceTracking's ``ArKitShapes.cs``):
JawLeft before JawRight and MouthLeft before MouthRight, unlike a take's CSV columns.
Head and eye angles are Unreal's: degrees / 180 with yaw > 0 toward the performer's own
left, pitch > 0 chin down, roll > 0 toward the right shoulder (`pose_degrees` converts to
avatar-driver's signs; the derivation is in avatar_driver/codecs/livelink.py).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from .arkit import ARKIT_NAMES, N_CHANNELS, N_SHAPES, POSE_NAMES, pascal

__all__ = [
    "CHANNEL_NAMES",
    "POSE_SIGN",
    "LiveLinkError",
    "LiveLinkPacket",
    "decode_packet",
    "encode_packet",
    "pose_degrees",
]

VERSION = 6
MAX_ID = 256  # device id / subject name bytes; Unreal caps both at 256 characters

#: Value i of a packet: Unreal's EARFaceBlendShape order (PascalCase names). The CSV
#: order (`arkit.ARKIT_NAMES`) swaps JawLeft/JawRight and MouthLeft/MouthRight.
_SWAP = {"jawLeft": "jawRight", "jawRight": "jawLeft", "mouthLeft": "mouthRight",
         "mouthRight": "mouthLeft"}  # fmt: skip
CHANNEL_NAMES: tuple[str, ...] = tuple(pascal(_SWAP.get(n, n)) for n in ARKIT_NAMES + POSE_NAMES)
#: Unreal's sign of each pose value against avatar-driver's (yaw, pitch, roll per part).
POSE_SIGN: tuple[float, ...] = (1.0, -1.0, -1.0) * 3


def pose_degrees(values: tuple[float, ...] | list[float]) -> list[float]:
    """Live Link's 9 pose values (-1..1, Unreal signs) as degrees in avatar-driver's signs:
    yaw > 0 toward the performer's left, pitch > 0 chin up, roll > 0 toward the left
    shoulder."""
    return [v * 180.0 * s for v, s in zip(values, POSE_SIGN, strict=False)]


_I32 = struct.Struct(">i")
_TIME = struct.Struct(">ifii")


class LiveLinkError(ValueError):
    """The datagram is not a Live Link Face v6 packet."""


@dataclass(frozen=True, slots=True)
class LiveLinkPacket:
    device_id: str
    subject: str
    frame: int
    subframe: float
    fps_num: int
    fps_den: int
    values: tuple[float, ...]  # up to 61: shapes, then head yaw/pitch/roll, eyes

    @property
    def time(self) -> float:
        """Seconds on the sender's timecode clock: (frame + subframe) / fps."""
        return (self.frame + self.subframe) * self.fps_den / self.fps_num

    @property
    def shapes(self) -> dict[str, float]:
        """The 52 ARKit values by PascalCase name, clamped to 0..1."""
        return {
            CHANNEL_NAMES[i]: min(1.0, max(0.0, v)) for i, v in enumerate(self.values[:N_SHAPES])
        }

    @property
    def head(self) -> tuple[float, float, float] | None:
        """Head yaw, pitch, roll as sent (-1..1 for -180..180 degrees), if present."""
        if len(self.values) < N_SHAPES + 3:
            return None
        return self.values[N_SHAPES], self.values[N_SHAPES + 1], self.values[N_SHAPES + 2]


def _read_text(data: bytes, pos: int, what: str) -> tuple[str, int]:
    if pos + 4 > len(data):
        raise LiveLinkError(f"truncated before the {what} length")
    n = _I32.unpack_from(data, pos)[0]
    pos += 4
    if not 0 <= n <= MAX_ID or pos + n > len(data):
        raise LiveLinkError(f"{what} length {n} is out of range")
    return data[pos : pos + n].decode("utf-8", errors="replace"), pos + n


def decode_packet(data: bytes) -> LiveLinkPacket:
    """One datagram to a `LiveLinkPacket`; raises `LiveLinkError` (only) if malformed."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise LiveLinkError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise LiveLinkError("empty datagram")
    if data[0] != VERSION:
        raise LiveLinkError(f"packet version {data[0]}, expected {VERSION}")
    device_id, pos = _read_text(data, 1, "device id")
    subject, pos = _read_text(data, pos, "subject name")
    if pos + _TIME.size + 1 > len(data):
        raise LiveLinkError("truncated frame time")
    frame, subframe, num, den = _TIME.unpack_from(data, pos)
    pos += _TIME.size
    count = data[pos]
    pos += 1
    if not N_SHAPES <= count <= N_CHANNELS:
        raise LiveLinkError(f"{count} values, expected {N_SHAPES}..{N_CHANNELS}")
    if len(data) - pos != 4 * count:
        raise LiveLinkError(f"{len(data) - pos} value bytes for {count} values")
    if num <= 0 or den <= 0 or not math.isfinite(subframe):
        raise LiveLinkError(f"bad frame rate {num}/{den} or subframe {subframe}")
    values = struct.unpack_from(f">{count}f", data, pos)
    if not all(math.isfinite(v) for v in values):
        raise LiveLinkError("non-finite value")
    return LiveLinkPacket(device_id, subject, frame, subframe, num, den, values)


def encode_packet(
    values: tuple[float, ...] | list[float],
    *,
    frame: int = 0,
    subframe: float = 0.0,
    fps: tuple[int, int] = (60, 1),
    device_id: str = "00000000-0000-0000-0000-000000000000",
    subject: str = "iPhone",
) -> bytes:
    """The inverse of `decode_packet`, for tests and the benchmark (not used by the add-on)."""
    dev, sub = device_id.encode(), subject.encode()
    return b"".join(
        (
            bytes([VERSION]),
            _I32.pack(len(dev)),
            dev,
            _I32.pack(len(sub)),
            sub,
            _TIME.pack(frame, subframe, fps[0], fps[1]),
            bytes([len(values)]),
            struct.pack(f">{len(values)}f", *values),
        )
    )
