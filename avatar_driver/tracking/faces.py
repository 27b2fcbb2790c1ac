"""Several performers on one camera: one detection per frame, one stable slot per person.

MediaPipe lists faces in no fixed order, so each face is matched to the slot whose last
known position (landmark centre) is nearest; faces that match no slot take free slots
from the image's left to right. A slot remembers its person for a few seconds after
they leave, so someone stepping out and back keeps their outputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..frame import Frame
from .landmarker import FaceTracker, face_frame, no_face
from .litert import LiteRtTracker

__all__ = ["MultiFaceTracker"]

#: A face this far (normalised image units) from a slot's last position is someone else.
MATCH_DISTANCE = 0.25
#: How long a slot keeps its person's position after losing them (source seconds).
MEMORY_S = 5.0


class MultiFaceTracker:
    """The pipeline's split for several performers: `split(frame)` detects once and gives
    one frame per slot (performer)."""

    def __init__(self, tracker: FaceTracker | LiteRtTracker, faces: int) -> None:
        self.tracker = tracker
        self.faces = faces
        self._centres: list[np.ndarray | None] = [None] * faces
        self._seen: list[float] = [-np.inf] * faces

    def split(self, frame: Frame) -> list[Frame]:
        """One frame per slot for this source frame; call it once per source frame.

        Both trackers find small faces in crops and tiles; the LiteRT one gives its faces
        as frames, MediaPipe's as arrays (`FaceTracker.faces`).
        """
        if isinstance(self.tracker, LiteRtTracker):
            faces = self.tracker.track_faces(frame)
            centres = [f.landmarks[:, :2].mean(axis=0) for f in faces if f.landmarks is not None]
            return self._assign(frame, centres, lambda i: faces[i])
        found = self.tracker.faces(frame)
        centres = [face.landmarks[:, :2].mean(axis=0) for face in found]
        return self._assign(frame, centres, lambda i: face_frame(frame, found[i]))

    def _assign(
        self, frame: Frame, centres: list[np.ndarray], face_frame: Callable[[int], Frame]
    ) -> list[Frame]:
        """Faces (by their landmark centres) to slots; `face_frame(i)` is face i's frame."""
        t = frame.timestamp
        found = centres
        owner: list[int | None] = [None] * self.faces  # slot -> face index
        free = set(range(len(found)))
        recent = sorted(
            (k for k in range(self.faces) if t - self._seen[k] <= MEMORY_S),
            key=lambda k: -self._seen[k],
        )
        for k in recent:
            c = self._centres[k]
            if c is None or not free:
                continue
            best = min(free, key=lambda i: float(np.linalg.norm(centres[i] - c)))
            if float(np.linalg.norm(centres[best] - c)) <= MATCH_DISTANCE:
                owner[k] = best
                free.discard(best)
        newcomers = sorted(free, key=lambda i: float(centres[i][0]))
        empty = sorted(
            (k for k in range(self.faces) if owner[k] is None),
            key=lambda k: (t - self._seen[k] <= MEMORY_S, k),  # forgotten slots first
        )
        for face, k in zip(newcomers, empty, strict=False):
            owner[k] = face
        frames = []
        for k in range(self.faces):
            i = owner[k]
            if i is None:
                frames.append(no_face(frame))
                continue
            self._centres[k] = centres[i]
            self._seen[k] = t
            frames.append(face_frame(i))
        return frames
