"""Live Link Face CSV: timecodes, header, rows, the one shared reader, and parse errors."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from avatar_driver.codecs import take_text
from avatar_driver.codecs.csv_take import (
    COLUMN_NAMES,
    format_frame_row,
    format_header,
    format_row,
    format_timecode,
    frame_time,
    parse_take,
    parse_timecode,
    pose_to_take,
    take_to_pose,
)


def test_header_is_live_link_face() -> None:
    cols = format_header().split(",")
    assert cols[:2] == ["Timecode", "BlendShapeCount"]
    assert len(cols) == 2 + 61
    assert cols[2] == "EyeBlinkLeft" and cols[2 + 51] == "TongueOut" and cols[-1] == "RightEyeRoll"
    assert cols[2 + 15 : 2 + 17] == ["JawRight", "JawLeft"]  # the app's CSV order
    assert tuple(cols[2:]) == COLUMN_NAMES


@pytest.mark.parametrize(
    ("seconds", "fps", "text"),
    [
        (0.0, 30, "00:00:00:00.000"),
        (1.5, 30, "00:00:01:15.000"),
        (3661.25, 60, "01:01:01:15.000"),
        (0.05, 30, "00:00:00:01.500"),
        (2 / 60, 60, "00:00:00:02.000"),  # float noise: 1.9999999 frames is frame 2
        (59 / 60, 60, "00:00:00:59.000"),
    ],
)
def test_timecode(seconds: float, fps: int, text: str) -> None:
    number, sub = frame_time(seconds, fps)
    assert format_timecode(number, fps, sub) == text
    assert format_row(seconds, fps, np.zeros(61)).startswith(text + ",61,")
    h, m, s, f = parse_timecode(text)
    assert h * 3600 + m * 60 + s + f / fps == pytest.approx(seconds, abs=1e-3)


@pytest.mark.parametrize("fps", [24, 25, 30, 48, 50, 60])
def test_frame_time_never_rounds_up_to_a_whole_subframe(fps: int) -> None:
    """Every k/fps lands on frame k, subframe 0, never on k-1 with subframe 1.0."""
    for k in range(5 * fps):
        assert frame_time(k / fps, fps) == (k, 0.0)
        number, sub = frame_time((k + 0.99999) / fps, fps)
        assert number == k and 0.0 <= sub < 1.0 and np.float32(sub) < 1.0


def rows_by_frame(text: str) -> dict[str, list[str]]:
    """An importer's view: rows keyed by HH:MM:SS:FF (the subframe is not part of the key)."""
    keyed: dict[str, list[str]] = {}
    reader = csv.reader(io.StringIO(text))
    next(reader)
    for row in reader:
        key = row[0].split(".")[0]
        assert key not in keyed, f"frame {key} appears twice"
        keyed[key] = row
    return keyed


def test_round_trip_and_fps_inference() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 1, (95, 61)).astype(np.float32)
    lines = [format_header()] + [format_frame_row(i, 30, values[i]) for i in range(95)]
    text = "\n".join(lines) + "\n"
    assert len(rows_by_frame(text)) == 95
    take = parse_take(lines)
    assert take.fps == 30 and len(take) == 95 and take.start == 0.0
    np.testing.assert_allclose(take.timestamps, np.arange(95) / 30, atol=1e-9)
    np.testing.assert_allclose(take.values, values, atol=1e-6)


def test_live_link_face_app_style_take() -> None:
    """The app's own files: time-of-day timecodes at 60 fps, 61 columns."""
    names = ",".join(COLUMN_NAMES)
    rows = [f"17:49:11:{f:02d}.166,61," + ",".join(["0.25"] * 61) for f in range(50, 60)]
    rows += [f"17:49:12:{f:02d}.166,61," + ",".join(["0.5"] * 61) for f in range(0, 10)]
    take = parse_take([f"Timecode,BlendShapeCount,{names}", *rows])
    assert take.fps == 60
    assert take.start == pytest.approx(17 * 3600 + 49 * 60 + 11 + 50.166 / 60)
    np.testing.assert_allclose(np.diff(take.timestamps), 1 / 60, atol=1e-6)
    assert take.values[0, 0] == pytest.approx(0.25) and take.values[-1, 0] == pytest.approx(0.5)


@pytest.mark.parametrize("fps", [24, 25, 30, 36, 48, 50, 60])
def test_the_tool_and_the_addon_read_one_rate(fps: int) -> None:
    """One reader: a 36 fps take used to play at 48 fps in the tool and 36 in Blender."""
    values = np.zeros(61, dtype=np.float32)
    lines = [format_header()] + [format_frame_row(k, fps, values) for k in range(3 * fps)]
    tool = parse_take(lines)
    addon = take_text.parse_take("\n".join(lines) + "\n")
    assert tool.fps == addon.timecode_fps == fps
    assert tool.timestamps.tolist() == pytest.approx(addon.times)


def test_pose_is_stored_with_unreal_signs() -> None:
    """HeadYaw keeps our sign, HeadPitch and HeadRoll flip (codecs.livelink docstring)."""
    pose = np.array([18.0, 9.0, -36.0, 4.5, 9.0, 0.0, -4.5, 9.0, 0.0])
    stored = pose_to_take(pose)
    assert stored[:3] == pytest.approx([0.1, -0.05, 0.2])
    assert take_to_pose(stored) == pytest.approx(pose)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty"),
        (["frame,value"], "line 1"),
        ([format_header()], "no frames"),
        ([format_header(), "12:00,61," + ",".join(["0"] * 61)], "line 2: timecode"),
        ([format_header(), "00:00:00:01.000,61,0.5,0.5"], "line 2: 2 values"),
        ([format_header(), "00:00:00:01.000,61," + ",".join(["x"] * 61)], "line 2: could not"),
        ([format_header(), "00:00:00:01.000,61," + ",".join(["nan"] * 61)], "finite"),
    ],
)
def test_bad_takes_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_take(lines)
