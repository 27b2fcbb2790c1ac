"""Matching incoming shape names to a mesh's shape keys.

Senders disagree on spelling (``eyeBlinkLeft``, ``EyeBlinkLeft``, ``BS_eyeBlink_L``,
``blendShape.eyeBlinkLeft``) and so do avatars, so matching goes in stages, first hit wins:
the user's override table, exact name, case-insensitive name, then a normalised form with
common prefixes removed and side suffixes unified (``_L``/``.L``/``Left`` -> ``left``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Match", "MatchResult", "NameMatcher", "match_names", "normalise"]

#: Prefixes exporters put in front of shape names (compared lowercase, longest first).
PREFIXES: tuple[str, ...] = tuple(
    sorted(
        (
            "blendshape1.", "blendshape.", "blendshapes.", "blend_shape.", "blendshape_",
            "arkit_", "arkit.", "bs_", "bs.", "sk_", "shapekey_", "facial_", "face_",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip

_SIDE = re.compile(r"(?:[_.\- ]?(left|right|l|r))$", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

OVERRIDE, EXACT, CASE, NORMALISED = "override", "exact", "case", "normalised"


def normalise(name: str) -> str:
    """Spelling-free key: ``BS_MouthSmile_L`` and ``mouthSmileLeft`` -> ``mouthsmileleft``."""
    low = name.strip().lower()
    for p in PREFIXES:
        if low.startswith(p) and len(low) > len(p):
            low = low[len(p) :]
            break
    m = _SIDE.search(low)
    if m:
        side = m.group(1)
        # A bare trailing "l"/"r" counts only after a separator ("blink_l"), not in "jawl"
        # words such as "curl"; full "left"/"right" count either way.
        if side in ("left", "right") or m.group(0)[0] in "_.- ":
            low = low[: m.start()] + ("left" if side.startswith("l") else "right")
    return _NON_ALNUM.sub("", low)


@dataclass(frozen=True, slots=True)
class Match:
    incoming: str
    key: str
    index: int
    how: str  # OVERRIDE, EXACT, CASE or NORMALISED


@dataclass(slots=True)
class MatchResult:
    matches: dict[str, Match] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    bad_overrides: list[str] = field(default_factory=list)  # overrides naming no key


def match_names(
    incoming: Iterable[str],
    keys: Sequence[str],
    overrides: Mapping[str, str] | None = None,
    *,
    skip_first: bool = True,
) -> MatchResult:
    """Match each incoming name to a shape key index.

    skip_first: the first key is the reference ("Basis") key, which must never be driven.
    """
    return NameMatcher(keys, overrides, skip_first=skip_first).match_all(incoming)


class NameMatcher:
    """Precomputed lookups for one key list; `lookup` is cached per incoming name."""

    def __init__(
        self,
        keys: Sequence[str],
        overrides: Mapping[str, str] | None = None,
        *,
        skip_first: bool = True,
    ) -> None:
        self.keys = list(keys)
        self.overrides = dict(overrides or {})
        start = 1 if skip_first else 0
        self._exact: dict[str, int] = {}
        self._case: dict[str, int] = {}
        self._norm: dict[str, int] = {}
        for i in range(start, len(self.keys)):
            k = self.keys[i]
            self._exact.setdefault(k, i)
            self._case.setdefault(k.lower(), i)
            self._norm.setdefault(normalise(k), i)
        self._cache: dict[str, Match | None] = {}

    def lookup(self, name: str) -> Match | None:
        """The key an incoming name drives, or None."""
        try:
            return self._cache[name]
        except KeyError:
            pass
        m = self._find(name)
        if len(self._cache) < 4096:
            self._cache[name] = m
        return m

    def _find(self, name: str) -> Match | None:
        target = self.overrides.get(name)
        if target is not None:
            i = self._exact.get(target)
            # An override to a missing key leaves the name unmatched (reported), on purpose:
            # silently falling back would hide the user's typo.
            return Match(name, target, i, OVERRIDE) if i is not None else None
        i = self._exact.get(name)
        if i is not None:
            return Match(name, self.keys[i], i, EXACT)
        i = self._case.get(name.lower())
        if i is not None:
            return Match(name, self.keys[i], i, CASE)
        i = self._norm.get(normalise(name))
        if i is not None:
            return Match(name, self.keys[i], i, NORMALISED)
        return None

    def match_all(self, incoming: Iterable[str]) -> MatchResult:
        result = MatchResult()
        for name in sorted(set(incoming)):
            m = self.lookup(name)
            if m is None:
                result.unmatched.append(name)
            else:
                result.matches[name] = m
        result.bad_overrides = sorted(k for k, v in self.overrides.items() if v not in self._exact)
        return result
