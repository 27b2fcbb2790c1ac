"""The LiteRT tracker against MediaPipe's task graph, on the real model and media."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.cli import main
from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX
from avatar_driver.tracking.compare import Track, agreement, load_frames, track
from avatar_driver.tracking.landmarker import FaceTracker
from avatar_driver.tracking.litert import LiteRtTracker
from avatar_driver.tracking.roi import crop, crop_matrix, roi_from_landmarks

#: The LiteRT tracker's quality bar: weights within 0.012 MAE, mouth and jaw r >= 0.95.
MAE = 0.012
R_MIN = 0.95
PX = 3.0


@cache
def _pair(model: Path, clip: Path) -> tuple[Track, Track]:
    frames = load_frames(str(clip))
    still = clip.suffix.lower() in (".png", ".jpg")
    return (
        track("mediapipe", str(model), frames, still=still),
        track("litert", str(model), frames, still=still),
    )


@pytest.mark.parametrize("clip", ["single_face.mp4", "face_noface.mov"])
def test_clips_match_mediapipe(model: Path, media: Path, clip: str) -> None:
    ref, lite = _pair(model, media / clip)
    q = agreement(ref, lite)
    assert q["presence_agreement"] >= 0.97, q
    assert q["faces_other"] >= 60, q
    assert q["landmark_px_mean"] < PX, q
    assert q["weights_mae"] < MAE, q
    assert q["mouth_jaw_r_min"] >= R_MIN, q
    assert q["mouth_jaw_shapes"] >= 5, q  # the smile moves the mouth: r is measured
    assert q["blink_peak_drop_max"] < 0.1, q
    assert q["pose_deg_mae"] < 1.0, q
    # The smile in single_face.mp4 is seen by both.
    smile = INDEX["mouthSmileLeft"]
    assert lite.weights[lite.present, smile].max() > 0.4


@pytest.mark.parametrize("photo", ["laughing_hand.png", "bw_portrait.jpg", "group_six.jpg"])
def test_photos_match_mediapipe(model: Path, media: Path, photo: str) -> None:
    ref, lite = _pair(model, media / photo)
    if photo == "group_six.jpg":  # small faces: see test_group_photo_faces_are_real
        return
    assert (ref.present == lite.present).all()
    if ref.present.any():
        q = agreement(ref, lite)
        assert q["landmark_px_mean"] < PX and q["weights_mae"] < MAE, q


def test_group_photo_faces_are_real(model: Path, media: Path) -> None:
    """group_six.jpg: a whole-frame detection finds none of the six small faces; the tiles
    find one, and MediaPipe, shown just that face's crop, agrees it is a face there."""
    (photo,) = load_frames(str(media / "group_six.jpg"))
    assert photo.image is not None
    h, w = photo.image.shape[:2]
    with LiteRtTracker(model, mode="image") as tracker:
        found = tracker(photo)
    assert found.face_present and found.landmarks is not None
    box = roi_from_landmarks(found.landmarks, w, h, margin=2.0)
    patch = crop(photo.image, box, 256)
    with FaceTracker(model, mode="image") as mediapipe:
        seen = mediapipe(Frame(timestamp=0.0, image=patch))
    assert seen.face_present and seen.landmarks is not None
    # The same face: MediaPipe's landmarks on the crop sit where ours do.
    m = np.linalg.inv(np.vstack([crop_matrix(box, 256), [0, 0, 1]]))
    back = seen.landmarks[:, :2] * 256 @ m[:2, :2].T + m[:2, 2]
    gap = np.linalg.norm(back - found.landmarks[:, :2] * (w, h), axis=1).mean()
    assert gap < 0.1 * box.width, gap


def _frames(media: Path, clip: str, start: float = 0.0) -> list[Frame]:
    """A clip's frames re-stamped from `start` (to splice clips into one stream)."""
    frames = load_frames(str(media / clip))
    t0 = frames[0].timestamp
    return [Frame(timestamp=start + f.timestamp - t0, image=f.image) for f in frames]


def test_lost_and_found_again(model: Path, media: Path) -> None:
    first = _frames(media, "face_noface.mov")
    again = _frames(media, "single_face.mp4", start=first[-1].timestamp + 0.04)
    with LiteRtTracker(model) as tracker:
        present = [tracker(f).face_present for f in first]
        # The detector runs on the first frame and after every frame without a face, never
        # while the face is tracked (the frame it is lost on still looks through the crop).
        assert tracker.detections == 1 + present[:-1].count(False)
        lost_runs = tracker.detections
        found = [tracker(f).face_present for f in again]
    # The man for ~2.8 s, then a cartoon title (a stray detection there is tolerated).
    assert all(present[:60]) and sum(present[-40:]) <= 2
    assert all(found)
    assert tracker.detections <= lost_runs + 1  # found again at once, then tracked


