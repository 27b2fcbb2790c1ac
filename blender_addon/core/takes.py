"""Reading Live Link Face CSV takes (the app's recordings, and avatar-driver's ``csv``
output).

Format: header ``Timecode,BlendShapeCount,<61 names>``; each row a timecode
``HH:MM:SS:FF.fff`` (hours, minutes, seconds, frame and fraction of a frame), a count and
the values. Columns are read by header name, not position. The timecode's frame rate is
not in the file: it is inferred from where the frame field wraps to 0 (snapped to a common
rate), or 60 (the app's default) when the take never crosses a second.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMMON_RATES", "DEFAULT_TIMECODE_FPS", "Take", "TakeError", "infer_fps", "parse_take"]

DEFAULT_TIMECODE_FPS = 60.0
COMMON_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0, 100.0, 120.0)
MAX_ROWS = 1_000_000

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

    @property
    def duration(self) -> float:
        return self.times[-1] if self.times else 0.0


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
    """The timecode rate from where the frame field wraps, or None if it never does."""
    best: int | None = None
    for a, b in itertools.pairwise(timecodes):
        if b[:3] != a[:3] and int(b[3]) < int(a[3]):
            best = max(best or 0, int(a[3]))
    if best is None:
        return None
    est = best + 1.0
    # Frames can be skipped just before a wrap, so snap up to the nearest common rate.
    above = [r for r in COMMON_RATES if r >= est - 0.5]
    if above and above[0] - est <= max(2.0, 0.1 * est):
        return round(above[0])
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
    return _parse(text, where, timecode_fps)


def _parse(text: str, where: str, timecode_fps: float | None) -> Take:
    rows = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise TakeError(f"{where}: empty file") from None
    while header and header[-1] == "":
        header.pop()
    if (
        len(header) < 3
        or header[0].lower() != "timecode"
        or header[1].lower() != ("blendshapecount")
    ):
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
            raise TakeError(f"{where}: more than {MAX_ROWS} rows")
        if len(row) < len(header):
            raise TakeError(f"{where}: line {line_no}: {len(row)} fields, expected {len(header)}")
        try:
            stamps.append(parse_timecode(row[0]))
            vals = [float(c) for c in row[2 : 2 + len(names)]]
        except ValueError as e:
            raise TakeError(f"{where}: line {line_no}: {e}") from e
        if not all(math.isfinite(v) for v in vals):
            raise TakeError(f"{where}: line {line_no}: non-finite value")
        for col, v in zip(cols, vals, strict=True):
            col.append(v)
    if not stamps:
        raise TakeError(f"{where}: no data rows")

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
    return Take(names, times, dict(zip(names, cols, strict=True)), float(fps), inferred)
