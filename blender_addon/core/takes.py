"""Live Link Face CSV takes: the one timecode and take reader of the add-on and the tool.

Format (what the iPhone app records, and avatar-driver's ``csv`` output): header
``Timecode,BlendShapeCount,<names>``; each row a timecode ``HH:MM:SS:FF.fff`` (hours,
minutes, seconds, frame at the take's rate, and the thousandths of a frame: the subframe),
a count and the values. Columns are read by header name, not position.

The take's frame rate is not in the file. It is inferred from the largest frame field
(+1), snapped up to a common rate when it is within a few frames of one (frames skipped
before a wrap), or 60 (the app's default) when the take never crosses a second.

Standard library only: this file ships in the Blender extension as ``core/takes.py`` and
avatar-driver imports the same file as ``avatar_driver.codecs.take_text`` (a symlink), so
the two cannot read a take at different rates.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "COMMON_RATES",
    "DEFAULT_TIMECODE_FPS",
    "Take",
    "TakeError",
    "format_timecode",
    "frame_time",
    "infer_fps",
    "parse_take",
    "parse_timecode",
]

DEFAULT_TIMECODE_FPS = 60.0
COMMON_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0, 100.0, 120.0, 240.0)
MAX_ROWS = 2_000_000  # ~9 hours at 60 fps: refuse absurd files rather than fill memory
#: Largest float32 below 1: a subframe packed as f32 must never round up to 1.0.
SUBFRAME_MAX = 1.0 - 2.0**-24
_SNAP = 1e-6  # frames: a time this close below a frame boundary is on it (float noise)
_TIMECODE = re.compile(r"^\s*(\d{1,3}):(\d{1,2}):(\d{1,2})[:;](\d{1,4})(\.\d+)?\s*$")
_DAY = 24 * 3600.0


class TakeError(ValueError):
    """The file is not a readable Live Link Face CSV take; says which line and why."""


@dataclass(slots=True)
class Take:
    names: list[str]  # channel names as in the header (PascalCase for the app's files)
    times: list[float]  # seconds from the first row
    columns: dict[str, list[float]]  # name -> one value per row
    timecode_fps: float
    fps_inferred: bool
    start: float = 0.0  # the first row's timecode in seconds (of the day, for the app)

    @property
    def duration(self) -> float:
        return self.times[-1] if self.times else 0.0


def frame_time(seconds: float, fps_num: float, fps_den: float = 1.0) -> tuple[int, float]:
    """Frame number and subframe in [0, 1) of a time at ``fps_num / fps_den``.

    A time a hair below a frame boundary (2/60 s * 60 = 1.9999999) is that frame, not the
    previous one with subframe 1.0.
    """
    frames = seconds * fps_num / fps_den
    number = math.floor(frames + _SNAP)
    sub = frames - number
    if sub < _SNAP:
        return number, 0.0
    return number, min(sub, SUBFRAME_MAX)


def format_timecode(number: int, fps: int, subframe: float = 0.0) -> str:
    """``HH:MM:SS:FF.fff`` for frame `number` (counted from 00:00:00:00) at a whole rate."""
    number = max(0, int(number))
    whole, ff = divmod(number, fps)
    frac = min(999, max(0, math.floor(subframe * 1000.0)))
    m, s = divmod(whole, 60)
    h, m = divmod(m, 60)
    return f"{h % 24:02d}:{m:02d}:{s:02d}:{ff:02d}.{frac:03d}"


def parse_timecode(text: str) -> tuple[int, int, int, float]:
    """``"17:49:11:28.166"`` -> (17, 49, 11, 28.166)."""
    m = _TIMECODE.match(text)
    if not m:
        raise ValueError(f"timecode {text[:40]!r} is not HH:MM:SS:FF[.fff]")
    h, mi, s, f = (int(g) for g in m.groups()[:4])
    frac = float(m.group(5)) if m.group(5) else 0.0
    if mi >= 60 or s >= 60:
        raise ValueError(f"timecode {text!r} has minutes or seconds over 59")
    return h, mi, s, f + frac


def infer_fps(timecodes: list[tuple[int, int, int, float]]) -> float | None:
    """The timecode rate from the largest frame field, or None if the take never crosses
    a second (then only a lower bound is known)."""
    if not timecodes:
        return None
    crosses = any(b[:3] != a[:3] for a, b in itertools.pairwise(timecodes))
    top = max(int(t[3]) for t in timecodes)
    if not crosses:
        return None if top + 1 <= DEFAULT_TIMECODE_FPS else float(top + 1)
    est = top + 1.0
    # Frames can be skipped just before every wrap, so snap up to a close common rate.
    above = [r for r in COMMON_RATES if r >= est - 0.5]
    if above and above[0] - est <= max(2.0, 0.05 * est):
        return float(round(above[0]))
    return est


def parse_take(source: str | Path, *, timecode_fps: float | None = None) -> Take:
    """Parse a take from a path or from CSV text (text if it contains a newline)."""
    if isinstance(source, Path) or "\n" not in source:
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise TakeError(f"{source}: cannot read: {e}") from e
        where = str(source)
    else:
        text, where = source, "<text>"
    return _parse(text.lstrip("\ufeff"), where, timecode_fps)


def _parse(text: str, where: str, timecode_fps: float | None) -> Take:
    rows = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise TakeError(f"{where}: the file is empty") from None
    while header and header[-1] == "":
        header.pop()
    if len(header) < 3 or header[0].lower() != "timecode" or header[1].lower() != "blendshapecount":
        raise TakeError(
            f"{where}: line 1: expected 'Timecode,BlendShapeCount,<names>', got "
            f"{','.join(header[:3])[:80]!r}"
        )
    names = header[2:]
    if len(set(names)) != len(names):
        raise TakeError(f"{where}: line 1: duplicate channel names")
    cols: list[list[float]] = [[] for _ in names]
    stamps: list[tuple[int, int, int, float]] = []
    for line_no, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(stamps) >= MAX_ROWS:
            raise TakeError(f"{where}: more than {MAX_ROWS} rows; split the take")
        if len(row) < len(header):
            raise TakeError(
                f"{where}: line {line_no}: {len(row) - 2} values, expected {len(names)} "
                "as in the header"
            )
        try:
            stamps.append(parse_timecode(row[0]))
            vals = [float(c) for c in row[2 : 2 + len(names)]]
        except ValueError as e:
            raise TakeError(f"{where}: line {line_no}: {e}") from e
        if not all(math.isfinite(v) for v in vals):
            raise TakeError(
                f"{where}: line {line_no}: non-finite value; values must be finite numbers"
            )
        for col, v in zip(cols, vals, strict=True):
            col.append(v)
    if not stamps:
        raise TakeError(f"{where}: no data rows (a header but no frames)")

    inferred = timecode_fps is None
    fps = timecode_fps or infer_fps(stamps) or DEFAULT_TIMECODE_FPS
    if not fps > 0:
        raise TakeError(f"{where}: timecode fps must be positive, got {fps}")
    abs_times = [h * 3600.0 + m * 60.0 + s + f / fps for h, m, s, f in stamps]
    t0 = abs_times[0]
    times = []
    for t in abs_times:
        d = t - t0
        if d < -_DAY / 2:  # the take crossed midnight
            d += _DAY
        times.append(d)
    order = sorted(range(len(times)), key=times.__getitem__)  # stable; usually a no-op
    if order != list(range(len(times))):
        times = [times[i] for i in order]
        cols = [[c[i] for i in order] for c in cols]
    columns = dict(zip(names, cols, strict=True))
    return Take(names, times, columns, float(fps), inferred, t0)
