"""Ports of the receivers' own parsing, so tests read our wire the way they do.

Nothing here imports our codecs. Each port names its upstream file; comments say where
a port simplifies (it never changes what is read or which side it lands on).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

#: Unreal's ``EARFaceBlendShape`` (Engine/Source/Runtime/AugmentedReality/Public/
#: ARTrackable.h), typed out from the header: value i of a Live Link Face packet.
EAR_FACE_BLEND_SHAPE = [
    "EyeBlinkLeft",
    "EyeLookDownLeft",
    "EyeLookInLeft",
    "EyeLookOutLeft",
    "EyeLookUpLeft",
    "EyeSquintLeft",
    "EyeWideLeft",
    "EyeBlinkRight",
    "EyeLookDownRight",
    "EyeLookInRight",
    "EyeLookOutRight",
    "EyeLookUpRight",
    "EyeSquintRight",
    "EyeWideRight",
    "JawForward",
    "JawLeft",
    "JawRight",
    "JawOpen",
    "MouthClose",
    "MouthFunnel",
    "MouthPucker",
    "MouthLeft",
    "MouthRight",
    "MouthSmileLeft",
    "MouthSmileRight",
    "MouthFrownLeft",
    "MouthFrownRight",
    "MouthDimpleLeft",
    "MouthDimpleRight",
    "MouthStretchLeft",
    "MouthStretchRight",
    "MouthRollLower",
    "MouthRollUpper",
    "MouthShrugLower",
    "MouthShrugUpper",
    "MouthPressLeft",
    "MouthPressRight",
    "MouthLowerDownLeft",
    "MouthLowerDownRight",
    "MouthUpperUpLeft",
    "MouthUpperUpRight",
    "BrowDownLeft",
    "BrowDownRight",
    "BrowInnerUp",
    "BrowOuterUpLeft",
    "BrowOuterUpRight",
    "CheekPuff",
    "CheekSquintLeft",
    "CheekSquintRight",
    "NoseSneerLeft",
    "NoseSneerRight",
    "TongueOut",
    "HeadYaw",
    "HeadPitch",
    "HeadRoll",
    "LeftEyeYaw",
    "LeftEyePitch",
    "LeftEyeRoll",
    "RightEyeYaw",
    "RightEyePitch",
    "RightEyeRoll",
]


@dataclass
class UnrealFrame:
    subject: str
    frame: int
    subframe: float
    fps: tuple[int, int]
    curves: dict[str, float]


def unreal_livelink(data: bytes) -> UnrealFrame:
    """Unreal's Live Link Face listener reads the lengths, then 61 values by enum."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        assert pos + n <= len(data), "truncated"
        chunk = data[pos : pos + n]
        pos += n
        return chunk

    assert take(1)[0] == 6
    texts = []
    for _ in range(2):
        (n,) = struct.unpack(">i", take(4))
        texts.append(take(n).decode())
    frame, sub, num, den = struct.unpack(">ifii", take(16))
    count = take(1)[0]
    assert count == 61, "Unreal drops packets whose count is not 61"
    values = struct.unpack(">61f", take(244))
    assert pos == len(data)
    return UnrealFrame(
        texts[1], frame, sub, (num, den), dict(zip(EAR_FACE_BLEND_SHAPE, values, strict=False))
    )


@dataclass
class Unified:
    """The part of VRCFaceTracking's UnifiedTrackingData the probes look at."""

    shapes: dict[str, float] = field(default_factory=dict)
    left_openness: float = 1.0
    right_openness: float = 1.0
    left_gaze_x: float = 0.0  # VRCFT: + is to the right
    right_gaze_x: float = 0.0
    head_yaw: float = 0.0


