"""Zoom for MediaPipe's task: crops around small faces, tiles when no face is known.

MediaPipe's face detector sees the whole frame at 128 px, so a face under ~15 % of the
frame height (a performer across the room) is found rarely or never. `Zoom` runs a second
FaceLandmarker task, in IMAGE mode, on a square crop upscaled to `CROP_SIZE`:

    small face found, or a followed face -> crop around it (3x its box) -> landmarks
    nothing known                        -> one overlapping tile per frame, coarse to
                                            fine (down to ~320 px tiles)
    landmarks in the crop                -> back onto the frame (roi.crop_to_image),
                                            smoothed, head pose refitted on the frame

The crop follows the face every frame from its last raw landmarks. IMAGE mode (the
detector runs inside every crop) because MediaPipe's VIDEO mode tracks in one image
geometry and smooths in its own coordinates, which a moving crop would shift; so the
smoothing (MediaPipe's own filter, smoothing.py) and the head pose (the task's geometry
pipeline, geometry.py: the crop's perspective is not the camera's) are redone on frame
coordinates. The zoom's task is only created the first time it is needed.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import os
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ..frame import Frame
from .geometry import FaceGeometry
from .roi import Roi, crop, crop_to_image, tiles
from .smoothing import LandmarkSmoother

__all__ = [
    "CROP_MARGIN",
    "CROP_SIZE",
    "LARGE_FACE",
    "SMALL_FACE",
    "TILE_SIDE",
    "FaceArrays",
    "Zoom",
    "face_arrays",
    "face_box",
    "tile_grids",
]

#: A face whose box is under this share of the frame height is tracked in a crop.
SMALL_FACE = 0.20
#: A followed face whose box grows over this share goes back to the whole frame.
LARGE_FACE = 0.30
#: The crop's side over the face box's side (room to move between two frames).
CROP_MARGIN = 3.0
#: A followed face missed in its crop is looked for once more at once, this much closer
#: (and a tile's find must be found at this scale too).
RETRY_MARGIN = 2.0
#: Pixels of the square the crop (or tile) is resized to before the task sees it.
CROP_SIZE = 320
#: Tiles are made smaller, grid after grid, until one is at most this many pixels: the
#: detector finds faces down to ~12 % of its input, so a ~40 px face needs ~320 px tiles.
TILE_SIDE = 320
#: Each grid's tiles are at most this share of the last grid's side (skip near repeats).
TILE_STEP = 0.7
#: Frames a lost followed face is looked for in a growing crop before it is given up.
MISSES = 3
#: Two faces whose box centres are closer than this share of the smaller box are one.
SAME_FACE = 0.5

_XYZ = operator.attrgetter("x", "y", "z")


@dataclasses.dataclass(frozen=True, slots=True)
class FaceArrays:
    """One face of a result as arrays, in the frame's normalised coordinates."""

    landmarks: np.ndarray  # (478, 3) float32
    scores: np.ndarray  # MediaPipe's 52 blendshape scores, _neutral first
    matrix: np.ndarray | None  # 4x4 facial transformation matrix
    presence: float


def face_arrays(result: Any) -> list[FaceArrays]:
    """Every face of a MediaPipe FaceLandmarker result as arrays."""
    out = []
    for k, lms in enumerate(result.face_landmarks or []):
        # fromiter over one flat chain is the cheapest way out of 478 Python objects.
        points = np.fromiter(
            itertools.chain.from_iterable(map(_XYZ, lms)), dtype=np.float32, count=3 * len(lms)
        ).reshape(-1, 3)
        cats = result.face_blendshapes[k] if result.face_blendshapes else []
        scores = np.fromiter((c.score for c in cats), dtype=np.float32, count=len(cats))
        mats = result.facial_transformation_matrixes
        matrix = np.asarray(mats[k], dtype=np.float64) if mats else None
        presence = getattr(lms[0], "presence", None)
        out.append(FaceArrays(points, scores, matrix, float(presence) if presence else 1.0))
    return out


