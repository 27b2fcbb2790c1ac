"""VRCFaceTracking's v2 names against the default mapping: every one a webcam can estimate
is sent, every other one is documented as not sent, and the combined and simple shapes
are computed from the base shapes the way VRCFaceTracking computes them.

The name table (``vrcft_v2_names.csv``) was read from VRCFaceTracking's
VRCFaceTracking.Core/Params/Expressions/ (UnifiedExpressions.cs, UnifiedSimpleExpressions.cs,
UnifiedExpressionsParameters.cs, UnifiedHeadParameters.cs); the formulas below are a port
of UnifiedSimpleExpressions.cs (``UnifiedSimplifier.ExpressionMap``) and of
UnifiedExpressionsParameters.cs (``UnifiedCombinedShapes``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.mapping import load_mapping
from avatar_driver.shapes import ARKIT_NAMES, CHANNEL_NAMES

TABLE = Path(__file__).with_name("vrcft_v2_names.csv")
DOCS = Path(__file__).parents[2] / "docs" / "mapping.md"
UPSTREAM_FILES = {
    "VRCFaceTracking.Core/Params/Expressions/" + f
    for f in ("UnifiedExpressions.cs", "UnifiedSimpleExpressions.cs",
              "UnifiedExpressionsParameters.cs", "UnifiedHeadParameters.cs")
}  # fmt: skip


def _rows() -> list[dict[str, str]]:
    lines = [ln for ln in TABLE.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


ROWS = _rows()
MAPPING = load_mapping("vrchat-unified-v2")
SENT = {e.name for e in MAPPING.entries} | {e.address for e in MAPPING.entries}


def test_table_is_well_formed() -> None:
    names = [r["name"] for r in ROWS]
    assert len(names) == len(set(names)), "a name is listed twice"
    for r in ROWS:
        assert r["upstream_file"] in UPSTREAM_FILES, r
        assert r["estimable"] in ("yes", "no"), r
        assert r["reason"].strip(), f"{r['name']}: no reason given"
    # The four upstream files, 88 base shapes + the enum's Max, 8 simple shapes.
    count = {f: sum(r["upstream_file"] == f for r in ROWS) for f in UPSTREAM_FILES}
    assert count["VRCFaceTracking.Core/Params/Expressions/UnifiedExpressions.cs"] == 89
    assert count["VRCFaceTracking.Core/Params/Expressions/UnifiedSimpleExpressions.cs"] == 8
    assert count["VRCFaceTracking.Core/Params/Expressions/UnifiedHeadParameters.cs"] == 6


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["estimable"] == "yes"], ids=lambda r: r["name"]
)
def test_estimable_name_is_mapped(row: dict[str, str]) -> None:
    assert row["name"] in SENT


def _not_sent_in_docs() -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Not sent", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([^`]+)`", section))


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["estimable"] == "no"], ids=lambda r: r["name"]
)
def test_not_estimable_is_not_sent_and_documented(row: dict[str, str]) -> None:
    assert row["name"] not in SENT
    assert row["name"] in _not_sent_in_docs()


def test_mapping_sends_nothing_outside_the_table() -> None:
    listed = {r["name"] for r in ROWS}
    native = {"/tracking/eye/LeftRightPitchYaw", "/tracking/eye/EyesClosedAmount"}
    for e in MAPPING.entries:
        assert e.name in listed or e.address in native, e.name


# -- formulas ------------------------------------------------------------------------------

Shapes = dict[str, float]


def _simple(s: Shapes) -> Shapes:
    """UnifiedSimplifier.ExpressionMap, over the mapping's own base shapes."""
    out: Shapes = {}
    for side in ("Left", "Right"):
        out["BrowUp" + side] = s["BrowOuterUp" + side] * 0.6 + s["BrowInnerUp" + side] * 0.4
        out["BrowDown" + side] = s["BrowLowerer" + side] * 0.75 + s["BrowPinch" + side] * 0.25
        out["MouthSmile" + side] = (
            s["MouthCornerPull" + side] * 0.8 + s["MouthCornerSlant" + side] * 0.2
        )
        out["MouthSad" + side] = max(s["MouthFrown" + side], s["MouthStretch" + side])
    return out


def _difference(s: Shapes, a: str, b: str) -> Callable[[], float]:
    return lambda: s[a] - s[b]


