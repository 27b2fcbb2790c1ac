"""Shapes the model barely reports, estimated from landmark geometry.

- cheekPuff: the mid-cheek width grows against the eye-corner distance when the cheeks
  bulge. Smiles widen the cheeks too, but they widen the mouth far more (measured: cheeks
  +11 %, mouth corners +54 % in a broad smile), so a quarter of the mouth's widening is
  subtracted; an open jaw also cancels it. Past a 1.5 % dead zone, a further 6 % net
  widening reads as a full puff.
- cheekSquint (cheek raise, AU6): the lower lid pushed up from its neutral depth
  (`eyes.lid_raise`); the model reports ~0 for it.
- mouthUpperUp (upper-lip raise, AU10, disgust): the upper lip beside the philtrum comes
  closer to the nostril base, per side, relative to the neutral distance. A broad smile
  shortens it too, a little (5-6 % with the mouth 52 % wider, single_face.mp4), so an
  eighth of the mouth's widening is subtracted; jaw opening does not move it.
- noseSneer: not estimated. The nose wing to inner eye corner distance shortens by 12 % in
  a plain broad smile, as much as a sneer would move it, so these landmarks cannot tell the
  two apart; the model's value passes through (disgust shows in mouthUpperUp).

Both compare the face's shape with its neutral shape, which differs from face to face far
more than either movement (cheek width 0.89-0.98 eye-corner distances, lip to nose
0.44-0.79 inner-corner distances over the shared media's faces), so the solver uses them
only with a measured neutral (a profile's [geometry] or the auto-calibration after warm-up).
"""

from __future__ import annotations

__all__ = ["LIP_MOUTH_SHARE", "LIP_SPAN", "MOUTH_SHARE", "PUFF_SPAN", "cheek_puff", "lip_raise"]

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


#: Lip-to-nose shortening (fraction of neutral) past the dead zone that reads as a full
#: mouthUpperUp.
LIP_SPAN = 0.15
#: Shortening ignored as rest noise (its sd at rest is ~1 %).
LIP_DEAD = 0.02
#: Share of the mouth's widening subtracted from the lip-to-nose shortening.
LIP_MOUTH_SHARE = 0.12


def lip_raise(lip_nose: float, lip_nose0: float, mouth: float, mouth0: float) -> float:
    """mouthUpperUp 0..1 for one side from its lip-to-nose distance and the mouth width
    (measures) and their neutrals."""
    net = (1.0 - lip_nose / lip_nose0) - LIP_MOUTH_SHARE * max(mouth / mouth0 - 1.0, 0.0)
    return min(max((net - LIP_DEAD) / LIP_SPAN, 0.0), 1.0)
