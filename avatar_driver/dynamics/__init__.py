"""Expression dynamics: the stage between the solver and the mapping.

`make_dynamics(name, params)` builds one of the `DYNAMICS` registry's entries:

- ``cortical`` (default): a stable slow path and a movement-locked fast path, crossfaded
  by movement evidence (`cortical.CorticalFilter`);
- ``one-euro``: the One Euro filter (`one_euro.OneEuroFilter`);
- ``none``: weights and pose unchanged.

All three apply the face-loss policy (`face_loss.FaceLoss`). `params` is the user's
`[dynamics]` config table: top-level ``name`` (the CLI's default choice; checked, not used
here), ``hold``, ``ease``, ``recover`` (seconds) and one
table per group (``eyes``, ``brows``, ``cheeks_nose``, ``jaw``, ``mouth``, ``head``) with the
chosen filter's settings (`cortical.CORTICAL_KEYS`, `one_euro.ONE_EURO_KEYS`); see
docs/dynamics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..registry import Registry
from .base import Dynamics, Filter
from .cortical import CORTICAL_DEFAULTS, CORTICAL_KEYS, CorticalFilter
from .face_loss import FACE_LOSS_DEFAULTS, FaceLoss
from .groups import CHANNEL_GROUP, GROUP_NAMES, N_CHANNELS, Limits, check_params, group_arrays
from .one_euro import ONE_EURO_DEFAULTS, ONE_EURO_KEYS, OneEuroFilter
from .passthrough import PassThrough
from .stage import FilterDynamics

__all__ = [
    "DEFAULT_DYNAMICS",
    "DYNAMICS",
    "DYNAMICS_NAMES",
    "GROUP_NAMES",
    "CorticalFilter",
    "Dynamics",
    "FaceLoss",
    "Filter",
    "OneEuroFilter",
    "make_dynamics",
]

#: Every dynamics by its `--dynamics` name: a builder of its filter from the checked
#: per-group settings.
DYNAMICS: Registry[Callable[[dict[str, Any]], Filter]] = Registry("dynamics", ConfigError)
DEFAULT_DYNAMICS = "cortical"

# Group tables may carry settings of either filter, so one config file serves both.
_ALL_KEYS: dict[str, Limits] = {**CORTICAL_KEYS, **ONE_EURO_KEYS}


@DYNAMICS.register("cortical", "stable slow path plus movement-locked fast path (default)")
def _cortical(groups: dict[str, Any]) -> Filter:
    arrays = group_arrays(CORTICAL_DEFAULTS, groups)
    bad = np.flatnonzero(arrays["open_hi"] <= arrays["open_lo"])
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"dynamics.{CHANNEL_GROUP[i]}: open_hi ({arrays['open_hi'][i]:g}) must be greater "
            f"than open_lo ({arrays['open_lo'][i]:g})"
        )
    return CorticalFilter(N_CHANNELS, **arrays)


@DYNAMICS.register("one-euro", "the One Euro filter")
def _one_euro(groups: dict[str, Any]) -> Filter:
    return OneEuroFilter(N_CHANNELS, **group_arrays(ONE_EURO_DEFAULTS, groups))


@DYNAMICS.register("none", "weights and pose unchanged; only the face-loss ease")
def _none(groups: dict[str, Any]) -> Filter:
    return PassThrough(N_CHANNELS)


DYNAMICS_NAMES: tuple[str, ...] = DYNAMICS.names()


def make_dynamics(
    name: str, params: Mapping[str, Any] | None = None, *, origin: str | None = None
) -> Dynamics:
    """Build the named dynamics from the `[dynamics]` config table (None: defaults).

    Raises ConfigError for an unknown name or an invalid setting; `origin` (say
    "config file avatar.toml") leads every message about `params`, so the user knows
    which file to open, not only which key.
    """
    try:
        if params is not None and "name" in params:  # `[dynamics] name` picks the default
            try:
                DYNAMICS.get(str(params["name"]))
            except ConfigError as e:
                raise ConfigError(f"dynamics.name: {e}") from e
            params = {k: v for k, v in params.items() if k != "name"}
        build = DYNAMICS.get(name)
        groups, face = check_params(params, _ALL_KEYS)
        filt = build(groups)
    except ConfigError as e:
        if origin is None:
            raise
        raise ConfigError(f"{origin}: {e}") from e
    loss = FaceLoss(np.zeros(N_CHANNELS), **{**FACE_LOSS_DEFAULTS, **face})
    return FilterDynamics(filt, loss)
