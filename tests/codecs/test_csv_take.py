"""Live Link Face CSV: timecodes, header, rows, and parsing errors with line numbers."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_driver.codecs.csv_take import (
    COLUMN_NAMES,
    format_header,
    format_row,
    format_timecode,
    parse_take,
    parse_timecode,
)


def test_header_is_live_link_face() -> None:
    cols = format_header().split(",")
    assert cols[:2] == ["Timecode", "BlendShapeCount"]
    assert len(cols) == 2 + 61
    assert cols[2] == "EyeBlinkLeft" and cols[2 + 51] == "TongueOut" and cols[-1] == "RightEyeRoll"
    assert tuple(cols[2:]) == COLUMN_NAMES


@pytest.mark.parametrize(
    ("seconds", "fps", "text"),
    [
        (0.0, 30, "00:00:00:00.000"),
        (1.5, 30, "00:00:01:15.000"),
        (3661.25, 60, "01:01:01:15.000"),
        (0.05, 30, "00:00:00:01.500"),
    ],
)
def test_timecode(seconds: float, fps: int, text: str) -> None:
    assert format_timecode(seconds, fps) == text
    whole, ff, frac = parse_timecode(text)
    assert whole + (ff + frac) / fps == pytest.approx(seconds, abs=1e-3)


def test_round_trip_and_fps_inference() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 1, (95, 61)).astype(np.float32)
    lines = [format_header()] + [format_row(i / 30, 30, values[i]) for i in range(95)]
    take = parse_take(lines)
    assert take.fps == 30 and len(take) == 95
    # The timecode keeps a thousandth of a frame: 33 microseconds at 30 fps.
    np.testing.assert_allclose(take.timestamps, np.arange(95) / 30, atol=5e-5)
    np.testing.assert_allclose(take.values, values, atol=1e-6)


def test_live_link_face_app_style_take() -> None:
    """The app's own files: time-of-day timecodes at 60 fps, 61 columns."""
    names = ",".join(COLUMN_NAMES)
    rows = [f"17:49:11:{f:02d}.166,61," + ",".join(["0.25"] * 61) for f in range(50, 60)]
    rows += [f"17:49:12:{f:02d}.166,61," + ",".join(["0.5"] * 61) for f in range(0, 10)]
    take = parse_take([f"Timecode,BlendShapeCount,{names}", *rows])
    assert take.fps == 60
    np.testing.assert_allclose(np.diff(take.timestamps), 1 / 60, atol=1e-6)
    assert take.values[0, 0] == pytest.approx(0.25) and take.values[-1, 0] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty"),
        (["frame,value"], "line 1"),
        ([format_header()], "no frames"),
        ([format_header(), "12:00,61," + ",".join(["0"] * 61)], "line 2: timecode"),
        ([format_header(), "00:00:00:01.000,61,0.5,0.5"], "line 2: 2 values"),
        ([format_header(), "00:00:00:01.000,61," + ",".join(["x"] * 61)], "not a number"),
        ([format_header(), "00:00:00:01.000,61," + ",".join(["nan"] * 61)], "finite"),
    ],
)
def test_bad_takes_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_take(lines)
