"""Live Link Face UDP packets, as the iPhone app sends them to Unreal (packet version 6).

Layout, big-endian (Unreal's ``FAppleARKitLiveLinkRemotePublisher`` / the listener that
reads it, and PyPI ``pylivelinkface``):

    u8 version (6) | i32 n, n bytes device id | i32 n, n bytes subject name |
    i32 frame number | f32 subframe | i32 fps numerator | i32 fps denominator |
    u8 count (61) | 61 x f32

Value i is Unreal's ``EARFaceBlendShape(i)`` (`PACKET_NAMES`), not the CSV column order:
JawLeft comes before JawRight and MouthLeft before MouthRight. Sources that agree on the
enum: Unreal's ``Engine/Source/Runtime/AugmentedReality/Public/ARTrackable.h``
(``EARFaceBlendShape``, 0 EyeBlinkLeft .. 60 RightEyeRoll), PyPI ``pylivelinkface``
(``FaceBlendShape``) and VRCFaceTracking's LiveLink module
(``VRCFT-LiveLink/CaptureModes/ARKit/ArKitShapes.cs``).

Head and eye angles: Unreal's ARKit face code (``AppleARKitFaceSupportUtils.h``,
``ToBlendShapeMap``) sends ``FRotator`` yaw/pitch/roll of the ARKit transforms (converted
to Unreal's left-handed Z-up space by ``FAppleARKitConversion::ToFTransform``) divided by
180, and in the default, face-relative mode (``EARFaceTrackingDirection::FaceRelative``:
"right eye is the mesh's right eye", the mode in which Left is the performer's own left)
negates yaw and roll. Worked through for a face looking at the camera, that is
`POSE_SIGN` times our angles / 180:

    HeadYaw   > 0: head turned toward the performer's own left   (our yaw, same sign)
    HeadPitch > 0: chin down                                      (our pitch, negated)
    HeadRoll  > 0: head tilted toward the performer's right shoulder (our roll, negated)
    eye yaw/pitch/roll: the same signs as the head, per eye.

VRCFaceTracking's LiveLink module (``ArKitPacketReader.cs``) agrees on pitch (gaze y =
-EyePitch, head pitch = -HeadPitch) and negates head yaw and roll into its own convention,
but reads eye yaw unchanged as gaze x (+ = right): through that module gaze lands mirrored.
That is the module's quirk; Unreal is the spec.

Unreal's receiver drops packets whose count is not 61. Frame numbers strictly increase and
subframes stay in [0, 1) (`take_text.frame_time`); a replayed take's frames carry its own
timecode (`sources.replay`), so the numbers continue it.

Defaults that every known receiver accepts: a 36-character device id (the app sends a
UUID; ``pylivelinkface`` decodes at fixed offsets that assume it) and a 6-character subject
name (VRCFaceTracking's Live Link module accepts only 312-byte packets:
1 + 4 + 36 + 4 + 6 + 16 + 1 + 244 = 312).

Hot-path rule: the header is built once; a frame is one fancy-index gather, one struct pack
and one numpy cast.
"""

from __future__ import annotations

import math
import struct
import uuid
from fractions import Fraction

import numpy as np

from ..frame import Frame
from ..shapes import ARKIT_NAMES, N_SHAPES, POSE_NAMES, pascal
from .take_text import frame_time

__all__ = [
    "DEFAULT_DEVICE_ID",
    "DEFAULT_SUBJECT",
    "N_VALUES",
    "PACKET_NAMES",
    "PACKET_ORDER",
    "PACKET_VERSION",
    "POSE_SIGN",
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

#: Unreal's EARFaceBlendShape, value i of a packet (sources in the module docstring).
PACKET_NAMES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft",
    "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight",
    "JawForward", "JawLeft", "JawRight", "JawOpen",
    "MouthClose", "MouthFunnel", "MouthPucker", "MouthLeft", "MouthRight",
    "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
    "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight",
    "MouthUpperUpLeft", "MouthUpperUpRight",
    "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
    "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight",
    "TongueOut",
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip
_CANONICAL = {pascal(n): i for i, n in enumerate(ARKIT_NAMES + POSE_NAMES)}
#: ``packet[i] = channels[PACKET_ORDER[i]]`` (channels: 52 shapes then the 9 angles).
PACKET_ORDER = np.array([_CANONICAL[n] for n in PACKET_NAMES], dtype=np.intp)
#: Live Link value = POSE_SIGN * our degrees / 180, per POSE_NAMES (see the docstring).
POSE_SIGN = np.array([1.0, -1.0, -1.0] * 3)


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
        self._pose_factor = POSE_SIGN / 180.0
        self._last_number: int | None = None

    def frame_time(self, timestamp: float) -> tuple[int, float]:
        """Frame number and subframe in [0, 1) of a source timestamp at this frame rate."""
        return frame_time(timestamp, self.fps_num, self.fps_den)

    def next_frame_time(self, timestamp: float) -> tuple[int, float]:
        """`frame_time`, but never the same number twice: a source faster than the rate
        (or a timestamp that does not advance) gets the next frame, subframe 0."""
        number, sub = self.frame_time(timestamp)
        last = self._last_number
        if last is not None and number <= last:
            number, sub = last + 1, 0.0
        self._last_number = number
        return number, sub

    def encode(self, frame: Frame) -> bytes:
        """The packet for one frame; the only state is the last frame number sent."""
        v = self._values
        shapes = v[:N_SHAPES]
        np.maximum(frame.weights, 0.0, out=shapes)
        np.minimum(shapes, 1.0, out=shapes)
        shapes[frame.unavailable] = 0.0
        pose = v[N_SHAPES:]
        np.multiply(frame.pose, self._pose_factor, out=pose)
        pose += 0.0  # -0.0 (a zero angle times a negative sign) goes out as 0.0
        number, sub = self.next_frame_time(frame.timestamp)
        return (
            self._head
            + _TIME.pack(number, sub, self.fps_num, self.fps_den, N_VALUES)
            + v[PACKET_ORDER].astype(">f4").tobytes()
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
