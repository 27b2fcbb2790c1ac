"""What the avatar does while the face is lost: hold briefly, ease to neutral, blend back.

A dropped frame or a hand across the face for a moment should not make the avatar blink
to neutral, and a face gone for good should not leave it frozen mid-expression. So: hold
the last output for `hold` seconds, then ease (smoothstep) to the neutral over `ease`
seconds; when the face returns, blend from what was last shown to the live output over
`recover` seconds, so nothing jumps. All times are source seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FACE_LOSS_DEFAULTS", "FaceLoss", "smoothstep"]

#: Chosen by eye on the demo performer: 0.25 s rides out blinks of the detector and
#: short occlusions; 0.4 s reads as relaxing rather than snapping.
FACE_LOSS_DEFAULTS: dict[str, float] = {"hold": 0.25, "ease": 0.4, "recover": 0.15}


def smoothstep(u: float) -> float:
    """0 -> 1 with zero slope at both ends (u clipped to 0..1)."""
    u = min(max(u, 0.0), 1.0)
    return u * u * (3.0 - 2.0 * u)


@dataclass(slots=True)
class _State:
    shown: np.ndarray | None = None  # last output, the held value once lost
    lost_at: float | None = None  # source time the face was lost
    back_at: float | None = None  # source time the face returned after a long loss
    back_from: np.ndarray | None = None  # what was shown at that moment


class FaceLoss:
    """Hold-then-ease on loss and a blend on return, for one channel vector."""

    def __init__(self, neutral: np.ndarray, *, hold: float, ease: float, recover: float) -> None:
        self.neutral = np.array(neutral, dtype=np.float64)
        self.hold = hold
        self.ease = ease
        self.recover = recover
        self._st = _State()

    def reset(self) -> None:
        """Forget everything: the next face frame is shown as is."""
        self._st = _State()

    def lost(self, t: float) -> np.ndarray:
        """Output for a frame without a face at source time `t`."""
        st = self._st
        if st.shown is None:
            return self.neutral.copy()
        if st.lost_at is None:
            st.lost_at = t
        if st.back_at is not None:  # lost again while blending back: hold what is shown
            st.back_at = st.back_from = None
        elapsed = t - st.lost_at
        if self.ease <= 0.0:
            w = 1.0 if elapsed >= self.hold else 0.0
        else:
            w = smoothstep((elapsed - self.hold) / self.ease)
        return st.shown + w * (self.neutral - st.shown)

    def needs_restart(self, t: float) -> bool:
        """True when the face returns after the hold: restart filters from the new input.

        After a long loss the filters' history is stale; after a short one it is still the
        best estimate and filtering simply continues across the gap.
        """
        st = self._st
        return st.lost_at is not None and t - st.lost_at > self.hold

    @property
    def blending(self) -> bool:
        """True while a face frame's output is still blended from what was shown at the
        loss (`found` does not simply return `live`)."""
        return self._st.back_at is not None

    def found(self, t: float, live: np.ndarray, *, keep: bool = True) -> np.ndarray:
        """Output for a face frame whose filtered value is `live` (never modified).

        keep: the output is what a later loss holds (False: shown, but not trusted enough
        to hold, e.g. a region whose pixels were not checked on this frame).
        """
        st = self._st
        if st.lost_at is not None:
            if t - st.lost_at > self.hold and st.shown is not None:
                st.back_at, st.back_from = t, self.lost(t)
            st.lost_at = None
        out = live
        if st.back_at is not None and st.back_from is not None:
            if self.recover <= 0.0 or t - st.back_at >= self.recover:
                st.back_at = st.back_from = None
            else:
                w = smoothstep((t - st.back_at) / self.recover)
                out = st.back_from + w * (live - st.back_from)
        if keep:
            st.shown = out  # filters return fresh arrays and nobody writes into them
        return out
