"""Head pose from MediaPipe's facial transformation matrix.

MediaPipe's matrix maps the canonical face (right-handed, x toward the image's right,
y up, z toward the camera, centimetres) into camera space. We report degrees with these
signs, for the performer as they see themselves: yaw > 0 turns the head toward the
performer's left (the image's right in an unmirrored camera), pitch > 0 tilts the chin
up, roll > 0 tilts the head toward the performer's left shoulder.
"""

from __future__ import annotations

import numpy as np

__all__ = ["euler_from_matrix", "matrix_from_euler"]


def euler_from_matrix(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(yaw, pitch, roll) in degrees and translation (cm) from a 4x4 transform."""
    r = np.asarray(m, dtype=np.float64)[:3, :3]
    # r = Ry(yaw) @ Rx(pitch) @ Rz(roll) (see matrix_from_euler): the third column is
    # where the nose points and the second row holds the roll alone.
    yaw = np.arctan2(r[0, 2], r[2, 2])
    pitch = np.arcsin(np.clip(r[1, 2], -1.0, 1.0))
    roll = np.arctan2(-r[1, 0], r[1, 1])
    angles = np.degrees([yaw, pitch, roll]).astype(np.float32)
    return angles, np.asarray(m, dtype=np.float32)[:3, 3].copy()


def matrix_from_euler(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The rotation `euler_from_matrix` inverts (for tests and synthetic sources)."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    # Negative z-rotation leans the up vector toward +x (the performer's left).
    rz = np.array([[np.cos(r), np.sin(r), 0], [-np.sin(r), np.cos(r), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = ry @ rx @ rz
    return m
