"""Head and eye rotation maths, bpy-free: from what a sender sends to a pose bone's rotation.

One convention in the middle, the one avatar-driver's tracker uses (`tracking.pose`): for
each of head, left eye and right eye a (yaw, pitch, roll) in radians, for the performer as
they see themselves: yaw > 0 turns toward the performer's left, pitch > 0 lifts the chin
(looks up), roll > 0 tilts toward the performer's left shoulder. An avatar copies the
performer (their left is its left).

Blender's character frame: Z up, the character faces -Y, so its left is +X. In it the
three angles are the exact rotation ``Rz(yaw) @ Rx(-pitch) @ Ry(roll)`` (Euler 'YXZ').

VMC (``/VMC/Ext/Bone/Pos name px py pz qx qy qz qw``) is Unity's left-handed space: x to
the avatar's right, y up, z forward (the avatar faces +z); rotations are the bone's local
rotation relative to its parent, on normalized humanoid bones (identity in the rest pose).
Unity -> Blender maps vectors by ``M``: (x, y, z) -> (-x, -z, y) (right -> -X, up -> +Z,
forward -> -Y). ``M`` is a reflection (det -1), so a rotation ``R`` becomes ``M R M^T``,
whose quaternion is (w, x, y, z)_Blender = (qw, qx, qz, -qy) (the axis maps by ``-M``).

A pose bone's rotation is in its own rest axes: a rotation ``R`` in the rig's frame about
the bone's head is ``B^T R B`` for the bone's rest rotation ``B`` (its ``matrix_local``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "EYE_LOOK_FULL",
    "ROLES",
    "Adjust",
    "Angles",
    "Mat3",
    "Quat",
    "aim_offset",
    "angles_from_matrix",
    "bone_quaternion",
    "char_matrix",
    "find_bone",
    "look_weights",
    "matrix_from_quaternion",
    "quaternion_from_matrix",
    "unity_position",
    "unity_to_blender_quaternion",
    "vmc_angles",
]

Angles = tuple[float, float, float]  # yaw, pitch, roll in radians
Quat = tuple[float, float, float, float]  # (w, x, y, z), Blender's order
Mat3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]

ROLES = ("head", "left_eye", "right_eye")
#: VMC (Unity HumanBodyBones) names of the three roles.
VMC_BONES = {"Head": "head", "LeftEye": "left_eye", "RightEye": "right_eye"}
#: Gaze angle that drives an eyeLook* shape key fully (avatar-driver's solver uses 30 deg).
EYE_LOOK_FULL = math.radians(30.0)

_IDENTITY: Mat3 = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


# -- small 3x3 algebra ------------------------------------------------------------------------
def _mul(a: Mat3, b: Mat3) -> Mat3:
    return tuple(
        tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3)
    )  # type: ignore[return-value]


def _t(a: Mat3) -> Mat3:
    return tuple(tuple(a[j][i] for j in range(3)) for i in range(3))  # type: ignore[return-value]


def _rx(a: float) -> Mat3:
    c, s = math.cos(a), math.sin(a)
    return ((1.0, 0.0, 0.0), (0.0, c, -s), (0.0, s, c))


def _ry(a: float) -> Mat3:
    c, s = math.cos(a), math.sin(a)
    return ((c, 0.0, s), (0.0, 1.0, 0.0), (-s, 0.0, c))


def _rz(a: float) -> Mat3:
    c, s = math.cos(a), math.sin(a)
    return ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))


def apply(m: Mat3, v: Sequence[float]) -> tuple[float, float, float]:
    """``m @ v`` for a 3-vector."""
    return tuple(sum(m[i][k] * v[k] for k in range(3)) for i in range(3))  # type: ignore[return-value]


def matrix_from_quaternion(q: Quat) -> Mat3:
    """Rotation matrix of a (w, x, y, z) quaternion (normalised first)."""
    w, x, y, z = q
    n = math.sqrt(w * w + x * x + y * y + z * z) or 1.0
    w, x, y, z = w / n, x / n, y / n, z / n
    return (
        (1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
        (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
        (2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)),
    )


def quaternion_from_matrix(m: Mat3) -> Quat:
    """(w, x, y, z) with w >= 0 of a rotation matrix (Shepperd's method, stable)."""
    tr = m[0][0] + m[1][1] + m[2][2]
    if tr > 0:
        s = 2.0 * math.sqrt(1.0 + tr)
        q = (0.25 * s, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s)
    elif m[0][0] > m[1][1] and m[0][0] > m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[0][0] - m[1][1] - m[2][2])
        q = ((m[2][1] - m[1][2]) / s, 0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s)
    elif m[1][1] > m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[1][1] - m[0][0] - m[2][2])
        q = ((m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m[2][2] - m[0][0] - m[1][1])
        q = ((m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s)
    return q if q[0] >= 0 else (-q[0], -q[1], -q[2], -q[3])


# -- the three conventions --------------------------------------------------------------------
def char_matrix(angles: Angles) -> Mat3:
    """The rotation in Blender's character frame (Z up, facing -Y) for (yaw, pitch, roll)."""
    yaw, pitch, roll = angles
    return _mul(_rz(yaw), _mul(_rx(-pitch), _ry(roll)))


def angles_from_matrix(m: Mat3) -> Angles:
    """Inverse of `char_matrix` (yaw and roll in -pi..pi, pitch in -pi/2..pi/2)."""
    # Rz(a) Rx(b) Ry(c): the third row is (-cos b sin c, sin b, cos b cos c) and the second
    # column is (-sin a cos b, cos a cos b, sin b).
    b = math.asin(max(-1.0, min(1.0, m[2][1])))
    c = math.atan2(-m[2][0], m[2][2])
    a = math.atan2(-m[0][1], m[1][1])
    return a, -b, c


def unity_to_blender_quaternion(qx: float, qy: float, qz: float, qw: float) -> Quat:
    """A Unity (x, y, z, w) rotation as the same motion in Blender's frame, (w, x, y, z)."""
    return qw, qx, qz, -qy


def unity_position(px: float, py: float, pz: float) -> tuple[float, float, float]:
    """A Unity position (metres) in Blender's frame: right -> -X, up -> +Z, forward -> -Y."""
    return -px, -pz, py


def vmc_angles(qx: float, qy: float, qz: float, qw: float) -> Angles:
    """(yaw, pitch, roll) of a VMC bone's local Unity rotation."""
    return angles_from_matrix(matrix_from_quaternion(unity_to_blender_quaternion(qx, qy, qz, qw)))


# -- user adjustments -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Adjust:
    """Per-axis sign and strength and a recenter offset, applied as (raw - offset) * gain."""

    strength: Angles = (1.0, 1.0, 1.0)
    invert: tuple[bool, bool, bool] = (False, False, False)
    offset: Angles = (0.0, 0.0, 0.0)

    def __call__(self, angles: Angles) -> Angles:
        return tuple(  # type: ignore[return-value]
            (a - o) * s * (-1.0 if inv else 1.0)
            for a, o, s, inv in zip(angles, self.offset, self.strength, self.invert, strict=True)
        )


def up_frame(up: str) -> Mat3:
    """Character frame -> rig space: identity for a Z-up rig, Rx(-90 deg) for Y-up data
    (an FBX import whose object rotation turns it upright), which faces +Z."""
    if up == "Z":
        return _IDENTITY
    if up == "Y":
        return _rx(-math.pi / 2)
    raise ValueError(f"up axis must be 'Z' or 'Y', got {up!r}")


# The live path runs per bone per frame, so it composes quaternions (a few dozen flops)
# rather than 3x3 products in Python; the tests hold it to the matrix definitions above.
def _qmul(a: Quat, b: Quat) -> Quat:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )


def _qinv(q: Quat) -> Quat:
    return q[0], -q[1], -q[2], -q[3]


def _canonical(q: Quat) -> Quat:
    n = math.sqrt(sum(c * c for c in q)) or 1.0
    s = 1.0 / n if q[0] >= 0 else -1.0 / n
    return q[0] * s, q[1] * s, q[2] * s, q[3] * s


def char_quaternion(angles: Angles) -> Quat:
    """`char_matrix` as a (w, x, y, z) quaternion."""
    yaw, pitch, roll = angles
    hz, hx, hy = yaw / 2, -pitch / 2, roll / 2
    qz = (math.cos(hz), 0.0, 0.0, math.sin(hz))
    qx = (math.cos(hx), math.sin(hx), 0.0, 0.0)
    qy = (math.cos(hy), 0.0, math.sin(hy), 0.0)
    return _qmul(_qmul(qz, qx), qy)


_UP_Q: dict[str, Quat] = {
    "Z": (1.0, 0.0, 0.0, 0.0),
    "Y": (math.cos(-math.pi / 4), math.sin(-math.pi / 4), 0.0, 0.0),  # Rx(-90 deg)
}


def _in_rig(angles: Angles, up: str) -> Quat:
    f = _UP_Q.get(up)
    if f is None:
        raise ValueError(f"up axis must be 'Z' or 'Y', got {up!r}")
    return _qmul(_qmul(f, char_quaternion(angles)), _qinv(f))


def local_quaternion(angles: Angles, rest_q: Quat, up: str = "Z") -> Quat:
    """`bone_quaternion` for a rest rotation already given as a quaternion (cached)."""
    return _canonical(_qmul(_qmul(_qinv(rest_q), _in_rig(angles, up)), rest_q))


def bone_quaternion(angles: Angles, rest: Mat3, up: str = "Z") -> Quat:
    """The pose bone rotation (w, x, y, z) that turns a bone with rest rotation `rest`
    (the rotation part of ``Bone.matrix_local``) by `angles` in the rig's character frame:
    ``B^T (F R F^T) B`` with ``F`` = `up_frame`."""
    return local_quaternion(angles, quaternion_from_matrix(rest), up)


def object_quaternion(angles: Angles, base: Mat3 | Quat, up: str = "Z") -> Quat:
    """An object's rotation: `angles` in the object's own frame at rest (`base`, its rotation
    when the session started), so an object turned in the scene still nods about its own
    ear-to-ear axis."""
    base_q = base if len(base) == 4 else quaternion_from_matrix(base)
    return _canonical(_qmul(base_q, _in_rig(angles, up)))


def aim_offset(
    angles: Angles,
    eye: Sequence[float],
    target: Sequence[float],
    target_rest: Mat3,
    up: str = "Z",
) -> tuple[float, float, float]:
    """Pose location of an aim target (in its own rest axes) that turns an eye tracking it
    by `angles`: the rest eye-to-target vector turned about the eye, in rig rest space.

    `eye`, `target`: rest head positions in the rig; `target_rest`: the target's rest
    rotation. The target is assumed to follow the head (Rigify parents it under the face).
    """
    d0 = [t - e for t, e in zip(target, eye, strict=True)]
    d = apply(matrix_from_quaternion(_in_rig(angles, up)), d0)
    delta = [e + di - t for e, di, t in zip(eye, d, target, strict=True)]
    return apply(_t(target_rest), delta)


def look_weights(yaw: float, pitch: float) -> dict[str, float]:
    """eyeLook* weights for a gaze when there are no eye bones (as avatar-driver's solver).

    Looking toward the performer's left is the left eye looking out and the right eye in.
    """

    def w(x: float) -> float:
        return min(1.0, max(0.0, x / EYE_LOOK_FULL))

    left, right, up, down = w(yaw), w(-yaw), w(pitch), w(-pitch)
    return {
        "eyeLookOutLeft": left, "eyeLookInRight": left,
        "eyeLookInLeft": right, "eyeLookOutRight": right,
        "eyeLookUpLeft": up, "eyeLookUpRight": up,
        "eyeLookDownLeft": down, "eyeLookDownRight": down,
    }  # fmt: skip


# -- finding the bones ------------------------------------------------------------------------
#: Candidates per role, best first. Controls before deform/mechanism bones: in Rigify the
#: ORG-/DEF- bones copy the controls through constraints, so rotating them shows nothing.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "head": (
        "head", "Head", "J_Bip_C_Head", "mixamorig:Head", "DEF-head", "ORG-head", "DEF-spine.006",
        "ORG-spine.006", "spine.006",
    ),
    "left_eye": (
        "master_eye.L", "LeftEye", "J_Adj_L_FaceEye", "J_Bip_L_Eye", "MCH-eye.L", "ORG-eye.L",
        "DEF-eye.L", "eye.L", "Eye.L", "eye_L", "Eye_L", "mixamorig:LeftEye",
    ),
    "right_eye": (
        "master_eye.R", "RightEye", "J_Adj_R_FaceEye", "J_Bip_R_Eye", "MCH-eye.R", "ORG-eye.R",
        "DEF-eye.R", "eye.R", "Eye.R", "eye_R", "Eye_R", "mixamorig:RightEye",
    ),
}  # fmt: skip

_SPLIT = re.compile(r"[^0-9a-z]+")


def find_bone(role: str, bones: Iterable[str]) -> str | None:
    """The bone of `role` among an armature's bone names: the first candidate present
    (exact, then case-insensitive), else None."""
    names = list(bones)
    present = set(names)
    for cand in CANDIDATES[role]:
        if cand in present:
            return cand
    lower = {n.lower(): n for n in reversed(names)}
    for cand in CANDIDATES[role]:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None
