"""Calibration profiles: a user's per-shape neutral and range plus neutral face geometry.

A profile is a small TOML file (written by hand here: no TOML-writer dependency), read
with `tomllib` and validated by pydantic; a bad file raises `CalibrationError` naming the
file and the field. Layout::

    version = 1
    source = "camera:0"
    created = "2026-01-01T12:00:00+00:00"
    frames = 15
    [shapes]            # name = [neutral, full]: raw weight at rest and at full effort
    browInnerUp = [0.4612, 1.0]
    [geometry]          # landmark measures of the relaxed face (solver.measures)
    upperLidLeft = 0.2318
    [gain]              # optional expression gain per shapes.GROUPS group
    mouth = 1.2
    [upper_face]        # optional: the relaxed upper face for headset mode (headset.py)
    image = "me.upper.png"        # beside the profile
    points = [312.5, 201.0, ...]  # headset.ANCHORS positions in the image, x y pairs
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import CalibrationError
from ..shapes import ARKIT_NAMES, GROUPS, INDEX, N_SHAPES
from ..tomlfile import read_toml
from .measures import DEFAULT_NEUTRAL, MEASURE_NAMES, N_MEASURES
from .remap import MIN_SPAN, Remap

__all__ = [
    "MAX_GAIN",
    "MAX_PROFILE_BYTES",
    "NEUTRAL_QUANTILE",
    "STEP_TARGETS",
    "Profile",
    "load_profile",
    "profile_from_neutral",
    "profile_from_steps",
    "save_profile",
]

MAX_PROFILE_BYTES = 256 * 1024
MAX_GAIN = 4.0
#: The gain table's name for the head pose (yaw, pitch, roll), beside the shape groups.
HEAD_GAIN = "head"
#: The profile's neutral is this quantile of the relaxed window, so rest noise maps to ~0.
NEUTRAL_QUANTILE = 0.95
#: Guided-sequence steps and the shapes whose full range each one measures.
STEP_TARGETS: dict[str, tuple[str, ...]] = {
    "relax": (),
    "blink": ("eyeBlinkLeft", "eyeBlinkRight"),
    "open wide": ("eyeWideLeft", "eyeWideRight", "jawOpen"),
    "smile": ("mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft", "cheekSquintRight"),
    "raise brows": ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
    "frown": ("browDownLeft", "browDownRight"),
    "puff cheeks": ("cheekPuff",),
}
# A step's effort only widens a shape's range if it moved at least this far above neutral.
_MIN_EFFORT = 0.2


class UpperFaceRef(BaseModel):
    """Where the relaxed upper face (for headset mode, `headset.py`) was saved: a PNG beside
    the profile and the alignment landmarks' pixel positions in it (x, y pairs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str
    points: list[float]


class Profile(BaseModel):
    """One user's calibration (see the module docstring for the file layout)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    source: str = ""
    created: str = ""
    frames: int = 0
    shapes: dict[str, tuple[float, float]] = {}
    geometry: dict[str, float] = {}
    gain: dict[str, float] = {}
    upper_face: UpperFaceRef | None = None

    @field_validator("shapes")
    @classmethod
    def _check_shapes(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (neutral, full) in v.items():
            if name not in INDEX:
                raise ValueError(f"{name!r} is not an ARKit shape name")
            if not (math.isfinite(neutral) and math.isfinite(full)):
                raise ValueError(f"{name}: expected finite numbers, got [{neutral}, {full}]")
            if not 0.0 <= neutral <= 1.0 - MIN_SPAN:
                raise ValueError(f"{name}: neutral must be in 0..{1 - MIN_SPAN}, got {neutral}")
            if not neutral + MIN_SPAN - 1e-9 <= full <= 1.0:
                raise ValueError(
                    f"{name}: full must be in neutral+{MIN_SPAN}..1, got {full} (neutral {neutral})"
                )
        return v

    @field_validator("geometry")
    @classmethod
    def _check_geometry(cls, v: dict[str, float]) -> dict[str, float]:
        for name, value in v.items():
            if name not in MEASURE_NAMES:
                raise ValueError(
                    f"{name!r} is not a geometry measure; expected one of "
                    + ", ".join(MEASURE_NAMES)
                )
            if not (math.isfinite(value) and -1.0 <= value <= 3.0):
                raise ValueError(f"{name}: expected a number in -1..3, got {value}")
        return v

    @field_validator("gain")
    @classmethod
    def _check_gain(cls, v: dict[str, float]) -> dict[str, float]:
        return check_gain(v)

    def remap(self) -> Remap:
        """The per-shape remap this profile describes (identity for absent shapes)."""
        neutral, full = np.zeros(N_SHAPES), np.ones(N_SHAPES)
        for name, (n, f) in self.shapes.items():
            neutral[INDEX[name]], full[INDEX[name]] = n, f
        return Remap(neutral, full)

    def geometry_vector(self) -> np.ndarray:
        """Neutral measures in `MEASURE_NAMES` order (defaults where absent)."""
        out = DEFAULT_NEUTRAL.copy()
        for name, value in self.geometry.items():
            out[MEASURE_NAMES.index(name)] = value
        return out


def check_gain(v: Mapping[str, Any]) -> dict[str, float]:
    """Validate a gain table (group -> factor); ValueError says which entry is wrong."""
    out: dict[str, float] = {}
    for name, value in v.items():
        if name not in GROUPS and name != HEAD_GAIN:
            names = ", ".join([*GROUPS, HEAD_GAIN])
            raise ValueError(f"{name!r} is not a group; expected one of {names}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name}: expected a number, got {value!r}")
        if not 0.0 <= float(value) <= MAX_GAIN:
            raise ValueError(f"{name}: expected a gain in 0..{MAX_GAIN}, got {value}")
        out[name] = float(value)
    return out


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile; CalibrationError names the file and the field."""
    p = Path(path).expanduser()
    data = read_toml(p, what="calibration profile", limit=MAX_PROFILE_BYTES, error=CalibrationError)
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        from ..config import problem  # pydantic's wording turned into ours

        fields: dict[tuple[str | int, ...], list[str]] = {(): list(Profile.model_fields)}
        raise CalibrationError(f"calibration profile {p}: {problem(e.errors()[0], fields)}") from e


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # JSON string escapes are valid TOML


