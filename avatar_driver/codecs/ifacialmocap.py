"""iFacialMocap's text frames, as the iPhone app streams them (docs/outputs.md has sources).

``name&value|...|=head#rx,ry,rz,px,py,pz|rightEye#rx,ry,rz|leftEye#rx,ry,rz|``:

- Values are integers 0..100. Version 2 (``&`` between name and value) is what the app
  sends to receivers that ask with ``...|sendDataVersion=v2`` (VRCFaceTracking, VSeeFace-era
  receivers, talking-head-anime); version 1 uses ``-``. Both are sent here by name.
- Names are ARKit's with ``_L``/``_R`` (``eyeBlink_L``); ``jawLeft``/``mouthLeft`` keep
  their names. The app passes ARKit's own labels through, and ARKit labels sides as seen
  in a mirror: ``eyeBlink_L`` is the performer's *right* eye, ``jawLeft`` a jaw moved to
  the performer's right (VRCFaceTracking's module: "iFacialMocap mirrors R/L"; Unreal's
  ARKit code swaps the same pairs to get face-relative sides). So our performer-left
  shapes go out under the ``_R`` / ``...Right`` names.
- The first item of a frame is ``tongueOut``: the app's order is arbitrary, and
  VRCFaceTracking's parser skips the first item (``Split('|')[1..^1]``); tongueOut is
  never measured here (always 0), so nothing is lost.
- The head and eye rotations are Unity Euler angles in degrees for an avatar that copies
  the performer (`codecs.rotation`); ``leftEye`` is the performer's left eye, which is
  how VRCFaceTracking reads it. The head position is in metres, camera space.
"""

from __future__ import annotations

import numpy as np

from ..frame import Frame
from ..shapes import ARKIT_NAMES, INDEX, N_SHAPES
from .rotation import unity_euler

__all__ = ["FIRST_ITEM", "IFM_NAMES", "TCP_FRAME_END", "encode_ifacialmocap", "ifm_name"]

_DIRECTIONS = {"jawLeft", "jawRight", "mouthLeft", "mouthRight"}
_MIRROR = {"Left": "Right", "Right": "Left"}
#: Sent first, where a receiver that skips the first item loses nothing.
FIRST_ITEM = "tongueOut"
#: TCP mode (the app connects to the PC's port 49986) ends every frame with this.
TCP_FRAME_END = "___iFacialMocap"


def ifm_name(name: str) -> str:
    """The app's label for one of our shapes: the mirror side, ``_L``/``_R`` spelling.

    ``eyeBlinkLeft`` (the performer's left eye) -> ``eyeBlink_R``; ``jawLeft`` ->
    ``jawRight``.
    """
    for side, other in _MIRROR.items():
        if name.endswith(side):
            stem = name[: -len(side)]
            if name in _DIRECTIONS:
                return stem + other
            return stem + ("_L" if other == "Left" else "_R")
    return name


#: The app's name of each canonical shape (index = `shapes.ARKIT_NAMES` index).
IFM_NAMES: tuple[str, ...] = tuple(ifm_name(n) for n in ARKIT_NAMES)
_ORDER = [INDEX[FIRST_ITEM]] + [i for i in range(N_SHAPES) if ARKIT_NAMES[i] != FIRST_ITEM]
_POSE_FORMAT = "=head#%.4f,%.4f,%.4f,%.4f,%.4f,%.4f|rightEye#%.4f,%.4f,%.4f|leftEye#%.4f,%.4f,%.4f|"
_FORMATS = {
    version: "".join(f"{IFM_NAMES[i]}{sep}%d|" for i in _ORDER)
    for version, sep in ((1, "-"), (2, "&"))
}


def encode_ifacialmocap(frame: Frame, *, version: int = 2) -> bytes:
    """One frame as an iFacialMocap datagram (ASCII), protocol version 1 or 2."""
    fmt = _FORMATS.get(version)
    if fmt is None:
        raise ValueError(f"iFacialMocap version must be 1 or 2, got {version}")
    w = np.where(frame.unavailable, 0.0, np.clip(frame.weights, 0.0, 1.0))
    ints = np.rint(w * 100.0).astype(np.int64)[_ORDER].tolist()
    p = [float(v) for v in frame.pose]
    head = unity_euler(p[0], p[1], p[2])
    left = unity_euler(p[3], p[4], p[5])
    right = unity_euler(p[6], p[7], p[8])
    pos = [float(v) / 100.0 for v in frame.translation]  # cm -> m
    text = fmt % tuple(ints) + _POSE_FORMAT % (*head, *pos, *right, *left)
    return text.replace("-0.0000", "0.0000").encode("ascii")
