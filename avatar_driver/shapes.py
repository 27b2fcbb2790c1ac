"""Channel names and orders: the one canonical order every stage shares.

The canonical order is ARKit's as Live Link Face sends it (see docs/protocols), so the
Live Link and CSV codecs need no reordering. Names are lowerCamel; helpers give the
PascalCase (perfect-sync) spelling.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "ARKIT_NAMES",
    "CHANNEL_NAMES",
    "EXTRA_NAMES",
    "GROUPS",
    "INDEX",
    "MEDIAPIPE_TO_CANONICAL",
    "N_SHAPES",
    "POSE_NAMES",
    "UNAVAILABLE",
    "group_gain",
    "pascal",
    "swap_lr_index",
]

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
N_SHAPES = len(ARKIT_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_NAMES)}

#: Head pose (degrees) and eye rotations (degrees) in Live Link Face's order.
POSE_NAMES: tuple[str, ...] = (
    "headYaw", "headPitch", "headRoll",
    "leftEyeYaw", "leftEyePitch", "leftEyeRoll",
    "rightEyeYaw", "rightEyePitch", "rightEyeRoll",
)  # fmt: skip

#: Channels beyond ARKit that the solver may fill (0 when it does not).
EXTRA_NAMES: tuple[str, ...] = ("genuineSmile", "microExpression", "faceVisible", "eyesVisible")

#: Everything a mapping file can read: shapes, then pose, then extras.
CHANNEL_NAMES: tuple[str, ...] = ARKIT_NAMES + POSE_NAMES + EXTRA_NAMES

#: Channel groups for per-group settings (dynamics, expression gain).
GROUPS: dict[str, tuple[str, ...]] = {
    "eyes": tuple(n for n in ARKIT_NAMES if n.startswith("eye")),
    "brows": tuple(n for n in ARKIT_NAMES if n.startswith("brow")),
    "cheeks_nose": tuple(n for n in ARKIT_NAMES if n.startswith(("cheek", "nose"))),
    "jaw": tuple(n for n in ARKIT_NAMES if n.startswith("jaw")),
    "mouth": tuple(n for n in ARKIT_NAMES if n.startswith(("mouth", "tongue"))),
}


def group_gain(groups: Mapping[str, float], total: float = 1.0) -> np.ndarray | None:
    """Per-shape expression gain: `total` times each group's factor (solver and mapping
    both read gain this way); None when every shape's gain is 1."""
    gain = np.full(N_SHAPES, total)
    for group, g in groups.items():
        for name in GROUPS[group]:
            gain[INDEX[name]] *= g
    return None if np.all(gain == 1.0) else gain


#: MediaPipe's 52 categories: `_neutral`, then the 51 ARKit shapes alphabetically
#: (no tongueOut). ``MEDIAPIPE_TO_CANONICAL[k]`` is the canonical index of category k+1.
_MP_NAMES = sorted(n for n in ARKIT_NAMES if n != "tongueOut")
MEDIAPIPE_TO_CANONICAL = np.array([INDEX[n] for n in _MP_NAMES], dtype=np.intp)

#: Shapes no tracker here measures: always 0 and flagged unavailable.
UNAVAILABLE = np.zeros(N_SHAPES, dtype=bool)
UNAVAILABLE[INDEX["tongueOut"]] = True


def pascal(name: str) -> str:
    """Perfect-sync spelling: ``eyeBlinkLeft`` -> ``EyeBlinkLeft``."""
    return name[:1].upper() + name[1:]


def _swap_name(name: str) -> str:
    if name.endswith("Left"):
        return name[:-4] + "Right"
    if name.endswith("Right"):
        return name[:-5] + "Left"
    return name


def swap_lr_index() -> np.ndarray:
    """Permutation that swaps each Left shape with its Right twin (for mirror tests).

    jawLeft/jawRight and mouthLeft/mouthRight swap too: a mirrored face moves the
    other way.
    """
    return np.array([INDEX[_swap_name(n)] for n in ARKIT_NAMES], dtype=np.intp)
