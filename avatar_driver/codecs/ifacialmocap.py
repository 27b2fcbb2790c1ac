"""iFacialMocap's text frames (the iPhone app's UDP stream, protocol v1).

``name-value|...|=head#rx,ry,rz,px,py,pz|rightEye#rx,ry,rz|leftEye#rx,ry,rz|`` with
values as integers 0..100, names in ARKit spelling with ``_L``/``_R`` for the sided shapes
(``eyeBlink_L``; ``jawLeft``/``mouthLeft`` are directions and keep their names), the head
and eye rotations as Unity Euler angles in degrees (receivers pass them to
``Quaternion.Euler``; see `codecs.rotation`) and the head position in metres, camera
space. v1 uses ``-`` between name and value, so values are never negative.
"""

from __future__ import annotations

import numpy as np

from ..frame import Frame
from ..shapes import ARKIT_NAMES, N_SHAPES
from .rotation import unity_euler

__all__ = ["IFM_NAMES", "encode_ifacialmocap", "ifm_name"]

_DIRECTIONS = {"jawLeft", "jawRight", "mouthLeft", "mouthRight"}


def ifm_name(name: str) -> str:
    """iFacialMocap spelling of an ARKit name: ``eyeBlinkLeft`` -> ``eyeBlink_L``."""
    if name in _DIRECTIONS:
        return name
    if name.endswith("Left"):
        return name[:-4] + "_L"
    if name.endswith("Right"):
        return name[:-5] + "_R"
    return name


IFM_NAMES: tuple[str, ...] = tuple(ifm_name(n) for n in ARKIT_NAMES)
_SHAPES_FORMAT = "".join(f"{n}-%d|" for n in IFM_NAMES)
_POSE_FORMAT = "=head#%.4f,%.4f,%.4f,%.4f,%.4f,%.4f|rightEye#%.4f,%.4f,%.4f|leftEye#%.4f,%.4f,%.4f|"


def encode_ifacialmocap(frame: Frame) -> bytes:
    """One frame as an iFacialMocap v1 datagram (ASCII)."""
    w = np.where(frame.unavailable, 0.0, np.clip(frame.weights, 0.0, 1.0))
    ints = np.rint(w * 100.0).astype(np.int64).tolist()
    p = [float(v) for v in frame.pose]
    head = unity_euler(p[0], p[1], p[2])
    left = unity_euler(p[3], p[4], p[5])
    right = unity_euler(p[6], p[7], p[8])
    pos = [float(v) / 100.0 for v in frame.translation]  # cm -> m
    text = _SHAPES_FORMAT % tuple(ints[:N_SHAPES]) + _POSE_FORMAT % (
        *head,
        *pos,
        *right,
        *left,
    )
    return text.replace("-0.0000", "0.0000").encode("ascii")