def _rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    side = int(np.hypot(w, h))
    canvas = cv2.copyMakeBorder(
        image, (side - h) // 2, (side - h + 1) // 2, (side - w) // 2, (side - w + 1) // 2,
        cv2.BORDER_CONSTANT, value=(0, 0, 0),
    )  # fmt: skip
    m = cv2.getRotationMatrix2D((side / 2, side / 2), degrees, 1.0)
    return cv2.warpAffine(canvas, m, (side, side))


def _both(model: Path, frames: list[Frame], mode: str) -> tuple[list[Frame], list[Frame]]:
    with FaceTracker(model, mode=mode) as a, LiteRtTracker(model, mode=mode) as b:
        return [a(f) for f in frames], [b(f) for f in frames]


def _px(a: Frame, b: Frame) -> float:
    assert a.landmarks is not None and b.landmarks is not None and a.image is not None
    h, w = a.image.shape[:2]
    return float(np.linalg.norm((a.landmarks[:, :2] - b.landmarks[:, :2]) * (w, h), axis=1).mean())


@pytest.mark.parametrize("degrees", [35.0, -40.0])
def test_rotated_face(model: Path, media: Path, degrees: float) -> None:
    still = load_frames(str(media / "single_face.mp4"))[30].image
    assert still is not None
    upright = Frame(timestamp=0.0, image=_rotated(still, 0.0))
    turned = Frame(timestamp=0.0, image=_rotated(still, degrees))
    ref, lite = _both(model, [upright, turned], "image")
    assert all(f.face_present for f in ref + lite)
    assert _px(ref[1], lite[1]) < PX
    assert np.abs(ref[1].weights - lite[1].weights).mean() < MAE
    # The head rolls with the picture (cv2 turns positive angles counter-clockwise).
    roll = lite[1].pose[2] - lite[0].pose[2]
    assert abs(abs(roll) - abs(degrees)) < 5.0, roll
    assert abs(roll - (ref[1].pose[2] - ref[0].pose[2])) < 1.0


def test_turning_face_is_followed(model: Path, media: Path) -> None:
    """The crop turns with the face over a video: no re-detection while it rolls to 45 deg."""
    still = load_frames(str(media / "single_face.mp4"))[30].image
    assert still is not None
    angles = np.linspace(0.0, 45.0, 31)
    frames = [Frame(timestamp=k / 30, image=_rotated(still, a)) for k, a in enumerate(angles)]
    with LiteRtTracker(model) as tracker:
        out = [tracker(f) for f in frames]
        assert tracker.detections == 1
    assert all(f.face_present for f in out)


def _small(image: np.ndarray, scale: float, at: tuple[int, int]) -> np.ndarray:
    """The picture shrunk by `scale` and pasted at `at` into a grey 1280x720 frame."""
    import cv2

    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    out = np.full((720, 1280, 3), 90, np.uint8)
    x, y = at
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def _smile(media: Path) -> np.ndarray:
    image = load_frames(str(media / "single_face.mp4"))[60].image
    assert image is not None
    return image


def test_small_face(model: Path, media: Path) -> None:
    frame = Frame(timestamp=0.0, image=_small(_smile(media), 0.8, (600, 300)))
    ref, lite = _both(model, [frame], "image")
    assert ref[0].face_present and lite[0].face_present
    assert _px(ref[0], lite[0]) < PX
    assert np.abs(ref[0].weights - lite[0].weights).mean() < MAE


def test_smaller_face_is_found_in_a_tile(model: Path, media: Path) -> None:
    """A face too small for a whole-frame detection is found in a zoomed-in tile, and its
    weights stay close to those of the same face seen large."""
    smile = _smile(media)
    with LiteRtTracker(model, mode="image") as tracker:
        large = tracker(Frame(timestamp=0.0, image=smile))
        tracker.detections = 0
        small = tracker(Frame(timestamp=0.0, image=_small(smile, 0.45, (600, 300))))
        assert tracker.detections > 1  # the whole frame found nothing; a tile did
    assert small.face_present and small.landmarks is not None
    x, y = small.landmarks[:, :2].mean(axis=0) * (1280, 720)
    assert 600 < x < 600 + 0.45 * 640 and 300 < y < 300 + 0.45 * 360
    assert np.abs(small.weights - large.weights).mean() < 0.03
    with LiteRtTracker(model, mode="image", tiles=0) as whole_only:
        assert not whole_only(
            Frame(timestamp=0.0, image=_small(smile, 0.45, (600, 300)))
        ).face_present


def test_small_face_moving_is_followed(model: Path, media: Path) -> None:
    """A small face drifting across a big frame: found within a few frames, then its crop
    follows it with no further detection."""
    smile = _smile(media)
    frames = [
        Frame(timestamp=k / 30, image=_small(smile, 0.45, (100 + 12 * k, 300))) for k in range(40)
    ]
    with LiteRtTracker(model) as tracker:
        out = [tracker(f) for f in frames]
        first = next(k for k, f in enumerate(out) if f.face_present)
        assert first <= 12
        assert tracker.detections == first + 1
    assert all(f.face_present for f in out[first:])
    a, b = out[first].landmarks, out[-1].landmarks
    assert a is not None and b is not None
    moved = (b[:, 0].mean() - a[:, 0].mean()) * 1280
    assert abs(moved - 12 * (39 - first)) < 10


