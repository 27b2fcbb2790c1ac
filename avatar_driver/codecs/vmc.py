"""VMC protocol (OSC over UDP) frames: blendshapes, Apply, the head bone, time and status.

Per frame, in this order: one ``/VMC/Ext/Blend/Val (s name, f value)`` per parameter, one
``/VMC/Ext/Blend/Apply``, ``/VMC/Ext/Bone/Pos (s "Head", f px, py, pz, qx, qy, qz, qw)``
(local position and rotation in Unity's space, see `codecs.rotation`), ``/VMC/Ext/T
(f seconds)`` on the source clock and ``/VMC/Ext/OK (i loaded, i calibState, i calibMode,
i trackingStatus)``.

Hot-path rule: a `VmcPacker` is built once per name list. Every argument has a fixed size,
so the whole frame is a byte template; each frame scatters the new floats into it (one
numpy assignment) and slices it into bundles. Bundles stay under `MAX_DATAGRAM`; Apply,
the bone, T and OK always travel in the last one, so a receiver that reads T finds it in
the datagram that carries the Apply.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from ..frame import Frame
from .osc import MAX_DATAGRAM, osc_string
from .rotation import unity_quaternion

__all__ = [
    "ADDR_APPLY",
    "ADDR_BONE",
    "ADDR_OK",
    "ADDR_TIME",
    "ADDR_VAL",
    "VmcPacker",
    "encode_vmc",
]

ADDR_VAL = "/VMC/Ext/Blend/Val"
ADDR_APPLY = "/VMC/Ext/Blend/Apply"
ADDR_BONE = "/VMC/Ext/Bone/Pos"
ADDR_TIME = "/VMC/Ext/T"
ADDR_OK = "/VMC/Ext/OK"
_BUNDLE_HEAD = b"#bundle\x00" + b"\x00" * 7 + b"\x01"  # time tag 1 = "immediately"

#: /VMC/Ext/OK: model loaded, calibration state 3 (calibrated), mode 0 (normal).
_LOADED, _CALIBRATED, _NORMAL_MODE = 1, 3, 0


def _element(address: str, args: Sequence[str | type]) -> tuple[bytes, list[int], list[int]]:
    """One bundle element (size prefix included) with zeroed number slots.

    ``args`` holds fixed strings and the types ``float`` / ``int`` as placeholders; returns
    the bytes and the byte offsets of the float and int slots.
    """
    tags = "," + "".join("s" if isinstance(a, str) else ("f" if a is float else "i") for a in args)
    body = bytearray(osc_string(address) + osc_string(tags))
    f_slots: list[int] = []
    i_slots: list[int] = []
    for a in args:
        if isinstance(a, str):
            body += osc_string(a)
        else:
            (f_slots if a is float else i_slots).append(len(body) + 4)
            body += b"\x00" * 4
    return struct.pack(">i", len(body)) + bytes(body), f_slots, i_slots


class VmcPacker:
    """Encodes frames as VMC bundles for a fixed list of blendshape names."""

    def __init__(
        self, names: Sequence[str], *, bone: str = "Head", max_size: int = MAX_DATAGRAM
    ) -> None:
        self.names = tuple(names)
        self.bone = bone
        self.max_size = max_size
        room = max_size - len(_BUNDLE_HEAD)
        elements = [_element(ADDR_VAL, (n, float)) for n in self.names]
        tail = [
            _element(ADDR_APPLY, ()),
            _element(ADDR_BONE, (bone, float, float, float, float, float, float, float)),
            _element(ADDR_TIME, (float,)),
            _element(ADDR_OK, (int, int, int, int)),
        ]
        tail_size = sum(len(e[0]) for e in tail)
        if tail_size > room or any(len(e[0]) > room for e in elements):
            raise ValueError("a VMC message is too long to fit in one datagram")
        # Bundles: runs of Val elements; the last one also carries the tail.
        bounds: list[int] = []
        size = 0
        for k, (raw, _, _) in enumerate(elements):
            if size + len(raw) > room:
                bounds.append(k)
                size = 0
            size += len(raw)
        if size + tail_size > room and elements:
            bounds.append(len(elements))
        template = bytearray()
        f_slots: list[int] = []
        i_slots: list[int] = []
        starts: list[int] = []
        for raw, fs, is_ in elements + tail:
            starts.append(len(template))
            f_slots += [len(template) + s for s in fs]
            i_slots += [len(template) + s for s in is_]
            template += raw
        cuts = [0, *(starts[b] for b in bounds), len(template)]
        self._chunks = [(cuts[k], cuts[k + 1]) for k in range(len(cuts) - 1)]
        self._template = np.frombuffer(bytes(template), dtype=np.uint8).copy()
        self._f_spread = np.asarray(f_slots, dtype=np.intp)[:, None] + np.arange(4)
        ints = np.array([_LOADED, _CALIBRATED, _NORMAL_MODE, 0], dtype=">i4")
        self._template[np.asarray(i_slots, dtype=np.intp)[:, None] + np.arange(4)] = ints.view(
            np.uint8
        ).reshape(-1, 4)
        self._tracking_byte = i_slots[3] + 3  # low byte of the big-endian trackingStatus
        self._floats = np.zeros(len(self.names) + 8, dtype=np.float64)

    def pack(
        self,
        values: np.ndarray,
        *,
        position: Sequence[float] = (0.0, 0.0, 0.0),
        rotation: Sequence[float] = (0.0, 0.0, 0.0, 1.0),
        time: float = 0.0,
        tracking: bool = True,
    ) -> list[bytes]:
        """Datagrams for one frame: values in name order, the bone's position and (x, y, z, w)."""
        n = len(self.names)
        f = self._floats
        f[:n] = values
        f[n : n + 3] = position
        f[n + 3 : n + 7] = rotation
        f[n + 7] = time
        tpl = self._template
        tpl[self._f_spread] = f.astype(">f4").view(np.uint8).reshape(-1, 4)
        tpl[self._tracking_byte] = 1 if tracking else 0
        raw = tpl.tobytes()
        return [_BUNDLE_HEAD + raw[a:b] for a, b in self._chunks]

    def encode(self, frame: Frame, values: np.ndarray) -> list[bytes]:
        """A frame's datagrams: mapped values, head rotation from its pose, its timestamp."""
        yaw, pitch, roll = (float(v) for v in frame.pose[:3])
        return self.pack(
            values,
            rotation=unity_quaternion(yaw, pitch, roll),
            time=frame.timestamp,
            tracking=frame.face_present,
        )


def encode_vmc(frame: Frame, names: Sequence[str], values: np.ndarray) -> list[bytes]:
    """Pure convenience form of `VmcPacker.encode` (builds the template each call)."""
    return VmcPacker(names).encode(frame, values)
