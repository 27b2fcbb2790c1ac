"""Mirror maps for face landmarks and scores, and the mirror-averaging they allow.

Neither face model is mirror-symmetric: the landmark model given a flipped crop does not
return the flipped landmarks (2 px mean on a 512 px face), and the blendshape model given
mirrored landmarks does not return the Left/Right-swapped scores (held-out faces: 0.023
mean per shape). A flipped image then reads differently from the image, which shows as
one-sided shapes on a symmetric face. Running a model on its input and on the mirrored
input and averaging the first with the mirrored second makes its output exactly
mirror-consistent (`LiteRtTracker(symmetric=True)`).

The landmark mirror map pairs each canonical mesh vertex with its reflection in the
face's midplane (the canonical face is exactly symmetric in x); the ten iris points are
ordered centre, image right, up, image left, down in both eyes, so their map swaps the
eyes and image left with image right.
"""

from __future__ import annotations

import numpy as np

from ..shapes import MEDIAPIPE_TO_CANONICAL, N_SHAPES, swap_lr_index

__all__ = ["IRIS_MIRROR", "mirror_landmarks", "mirror_permutation", "mirror_scores_index"]

#: Mirror partners of the iris points 468-477 (right iris 468-472, left 473-477).
IRIS_MIRROR = (473, 476, 475, 474, 477, 468, 471, 470, 469, 472)


def mirror_permutation(canonical: np.ndarray, *, tolerance: float = 1e-3) -> np.ndarray:
    """The (478,) map from each landmark to its mirror partner, from the canonical mesh.

    `canonical` is the (468, 3) canonical face (tracking.geometry.parse_metadata), whose
    midplane is x = 0. Raises ValueError unless every vertex's reflection lies on a vertex
    (within `tolerance`, the mesh's units) and the map is an involution.
    """
    mesh = np.asarray(canonical, dtype=np.float64)
    reflected = mesh * (-1.0, 1.0, 1.0)
    distance = np.linalg.norm(reflected[:, None] - mesh[None], axis=2)
    partner = distance.argmin(axis=1)
    worst = float(distance[np.arange(len(mesh)), partner].max())
    if worst > tolerance:
        raise ValueError(
            f"the canonical face is not mirror-symmetric: a reflected vertex lies {worst:.4f} "
            f"from the nearest vertex (expected at most {tolerance})"
        )
    perm = np.concatenate((partner, IRIS_MIRROR)).astype(np.intp)
    if not np.array_equal(perm[perm], np.arange(len(perm))):
        raise ValueError("the landmark mirror map is not an involution")
    return perm


def mirror_landmarks(points: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Normalised (N, 3) landmarks of the mirror image: x -> 1 - x, partners swapped."""
    out = np.array(points[perm], dtype=np.float32)
    out[:, 0] = 1.0 - out[:, 0]
    return out


def mirror_scores_index() -> np.ndarray:
    """The (52,) permutation of the blendshape model's scores (`_neutral` first) that
    swaps each Left score with its Right twin (shapes.swap_lr_index in model order)."""
    position = np.empty(N_SHAPES, dtype=np.intp)
    position[MEDIAPIPE_TO_CANONICAL] = np.arange(len(MEDIAPIPE_TO_CANONICAL))
    swapped = position[swap_lr_index()[MEDIAPIPE_TO_CANONICAL]]
    return np.concatenate(([0], 1 + swapped)).astype(np.intp)
