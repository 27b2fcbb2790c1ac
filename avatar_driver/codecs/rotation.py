"""Head and eye rotations for receivers that live in Unity's left-handed space.

Our pose (see `tracking.pose`) is in degrees in MediaPipe's right-handed camera space:
x toward the image's right (the performer's left), y up, z toward the camera; yaw > 0
turns the head to the performer's left, pitch > 0 lifts the chin, roll > 0 tilts the head
toward the performer's left shoulder; the rotation is ``Ry(yaw) @ Rx(-pitch) @ Rz(-roll)``
in standard right-hand-rule matrices (`tracking.pose.matrix_from_euler`).

Unity is left-handed: x right, y up, z forward, and an avatar faces +z, so its own left is
-x. An avatar that copies the performer (their left is its left) sees our space through the
reflection ``S = diag(-1, 1, 1)``; ``S @ R @ S`` is the same motion in Unity. Conjugating
by S flips the sign of rotations about y and z and keeps rotations about x, so with
Unity's Euler order (``Quaternion.Euler(x, y, z)`` = ``Ry(y) @ Rx(x) @ Rz(z)``) the
conversion is exact, not an approximation:

    unity x = -pitch   (positive x pitches the nose down in Unity)
    unity y = -yaw     (positive y turns toward the avatar's right)
    unity z = +roll    (positive z tilts toward the avatar's left shoulder)

Quaternions are (x, y, z, w), unit length, in the order VMC sends them.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "MIRROR",
    "quaternion_from_unity_euler",
    "quaternion_matrix",
    "unity_euler",
    "unity_quaternion",
]

#: The reflection between our space and an avatar's Unity space.
MIRROR = np.diag([-1.0, 1.0, 1.0])


def unity_euler(yaw: float, pitch: float, roll: float) -> tuple[float, float, float]:
    """Unity Euler angles (x, y, z) in degrees for our yaw, pitch, roll in degrees."""
    return -float(pitch), -float(yaw), float(roll)


def _mul(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """Hamilton product of two (x, y, z, w) quaternions."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def quaternion_from_unity_euler(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    """What Unity's ``Quaternion.Euler(x, y, z)`` returns (degrees in, (x, y, z, w) out)."""
    hx, hy, hz = math.radians(x) / 2, math.radians(y) / 2, math.radians(z) / 2
    sx, cx, sy, cy, sz, cz = (
        math.sin(hx), math.cos(hx), math.sin(hy), math.cos(hy), math.sin(hz), math.cos(hz)
    )  # fmt: skip
    # qy * qx * qz expanded (see `_mul`, which the tests use to check this).
    return (
        cy * sx * cz + sy * cx * sz,
        sy * cx * cz - cy * sx * sz,
        cy * cx * sz - sy * sx * cz,
        cy * cx * cz + sy * sx * sz,
    )


def unity_quaternion(yaw: float, pitch: float, roll: float) -> tuple[float, float, float, float]:
    """The head's local rotation in Unity for our pose in degrees, as (x, y, z, w)."""
    return quaternion_from_unity_euler(*unity_euler(yaw, pitch, roll))


def quaternion_matrix(q: tuple[float, float, float, float] | np.ndarray) -> np.ndarray:
    """The 3x3 rotation matrix of a unit (x, y, z, w) quaternion (for tests and checks)."""
    x, y, z, w = (float(v) for v in q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
