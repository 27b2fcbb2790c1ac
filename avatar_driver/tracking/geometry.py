"""Head pose from face landmarks, as MediaPipe's face geometry pipeline computes it.

The task's "facial transformation matrix" maps a canonical face (centimetres) onto the
landmarks seen through a virtual perspective camera (63 degree vertical field of view).
It is found with a weighted Procrustes fit over a fixed set of stable landmarks, after
two rounds of estimating the face's scale to turn relative depth into metric depth. The
canonical face and the landmark weights come from the model bundle's
`geometry_pipeline_metadata_landmarks.binarypb`, read here with a small protobuf reader.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

__all__ = ["FaceGeometry", "parse_metadata", "procrustes"]

_VERTICAL_FOV_DEG = 63.0
_NEAR = 1.0
#: Floats per canonical mesh vertex (x, y, z, u, v).
_VERTEX_SIZE = 5
_MESH_POINTS = 468


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of one protobuf message (varints, fixed32, bytes)."""
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            out.append((field, value))
        elif wire == 2:
            n, i = _varint(buf, i)
            out.append((field, buf[i : i + n]))
            i += n
        elif wire == 5:
            out.append((field, buf[i : i + 4]))
            i += 4
        elif wire == 1:
            out.append((field, buf[i : i + 8]))
            i += 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} at byte {i}")
    return out


def parse_metadata(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(canonical landmarks (468, 3) cm, weights (468,)) from the geometry metadata bytes."""
    vertices: list[float] = []
    weights = np.zeros(_MESH_POINTS, dtype=np.float64)
    for field, value in _fields(data):
        if field == 1 and isinstance(value, bytes):  # canonical_mesh
            for f, v in _fields(value):
                if f == 3 and isinstance(v, bytes):  # vertex_buffer, packed or one float
                    vertices.extend(struct.unpack(f"<{len(v) // 4}f", v))
        elif field == 2 and isinstance(value, bytes):  # procrustes_landmark_basis
            ref = dict(_fields(value))
            landmark, weight = ref.get(1, 0), ref.get(2, b"\0\0\0\0")
            assert isinstance(landmark, int) and isinstance(weight, bytes)
            weights[landmark] = struct.unpack("<f", weight)[0]
    mesh = np.asarray(vertices, dtype=np.float64).reshape(-1, _VERTEX_SIZE)[:, :3]
    if len(mesh) != _MESH_POINTS or not weights.any():
        raise ValueError(f"expected {_MESH_POINTS} canonical vertices and landmark weights")
    return mesh, weights


def procrustes(source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """4x4 similarity transform (scale * rotation, translation) taking source onto target.

    Points are (N, 3); least squares weighted by `weights`, rotation without reflection.
    """
    sw = np.sqrt(weights)[:, None]
    ws, wt = source * sw, target * sw
    total = float(weights.sum())
    centre = (ws * sw).sum(axis=0) / total
    centred = ws - centre * sw
    u, _, vt = np.linalg.svd(wt.T @ centred)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        u[:, 2] *= -1
    rotation = u @ vt
    scale = float(np.sum((centred @ rotation.T) * wt) / np.sum(centred * ws))
    rs = scale * rotation
    translation = ((wt - ws @ rs.T) * sw).sum(axis=0) / total
    m = np.eye(4)
    m[:3, :3] = rs
    m[:3, 3] = translation
    return m


def _det3(m: np.ndarray) -> float:
    """Determinant of a 3x3 matrix (np.linalg.det's overhead is most of its cost here)."""
    (a, b, c), (d, e, f), (g, h, i) = m.tolist()
    return float(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g))


@dataclass
class FaceGeometry:
    """Computes the facial transformation matrix from normalised image landmarks."""

    canonical: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        used = np.flatnonzero(self.weights > 0)  # zero-weight points change nothing
        self._used = used
        self._source = self.canonical[used]
        self._w = self.weights[used]
        # The source side of every fit is the canonical face: weigh and centre it once.
        self._sw = np.sqrt(self._w)[:, None]
        self._ws = self._source * self._sw
        self._total = float(self._w.sum())
        centre = (self._ws * self._sw).sum(axis=0) / self._total
        self._centred = self._ws - centre * self._sw
        self._denominator = float(np.sum(self._centred * self._ws))

    @classmethod
    def from_bytes(cls, data: bytes) -> FaceGeometry:
        return cls(*parse_metadata(data))

    def _fit(self, target: np.ndarray) -> np.ndarray:
        """`procrustes(canonical, target, weights)` with the canonical side precomputed."""
        wt = target * self._sw
        cross = wt.T @ self._centred
        u, _, vt = np.linalg.svd(cross)
        if _det3(cross) < 0:  # det(u) det(vt) has det(cross)'s sign: no reflection
            u[:, 2] *= -1
        rotation = u @ vt
        rs = (np.sum((self._centred @ rotation.T) * wt) / self._denominator) * rotation
        m = np.eye(4)
        m[:3, :3] = rs
        m[:3, 3] = ((wt - self._ws @ rs.T) * self._sw).sum(axis=0) / self._total
        return m

    def _scale(self, points: np.ndarray) -> float:
        """The scale `_fit` would find, from singular values alone (no rotation built).

        With cross = U S Vt and rotation R = U D Vt (D flips the last axis against a
        reflection), the fit's scale sum((centred R^T) * wt) / denominator is
        trace(D S) / denominator = (s1 + s2 +- s3) / denominator.
        """
        cross = (points * self._sw).T @ self._centred
        s = np.linalg.svd(cross, compute_uv=False)
        last = s[2] if _det3(cross) >= 0 else -s[2]
        return abs(float(s[0] + s[1] + last)) / self._denominator

    def matrix(self, landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
        """4x4 pose of the canonical face for (N>=468, 3) normalised landmarks."""
        height_near = 2 * _NEAR * math.tan(math.radians(_VERTICAL_FOV_DEG) / 2)
        width_near = width * height_near / height
        points = np.asarray(landmarks, dtype=np.float64)
        # The depth reference is the mean over the whole mesh, not only the fitted points.
        depth_offset = float(points[:_MESH_POINTS, 2].mean()) * width_near
        screen = points[self._used].copy()
        # Onto the near plane (origin at the image's top-left, y up), z scaled like x.
        screen[:, 1] = 1.0 - screen[:, 1]
        screen *= (width_near, height_near, width_near)
        screen[:, :2] -= (width_near / 2, height_near / 2)

        def to_metric(scale: float) -> np.ndarray:
            p = screen.copy()
            p[:, 2] = (p[:, 2] - depth_offset + _NEAR) / scale
            p[:, :2] *= p[:, 2:3] / _NEAR
            p[:, 2] *= -1
            return p

        flipped = screen * (1, 1, -1)
        first = self._scale(flipped)
        second = self._scale(to_metric(first))
        return self._fit(to_metric(first * second))
