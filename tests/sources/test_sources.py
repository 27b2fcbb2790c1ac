"""Sources: spelling on the command line, demo schedule, sweep, replay, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avatar_driver.codecs.csv_take import format_header, format_row
from avatar_driver.errors import SourceError
from avatar_driver.shapes import ARKIT_NAMES, INDEX, N_SHAPES
from avatar_driver.sources import DemoSource, ReplaySource, VideoSource, open_source


def test_demo_blinks_smiles_talks_and_looks_around() -> None:
    demo = DemoSource()
    frames = [f for _, f in zip(range(30 * 60), demo, strict=False)]
    w = np.array([f.weights for f in frames])
    pose = np.array([f.pose for f in frames])
    assert w.dtype == np.float32 and w.shape[1] == N_SHAPES
    assert w.min() >= 0 and w.max() <= 1
    blink = w[:, INDEX["eyeBlinkLeft"]]
    onsets = np.flatnonzero((blink[1:] > 0.5) & (blink[:-1] <= 0.5))
    assert len(onsets) >= 10  # a blink every 2-5 s for a minute
    assert w[:, INDEX["mouthSmileLeft"]].max() > 0.8
    assert w[:, INDEX["jawOpen"]].max() > 0.4
    assert np.ptp(pose[:, 0]) > 20 and np.ptp(pose[:, 3]) > 20  # head and eyes move
    assert w[:, INDEX["tongueOut"]].max() == 0
    ts = np.array([f.timestamp for f in frames])
    np.testing.assert_allclose(np.diff(ts), 1 / 30)
    # Deterministic: a second run is identical.
    again = np.array([f.weights for _, f in zip(range(300), DemoSource(), strict=False)])
    np.testing.assert_array_equal(again, w[:300])


def test_sweep_drives_every_shape_in_turn() -> None:
    demo = DemoSource("sweep")
    frames = [f for _, f in zip(range(30 * N_SHAPES), demo, strict=False)]
    w = np.array([f.weights for f in frames])
    for k, name in enumerate(ARKIT_NAMES):
        second = w[30 * k : 30 * (k + 1)]
        assert second[:, k].max() > 0.95, name
        others = np.delete(second, k, axis=1)
        assert others.max() == 0, name
        assert demo.current_shape(k + 0.5) == name


def test_open_source_spellings() -> None:
    assert isinstance(open_source("demo"), DemoSource)
    assert open_source("demo:sweep").mode == "sweep"  # type: ignore[attr-defined]
    with pytest.raises(SourceError, match="demo mode"):
        open_source("demo:dance")
    with pytest.raises(SourceError, match="camera index"):
        open_source("camera:x")
    with pytest.raises(SourceError, match="not a file that exists"):
        open_source("no/such/clip.mp4")


def test_video_source_reads_clip_timestamps(media: Path) -> None:
    with VideoSource(media / "single_face.mp4") as src:
        frames = list(src)
        assert src.fps == pytest.approx(30.0)
    assert len(frames) == 72
    assert frames[0].image is not None and frames[0].image.shape == (360, 640, 3)
    np.testing.assert_allclose([f.timestamp for f in frames[:3]], [0, 1 / 30, 2 / 30])


def test_non_video_file_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("this is not a video")
    with pytest.raises(SourceError, match="not a video"):
        VideoSource(junk)


def test_replay_source(tmp_path: Path) -> None:
    values = np.linspace(0, 1, 61, dtype=np.float32)
    path = tmp_path / "take.csv"
    path.write_text(
        "\n".join(
            [format_header()] + [format_row(i / 60, 60, values * (i % 2)) for i in range(120)]
        )
    )
    src = open_source(str(path))
    assert isinstance(src, ReplaySource) and src.fps == 60 and not src.needs_tracker
    frames = list(src)
    assert len(frames) == 120
    np.testing.assert_allclose(frames[1].weights, values[:52], atol=1e-6)
    # Pose is stored as Live Link sends it (Unreal's signs, degrees / 180), read back in
    # degrees with our signs: yaw keeps its sign, pitch and roll flip.
    sign = np.array([1.0, -1.0, -1.0] * 3)
    np.testing.assert_allclose(frames[1].pose, values[52:] * 180.0 * sign, atol=2e-4)
    assert frames[1].timestamp == pytest.approx(1 / 60)


def test_malformed_take_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(format_header() + "\n00:00:00:01.000,61,0.1,oops\n")
    with pytest.raises(SourceError, match=r"bad\.csv.*line 2"):
        ReplaySource(path)


def test_untracked_frames_skip_colour_conversion(media: Path) -> None:
    """With `wants_image`, frames nobody will track come without pixels (low-power)."""
    with VideoSource(media / "single_face.mp4") as src:
        frames = list(src.frames(wants_image=lambda t: round(t * 30) % 3 == 0))
    assert len(frames) == 72
    with_pixels = [f.index for f in frames if f.image is not None]
    assert with_pixels == [i for i in range(72) if i % 3 == 0]