def _combined(s: Shapes, openness: tuple[float, float]) -> dict[str, Callable[[], float]]:
    """The UnifiedCombinedShapes entries this mapping added, as VRCFaceTracking writes them."""
    lo, ro = openness
    q = ("UpperLeft", "UpperRight", "LowerLeft", "LowerRight")
    return {
        "v2/EyeClosed": lambda: 1 - (lo + ro) / 2,
        "/tracking/eye/EyesClosedAmount": lambda: 1 - (lo + ro) / 2,
        "v2/EyesSquint": lambda: max(s["EyeSquintLeft"], s["EyeSquintRight"]),
        "v2/LipSuck": lambda: sum(s["LipSuck" + k] for k in q) / 4,
        "v2/LipFunnelUpper": lambda: (s["LipFunnelUpperRight"] + s["LipFunnelUpperLeft"]) / 2,
        "v2/LipFunnelLower": lambda: (s["LipFunnelLowerRight"] + s["LipFunnelLowerLeft"]) / 2,
        "v2/LipPuckerUpper": lambda: (s["LipPuckerUpperRight"] + s["LipPuckerUpperLeft"]) / 2,
        "v2/LipPuckerLower": lambda: (s["LipPuckerLowerRight"] + s["LipPuckerLowerLeft"]) / 2,
        "v2/LipPuckerRight": lambda: (s["LipPuckerUpperRight"] + s["LipPuckerLowerRight"]) / 2,
        "v2/LipPuckerLeft": lambda: (s["LipPuckerUpperLeft"] + s["LipPuckerLowerLeft"]) / 2,
        **{f"v2/LipSuckFunnel{k}": _difference(s, "LipSuck" + k, "LipFunnel" + k) for k in q},
        # MouthTightener has no ARKit source (0 in this mapping), so only the stretch half.
        "v2/MouthTightenerStretchLeft": lambda: 0.0 - s["MouthStretchLeft"],
        "v2/MouthTightenerStretchRight": lambda: 0.0 - s["MouthStretchRight"],
        "v2/BrowUp": lambda: (_simple(s)["BrowUpRight"] + _simple(s)["BrowUpLeft"]) * 0.5,
        "v2/BrowDown": lambda: (_simple(s)["BrowDownRight"] + _simple(s)["BrowDownLeft"]) * 0.5,
        "v2/SmileSadLeft": lambda: _simple(s)["MouthSmileLeft"] - _simple(s)["MouthSadLeft"],
        "v2/SmileSadRight": lambda: _simple(s)["MouthSmileRight"] - _simple(s)["MouthSadRight"],
    }


@pytest.mark.parametrize("seed", range(20))
def test_combined_and_simple_shapes_follow_vrcft(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ch = np.zeros(len(CHANNEL_NAMES))
    ch[: len(ARKIT_NAMES)] = rng.uniform(0, 1, len(ARKIT_NAMES)) ** 2
    values = MAPPING.logical(ch)
    by = {e.name: float(v) for e, v in zip(MAPPING.entries, values, strict=True)}
    by |= {e.address: float(v) for e, v in zip(MAPPING.entries, values, strict=True)}
    base = {n[3:]: v for n, v in by.items() if n.startswith("v2/")}
    # VRCFT's Openness is its own input; here it is what EyeOpenLeft/Right send.
    openness = (by["v2/EyeOpenLeft"], by["v2/EyeOpenRight"])
    for name, v in _simple(base).items():
        assert by["v2/" + name] == pytest.approx(v, abs=1e-6), name
    for name, fn in _combined(base, openness).items():
        assert by[name] == pytest.approx(fn(), abs=1e-6), name


@pytest.mark.parametrize(
    ("pose", "expect"),
    [
        ({"headYaw": 45.0}, {"v2/Head/Yaw": -0.5}),  # turned to the performer's left
        ({"headPitch": -30.0}, {"v2/Head/Pitch": 1 / 3}),  # chin down: VRCFT pitch > 0
        ({"headRoll": 90.0}, {"v2/Head/Roll": 1.0}),  # toward the left shoulder
        ({"headYaw": 120.0}, {"v2/Head/Yaw": -1.0}),  # clamped to VRCFT's -1..1
        (
            {"leftEyePitch": 15.0, "leftEyeYaw": -20.0, "rightEyePitch": 10.0, "rightEyeYaw": 5},
            # VRChat: pitch > 0 looks down, yaw > 0 right; ours: pitch > 0 up, yaw > 0 left.
            {"tracking/eye/LeftPitch": -15.0, "tracking/eye/LeftYaw": 20.0,
             "tracking/eye/RightPitch": -10.0, "tracking/eye/RightYaw": -5.0},
        ),
    ],
)  # fmt: skip
def test_head_and_native_eye_signs(pose: dict[str, float], expect: dict[str, float]) -> None:
    ch = np.zeros(len(CHANNEL_NAMES))
    for k, v in pose.items():
        ch[CHANNEL_NAMES.index(k)] = v
    values = MAPPING.logical(ch)
    by = {e.name: float(v) for e, v in zip(MAPPING.entries, values, strict=True)}
    for name, v in expect.items():
        assert by[name] == pytest.approx(v, abs=1e-6), name


def test_native_eye_gaze_is_one_message_in_vrchat_order() -> None:
    order = [e.name for e in MAPPING.entries if e.address == "/tracking/eye/LeftRightPitchYaw"]
    assert order == ["tracking/eye/LeftPitch", "tracking/eye/LeftYaw",
                     "tracking/eye/RightPitch", "tracking/eye/RightYaw"]  # fmt: skip
