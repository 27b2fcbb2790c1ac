"""Channel groups and the `[dynamics]` config table, turned into per-channel arrays once.

The filters run on one vector: the 52 weights in canonical order, then the 9 pose angles.
Each weight belongs to a group of `shapes.GROUPS`; the pose angles form the group "head".
Per-group settings become float64 arrays at construction so each frame is plain numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..shapes import ARKIT_NAMES, GROUPS, INDEX, N_SHAPES, POSE_NAMES

__all__ = [
    "CHANNEL_GROUP",
    "FACE_LOSS_KEYS",
    "GROUP_NAMES",
    "N_CHANNELS",
    "Limits",
    "check_params",
    "group_arrays",
]

#: Every group a `[dynamics.<group>]` table may name.
GROUP_NAMES: tuple[str, ...] = (*GROUPS, "head")

#: Channels the filters see: weights then pose.
N_CHANNELS = N_SHAPES + len(POSE_NAMES)


def _channel_groups() -> tuple[str, ...]:
    by_shape = {name: group for group, names in GROUPS.items() for name in names}
    missing = [n for n in ARKIT_NAMES if n not in by_shape]
    if missing:  # shapes.py is the contract; fail loudly if it drifts
        raise RuntimeError(f"shapes without a group: {missing}")
    weights = tuple(by_shape[n] for n in sorted(by_shape, key=INDEX.__getitem__))
    return weights + ("head",) * len(POSE_NAMES)


#: Group name of each of the `N_CHANNELS` channels.
CHANNEL_GROUP: tuple[str, ...] = _channel_groups()


@dataclass(frozen=True, slots=True)
class Limits:
    """Allowed closed range of one setting and what it means, for error messages."""

    low: float
    high: float
    doc: str


#: Top-level `[dynamics]` keys of the face-loss policy (seconds).
FACE_LOSS_KEYS: dict[str, Limits] = {
    "hold": Limits(0.0, 5.0, "seconds the last weights are held after the face is lost"),
    "ease": Limits(0.0, 5.0, "seconds to ease from the held weights to neutral"),
    "recover": Limits(0.0, 2.0, "seconds to blend back in when the face returns"),
}


def _number(where: str, value: Any, limits: Limits) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number ({limits.doc}), got {value!r}")
    v = float(value)
    if not math.isfinite(v) or not limits.low <= v <= limits.high:
        raise ConfigError(
            f"{where}: expected a number from {limits.low:g} to {limits.high:g} "
            f"({limits.doc}), got {value!r}"
        )
    return v


def check_params(
    params: Mapping[str, Any] | None, group_keys: Mapping[str, Limits]
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Validate a `[dynamics]` table: group tables of `group_keys`, face-loss keys on top.

    Returns (per-group overrides, face-loss overrides). Unknown groups or keys are errors,
    so a typo never silently falls back to a default.
    """
    groups: dict[str, dict[str, float]] = {}
    face: dict[str, float] = {}
    if params is None:
        return groups, face
    if not isinstance(params, Mapping):
        raise ConfigError(f"dynamics: expected a table, got {params!r}")
    for key, value in params.items():
        if key in FACE_LOSS_KEYS:
            face[key] = _number(f"dynamics.{key}", value, FACE_LOSS_KEYS[key])
        elif key in GROUP_NAMES:
            if not isinstance(value, Mapping):
                raise ConfigError(f"dynamics.{key}: expected a table, got {value!r}")
            table: dict[str, float] = {}
            for name, v in value.items():
                if name not in group_keys:
                    raise ConfigError(
                        f"dynamics.{key}.{name}: unknown setting; expected one of "
                        f"{', '.join(sorted(group_keys))}"
                    )
                table[name] = _number(f"dynamics.{key}.{name}", v, group_keys[name])
            groups[key] = table
        else:
            raise ConfigError(
                f"dynamics.{key}: unknown key; expected a group "
                f"({', '.join(GROUP_NAMES)}) or one of {', '.join(FACE_LOSS_KEYS)}"
            )
    return groups, face


def group_arrays(
    defaults: Mapping[str, Mapping[str, float]],
    overrides: Mapping[str, Mapping[str, float]],
    channel_group: tuple[str, ...] = CHANNEL_GROUP,
) -> dict[str, np.ndarray]:
    """Per-channel float64 arrays of every setting: group defaults, then the user's values."""
    keys = next(iter(defaults.values())).keys()
    out: dict[str, np.ndarray] = {}
    for key in keys:
        per_group = {g: float(overrides.get(g, {}).get(key, defaults[g][key])) for g in defaults}
        out[key] = np.array([per_group[g] for g in channel_group], dtype=np.float64)
    return out
