"""Decoding MediaPipe's short-range face detector (BlazeFace, 128x128) without MediaPipe.

The model scores 896 fixed anchor boxes and regresses a box and six keypoints (eyes,
nose tip, mouth, ears) against each. The anchor layout, decoding and weighted
non-maximum suppression follow MediaPipe's face detector graph (its SsdAnchors,
TensorsToDetections and NonMaxSuppression options for the short-range model), so the
same image gives the same faces. All of it is a few vectorised numpy operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["INPUT_SIZE", "Detection", "anchors", "decode", "weighted_nms"]

INPUT_SIZE = 128
#: (stride, anchors per cell): layers with one stride share a grid (MediaPipe merges
#: them): 4 layers, strides 8/16/16/16, two anchors (aspect 1 + interpolated) each.
_GRIDS = ((8, 2), (16, 6))
_NUM_KEYPOINTS = 6
_SCORE_CLIP = 100.0


@dataclass(frozen=True, slots=True)
class Detection:
    """A face: score, box (xmin, ymin, w, h) and (6, 2) keypoints, normalised to the input."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray


def anchors(size: int = INPUT_SIZE) -> np.ndarray:
    """(896, 2) anchor centres, normalised (fixed anchor size: every anchor is 1x1)."""
    out = []
    for stride, per_cell in _GRIDS:
        n = size // stride
        centres = (np.arange(n) + 0.5) / n
        yy, xx = np.meshgrid(centres, centres, indexing="ij")
        grid = np.stack((xx.ravel(), yy.ravel()), axis=1)
        out.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def decode(
    regressors: np.ndarray,
    scores: np.ndarray,
    anchor_xy: np.ndarray,
    *,
    min_score: float = 0.5,
    size: int = INPUT_SIZE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores (K,), boxes (K, 4: xmin, ymin, w, h), keypoints (K, 6, 2)) above `min_score`."""
    raw = np.asarray(scores, dtype=np.float64).reshape(-1)
    prob = 1.0 / (1.0 + np.exp(-np.clip(raw, -_SCORE_CLIP, _SCORE_CLIP)))
    keep = np.flatnonzero(prob >= min_score)
    reg = np.asarray(regressors, dtype=np.float32).reshape(len(raw), -1)[keep] / size
    a = anchor_xy[keep]
    centre = reg[:, 0:2] + a
    wh = reg[:, 2:4]
    boxes = np.concatenate((centre - wh / 2, wh), axis=1)
    kps = reg[:, 4 : 4 + 2 * _NUM_KEYPOINTS].reshape(-1, _NUM_KEYPOINTS, 2) + a[:, None, :]
    return prob[keep], boxes, kps


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lo = np.maximum(box[:2], boxes[:, :2])
    hi = np.minimum(box[:2] + box[2:], boxes[:, :2] + boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    union = box[2] * box[3] + boxes[:, 2] * boxes[:, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(
    scores: np.ndarray,
    boxes: np.ndarray,
    keypoints: np.ndarray,
    *,
    threshold: float = 0.5,
    max_faces: int | None = None,
) -> list[Detection]:
    """Faces from overlapping candidates: each cluster (IoU > threshold with its best)
    becomes one face whose box and keypoints are the score-weighted mean of the cluster."""
    order = np.argsort(-scores, kind="stable")
    out: list[Detection] = []
    while len(order) and (max_faces is None or len(out) < max_faces):
        best = order[0]
        overlap = _iou(boxes[best], boxes[order]) > threshold
        members = order[overlap]
        w = scores[members][:, None]
        corners = np.concatenate((boxes[members, :2], boxes[members, :2] + boxes[members, 2:]), 1)
        lo_hi = (corners * w).sum(0) / w.sum()
        kp = (keypoints[members] * w[:, :, None]).sum(0) / w.sum()
        box = np.array([lo_hi[0], lo_hi[1], lo_hi[2] - lo_hi[0], lo_hi[3] - lo_hi[1]])
        out.append(Detection(float(scores[best]), box.astype(np.float32), kp.astype(np.float32)))
        order = order[~overlap]
    return out
