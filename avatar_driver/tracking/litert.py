"""The tracker stage on LiteRT: MediaPipe's three face models without MediaPipe's graph.

The same `face_landmarker.task` bundle (a zip of face_detector, face_landmarks_detector
and face_blendshapes .tflite files plus the geometry metadata) runs through
`ai_edge_litert` (XNNPACK on the CPU), with our own glue in place of the task graph:

    face lost?  -> detector on the letterboxed frame -> box   (blazeface.py, roi.py)
    box         -> 256x256 crop -> 478 landmarks -> back onto the image     (roi.py)
    landmarks   -> smoothed (video mode)                             (smoothing.py)
                -> blendshapes from 146 of them, head pose         (geometry.py)
                -> next frame's box

`symmetric=True` also runs the landmark model on the flipped crop and the blendshape
model on the mirrored landmarks, and averages each with its mirrored twin (mirror.py):
a mirror image then reads as the mirror of the image, at the cost of one more landmark
and blendshape model run a frame. `mirror_every=N` (video mode) runs the flipped crop
only every N-th frame and in between applies the correction it last found (the mirrored
landmarks minus the plain ones, in crop coordinates): the model's asymmetry changes
slowly with the face, so most of the gain stays for a quarter of the cost at N = 4.

The glue follows MediaPipe's graph configs (same anchors, thresholds, crop margins,
smoothing and geometry), so results match the task within a small tolerance while the
per-frame work is only three small model calls and a few numpy operations. Hot-path
rules: one crop per frame, arrays only (no per-landmark objects), the detector only when
no face is being tracked.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np

from ..closing import ClosesOnce
from ..errors import ModelError
from ..frame import Frame
from ..shapes import MEDIAPIPE_TO_CANONICAL, N_SHAPES
from . import blazeface
from .geometry import FaceGeometry
from .landmarker import _native_stderr_silenced, no_face
from .mirror import mirror_landmarks, mirror_permutation, mirror_scores_index
from .pose import euler_from_matrix
from .quantize import int8_conv_weights
from .roi import (
    Roi,
    crop,
    crop_to_image,
    letterbox,
    letterbox_to_image,
    roi_from_detection,
    roi_from_landmarks,
    tiles,
)
from .smoothing import LandmarkSmoother

__all__ = ["BLENDSHAPE_LANDMARKS", "DEFAULT_THREADS", "INT8_BLENDSHAPES", "LiteRtTracker"]

#: The 146 landmarks the blendshape model reads, in its input order (MediaPipe's
#: face_blendshapes_graph.cc, kLandmarksSubsetIdxs).
BLENDSHAPE_LANDMARKS = np.array([
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63,
    65, 66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133,
    136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163,
    168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270,
    276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317,
    318, 321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379,
    380, 381, 382, 384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
    466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
])  # fmt: skip
#: Measured on 2 cores (benchmarks/tracker.py, litert vs litert-2t): one thread costs
#: 0.83-0.86 of a bare MediaPipe loop's CPU, two threads 0.96-1.02, with no gain in wall
#: time on a machine busy with other work (a second core is rarely free beside a game);
#: on one core (taskset) two threads cost 8.5 ms CPU / 11 ms wall a frame against 6.5 /
#: 6.9. Not measured on 4 cores.
DEFAULT_THREADS = 1
#: The blendshape model runs with int8 convolution weights (tracking.quantize): measured
#: A/B in one process on the shared clips' inputs, 0.28 ms CPU a call against 0.68 ms for
#: the float model (0.41x), its 52 scores within 0.0022 mean (0.043 max) of the float
#: model's. Its first convolution stays float: it reads raw pixel coordinates, which one
#: int8 scale per row would round by ~1/254 of the frame. The float model is the reference
#: (`int8_blendshapes=False`). The landmark model stays float: int8 weights made it
#: slower (1.7x: 8-16 channels on 128x128 maps) and moved landmarks by ~1 px.
INT8_BLENDSHAPES = True
_KEEP_FLOAT_BLENDSHAPE_CONVS = (0,)
#: MediaPipe's defaults: face detection, face presence (tracking kept) thresholds.
MIN_DETECTION = 0.5
MIN_PRESENCE = 0.5
LANDMARK_SIZE = 256
_FILES = (
    "face_detector.tflite",
    "face_landmarks_detector.tflite",
    "face_blendshapes.tflite",
    "geometry_pipeline_metadata_landmarks.binarypb",
)


def read_bundle(model_path: str | os.PathLike[str]) -> dict[str, bytes]:
    """The four files of a face_landmarker.task bundle, by name."""
    try:
        with zipfile.ZipFile(model_path) as z:
            names = set(z.namelist())
            missing = [n for n in _FILES if n not in names]
            if missing:
                raise ModelError(
                    f"model {model_path} is not a face landmarker bundle: "
                    f"expected {', '.join(_FILES)}, missing {', '.join(missing)}"
                )
            return {n: z.read(n) for n in _FILES}
    except (OSError, zipfile.BadZipFile) as e:
        raise ModelError(f"could not read the face model {model_path}: {e}") from e


class _Model:
    """One LiteRT interpreter with named outputs (indices looked up once)."""

    def __init__(self, content: bytes, threads: int, name: str) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:  # pragma: no cover - a declared dependency
            raise ModelError(
                f"ai-edge-litert is not installed ({e}); pip install ai-edge-litert"
            ) from e
        try:
            self.interpreter = Interpreter(model_content=content, num_threads=threads)
            self.interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"could not load {name} from the face model: {e}") from e
        self._input = self.interpreter.get_input_details()[0]["index"]
        self.outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}

    def run(self, tensor: np.ndarray, *names: str) -> list[np.ndarray]:
        self.interpreter.set_tensor(self._input, tensor)
        return self.invoke(*names)

    def run_scaled(
        self, pixels: np.ndarray, scale: float, offset: float, *names: str
    ) -> list[np.ndarray]:
        """Run on uint8 pixels * scale + offset, written straight into the input tensor."""
        view = self.interpreter.tensor(self._input)()[0]
        np.multiply(pixels, np.float32(scale), out=view, dtype=np.float32)
        if offset:
            view += np.float32(offset)
        del view  # LiteRT refuses to run while a view of its buffers is alive
        return self.invoke(*names)

    def invoke(self, *names: str) -> list[np.ndarray]:
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(self.outputs[n]) for n in names]


class LiteRtTracker(ClosesOnce):
    """Callable stage like `landmarker.FaceTracker`: `tracker(frame)` -> tracked frame.

    `mode` "video" tracks the face box from frame to frame and smooths landmarks (frames
    in order); "image" detects afresh on every frame (stills). A call follows one face;
    `track_faces` follows up to `num_faces`, each in its own crop. Where the whole frame
    shows no face, `tiles` x rows of overlapping tiles are searched too
    (tracking.roi.tiles), which finds faces too small for one whole-frame detection.
    `symmetric` averages each model's output with its output on the mirrored input,
    `mirror_every` sets how often a video runs the flipped crop (module docstring).
    `int8_blendshapes` runs the blendshape model on int8 weights (INT8_BLENDSHAPES);
    False keeps MediaPipe's float model, the reference it is tested against.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        mode: str = "video",
        num_faces: int = 1,
        num_threads: int = DEFAULT_THREADS,
        tiles: int = 3,
        symmetric: bool = False,
        mirror_every: int = 1,
        int8_blendshapes: bool = INT8_BLENDSHAPES,
    ) -> None:
        if num_faces < 1:
            raise ModelError(f"the litert tracker needs at least one face, not {num_faces}")
        if mirror_every < 1:
            raise ModelError(f"mirror_every counts frames: at least 1, not {mirror_every}")
        files = read_bundle(model_path)
        blendshapes = files[_FILES[2]]
        if int8_blendshapes:
            try:
                blendshapes, n = int8_conv_weights(
                    blendshapes, keep_float=_KEEP_FLOAT_BLENDSHAPE_CONVS
                )
            except (ValueError, IndexError, TypeError, AttributeError) as e:
                raise ModelError(f"model {model_path}: bad {_FILES[2]}: {e}") from e
            int8_blendshapes = n > 0
        #: Whether the blendshape model runs on int8 weights (False: the float reference).
        self.int8_blendshapes = int8_blendshapes
        with _native_stderr_silenced():  # LiteRT announces its XNNPACK delegate on fd 2
            self._detector = _Model(files[_FILES[0]], num_threads, _FILES[0])
            self._landmarker = _Model(files[_FILES[1]], num_threads, _FILES[1])
            self._blendshapes = _Model(blendshapes, num_threads, _FILES[2])
        try:
            self._geometry = FaceGeometry.from_bytes(files[_FILES[3]])
        except (ValueError, IndexError, AssertionError) as e:
            raise ModelError(f"model {model_path}: bad {_FILES[3]}: {e}") from e
        #: Mirror-average the landmark and blendshape models (one more run of each).
        self.symmetric = symmetric
        self.mirror_every = mirror_every
        #: The last flipped-crop correction (crop coordinates) and frames since it was found.
        self._correction: np.ndarray | None = None
        self._since = 0
        #: Landmark model runs on a flipped crop so far.
        self.flipped_runs = 0
        self._mirror = mirror_permutation(self._geometry.canonical)
        self._mirror_scores = mirror_scores_index()
        self._anchors = blazeface.anchors()
        #: The landmark crop, reused every frame (no 196 kB allocation per frame).
        self._patch = np.empty((LANDMARK_SIZE, LANDMARK_SIZE, 3), np.uint8)
        self.mode = mode
        self.model_path = Path(model_path)
        self._smoother = LandmarkSmoother()
        self._roi: Roi | None = None
        self._last_ms = -1
        #: Tiles across the frame when searching for a small face (0: whole frame only).
        self.tiles = tiles
        self._misses = 0  # detector runs since a face was last seen
        self._last: Roi | None = None  # the crop of the face just lost (zoom there first)
        #: Detector runs so far (the detector should run only when the face was lost).
        self.detections = 0
        #: Several performers (`track_faces`): faces to look for, each one's crop + smoother.
        self.num_faces = num_faces
        self._tracks: list[tuple[Roi, LandmarkSmoother]] = []

    @property
    def roi(self) -> Roi | None:
        """The crop the next frame will be tracked in (None: the face must be searched)."""
        return self._roi if self.mode == "video" else None

    def __call__(self, frame: Frame) -> Frame:
        assert frame.image is not None, "the tracker needs a frame with an image"
        image = frame.image
        h, w = image.shape[:2]
        roi = self._roi if self.mode == "video" else None
        if roi is None:
            roi = self._search(image)
            if roi is None:
                self._lost()
                return no_face(frame)
        found = self.landmarks(image, roi, held=self.mode == "video")
        if found is None:
            self._lost()
            return no_face(frame)
        self._misses = 0
        raw, presence = found
        self._roi = roi_from_landmarks(raw, w, h)
        points = raw
        if self.mode == "video":
            points = self._smoother.smooth(raw, self._timestamp(frame.timestamp), w, h)
        return self.to_frame(frame, points, presence)

    def _lost(self) -> None:
        if self._roi is not None:
            self._last = self._roi
        self._roi = None
        self._smoother.reset()
        self._correction = None

    def _timestamp(self, t: float) -> float:
        """Seconds on MediaPipe's millisecond grid (equal stamps nudged on, as FaceTracker)."""
        ms = round(t * 1000.0)
        if ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        return ms / 1000.0

    def _search(self, image: np.ndarray) -> Roi | None:
        """Look for a face: the whole frame, then zoomed-in tiles for faces too small for it.

        A still tries the whole frame and then every tile. A video spends one detector
        run per frame: right after a loss the lost face's area zoomed in, then the whole
        frame on every other frame (as MediaPipe), one tile in turn on the others, so a
        small face is found within a few frames at no extra cost.
        """
        h, w = image.shape[:2]
        boxes = tiles(w, h, across=self.tiles) if self.tiles > 1 else []
        if self.mode == "image":
            for region in (None, *boxes):
                if (roi := self.detect_face(image, region)) is not None:
                    return roi
            return None
        k = self._misses
        self._misses += 1
        if k == 0 and self._last is not None:
            # Just lost: first look again where the face was, zoomed in (a small face that
            # one frame of blur or a turn lost is too small for the whole-frame detector).
            near = dataclasses.replace(self._last.scaled(2.0, square=True), rotation=0.0)
            if (roi := self.detect_face(image, near)) is not None:
                return roi
            return None
        region = boxes[(k // 2) % len(boxes)] if boxes and k % 2 else None
        return self.detect_face(image, region)

    def detect_face(self, image: np.ndarray, region: Roi | None = None) -> Roi | None:
        """The best face's crop, or None (BlazeFace short range), in the whole image or a
        square `region` of it (a tile, which zooms in on faces too small for the whole)."""
        found = self.detect_faces(image, region, max_faces=1)
        return found[0] if found else None

    def detect_faces(
        self, image: np.ndarray, region: Roi | None = None, max_faces: int = 1
    ) -> list[Roi]:
        """Up to `max_faces` face crops, best first, in the whole image or a `region`."""
        self.detections += 1
        h, w = image.shape[:2]
        if region is None:
            boxed, square = letterbox(image, blazeface.INPUT_SIZE)
        else:
            boxed, square = crop(image, region, blazeface.INPUT_SIZE, replicate=False), region
        regressors, scores = self._detector.run_scaled(
            boxed, 2 / 255.0, -1.0, "regressors", "classificators"
        )
        found = blazeface.weighted_nms(
            *blazeface.decode(regressors[0], scores[0], self._anchors, min_score=MIN_DETECTION),
            max_faces=max_faces,
        )
        out = []
        for face in found:
            lo = letterbox_to_image(face.box[:2], square, w, h)
            hi = letterbox_to_image(face.box[:2] + face.box[2:], square, w, h)
            box = np.concatenate((lo, hi - lo))
            keypoints = letterbox_to_image(face.keypoints, square, w, h)
            out.append(roi_from_detection(box, keypoints, w, h))
        return out

    def track_faces(self, frame: Frame) -> list[Frame]:
        """Up to `num_faces` tracked frames (faces found, in no fixed order) for one frame.

        Each face keeps its own crop and smoother from frame to frame (video mode); while
        fewer faces than asked are followed, the detector looks for more, the whole frame
        and the tiles in turn (a still: all of them at once), and a detection counts as a
        new face only if the landmark model confirms it and no followed face is there.
        """
        assert frame.image is not None, "the tracker needs a frame with an image"
        image = frame.image
        h, w = image.shape[:2]
        video = self.mode == "video"
        t = self._timestamp(frame.timestamp) if video else 0.0
        followed: list[tuple[Roi, LandmarkSmoother, np.ndarray, float]] = []
        for roi, smoother in self._tracks if video else []:
            if (found := self.landmarks(image, roi)) is not None:
                followed.append((roi, smoother, *found))
        if len(followed) < self.num_faces:
            for roi in self._search_faces(image):
                if len(followed) >= self.num_faces:
                    break
                if any(_same_face(roi, f[0]) for f in followed):
                    continue
                if (found := self.landmarks(image, roi)) is not None:
                    followed.append((roi, LandmarkSmoother(), *found))
        self._tracks, frames = [], []
        for _, smoother, raw, presence in followed:
            roi = roi_from_landmarks(raw, w, h)
            if any(_same_face(roi, other) for other, _ in self._tracks):
                continue  # two crops drifted onto one face: keep the first
            self._tracks.append((roi, smoother))
            points = smoother.smooth(raw, t, w, h) if video else raw
            frames.append(self.to_frame(frame, points, presence))
        return frames

    def _search_faces(self, image: np.ndarray) -> list[Roi]:
        """Candidate faces: a still searches the whole frame and every tile; a video one of
        them per frame, in turn (the detector's cost stays one run per frame)."""
        h, w = image.shape[:2]
        regions: list[Roi | None] = [None]
        if self.tiles > 1:
            regions += tiles(w, h, across=self.tiles)
        if self.mode == "video":
            regions = [regions[self._misses % len(regions)]]
            self._misses += 1
        found: list[Roi] = []
        for region in regions:
            for roi in self.detect_faces(image, region, max_faces=self.num_faces):
                if not any(_same_face(roi, other) for other in found):
                    found.append(roi)
        return found

    def landmarks(
        self, image: np.ndarray, roi: Roi, *, held: bool = False
    ) -> tuple[np.ndarray, float] | None:
        """(478, 3) normalised image landmarks and presence inside `roi`, or None if no face.

        `held` (the one followed face of a video): with `symmetric`, the flipped crop runs
        every `mirror_every`-th call and its correction is reused in between.
        """
        h, w = image.shape[:2]
        patch = crop(image, roi, LANDMARK_SIZE, out=self._patch)
        mesh, flag = self._landmarker.run_scaled(patch, 1 / 255.0, 0.0, "Identity", "Identity_1")
        presence = float(1.0 / (1.0 + np.exp(-float(flag.reshape(-1)[0]))))
        if presence < MIN_PRESENCE:
            return None
        local = mesh.reshape(-1, 3) / LANDMARK_SIZE
        if self.symmetric:
            correction = self._correction if held else None
            if correction is None or self._since >= self.mirror_every - 1:
                # The flipped crop's landmarks, mirrored back into this crop (x -> 1 - x in
                # crop units: its pixel corners are the model input's), minus these.
                flipped, _ = self._landmarker.run_scaled(
                    patch[:, ::-1], 1 / 255.0, 0.0, "Identity", "Identity_1"
                )
                back = mirror_landmarks(flipped.reshape(-1, 3) / LANDMARK_SIZE, self._mirror)
                correction = back - local
                self.flipped_runs += 1
                if held:
                    self._correction, self._since = correction, 0
            else:
                self._since += 1
            local = local + 0.5 * correction
        return crop_to_image(local, roi, w, h), presence

    def blendshapes(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        """MediaPipe's 52 scores (with _neutral first) from normalised landmarks."""
        scores = self._scores(points, width, height)
        if self.symmetric:
            mirrored = self._scores(mirror_landmarks(points, self._mirror), width, height)
            scores = 0.5 * (scores + mirrored[self._mirror_scores])
        return scores

    def _scores(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        subset = points[BLENDSHAPE_LANDMARKS, :2] * np.array([width, height], dtype=np.float32)
        (scores,) = self._blendshapes.run(
            subset[None].astype(np.float32), "StatefulPartitionedCall:0"
        )
        return scores.reshape(-1)

    def to_frame(self, frame: Frame, points: np.ndarray, presence: float) -> Frame:
        """The canonical frame from landmarks: weights, head pose, landmarks, confidence."""
        assert frame.image is not None
        h, w = frame.image.shape[:2]
        weights = np.zeros(N_SHAPES, dtype=np.float32)
        weights[MEDIAPIPE_TO_CANONICAL] = np.clip(self.blendshapes(points, w, h)[1:], 0.0, 1.0)
        angles, translation = euler_from_matrix(self._geometry.matrix(points, w, h))
        pose = np.zeros(9, dtype=np.float32)
        pose[:3] = angles
        return dataclasses.replace(
            frame,
            weights=weights,
            pose=pose,
            translation=translation,
            face_present=True,
            confidence=presence,
            landmarks=np.ascontiguousarray(points, dtype=np.float32),
        )

    def _close(self) -> None:
        # Interpreters free their buffers when dropped; drop them now, not at exit.
        del self._detector, self._landmarker, self._blendshapes


def _same_face(a: Roi, b: Roi) -> bool:
    """Crops whose centres are closer than half the smaller one's side hold the same face."""
    return float(np.hypot(a.cx - b.cx, a.cy - b.cy)) < 0.5 * min(a.width, b.width)