def vrcft_livelink(data: bytes) -> Unified | None:
    """Port of VRCFaceTracking/LiveLinkTrackingModule
    ``VRCFT-LiveLink/CaptureModes/ARKit/ArKitPacketReader.cs`` (Parse, UpdateEyeData,
    UpdateMouthExpressions, UpdateHeadData) with ``ArKitShapes.cs`` and
    ``TrackingStructs.cs`` (ProcessData): only 312-byte packets, the last 244 bytes as 61
    big-endian floats named by the ArKitShapes enum."""
    if len(data) != 312:  # CanRead
        return None
    names = [*EAR_FACE_BLEND_SHAPE[:55], "EyeYawLeft", "EyePitchLeft", "EyeRollLeft",
             "EyeYawRight", "EyePitchRight", "EyeRollRight"]  # fmt: skip
    v = dict(zip(names, struct.unpack(">61f", data[-244:]), strict=False))
    u = Unified()
    for side in ("Left", "Right"):
        blink, squint = v[f"EyeBlink{side}"], v[f"EyeSquint{side}"]
        openness = 1.0 - max(0.0, min(1.0, blink + blink * squint))
        if side == "Left":
            u.left_openness, u.left_gaze_x = openness, v["EyeYawLeft"]
        else:
            u.right_openness, u.right_gaze_x = openness, v["EyeYawRight"]
    u.shapes["JawLeft"], u.shapes["JawRight"] = v["JawLeft"], v["JawRight"]
    u.shapes["MouthUpperLeft"] = u.shapes["MouthLowerLeft"] = v["MouthLeft"]
    u.shapes["MouthUpperRight"] = u.shapes["MouthLowerRight"] = v["MouthRight"]
    u.shapes["MouthCornerPullLeft"] = v["MouthSmileLeft"]
    u.shapes["MouthCornerPullRight"] = v["MouthSmileRight"]
    u.head_yaw = -v["HeadYaw"]
    return u


def vrcft_ifacialmocap(datagram: bytes) -> Unified:
    """Port of VRCFaceTracking/VRC_iFacialMocap ``src/iFacialMocapServer.cs`` (ReadData,
    HandleChange) and ``src/iFacialMocapTrackingInterface.cs`` (UpdateEyeData,
    UpdateMouthData, UpdateHeadData)."""
    blends: dict[str, int] = {}
    head = [0.0] * 6
    left_eye = [0.0] * 3
    right_eye = [0.0] * 3
    for item in datagram.decode("ascii").split("|")[1:-1]:  # the first item is skipped
        if "#" in item:
            key, _, raw = item.partition("#")
            values = [float(x) for x in raw.split(",")]
            if key == "=head" and len(values) == 6:
                head = values
            elif key == "rightEye" and len(values) == 3:
                right_eye = values
            elif key == "leftEye" and len(values) == 3:
                left_eye = values
        elif "-" in item or "&" in item:
            sep = "&" if "&" in item else "-"
            key, value = item.split(sep)
            blends[key] = int(value)

    def blend(name: str) -> float:
        return blends.get(name, 0) / 100.0

    u = Unified()
    u.left_gaze_x = math.tan(left_eye[1] / 90.0)
    u.right_gaze_x = math.tan(right_eye[1] / 90.0)
    # "iFacialMocap output by default (from ARKit) mirrors R/L"
    u.left_openness = 1.0 - max(0.0, min(1.0, blend("eyeBlink_R") * (1 + blend("eyeSquint_R"))))
    u.right_openness = 1.0 - max(0.0, min(1.0, blend("eyeBlink_L") * (1 + blend("eyeSquint_L"))))
    u.shapes["JawLeft"], u.shapes["JawRight"] = blend("jawRight"), blend("jawLeft")
    u.shapes["MouthUpperLeft"] = u.shapes["MouthLowerLeft"] = blend("mouthRight")
    u.shapes["MouthUpperRight"] = u.shapes["MouthLowerRight"] = blend("mouthLeft")
    u.shapes["MouthCornerPullLeft"] = blend("mouthSmile_R")
    u.shapes["MouthCornerPullRight"] = blend("mouthSmile_L")
    u.head_yaw = head[1] / 100.0
    return u


def csv_rows_by_frame(text: str) -> dict[str, dict[str, float]]:
    """An importer's view of a take: rows keyed by HH:MM:SS:FF, columns by header name."""
    lines = text.splitlines()
    header = lines[0].split(",")
    rows: dict[str, dict[str, float]] = {}
    for line in lines[1:]:
        cells = line.split(",")
        key = cells[0].split(".")[0]
        assert key not in rows, f"frame {key} appears twice"
        rows[key] = {name: float(v) for name, v in zip(header[2:], cells[2:], strict=True)}
    return rows
