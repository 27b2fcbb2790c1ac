"""The 52 ARKit shape names and the 9 pose channels, in Live Link Face order.

The one copy for the add-on and the tool: an extension must be self-contained, so the
file lives here and `avatar_driver/arkit_names.py` is a symlink to it (stdlib only).
"""

from __future__ import annotations

#: lowerCamel, in the order Live Link Face packets and CSV takes use.
ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawRight", "jawLeft", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthRight", "mouthLeft",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)  # fmt: skip

#: Head then eye rotations, in Live Link Face order (after the 52 shapes).
POSE_NAMES: tuple[str, ...] = (
    "headYaw", "headPitch", "headRoll",
    "leftEyeYaw", "leftEyePitch", "leftEyeRoll",
    "rightEyeYaw", "rightEyePitch", "rightEyeRoll",
)  # fmt: skip

N_SHAPES = len(ARKIT_NAMES)
N_CHANNELS = N_SHAPES + len(POSE_NAMES)


def pascal(name: str) -> str:
    """Live Link Face / perfect-sync spelling: ``eyeBlinkLeft`` -> ``EyeBlinkLeft``."""
    return name[:1].upper() + name[1:]
