"""Head pose maths: Procrustes fit, the bundle's canonical face, BlazeFace anchors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from avatar_driver.tracking import blazeface
from avatar_driver.tracking.geometry import FaceGeometry, parse_metadata, procrustes
from avatar_driver.tracking.pose import matrix_from_euler


def test_procrustes_recovers_a_similarity() -> None:
    rng = np.random.default_rng(3)
    src = rng.normal(size=(40, 3))
    m = matrix_from_euler(20.0, -10.0, 5.0) * 1.0
    m[:3, :3] *= 2.5
    m[:3, 3] = (1.0, -2.0, 30.0)
    dst = src @ m[:3, :3].T + m[:3, 3]
    got = procrustes(src, dst, np.ones(40))
    np.testing.assert_allclose(got, m, atol=1e-9)


def test_bundle_metadata_parses(model: Path) -> None:
    with zipfile.ZipFile(model) as z:
        mesh, weights = parse_metadata(z.read("geometry_pipeline_metadata_landmarks.binarypb"))
    assert mesh.shape == (468, 3) and (weights > 0).sum() > 20
    # Centimetres: a face is about 15 cm wide.
    assert 10 < np.ptp(mesh[:, 0]) < 20


def test_canonical_face_seen_straight_on_has_no_rotation(model: Path) -> None:
    """Project the canonical face through the virtual camera: the fit finds it upright."""
    with zipfile.ZipFile(model) as z:
        geometry = FaceGeometry.from_bytes(z.read("geometry_pipeline_metadata_landmarks.binarypb"))
    w, h = 640, 480
    pts = geometry.canonical + np.array([0.0, 0.0, -40.0])  # 40 cm in front of the camera
    half_h = np.tan(np.radians(63.0) / 2)
    half_w = half_h * w / h
    x = pts[:, 0] / -pts[:, 2] / half_w / 2 + 0.5
    y = 0.5 - pts[:, 1] / -pts[:, 2] / half_h / 2
    z = (pts[:, 2] - pts[:, 2].mean()) / -pts[:, 2].mean() / half_w / 2  # relative depth
    m = geometry.matrix(np.c_[x, y, -z], w, h)
    r = m[:3, :3] / np.linalg.norm(m[:3, 0])
    np.testing.assert_allclose(r, np.eye(3), atol=0.05)
    assert m[2, 3] < -20  # in front of the camera, tens of centimetres away


def test_blazeface_anchors() -> None:
    a = blazeface.anchors()
    assert a.shape == (896, 2)
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8])
    assert (a[:2] == a[0]).all() and (a[512:518] == a[512]).all()


def test_weighted_nms_merges_overlaps() -> None:
    scores = np.array([0.9, 0.8, 0.7])
    boxes = np.array([[0.1, 0.1, 0.2, 0.2], [0.11, 0.1, 0.2, 0.2], [0.6, 0.6, 0.2, 0.2]])
    kps = np.zeros((3, 6, 2))
    out = blazeface.weighted_nms(scores, boxes, kps)
    assert len(out) == 2 and out[0].score == 0.9
    assert 0.1 < out[0].box[0] < 0.11  # the score-weighted mean of the two overlapping
