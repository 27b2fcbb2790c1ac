"""VMC protocol (OSC over UDP) frames: blendshapes, Apply, head and eye bones, time, status.

Per frame, in this order: one ``/VMC/Ext/Blend/Val (s name, f value)`` per parameter, one
``/VMC/Ext/Blend/Apply``, ``/VMC/Ext/Bone/Pos (s bone, f px, py, pz, qx, qy, qz, qw)``
for ``Head``, ``LeftEye`` and ``RightEye`` (local position in metres and local rotation
in Unity's left-handed space, the avatar facing +z with its left at -x: see
`codecs.rotation`), ``/VMC/Ext/T (f seconds)`` on the source clock and ``/VMC/Ext/OK
(i loaded, i calibState, i calibMode, i trackingStatus)``.

Bone positions are not optional on the wire, and EVMC4U (``BonePositionSynchronize``,
on by default since v2.6) applies them: (0, 0, 0) puts the head inside the neck. We send
a plausible adult humanoid's local offsets (`HEAD_POSITION`, `EYE_POSITIONS`; the head
joint ~8 cm above the neck joint, the eyes ~3.2 cm either side, ~6.5 cm up and ~6 cm in
front of the head joint), settable with ``--vmc-head-position``. Eye rotations come from
the gaze angles, so VRM avatars without look blendshape clips still look around.
``/VMC/Ext/Root/Pos`` is not sent: a face-only sender has no root motion, and a fixed
root would override where the receiver placed the avatar.

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
    "BONES",
    "EYE_POSITIONS",
    "HEAD_POSITION",
    "VmcPacker",
    "encode_vmc",
]

ADDR_VAL = "/VMC/Ext/Blend/Val"
ADDR_APPLY = "/VMC/Ext/Blend/Apply"
ADDR_BONE = "/VMC/Ext/Bone/Pos"
ADDR_TIME = "/VMC/Ext/T"
ADDR_OK = "/VMC/Ext/OK"
_BUNDLE_HEAD = b"#bundle\x00" + b"\x00" * 7 + b"\x01"  # time tag 1 = "immediately"

#: Bones sent each frame, in order.
BONES: tuple[str, ...] = ("Head", "LeftEye", "RightEye")
#: Local position of the Head bone (metres, Unity axes, relative to the Neck).
HEAD_POSITION: tuple[float, float, float] = (0.0, 0.08, 0.0)
#: Local positions of the eye bones (metres, relative to the Head; avatar's left is -x).
EYE_POSITIONS: tuple[tuple[float, float, float], tuple[float, float, float]] = (
    (-0.032, 0.065, 0.06),
    (0.032, 0.065, 0.06),
)
_IDENTITY = (0.0, 0.0, 0.0, 1.0)

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
        self,
        names: Sequence[str],
        *,
        head_position: Sequence[float] = HEAD_POSITION,
        eye_positions: Sequence[Sequence[float]] = EYE_POSITIONS,
        max_size: int = MAX_DATAGRAM,
    ) -> None:
        self.names = tuple(names)
        self.bones = BONES
        self.max_size = max_size
        self.positions = [tuple(map(float, head_position))] + [
            tuple(map(float, p)) for p in eye_positions
        ]
        if len(self.positions) != len(BONES) or any(len(p) != 3 for p in self.positions):
            raise ValueError("bone positions must be three (x, y, z) triples")
        room = max_size - len(_BUNDLE_HEAD)
        elements = [_element(ADDR_VAL, (n, float)) for n in self.names]
        tail = [
            _element(ADDR_APPLY, ()),
            *(_element(ADDR_BONE, (b, *(float,) * 7)) for b in BONES),
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
        self._floats = np.zeros(len(self.names) + 7 * len(BONES) + 1, dtype=np.float64)
        n = len(self.names)
        for k, pos in enumerate(self.positions):
            self._floats[n + 7 * k : n + 7 * k + 3] = pos

    def pack(
        self,
        values: np.ndarray,
        *,
        rotations: Sequence[Sequence[float]] = (_IDENTITY,) * 3,
        time: float = 0.0,
        tracking: bool = True,
    ) -> list[bytes]:
        """Datagrams for one frame: values in name order and the (x, y, z, w) local
        rotations of Head, LeftEye and RightEye (positions are fixed per packer)."""
        n = len(self.names)
        f = self._floats
        f[:n] = values
        for k, rot in enumerate(rotations):
            f[n + 7 * k + 3 : n + 7 * k + 7] = rot
        f[-1] = time
        tpl = self._template
        tpl[self._f_spread] = f.astype(">f4").view(np.uint8).reshape(-1, 4)
        tpl[self._tracking_byte] = 1 if tracking else 0
        raw = tpl.tobytes()
        return [_BUNDLE_HEAD + raw[a:b] for a, b in self._chunks]

    def encode(self, frame: Frame, values: np.ndarray) -> list[bytes]:
        """A frame's datagrams: mapped values, head and eye rotations from its pose, its
        timestamp."""
        p = [float(v) for v in frame.pose]
        return self.pack(
            values,
            rotations=(
                unity_quaternion(p[0], p[1], p[2]),
                unity_quaternion(p[3], p[4], p[5]),
                unity_quaternion(p[6], p[7], p[8]),
            ),
            time=frame.timestamp,
            tracking=frame.face_present,
        )


def encode_vmc(frame: Frame, names: Sequence[str], values: np.ndarray) -> list[bytes]:
    """Pure convenience form of `VmcPacker.encode` (builds the template each call)."""
    return VmcPacker(names).encode(frame, values)