def test_close_once(model: Path, media: Path) -> None:
    tracker = LiteRtTracker(model)
    calls: list[int] = []
    real: Callable[[], None] = tracker._close

    def counted() -> None:
        calls.append(1)
        real()

    tracker._close = counted  # type: ignore[method-assign]
    with tracker:
        assert tracker(load_frames(str(media / "laughing_hand.png"))[0]).face_present
    tracker.close()
    assert calls == [1]


def test_process_exits_cleanly(model: Path, media: Path) -> None:
    """Load, track, close, exit: exit code 0 and nothing on stderr (no LiteRT chatter)."""
    code = (
        "import sys; from avatar_driver.tracking.compare import load_frames;"
        "from avatar_driver.tracking.litert import LiteRtTracker;"
        "t = LiteRtTracker(sys.argv[1], mode='image');"
        "print(t(load_frames(sys.argv[2])[0]).face_present); t.close()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(model), str(media / "laughing_hand.png")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr
    assert proc.stderr == ""


def test_run_with_litert(model: Path, media: Path, tmp_path: Path) -> None:
    out = tmp_path / "take.csv"
    args = ["run", "--source", str(media / "single_face.mp4"), "--tracker", "litert",
            "--output", f"csv:{out}", "--fast", "--quiet", "--model", str(model)]  # fmt: skip
    assert main(args) == 0
    assert len(out.read_text().splitlines()) == 1 + 72


def test_bench_compares_both(model: Path, media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "--source", str(media / "laughing_hand.png"), "--tracker", "both",
            "--json", "--model", str(model)]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["faces_ref"] == report["faces_other"] == 1
    assert report["weights_mae"] < MAE


def test_adaptive_skips_still_frames_only(model: Path, media: Path) -> None:
    from avatar_driver.tracking.adaptive import AdaptiveRate

    smile = _smile(media)
    still = [Frame(timestamp=k / 30, image=smile) for k in range(30)]
    with AdaptiveRate(LiteRtTracker(model)) as adaptive:
        out = [adaptive(f) for f in still]
        assert adaptive.skipped == 15  # every other frame: never two in a row
    assert all(f.face_present for f in out)
    assert [f.timestamp for f in out] == [f.timestamp for f in still]
    moving = [
        Frame(timestamp=k / 30, image=_small(smile, 0.8, (100 + 12 * k, 200))) for k in range(20)
    ]
    with AdaptiveRate(LiteRtTracker(model)) as adaptive:
        [adaptive(f) for f in moving]
        assert adaptive.skipped == 0


def test_adaptive_keeps_quality(model: Path, media: Path) -> None:
    frames = load_frames(str(media / "single_face.mp4"))
    ref, _ = _pair(model, media / "single_face.mp4")
    q = agreement(ref, track("litert", str(model), frames, adaptive=True))
    assert q["weights_mae"] < MAE and q["mouth_jaw_r_min"] >= R_MIN, q
    assert q["blink_peaks"] >= 1 and q["blink_peak_drop_max"] < 0.05, q


def test_adaptive_needs_litert(
    model: Path, media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--source", str(media / "single_face.mp4"), "--adaptive",
            "--output", "none", "--quiet", "--model", str(model)]  # fmt: skip
    assert main(args) == 2
    assert "--tracker litert" in capsys.readouterr().err


def test_agreement_needs_the_same_face(model: Path, media: Path) -> None:
    """Two trackers that each find a face, but not the same one (a group photo), are not
    compared shape by shape: the frame counts as a different face, not as agreement."""
    frames = load_frames(str(media / "laughing_hand.png"))
    ref = track("mediapipe", str(model), frames, still=True)
    assert ref.present.all()
    same = agreement(ref, ref)
    assert same["different_face"] == 0 and same["presence_agreement"] == 1.0
    assert same["weights_mae"] == 0.0
    w, _ = ref.size
    lm = ref.landmarks.copy()
    width = float(np.ptp(lm[0, :, 0]))
    lm[..., 0] += width  # the same face one face-width to the side: another person
    moved = Track(ref.present, ref.weights, lm, ref.pose, ref.ms, ref.size)
    other = agreement(ref, moved)
    assert other["different_face"] == len(frames) and other["presence_agreement"] == 0.0
    assert "weights_mae" not in other
    lm[..., 0] -= 0.9 * width  # a tenth of a face-width off: still the same face
    near = agreement(ref, Track(ref.present, ref.weights, lm, ref.pose, ref.ms, ref.size))
    assert near["different_face"] == 0 and 0.05 * width * w < near["landmark_px_mean"]
