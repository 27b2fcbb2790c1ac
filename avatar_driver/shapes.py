"""Channel names and orders: the one canonical order every stage shares.

The canonical order is ARKit's as Live Link Face sends it (see docs/protocols), so the
Live Link and CSV codecs need no reordering. Names are lowerCamel; helpers give the
PascalCase (perfect-sync) spelling.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# The names and `pascal` live in one stdlib-only file shared with the Blender add-on
# (a symlink to blender_addon/core/arkit.py): 52 shapes and 9 pose channels, Live Link order.
from .arkit_names import ARKIT_NAMES, POSE_NAMES, pascal

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

N_SHAPES = len(ARKIT_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_NAMES)}


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
