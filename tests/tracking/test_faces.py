"""Several performers on one camera: one detection, stable slots, outputs per performer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from avatar_driver.codecs.csv_take import parse_take
from avatar_driver.frame import Frame
from avatar_driver.sources import VideoSource
from avatar_driver.tracking.faces import MultiFaceTracker
from avatar_driver.tracking.landmarker import FaceTracker
from tests.conftest import run_cli


def _two_people(media: Path, tmp_path: Path, *, swap_at: int | None = None) -> Path:
    """The clip's performer twice, side by side (the right copy mirrored, delayed 30 frames
    so the two smile at different times); written as an MJPG AVI."""
    with VideoSource(media / "single_face.mp4") as src:
        images = [f.image for f in src]
    out = tmp_path / "two.avi"
    h, w = images[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    for i, img in enumerate(images):
        left = img[:, w // 4 : w // 4 + w // 2]
        right = images[max(0, i - 30)][:, w // 4 : w // 4 + w // 2][:, ::-1]
        pair = np.concatenate([left, right], axis=1)
        writer.write(cv2.cvtColor(pair, cv2.COLOR_RGB2BGR))
    writer.release()
    return out


class Frames:
    def __init__(self, path: Path) -> None:
        with VideoSource(path) as src:
            self.frames = list(src)

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)


def test_slots_stay_with_their_person(model: Path, media: Path, tmp_path: Path) -> None:
    frames = Frames(_two_people(media, tmp_path)).frames
    with FaceTracker(model, num_faces=2) as tracker:
        multi = MultiFaceTracker(tracker, 2)
        got = [tuple(multi.split(f)) for f in frames]
    assert all(a.face_present and b.face_present for a, b in got[5:])
    xs = np.array([[a.landmarks[:, 0].mean(), b.landmarks[:, 0].mean()] for a, b in got[5:]])
    assert (xs[:, 0] < 0.5).all() and (xs[:, 1] > 0.5).all()  # slot 1 is the left person
    smile = np.array([[a.weights[23], b.weights[23]] for a, b in got])
    # The left one smiles from ~frame 25, the right one 30 frames later.
    assert smile[45:55, 0].mean() > smile[45:55, 1].mean() + 0.3


def test_a_slot_keeps_its_person_when_the_other_leaves(model: Path, media: Path, tmp_path) -> None:
    frames = Frames(_two_people(media, tmp_path)).frames
    w = frames[0].image.shape[1]
    gone = [
        dataclasses.replace(f, image=np.ascontiguousarray(np.where(
            np.arange(w)[None, :, None] < w // 2, 0, f.image).astype(np.uint8)))
        for f in frames[30:45]
    ]  # fmt: skip  # the left person steps out: their half goes black
    with FaceTracker(model, num_faces=2) as tracker:
        multi = MultiFaceTracker(tracker, 2)
        out = [multi.split(f) for f in frames[:30] + gone]
    assert out[-1][0].face_present is False  # slot 1 (left) is empty
    assert out[-1][1].face_present is True  # the right person stays in slot 2


def test_faces_option_sends_each_performer_to_its_own_output(
    model: Path, media: Path, tmp_path: Path
) -> None:
    clip = _two_people(media, tmp_path)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    proc = run_cli(
        ["run", "--source", str(clip), "--faces", "2", "--fast", "--quiet",
         "--output", f"csv:{a}", "--output", f"2@csv:{b}"],
        model=model,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ta, tb = (parse_take(p.read_text().splitlines()) for p in (a, b))
    assert len(ta) == len(tb) == 72
    smile_a, smile_b = ta.values[:, 23], tb.values[:, 23]
    assert smile_a[45:55].mean() > smile_b[45:55].mean() + 0.3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--faces", "7"], "1 to 6"),
        (["--faces", "2", "--source", "demo"], "needs a camera, video or image"),
        (["--output", "3@none"], "performer 3"),
    ],
)
def test_faces_bad_input(args: list[str], message: str) -> None:
    base = ["run", "--source", "demo", "--quiet", "--max-frames", "1"]
    proc = run_cli([*base, *args])
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
