"""Live Link Face CSV takes: the format the iPhone app records and Unreal reads.

Header ``Timecode,BlendShapeCount,`` then 61 names (52 ARKit shapes in Live Link order,
then head and eye yaw/pitch/roll); one row per frame. Timecode is
``HH:MM:SS:FF.fff`` (hours, minutes, seconds, frame number at the take's frame rate and a
fraction of a frame). The file does not state the frame rate, so reading infers it from
where the frame field wraps (or assumes 60, the app's default, for takes under a second).

Head and eye angles are stored as Live Link sends them: degrees / 180 (-1..1 for
-180..180 degrees, as Unreal's Live Link reads them); `POSE_SCALE` converts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

from ..shapes import ARKIT_NAMES, POSE_NAMES, pascal

__all__ = [
    "COLUMN_NAMES",
    "N_VALUES",
    "POSE_SCALE",
    "Take",
    "format_header",
    "format_row",
    "format_timecode",
    "parse_take",
    "parse_timecode",
]

COLUMN_NAMES: tuple[str, ...] = tuple(pascal(n) for n in ARKIT_NAMES + POSE_NAMES)
N_VALUES = len(COLUMN_NAMES)  # 61
#: Stored pose value = degrees * POSE_SCALE (Live Link's -1..1 for -180..180 degrees).
POSE_SCALE = 1.0 / 180.0
_STANDARD_RATES = (24, 25, 30, 48, 50, 60, 90, 100, 120, 240)
_TIMECODE = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[:;](\d+)(?:\.(\d+))?\s*$")
MAX_ROWS = 2_000_000  # ~9 hours at 60 fps: refuse absurd files rather than fill memory


def format_header() -> str:
    """The header line (no newline)."""
    return "Timecode,BlendShapeCount," + ",".join(COLUMN_NAMES)


def format_timecode(seconds: float, fps: int) -> str:
    """``HH:MM:SS:FF.fff`` for a time in seconds at a whole frame rate."""
    seconds = max(0.0, seconds)
    whole = math.floor(seconds)
    frames = (seconds - whole) * fps
    ff = min(int(frames), fps - 1)
    frac = round((frames - ff) * 1000)
    if frac >= 1000:
        frac = 999
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}.{frac:03d}"


def format_row(seconds: float, fps: int, values: np.ndarray) -> str:
    """One data line (no newline) for 61 values."""
    body = ",".join(f"{v:.6f}" for v in values.tolist())
    return f"{format_timecode(seconds, fps)},{N_VALUES},{body}"


def parse_timecode(text: str) -> tuple[int, int, float]:
    """(whole seconds, frame field, fraction) from ``HH:MM:SS:FF.fff``."""
    m = _TIMECODE.match(text)
    if not m:
        raise ValueError(f"timecode {text!r} is not HH:MM:SS:FF.fff")
    h, mi, s, ff = (int(g) for g in m.groups()[:4])
    frac = float("0." + m.group(5)) if m.group(5) else 0.0
    return h * 3600 + mi * 60 + s, ff, frac


class Take:
    """A parsed take: timestamps (s, from 0), values (N, 61) float32, frame rate."""

    def __init__(self, timestamps: np.ndarray, values: np.ndarray, fps: int) -> None:
        self.timestamps = timestamps
        self.values = values
        self.fps = fps

    def __len__(self) -> int:
        return len(self.timestamps)


def _infer_fps(frame_fields: np.ndarray, seconds: np.ndarray) -> int:
    top = int(frame_fields.max()) if len(frame_fields) else 0
    spans_second = len(seconds) > 1 and seconds.max() > seconds.min()
    for rate in _STANDARD_RATES:
        if top < rate and (spans_second or rate >= 60):
            return rate
    return max(top + 1, 60)


def parse_take(lines: Iterable[str]) -> Take:
    """Parse a take; raises ValueError naming the line and what was expected."""
    it = iter(lines)
    header = next(it, None)
    if header is None:
        raise ValueError("the file is empty; expected a 'Timecode,BlendShapeCount,...' header")
    cols = [c.strip() for c in header.strip().lstrip("\ufeff").split(",")]
    if len(cols) < 2 or cols[0].lower() != "timecode" or cols[1].lower() != "blendshapecount":
        raise ValueError("line 1: expected a header starting 'Timecode,BlendShapeCount'")
    names = [c for c in cols[2:] if c]
    lookup = {n.lower(): i for i, n in enumerate(names)}
    missing = [n for n in COLUMN_NAMES[:52] if n.lower() not in lookup and n != "TongueOut"]
    if missing:
        raise ValueError(f"line 1: header lacks blendshape columns {missing[:5]}")
    # Columns of the file in our order (-1 where absent: pose columns, TongueOut).
    take_index = np.array([lookup.get(n.lower(), -1) for n in COLUMN_NAMES])
    secs: list[int] = []
    fields: list[int] = []
    fracs: list[float] = []
    rows: list[list[float]] = []
    for lineno, line in enumerate(it, start=2):
        if not line.strip():
            continue
        if len(rows) >= MAX_ROWS:
            raise ValueError(f"more than {MAX_ROWS} rows; split the take")
        parts = line.rstrip("\r\n").split(",")
        try:
            s, ff, frac = parse_timecode(parts[0])
        except ValueError as e:
            raise ValueError(f"line {lineno}: {e}") from e
        cells = parts[2 : 2 + len(names)]
        if len(cells) < len(names):
            raise ValueError(
                f"line {lineno}: {len(cells)} values, expected {len(names)} as in the header"
            )
        try:
            rows.append([float(v) for v in cells])
        except ValueError as e:
            raise ValueError(f"line {lineno}: a value is not a number ({e})") from e
        secs.append(s)
        fields.append(ff)
        fracs.append(frac)
    if not rows:
        raise ValueError("the take has a header but no frames")
    raw = np.asarray(rows, dtype=np.float64)
    if not np.isfinite(raw).all():
        bad = int(np.flatnonzero(~np.isfinite(raw).all(axis=1))[0]) + 2
        raise ValueError(f"line {bad}: values must be finite numbers")
    values = np.zeros((len(rows), N_VALUES), dtype=np.float32)
    present = take_index >= 0
    values[:, present] = raw[:, take_index[present]]
    sec_arr = np.asarray(secs, dtype=np.float64)
    field_arr = np.asarray(fields, dtype=np.float64)
    fps = _infer_fps(field_arr, sec_arr)
    t = sec_arr + (field_arr + np.asarray(fracs)) / fps
    # A take recorded across midnight wraps the clock: unwrap it.
    day_wraps = np.cumsum(np.diff(t, prepend=t[0]) < -43200.0)
    t = t + 86400.0 * day_wraps
    return Take(t - t[0], values, fps)
