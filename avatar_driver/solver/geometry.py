"""Shapes the model barely reports, estimated from landmark geometry.

- cheekPuff: the mid-cheek width grows against the eye-corner distance when the cheeks
  bulge. Smiles widen the cheeks too, but they widen the mouth far more (measured: cheeks
  +11 %, mouth corners +54 % in a broad smile), so a quarter of the mouth's widening is
  subtracted; an open jaw also cancels it. Past a 1.5 % dead zone, a further 6 % net
  widening reads as a full puff.
- cheekSquint (cheek raise, AU6): the lower lid pushed up from its neutral depth
  (`eyes.lid_raise`); the model reports ~0 for it.
- noseSneer: not estimated. The nose wing to inner eye corner distance shortens by 12 % in
  a plain broad smile, as much as a sneer would move it, so these landmarks cannot tell the
  two apart; the model's value passes through.
"""

from __future__ import annotations

__all__ = ["MOUTH_SHARE", "PUFF_SPAN", "cheek_puff"]

#: Net cheek widening (fraction of neutral) that reads as a full cheekPuff.
PUFF_SPAN = 0.06
#: Net widening ignored as rest noise (the cheek-width sd at rest is ~0.4 %).
PUFF_DEAD = 0.015
#: Share of the mouth's widening that is subtracted from the cheeks' widening.
MOUTH_SHARE = 0.25


def cheek_puff(cheek: float, cheek0: float, mouth: float, mouth0: float, jaw_open: float) -> float:
    """cheekPuff 0..1 from cheek and mouth widths (measures) and their neutrals."""
    net = (cheek / cheek0 - 1.0) - MOUTH_SHARE * max(mouth / mouth0 - 1.0, 0.0)
    gate = min(max(1.0 - 3.0 * jaw_open, 0.0), 1.0)
    return min(max((net - PUFF_DEAD) / PUFF_SPAN, 0.0), 1.0) * gate
