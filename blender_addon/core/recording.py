"""Recording maths: timestamped samples to keyframes at the scene frame rate.

Samples are timed by the stream's own clock, so a burst of frames that arrived together
(network jitter, a sender running faster than real time) still lands where it was
performed. Each shape keeps its own series; `keyframes` resamples every series by linear
interpolation onto whole scene frames and drops keys a constant run makes redundant, so
the action is clean and plays back at any frame rate.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Mapping, Sequence

__all__ = ["Recorder", "reduce_constant", "resample"]

MAX_GAP = 1.0  # seconds; a longer silence or a backward jump re-bases the clock
MAX_SAMPLES = 2_000_000  # values kept per recording (~10 min of 52 shapes at 60 fps)


def resample(
    times: Sequence[float], values: Sequence[float], t0: float, fps: float, n_frames: int
) -> list[float]:
    """Values at t0 + k/fps for k in range(n_frames); linear between samples, held at ends."""
    if not times:
        raise ValueError("no samples to resample")
    out: list[float] = []
    last = len(times) - 1
    for k in range(n_frames):
        t = t0 + k / fps
        j = bisect.bisect_right(times, t)
        if j == 0:
            out.append(values[0])
        elif j > last:
            out.append(values[last])
        else:
            ta, tb = times[j - 1], times[j]
            va, vb = values[j - 1], values[j]
            out.append(va if tb <= ta else va + (vb - va) * (t - ta) / (tb - ta))
    return out


def reduce_constant(
    frames: Sequence[float], values: Sequence[float], tol: float = 1e-6
) -> tuple[list[float], list[float]]:
    """Drop the interior keys of constant runs (linear interpolation gives them back).

    A key goes only when it and its successor are within `tol` of the last key kept, so
    slow drift cannot accumulate into an error larger than `tol`.
    """
    n = len(values)
    keep_f: list[float] = []
    keep_v: list[float] = []
    for i in range(n):
        if (
            0 < i < n - 1
            and abs(values[i] - keep_v[-1]) <= tol
            and abs(values[i + 1] - keep_v[-1]) <= tol
        ):
            continue
        keep_f.append(frames[i])
        keep_v.append(values[i])
    return keep_f, keep_v


class Recorder:
    """Collects (time, {channel: value}) samples; hands back keyframe coordinates.

    Channels are any hashable id (the bpy layer uses shape key names). Time is re-based to
    a continuous "take time": a sender restart (its clock jumps back) or a long pause
    continues the take one frame later instead of tearing it.
    """

    def __init__(self, fps: float, start_frame: float = 1.0) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        self.start_frame = float(start_frame)
        self._series: dict[Hashable, tuple[list[float], list[float]]] = {}
        self._offset = 0.0  # take time = stream time + offset
        self._last_stream: float | None = None
        self._last_take = 0.0
        self.samples = 0
        self.truncated = False

    @property
    def duration(self) -> float:
        return self._last_take

    def add(self, t: float, values: Mapping[Hashable, float]) -> None:
        if self.samples >= MAX_SAMPLES:
            self.truncated = True
            return
        if self._last_stream is None:
            self._offset = -t
        elif not 0.0 <= t - self._last_stream <= MAX_GAP:
            # Clock reset or long gap: continue one frame after the last sample.
            self._offset = self._last_take + 1.0 / self.fps - t
        self._last_stream = t
        take_t = t + self._offset
        self._last_take = take_t
        for ch, v in values.items():
            ts, vs = self._series.setdefault(ch, ([], []))
            if ts and take_t <= ts[-1]:
                vs[-1] = v  # same instant again: newest wins
            else:
                ts.append(take_t)
                vs.append(v)
            self.samples += 1

    def channels(self) -> list[Hashable]:
        return list(self._series)

    def n_frames(self) -> int:
        """Whole scene frames the take covers (at least one)."""
        return round(self._last_take * self.fps) + 1

    def keyframes(self, *, reduce: bool = True) -> dict[Hashable, list[float]]:
        """Per channel, a flat ``[frame, value, frame, value, ...]`` list for ``foreach_set``.

        Every channel spans the whole take (a channel that started late holds its first
        value), so the action's range is the take's.
        """
        n = self.n_frames()
        frames = [self.start_frame + k for k in range(n)]
        out: dict[Hashable, list[float]] = {}
        for ch, (ts, vs) in self._series.items():
            vals = resample(ts, vs, 0.0, self.fps, n)
            f, v = reduce_constant(frames, vals) if reduce else (frames, vals)
            flat: list[float] = [0.0] * (2 * len(f))
            flat[0::2] = f
            flat[1::2] = v
            out[ch] = flat
        return out