def face_box(landmarks: np.ndarray, width: int, height: int) -> Roi:
    """The landmarks' axis-aligned box in pixels, made square on its long side."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2] * (width, height)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    side = float(max(hi - lo))
    return Roi(float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2, side, side)


def tile_grids(width: int, height: int) -> list[int]:
    """Tiles across for each grid searched, coarse to fine, down to `TILE_SIDE` pixels.

    640x360: 2 and 3 across (366 and 256 px tiles, 8 in all); 1280x720: 2, 3 and 5
    (731, 512 and 320 px, 23 in all); a frame of at most 320 px: none.
    """
    grids: list[int] = []
    side = float(max(width, height))
    across = 2
    while side > TILE_SIDE:
        tile = tiles(width, height, across=across)[0].width
        if tile <= TILE_STEP * side + 1.0:  # (+1 px: 1920 px over 3 is 0.7 of 2 across)
            grids.append(across)
            side = tile
        across += 1
    return grids


def _same(a: Roi, b: Roi) -> bool:
    return float(np.hypot(a.cx - b.cx, a.cy - b.cy)) < SAME_FACE * min(a.width, b.width)


class Task(Protocol):
    """The zoom's task: the faces on a frame's image as arrays (landmarker.FaceTracker)."""

    def detect_arrays(self, frame: Frame) -> list[FaceArrays]: ...

    def close(self) -> None: ...


@dataclasses.dataclass
class _Followed:
    """A face the zoom tracks in a crop: its last box, smoother and frames missed."""

    box: Roi
    smoother: LandmarkSmoother
    misses: int = 0


class Zoom:
    """Finds and follows small faces in crops; `faces(image, t, found)` tops up `found`.

    `make_task()` makes the zoom's IMAGE-mode task on first use (a FaceTracker without zoom);
    `geometry` refits the head pose on frame coordinates. `video` keeps followed faces
    and searches one tile per frame; a still gets every tile at once.
    """

    def __init__(
        self,
        make_task: Callable[[], Task],
        model_path: str | os.PathLike[str],
        *,
        video: bool,
        num_faces: int = 1,
    ) -> None:
        self._make_task = make_task
        self._task: Task | None = None
        self._model_path = model_path
        self._geometry: FaceGeometry | None = None
        self.video = video
        self.num_faces = num_faces
        self.followed: list[_Followed] = []
        self._tiles: list[Roi] = []
        self._tiled = (0, 0)
        self._next_tile = 0
        #: Task runs on crops and tiles so far (the cost of zooming).
        self.runs = 0

    @property
    def active(self) -> bool:
        """True while every asked face is followed in a crop (the whole frame can rest)."""
        held = sum(track.misses == 0 for track in self.followed)
        return self.video and held >= self.num_faces

    def faces(self, image: np.ndarray, t: float, found: list[FaceArrays]) -> list[FaceArrays]:
        """The whole frame's faces (`found`, possibly none) with small ones zoomed in on,
        followed faces looked for in their crops, and tiles searched while faces are missing.
        """
        h, w = image.shape[:2]
        out: list[FaceArrays] = []
        boxes: list[Roi] = []
        # 1. Faces already followed in a crop, each where its last landmarks were.
        for track in list(self.followed):
            grow = CROP_MARGIN * 1.5**track.misses
            face = self.look(image, track.box.scaled(grow))
            if face is None and track.misses == 0:
                # A far face near the detector's limit: a tighter crop often finds it.
                face = self.look(image, track.box.scaled(RETRY_MARGIN))
            if face is None or any(_same(face_box(face.landmarks, w, h), b) for b in boxes):
                track.misses += 1
                if track.misses >= MISSES or face is not None:
                    self.followed.remove(track)
                continue
            track.misses = 0
            track.box = face_box(face.landmarks, w, h)
            boxes.append(track.box)
            out.append(self._smoothed(face, track.smoother, t, w, h))
            if track.box.height > LARGE_FACE * h:
                self.followed.remove(track)  # near enough: the whole frame takes it back
        # 2. The whole frame's faces: big ones as they are, small ones zoomed in on.
        for face in found:
            box = face_box(face.landmarks, w, h)
            if any(_same(box, b) for b in boxes):
                continue
            if box.height < SMALL_FACE * h:
                zoomed = self.look(image, box.scaled(CROP_MARGIN))
                if zoomed is not None:
                    self._follow(zoomed, w, h)
                    face = zoomed
                    box = face_box(face.landmarks, w, h)
            boxes.append(box)
            out.append(face)
        # 3. Still short of faces: tiles (one per frame in a video, all for a still).
        if len(out) < self.num_faces:
            for tile in self._tiles_to_search(w, h):
                for face in self._in_tile(image, tile):
                    box = face_box(face.landmarks, w, h)
                    if len(out) >= self.num_faces or any(_same(box, b) for b in boxes):
                        continue
                    self._follow(face, w, h)
                    boxes.append(box)
                    out.append(face)
                if len(out) >= self.num_faces:
                    break
        return out[: self.num_faces]

    def look(self, image: np.ndarray, region: Roi) -> FaceArrays | None:
        """The face nearest the middle of a square `region` (pixels), on the frame, or None."""
        h, w = image.shape[:2]

        def off_centre(face: FaceArrays) -> float:
            box = face_box(face.landmarks, w, h)
            return float(np.hypot(box.cx - region.cx, box.cy - region.cy))

        found = self._run(image, region)
        return min(found, key=off_centre) if found else None

    def _in_tile(self, image: np.ndarray, tile: Roi) -> list[FaceArrays]:
        """Faces in a tile, each confirmed in its own crop at two scales (a tile holds a
        small face at a fraction of its pixels: its own crop gives the landmarks their
        best; a find that two closer looks do not both repeat is not a face: no_face.mp4
        has a pattern that one crop scale takes for a face)."""
        h, w = image.shape[:2]
        out = []
        for face in self._run(image, tile, replicate=False):
            box = face_box(face.landmarks, w, h)
            closer = self.look(image, box.scaled(CROP_MARGIN))
            if closer is not None and self.look(image, box.scaled(RETRY_MARGIN)) is not None:
                out.append(closer)
        return out

    def _run(self, image: np.ndarray, region: Roi, *, replicate: bool = True) -> list[FaceArrays]:
        h, w = image.shape[:2]
        if self._task is None:
            self._task = self._make_task()
            self._geometry = _geometry(self._model_path)
        assert self._geometry is not None
        patch = crop(image, region, CROP_SIZE, replicate=replicate)
        self.runs += 1
        out = []
        for face in self._task.detect_arrays(Frame(timestamp=0.0, image=patch)):
            points = crop_to_image(face.landmarks, region, w, h)
            matrix = self._geometry.matrix(points, w, h)
            out.append(FaceArrays(points, face.scores, matrix, face.presence))
        return out

    def _follow(self, face: FaceArrays, width: int, height: int) -> None:
        """Follow a face found afresh, in place of a followed one that is being missed."""
        if not self.video:
            return
        if len(self.followed) >= self.num_faces:
            missed = [track for track in self.followed if track.misses > 0]
            if not missed:
                return
            self.followed.remove(max(missed, key=lambda track: track.misses))
        box = face_box(face.landmarks, width, height)
        self.followed.append(_Followed(box, LandmarkSmoother()))

    def _smoothed(
        self, face: FaceArrays, smoother: LandmarkSmoother, t: float, w: int, h: int
    ) -> FaceArrays:
        """Landmarks smoothed as MediaPipe's VIDEO mode does, the head pose refitted to them."""
        assert self._geometry is not None
        points = smoother.smooth(face.landmarks, t, w, h)
        return FaceArrays(points, face.scores, self._geometry.matrix(points, w, h), face.presence)

    def _tiles_to_search(self, width: int, height: int) -> list[Roi]:
        if self._tiled != (width, height):  # (made again if the camera's size changes)
            grids = tile_grids(width, height)
            self._tiles = [b for n in grids for b in tiles(width, height, across=n)]
            self._tiled = (width, height)
        if not self.video or not self._tiles:
            return self._tiles
        tile = self._tiles[self._next_tile % len(self._tiles)]
        self._next_tile += 1
        return [tile]

    def reset(self) -> None:
        """Forget followed faces (a new clip or camera)."""
        self.followed.clear()
        self._next_tile = 0

    def close(self) -> None:
        if self._task is not None:
            self._task.close()
            self._task = None


def _geometry(model_path: str | os.PathLike[str]) -> FaceGeometry:
    """The task bundle's geometry pipeline (read lazily: litert imports the landmarker)."""
    from .litert import read_bundle

    bundle = read_bundle(model_path)
    return FaceGeometry.from_bytes(bundle["geometry_pipeline_metadata_landmarks.binarypb"])
