"""Channels beyond the model's: the genuine (Duchenne) smile and expression gain.

genuineSmile: people judge a smile as felt when the mouth smiles and the cheeks rise and
the eyes narrow with it (Duchenne marker, AU6 + AU12). Per side: mouthSmile times the eye
evidence (mean of cheekSquint and eyeSquint) with 0.4 counting as full, then the mean of
both sides. A polite mouth-only smile stays low.

Expression gain: one factor per `shapes.GROUPS` group (exaggerate > 1, soften < 1),
applied as a per-channel multiply and clip.
"""

from __future__ import annotations

import numpy as np

from ..shapes import ARKIT_NAMES, INDEX
from ._scalar import clip

__all__ = ["DUCHENNE_FULL", "PAIR_LEFT", "PAIR_RIGHT", "genuine_smile", "symmetrize"]

#: Eye evidence (mean of cheekSquint and eyeSquint) that counts as a full Duchenne marker.
DUCHENNE_FULL = 0.4
_DUCHENNE = np.array(
    [
        INDEX[n]
        for n in (
            "mouthSmileLeft", "cheekSquintLeft", "eyeSquintLeft",
            "mouthSmileRight", "cheekSquintRight", "eyeSquintRight",
        )
    ],
    dtype=np.intp,
)  # fmt: skip


def genuine_smile(weights: np.ndarray) -> float:
    """Duchenne smile 0..1 from calibrated weights (one gather; floats after that)."""
    smile_l, cheek_l, squint_l, smile_r, cheek_r, squint_r = weights[_DUCHENNE].tolist()
    left = smile_l * clip(0.5 * (cheek_l + squint_l) / DUCHENNE_FULL, 0.0, 1.0)
    right = smile_r * clip(0.5 * (cheek_r + squint_r) / DUCHENNE_FULL, 0.0, 1.0)
    return (left + right) / 2


_PAIRS = [
    (INDEX[n], INDEX[n[:-4] + "Right"])
    for n in ARKIT_NAMES
    if n.endswith("Left") and not n.startswith(("eyeBlink", "eyeLook", "jaw", "mouthLeft"))
]
#: Left and Right indices of the side pairs `symmetrize` treats (not blinks, gaze, or the
#: directional pairs jawLeft/jawRight and mouthLeft/mouthRight).
PAIR_LEFT = np.array([a for a, _ in _PAIRS], dtype=np.intp)
PAIR_RIGHT = np.array([b for _, b in _PAIRS], dtype=np.intp)


def symmetrize(weights: np.ndarray, dead: float) -> None:
    """Shrink each side pair's Left-Right difference by `dead`, keeping their mean (in place).

    The model reads some shapes higher on one side whichever way the face is turned
    (mouthLowerDownRight by ~0.17 on single_face.mp4): differences below `dead` are
    treated as that bias, larger ones (a smirk, a raised brow) survive, reduced by `dead`.
    """
    left, right = weights[PAIR_LEFT], weights[PAIR_RIGHT]
    mean = np.add(left, right)
    mean *= 0.5
    half = np.subtract(left, right)
    # diff - clip(diff, -dead, dead) is sign(diff) * max(|diff| - dead, 0), in 2 calls not 4.
    np.subtract(half, np.clip(half, -dead, dead, out=left), out=half)
    half *= 0.5
    weights[PAIR_LEFT] = np.add(mean, half, out=left)
    weights[PAIR_RIGHT] = np.subtract(mean, half, out=right)
