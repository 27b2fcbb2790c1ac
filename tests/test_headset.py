"""Headset mode with the performer's own upper face pasted before tracking, on the real
clips with a drawn headset: the lower face reads closer to the clean clip than without the
paste, nothing is "found" once the performer has left, and `calibrate` records the patch
that `run --headset on` uses."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from avatar_driver import degrade
from avatar_driver.frame import Frame
from avatar_driver.headset import UpperFacePaste, UpperFacePatch, record_patch
from avatar_driver.shapes import ARKIT_NAMES, INDEX, pascal
from avatar_driver.tracking.landmarker import FaceTracker
from benchmarks.robustness import read_frames
from tests.conftest import run_cli

_MOUTH = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("jaw", "mouth"))]
_SMILE = [INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]


def _track(model: Path, images: list[np.ndarray], fps: float, patch: UpperFacePatch | None,
           lms: list[np.ndarray | None] | None) -> list[Frame]:  # fmt: skip
    """VIDEO-mode tracking of the clip (with the headset drawn when `lms` is given)."""
    out = []
    with FaceTracker(model, mode="video") as mediapipe:
        tracker = mediapipe if patch is None else UpperFacePaste(mediapipe, patch, lambda: True)
        for k, img in enumerate(images):
            if lms is not None:
                img = degrade.apply("headset", img, lms[k], seed=k)
            out.append(tracker(Frame(timestamp=k / fps, index=k, image=img)))
    return out


@pytest.fixture(scope="module", params=["single_face.mp4", "face_noface.mov"])
def clip(request: pytest.FixtureRequest, model: Path, media: Path) -> dict[str, list[Frame]]:
    images, fps = read_frames(media / request.param)
    with FaceTracker(model, mode="image") as still:
        lms = [still(Frame(timestamp=0.0, image=img)).landmarks for img in images]
    k = next(i for i, lm in enumerate(lms) if lm is not None and i / fps >= 0.25)
    landmarks = lms[k]
    assert landmarks is not None
    patch = record_patch(images[k], landmarks)
    return {
        "clean": _track(model, images, fps, None, None),
        "headset": _track(model, images, fps, None, lms),
        "pasted": _track(model, images, fps, patch, lms),
    }


def _mouth(frames: list[Frame], keep: np.ndarray) -> np.ndarray:
    return np.stack([f.weights for f in frames])[keep][:, _MOUTH]


def test_pasted_upper_face_brings_the_lower_face_back(clip: dict[str, list[Frame]]) -> None:
    keep = np.array([f.face_present for f in clip["clean"]])
    clean = _mouth(clip["clean"], keep)
    headset, pasted = _mouth(clip["headset"], keep), _mouth(clip["pasted"], keep)
    assert np.mean([f.face_present for f, k in zip(clip["pasted"], keep, strict=True) if k]) >= 0.9
    r_pasted = float(np.corrcoef(pasted.ravel(), clean.ravel())[0, 1])
    assert r_pasted >= 0.85
    assert np.abs(pasted - clean).mean() < np.abs(headset - clean).mean()
    smile = np.stack([f.weights for f in clip["clean"]])[keep][:, _SMILE].mean()
    smile_pasted = np.stack([f.weights for f in clip["pasted"]])[keep][:, _SMILE].mean()
    assert abs(smile_pasted / smile - 1.0) <= 0.15


def test_no_face_is_invented_once_the_performer_left(clip: dict[str, list[Frame]]) -> None:
    empty = [not f.face_present for f in clip["clean"]]
    ghosts = [f.face_present for f, e in zip(clip["pasted"], empty, strict=True) if e]
    assert sum(ghosts) <= 0.05 * max(len(ghosts), 1)


def test_calibrate_records_the_upper_face_and_run_uses_it(
    model: Path, media: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "me.toml"
    done = run_cli(["calibrate", "--source", str(media / "single_face.mp4"), "--out",
                    str(profile)], model=model)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "me.upper.png").is_file()
    assert "[upper_face]" in profile.read_text()
    out = tmp_path / "take.csv"
    done = run_cli(["run", "--source", str(media / "single_face.mp4"), "--calibration",
                    str(profile), "--headset", "on", "--output", f"csv:{out}", "--fast",
                    "--quiet"], model=model)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 60
    upper = [pascal(n) for n in ARKIT_NAMES if n.startswith(("eye", "brow"))]
    assert all(float(r[c]) == 0.0 for r in rows for c in upper)
    smile = [float(r["MouthSmileLeft"]) for r in rows[30:60]]
    assert np.mean(smile) > 0.5
    (tmp_path / "me.upper.png").unlink()
    args = ["run", "--source", str(media / "single_face.mp4"), "--calibration", str(profile),
            "--headset", "on", "--output", "csv:-", "--fast"]  # fmt: skip
    done = run_cli(args, model=model)
    assert done.returncode == 2
    assert "me.upper.png" in done.stderr
