"""Pose -> Unity rotation: known poses, unit length, and agreement with tracking.pose."""

from __future__ import annotations

import math

import numpy as np
import pytest

from avatar_driver.codecs.rotation import (
    MIRROR,
    quaternion_from_unity_euler,
    quaternion_matrix,
    unity_euler,
    unity_quaternion,
)
from avatar_driver.tracking.pose import matrix_from_euler

S45 = math.sin(math.radians(45))
FORWARD, UP = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("pose", "expected"),
    [
        ((0, 0, 0), (0, 0, 0, 1)),
        # Turning to the performer's left: Unity rotates -90 about y.
        ((90, 0, 0), (0, -S45, 0, S45)),
        ((-90, 0, 0), (0, S45, 0, S45)),
        # Chin up: Unity pitches by -x.
        ((0, 90, 0), (-S45, 0, 0, S45)),
        # Tilt toward the left shoulder: +z in Unity.
        ((0, 0, 90), (0, 0, S45, S45)),
        ((180, 0, 0), (0, -1, 0, 0)),
    ],
)
def test_known_poses(pose: tuple[float, float, float], expected: tuple[float, ...]) -> None:
    assert np.allclose(unity_quaternion(*pose), expected, atol=1e-12)


def test_directions_in_unity_space() -> None:
    """An avatar faces +z and its own left is -x: the performer's motions become its own."""
    turned = quaternion_matrix(unity_quaternion(30, 0, 0)) @ FORWARD
    assert turned[0] < -0.49 and turned[2] > 0.86  # nose toward the avatar's left (-x)
    up = quaternion_matrix(unity_quaternion(0, 20, 0)) @ FORWARD
    assert up[1] > 0.34  # chin up: the nose rises
    tilt = quaternion_matrix(unity_quaternion(0, 0, 15)) @ UP
    assert tilt[0] < -0.25  # top of the head toward the avatar's left shoulder


def test_matches_quaternion_euler_convention() -> None:
    """Quaternion.Euler(x, y, z) rotates z first, then x, then y (about fixed axes)."""
    x, y, z = 20.0, -35.0, 12.0
    q = quaternion_from_unity_euler(x, y, z)
    rx = quaternion_matrix(quaternion_from_unity_euler(x, 0, 0))
    ry = quaternion_matrix(quaternion_from_unity_euler(0, y, 0))
    rz = quaternion_matrix(quaternion_from_unity_euler(0, 0, z))
    assert np.allclose(quaternion_matrix(q), ry @ rx @ rz)


def test_agrees_with_the_tracker_convention() -> None:
    """Unity rotation == our rotation seen through the left/right mirror, for any pose."""
    rng = np.random.default_rng(5)
    for yaw, pitch, roll in rng.uniform(-80, 80, (200, 3)):
        q = np.array(unity_quaternion(yaw, pitch, roll))
        assert abs(np.linalg.norm(q) - 1.0) < 1e-12
        ours = matrix_from_euler(yaw, pitch, roll)[:3, :3]
        assert np.allclose(quaternion_matrix(q), MIRROR @ ours @ MIRROR, atol=1e-9)


def test_unity_euler_signs() -> None:
    assert unity_euler(10, 20, 30) == (-20.0, -10.0, 30.0)


def test_closed_form_equals_the_product_of_axis_rotations() -> None:
    from avatar_driver.codecs.rotation import _mul

    rng = np.random.default_rng(9)
    for x, y, z in rng.uniform(-180, 180, (100, 3)):
        hx, hy, hz = np.radians([x, y, z]) / 2
        qx = (math.sin(hx), 0.0, 0.0, math.cos(hx))
        qy = (0.0, math.sin(hy), 0.0, math.cos(hy))
        qz = (0.0, 0.0, math.sin(hz), math.cos(hz))
        assert np.allclose(quaternion_from_unity_euler(x, y, z), _mul(_mul(qy, qx), qz))