def dumps_profile(profile: Profile) -> str:
    """TOML text of a profile (the format `load_profile` reads)."""
    lines = [
        "# avatar-driver calibration profile (avatar-driver calibrate)",
        f"version = {profile.version}",
        f"source = {_toml_str(profile.source)}",
        f"created = {_toml_str(profile.created)}",
        f"frames = {profile.frames}",
        "",
        "# shape = [neutral, full]: the raw weight at rest and at full effort",
        "[shapes]",
    ]
    lines += [f"{n} = [{a:.4f}, {b:.4f}]" for n, (a, b) in profile.shapes.items()]
    lines += ["", "# landmark measures of the relaxed face (see docs/tracking.md)", "[geometry]"]
    lines += [f"{n} = {v:.5f}" for n, v in profile.geometry.items()]
    if profile.gain:
        lines += ["", "# expression gain per group", "[gain]"]
        lines += [f"{n} = {v:.3f}" for n, v in profile.gain.items()]
    if profile.upper_face is not None:
        points = ", ".join(f"{v:.2f}" for v in profile.upper_face.points)
        lines += ["", "# relaxed upper face, pasted over a VR headset (--headset)", "[upper_face]"]
        lines += [f"image = {_toml_str(profile.upper_face.image)}", f"points = [{points}]"]
    return "\n".join(lines) + "\n"


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write the profile as TOML; returns the path written."""
    p = Path(path).expanduser()
    try:
        p.write_text(dumps_profile(profile), encoding="utf-8")
    except OSError as e:
        raise CalibrationError(f"cannot write calibration profile {p}: {e.strerror}") from e
    return p


def _neutral_tables(
    weights: np.ndarray, measures: np.ndarray
) -> tuple[np.ndarray, dict[str, float]]:
    w = np.asarray(weights, dtype=np.float64).reshape(-1, N_SHAPES)
    m = np.asarray(measures, dtype=np.float64).reshape(-1, N_MEASURES)
    if len(w) == 0:
        raise CalibrationError("no face was seen while relaxed: nothing to calibrate from")
    neutral = np.clip(np.quantile(w, NEUTRAL_QUANTILE, axis=0), 0.0, 1.0 - MIN_SPAN)
    geometry = {
        n: round(float(v), 5) for n, v in zip(MEASURE_NAMES, np.median(m, axis=0), strict=False)
    }
    return neutral, geometry


def profile_from_neutral(weights: np.ndarray, measures: np.ndarray, *, source: str = "") -> Profile:
    """A profile from relaxed-face frames: raw weights (N, 52) and measures (N, M)."""
    return profile_from_steps({"relax": (weights, measures)}, source=source)


def profile_from_steps(
    steps: Mapping[str, tuple[np.ndarray, np.ndarray]], *, source: str = ""
) -> Profile:
    """A profile from the guided sequence: step name -> (raw weights, measures).

    "relax" gives the neutral; each other step in `STEP_TARGETS` widens its shapes' range
    to what the user reached (90th percentile), when they moved clearly.
    """
    if "relax" not in steps:
        raise CalibrationError("calibration needs a relaxed-face step")
    neutral, geometry = _neutral_tables(*steps["relax"])
    full = np.ones(N_SHAPES)
    for step, (w, _m) in steps.items():
        w = np.asarray(w, dtype=np.float64).reshape(-1, N_SHAPES)
        for name in STEP_TARGETS.get(step, ()):
            i = INDEX[name]
            if len(w) and (reached := float(np.quantile(w[:, i], 0.9))) > neutral[i] + _MIN_EFFORT:
                full[i] = min(1.0, reached)
    shapes = {
        n: (round(float(neutral[i]), 4), round(float(full[i]), 4))
        for i, n in enumerate(ARKIT_NAMES)
        if n != "tongueOut"
    }
    count = len(np.asarray(steps["relax"][0]).reshape(-1, N_SHAPES))
    return Profile(
        source=source,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        frames=count,
        shapes=shapes,
        geometry=geometry,
    )
