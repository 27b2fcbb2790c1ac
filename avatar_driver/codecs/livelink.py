"""Live Link Face UDP packets, as the iPhone app sends them to Unreal (packet version 6).

Layout, big-endian (Unreal's ``FAppleARKitLiveLinkRemotePublisher`` / the listener that
reads it, and PyPI ``pylivelinkface``):

    u8 version (6) | i32 n, n bytes device id | i32 n, n bytes subject name |
    i32 frame number | f32 subframe | i32 fps numerator | i32 fps denominator |
    u8 count (61) | 61 x f32

The 61 values are the 52 ARKit shapes in Live Link order (our canonical order), then head
yaw, pitch, roll and left and right eye yaw, pitch, roll. Unreal's ARKit face code fills
those as the angle in degrees divided by 180 ("map the -180..180 range to -1..1"), so we
send ``degrees / 180`` with the signs of `tracking.pose`. Unreal's receiver drops packets
whose count is not 61.

Defaults that every known receiver accepts: a 36-character device id (the app sends a
UUID; ``pylivelinkface`` decodes at fixed offsets that assume it) and a 6-character subject
name (VRCFaceTracking's Live Link module accepts only 312-byte packets:
1 + 4 + 36 + 4 + 6 + 16 + 1 + 244 = 312).

Hot-path rule: the header is built once; a frame is one struct pack and one numpy cast.
"""

from __future__ import annotations

import math
import struct
import uuid
from fractions import Fraction

import numpy as np

from ..frame import Frame
from ..shapes import N_SHAPES

__all__ = [
    "DEFAULT_DEVICE_ID",
    "DEFAULT_SUBJECT",
    "N_VALUES",
    "PACKET_VERSION",
    "LiveLinkEncoder",
    "encode_livelink",
    "fps_fraction",
]

PACKET_VERSION = 6
N_VALUES = N_SHAPES + 9  # 61
MAX_TEXT = 256  # Unreal's limit for the device id and subject name (characters)
#: Stable across runs (Unreal keys sources by device id), 36 characters like the app's.
DEFAULT_DEVICE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://avatar-driver/livelink"))
DEFAULT_SUBJECT = "Avatar"  # 6 characters: the 312-byte packet VRCFaceTracking expects
_TIME = struct.Struct(">ifiiB")


def fps_fraction(fps: float) -> tuple[int, int]:
    """A frame rate as Unreal's numerator/denominator (29.97 -> 30000/1001)."""
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    if abs(fps - round(fps)) < 1e-6:
        return round(fps), 1
    ntsc = fps * 1.001
    if abs(ntsc - round(ntsc)) < 0.005:  # 23.976, 29.97, 59.94: the broadcast x/1001 rates
        return round(ntsc) * 1000, 1001
    f = Fraction(fps).limit_denominator(1000)
    return f.numerator, f.denominator


def _text(value: str, what: str) -> bytes:
    raw = value.encode("utf-8")
    if not raw or len(value) > MAX_TEXT:
        raise ValueError(f"{what} must be 1-{MAX_TEXT} characters, got {len(value)}")
    return struct.pack(">i", len(raw)) + raw


class LiveLinkEncoder:
    """Encodes frames as Live Link Face packets for one device id and subject name."""

    def __init__(
        self,
        *,
        device_id: str = DEFAULT_DEVICE_ID,
        subject: str = DEFAULT_SUBJECT,
        fps: float = 60.0,
    ) -> None:
        self.device_id = device_id
        self.subject = subject
        self.fps = fps
        self.fps_num, self.fps_den = fps_fraction(fps)
        self._head = (
            bytes([PACKET_VERSION]) + _text(device_id, "device id") + _text(subject, "subject name")
        )
        self._values = np.zeros(N_VALUES, dtype=np.float64)

    def frame_time(self, timestamp: float) -> tuple[int, float]:
        """Frame number and subframe (0..1) of a source timestamp at this frame rate."""
        frames = timestamp * self.fps_num / self.fps_den
        number = math.floor(frames)
        return number, frames - number

    def encode(self, frame: Frame) -> bytes:
        """The packet for one frame (pure: depends only on the frame and the settings)."""
        v = self._values
        shapes = v[:N_SHAPES]
        np.maximum(frame.weights, 0.0, out=shapes)
        np.minimum(shapes, 1.0, out=shapes)
        shapes[frame.unavailable] = 0.0
        np.divide(frame.pose, 180.0, out=v[N_SHAPES:])
        number, sub = self.frame_time(frame.timestamp)
        return (
            self._head
            + _TIME.pack(number, sub, self.fps_num, self.fps_den, N_VALUES)
            + v.astype(">f4").tobytes()
        )


def encode_livelink(
    frame: Frame,
    *,
    device_id: str = DEFAULT_DEVICE_ID,
    subject: str = DEFAULT_SUBJECT,
    fps: float = 60.0,
) -> bytes:
    """Pure convenience form of `LiveLinkEncoder.encode`."""
    return LiveLinkEncoder(device_id=device_id, subject=subject, fps=fps).encode(frame)
