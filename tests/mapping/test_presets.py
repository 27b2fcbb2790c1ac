"""Every preset loads, is documented at its top, and maps a known frame to known values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avatar_driver.mapping import load_mapping, preset_names
from avatar_driver.shapes import ARKIT_NAMES, CHANNEL_NAMES, POSE_NAMES, pascal

PRESETS = [
    "vrchat-unified-v2",
    "vrchat-arkit",
    "vmc-perfect-sync",
    "blender-arkit",
    "livelink-arkit",
]
IDX = {n: i for i, n in enumerate(CHANNEL_NAMES)}


def frame(**values: float) -> np.ndarray:
    ch = np.zeros(len(CHANNEL_NAMES), dtype=np.float32)
    for k, v in values.items():
        ch[IDX[k]] = v
    return ch


def test_all_presets_present() -> None:
    assert set(PRESETS) <= set(preset_names())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_documented_at_top(name: str) -> None:
    m = load_mapping(name)
    head = Path(m.source).read_text(encoding="utf-8").splitlines()[:3]
    assert head[0].startswith(f"# {name}:")


@pytest.mark.parametrize(
    ("name", "spell", "prefix"),
    [("vrchat-arkit", pascal, "/avatar/parameters/"), ("vmc-perfect-sync", pascal, ""),
     ("blender-arkit", str, "")],
)  # fmt: skip
def test_perfect_sync_presets(name: str, spell: object, prefix: str) -> None:
    m = load_mapping(name)
    names = [spell(n) for n in ARKIT_NAMES]  # type: ignore[operator]
    assert list(m.names) == names
    assert list(m.addresses) == [prefix + n for n in names]
    ch = frame(eyeBlinkLeft=0.25, jawOpen=0.5, mouthSmileRight=1.0, headYaw=20)
    v = m.apply(ch)
    assert v.shape == (52,)
    assert v[ARKIT_NAMES.index("eyeBlinkLeft")] == pytest.approx(0.25)
    assert v[ARKIT_NAMES.index("jawOpen")] == pytest.approx(0.5)
    assert v[ARKIT_NAMES.index("mouthSmileRight")] == pytest.approx(1.0)
    assert np.count_nonzero(v) == 3


def test_livelink_preset_order_and_pose_passthrough() -> None:
    m = load_mapping("livelink-arkit")
    assert list(m.names) == [pascal(n) for n in ARKIT_NAMES + POSE_NAMES]
    v = m.apply(frame(jawOpen=0.4, headYaw=30.0, rightEyeRoll=-12.5))
    assert v[17] == pytest.approx(0.4)
    assert v[52] == pytest.approx(30.0) and v[60] == pytest.approx(-12.5)


def test_unified_v2_known_frame() -> None:
    m = load_mapping("vrchat-unified-v2")
    assert 140 <= len(m.entries) <= 160
    ch = frame(
        eyeBlinkLeft=0.6, eyeSquintLeft=0.5, eyeWideLeft=0.2, jawLeft=0.3, jawOpen=0.5,
        mouthSmileLeft=0.8, mouthFrownLeft=0.1, mouthStretchLeft=0.3, mouthUpperUpLeft=0.01,
        mouthRollUpper=0.5, mouthLeft=0.4, browDownRight=0.6, faceVisible=1.0, eyesVisible=1.0,
    )  # fmt: skip
    logical = dict(zip((e.name for e in m.entries), m.logical(ch), strict=True))
    expect = {
        "v2/EyeOpenLeft": 1 - min(1, 0.6 + 0.6 * 0.5),
        "v2/EyeLidLeft": 0.75 * 0.1 + 0.25 * 0.2,
        "v2/EyeOpenRight": 1.0,
        "v2/EyeLidRight": 0.75,
        "v2/EyeLid": (0.125 + 0.75) / 2,
        "v2/JawX": -0.3,
        "v2/JawOpen": 0.5,
        "v2/MouthX": -0.4,
        "v2/MouthUpperLeft": 0.4,
        "v2/MouthLowerLeft": 0.4,
        "v2/MouthCornerPullLeft": 0.8,
        "v2/MouthCornerSlantLeft": 0.8,
        "v2/SmileSadLeft": 0.8 - 0.3,
        "v2/SmileSad": (0.8 - 0.3) / 2,
        "v2/SmileFrownLeft": 0.7,
        "v2/BrowLowererRight": 0.6,
        "v2/BrowPinchRight": 0.6,
        "v2/BrowExpressionRight": -0.6,
        "v2/LipSuckUpperLeft": min(1 - 0.01 ** (1 / 6), 0.5),
        "v2/TongueOut": 0.0,
        "EyeTrackingActive": 1.0,
        "LipTrackingActive": 1.0,
    }
    for key, want in expect.items():
        assert logical[key] == pytest.approx(want, abs=1e-6), key
    wire = dict(zip(m.names, m.apply(ch), strict=True))
    # JawX = -0.3 in 4 bits with a Negative bit: int(0.3 * 16) = 4.
    assert [wire[f"v2/JawX{b}"] for b in (1, 2, 4, 8)] == [0, 0, 1, 0]
    assert wire["v2/JawXNegative"] == 1
    assert wire["v2/EyeLidLeft"] == pytest.approx(0.125)
    assert wire["EyeTrackingActive"] == 1
    native = {"/tracking/eye/LeftRightPitchYaw", "/tracking/eye/EyesClosedAmount"}
    assert all(a.startswith("/avatar/parameters/") or a in native for a in m.addresses)


def test_unified_v2_neutral_face_is_at_rest() -> None:
    m = load_mapping("vrchat-unified-v2")
    logical = dict(zip((e.name for e in m.entries), m.logical(frame()), strict=True))
    assert logical["v2/EyeLid"] == pytest.approx(0.75)  # open eyes, not widened
    assert logical["v2/EyeOpenLeft"] == 1.0
    assert logical["ExpressionTrackingActive"] == 0.0
    others = [v for k, v in logical.items() if "Eye" not in k]
    assert np.allclose(others, 0.0)


@pytest.mark.parametrize("upper_face", [True, False])
def test_unified_v2_eye_tracking_off_in_headset_mode(upper_face: bool) -> None:
    """Under a headset (upper face not tracked) the avatar's own eyes must take over:
    EyeTrackingActive off, while expressions and lips stay driven."""
    from avatar_driver.frame import Frame

    m = load_mapping("vrchat-unified-v2")
    f = Frame(timestamp=0.0, index=0, face_present=True, upper_face=upper_face)
    logical = dict(zip((e.name for e in m.entries), m.logical(f.channels()), strict=True))
    assert logical["EyeTrackingActive"] == (1.0 if upper_face else 0.0)
    assert logical["ExpressionTrackingActive"] == logical["LipTrackingActive"] == 1.0
