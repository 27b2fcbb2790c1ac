"""Live Link Face CSV takes: the format the iPhone app records and Unreal reads.

Header ``Timecode,BlendShapeCount,`` then 61 names (52 ARKit shapes in the app's CSV
order, then head and eye yaw/pitch/roll); one row per frame. Timecode is
``HH:MM:SS:FF.fff``: frame FF at the take's rate and the subframe in thousandths, so two
rows never share HH:MM:SS:FF. Timecodes, rate inference and the text parsing come from
`codecs.take_text`, the same file the Blender add-on ships (``core/takes.py``), so a take
plays at one rate everywhere.

Head and eye angles are stored as Live Link sends them: ``sign * degrees / 180`` with
`codecs.livelink.POSE_SIGN` (Unreal's convention); `pose_to_take` / `take_to_pose`
convert.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..shapes import ARKIT_NAMES, POSE_NAMES, pascal
from .livelink import POSE_SIGN
from .take_text import TakeError, format_timecode, frame_time, parse_timecode
from .take_text import parse_take as parse_take_text

__all__ = [
    "COLUMN_NAMES",
    "N_VALUES",
    "POSE_SCALE",
    "Take",
    "TakeError",
    "format_frame_row",
    "format_header",
    "format_row",
    "format_timecode",
    "frame_time",
    "parse_take",
    "parse_timecode",
    "pose_to_take",
    "take_to_pose",
]

COLUMN_NAMES: tuple[str, ...] = tuple(pascal(n) for n in ARKIT_NAMES + POSE_NAMES)
N_VALUES = len(COLUMN_NAMES)  # 61
#: Stored pose value = POSE_SIGN * degrees * POSE_SCALE (-1..1 for -180..180 degrees).
POSE_SCALE = 1.0 / 180.0
_POSE_FACTOR = POSE_SIGN * POSE_SCALE


def pose_to_take(pose: np.ndarray) -> np.ndarray:
    """Our 9 pose angles (degrees, `tracking.pose` signs) as a take stores them."""
    return np.asarray(pose, dtype=np.float64) * _POSE_FACTOR


def take_to_pose(values: np.ndarray) -> np.ndarray:
    """The inverse of `pose_to_take` (works on (9,) or (N, 9))."""
    return np.asarray(values, dtype=np.float64) / _POSE_FACTOR


def format_header() -> str:
    """The header line (no newline)."""
    return "Timecode,BlendShapeCount," + ",".join(COLUMN_NAMES)


def format_frame_row(number: int, fps: int, values: np.ndarray, subframe: float = 0.0) -> str:
    """One data line (no newline) for frame `number` at `fps` and 61 values."""
    body = ",".join(f"{v:.6f}" for v in values.tolist())
    return f"{format_timecode(number, fps, subframe)},{N_VALUES},{body}"


def format_row(seconds: float, fps: int, values: np.ndarray) -> str:
    """One data line (no newline) for a time in seconds at `fps` and 61 values."""
    number, sub = frame_time(seconds, fps)
    return format_frame_row(number, fps, values, sub)


class Take:
    """A parsed take: timestamps (s, from 0), values (N, 61) float32 in `COLUMN_NAMES`
    order, the timecode rate, and the first row's timecode in seconds (`start`)."""

    def __init__(
        self, timestamps: np.ndarray, values: np.ndarray, fps: float, start: float = 0.0
    ) -> None:
        self.timestamps = timestamps
        self.values = values
        self.fps = fps
        self.start = start

    def __len__(self) -> int:
        return len(self.timestamps)


def parse_take(lines: Iterable[str], *, where: str = "") -> Take:
    """Parse a take; raises `TakeError` (a ValueError) naming the line and what was expected."""
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if not text:
        raise TakeError("the file is empty; expected a 'Timecode,BlendShapeCount,...' header")
    try:
        raw = parse_take_text(text, timecode_fps=None)
    except TakeError as e:
        raise TakeError(str(e).removeprefix("<text>: ")) from None
    lookup = {n.lower(): n for n in raw.names}
    missing = [n for n in COLUMN_NAMES[:52] if n.lower() not in lookup and n != "TongueOut"]
    if missing:
        raise TakeError(f"line 1: header lacks blendshape columns {missing[:5]}")
    values = np.zeros((len(raw.times), N_VALUES), dtype=np.float32)
    for k, name in enumerate(COLUMN_NAMES):
        col = lookup.get(name.lower())
        if col is not None:
            values[:, k] = raw.columns[col]
    return Take(np.asarray(raw.times, dtype=np.float64), values, raw.timecode_fps, raw.start)
