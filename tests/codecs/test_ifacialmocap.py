"""iFacialMocap text: golden string, mirrored labels, v1/v2, a port of VRCFaceTracking's
module reading it."""

from __future__ import annotations

import pytest

from avatar_driver.codecs.ifacialmocap import IFM_NAMES, encode_ifacialmocap, ifm_name
from avatar_driver.frame import Frame
from avatar_driver.shapes import ARKIT_NAMES, INDEX
from tests.codecs.receivers import vrcft_ifacialmocap


def known_frame() -> Frame:
    f = Frame(timestamp=0.0, face_present=True)
    f.weights[INDEX["eyeBlinkLeft"]] = 1.0
    f.weights[INDEX["jawOpen"]] = 0.456
    f.weights[INDEX["mouthLeft"]] = 0.2
    f.weights[INDEX["browInnerUp"]] = 1.7  # out of range: clamped
    f.weights[INDEX["tongueOut"]] = 0.9  # unavailable: 0
    f.pose[:] = (10.0, 5.0, -3.0, 4.0, 2.0, 0.0, 6.0, -1.0, 0.0)
    f.translation[:] = (1.0, -2.0, -60.0)
    return f


GOLDEN = (
    "tongueOut&0|"  # first: VRCFaceTracking skips the first item, and we never measure it
    "eyeBlink_R&100|eyeLookDown_R&0|eyeLookIn_R&0|eyeLookOut_R&0|eyeLookUp_R&0|eyeSquint_R&0|"
    "eyeWide_R&0|eyeBlink_L&0|eyeLookDown_L&0|eyeLookIn_L&0|eyeLookOut_L&0|eyeLookUp_L&0|"
    "eyeSquint_L&0|eyeWide_L&0|jawForward&0|jawLeft&0|jawRight&0|jawOpen&46|mouthClose&0|"
    "mouthFunnel&0|mouthPucker&0|mouthLeft&0|mouthRight&20|mouthSmile_R&0|mouthSmile_L&0|"
    "mouthFrown_R&0|mouthFrown_L&0|mouthDimple_R&0|mouthDimple_L&0|mouthStretch_R&0|"
    "mouthStretch_L&0|mouthRollLower&0|mouthRollUpper&0|mouthShrugLower&0|mouthShrugUpper&0|"
    "mouthPress_R&0|mouthPress_L&0|mouthLowerDown_R&0|mouthLowerDown_L&0|mouthUpperUp_R&0|"
    "mouthUpperUp_L&0|browDown_R&0|browDown_L&0|browInnerUp&100|browOuterUp_R&0|"
    "browOuterUp_L&0|cheekPuff&0|cheekSquint_R&0|cheekSquint_L&0|noseSneer_R&0|noseSneer_L&0|"
    "=head#-5.0000,-10.0000,-3.0000,0.0100,-0.0200,-0.6000|"
    "rightEye#1.0000,-6.0000,0.0000|leftEye#-2.0000,-4.0000,0.0000|"
)


def test_golden_string() -> None:
    """The performer's left blink and a mouth moved to their left go out under the app's
    mirrored labels: eyeBlink_R and mouthRight."""
    assert encode_ifacialmocap(known_frame()).decode("ascii") == GOLDEN


def test_version_1_uses_dashes() -> None:
    text = encode_ifacialmocap(known_frame(), version=1).decode("ascii")
    assert text == GOLDEN.replace("&", "-")
    with pytest.raises(ValueError, match="1 or 2"):
        encode_ifacialmocap(known_frame(), version=3)


def test_names() -> None:
    assert ifm_name("eyeBlinkRight") == "eyeBlink_L" and ifm_name("eyeBlinkLeft") == "eyeBlink_R"
    assert ifm_name("mouthLeft") == "mouthRight" and ifm_name("jawRight") == "jawLeft"
    assert ifm_name("browInnerUp") == "browInnerUp"
    assert len(set(IFM_NAMES)) == 52


def test_vrcft_port_reads_the_performers_left_blink_as_the_left_eye() -> None:
    f = Frame(timestamp=0.0, face_present=True)
    f.weights[INDEX["eyeBlinkLeft"]] = 1.0
    f.weights[INDEX["jawLeft"]] = 0.8
    f.weights[INDEX["mouthSmileLeft"]] = 0.7
    u = vrcft_ifacialmocap(encode_ifacialmocap(f))
    assert (u.left_openness, u.right_openness) == (0.0, 1.0)
    assert (u.shapes["JawLeft"], u.shapes["JawRight"]) == (0.8, 0.0)
    assert (u.shapes["MouthCornerPullLeft"], u.shapes["MouthCornerPullRight"]) == (0.7, 0.0)


@pytest.mark.parametrize("name", [n for n in ARKIT_NAMES if n != "tongueOut"])
def test_no_measured_shape_is_the_skipped_first_item(name: str) -> None:
    """Whatever shape we set, VRCFaceTracking's parser (which drops item 0) still sees it."""
    f = Frame(timestamp=0.0)
    f.weights[INDEX[name]] = 0.5
    items = encode_ifacialmocap(f).decode().split("|")[1:-1]
    assert f"{ifm_name(name)}&50" in items


def test_neutral_frame_parses_like_a_receiver() -> None:
    """Split the way receivers do: shapes before '=', blocks found by name."""
    text = encode_ifacialmocap(Frame(timestamp=0.0)).decode()
    shapes_part, _, pose_part = text.partition("=")
    pairs = [p.split("&") for p in shapes_part.strip("|").split("|")]
    assert sorted(n for n, _ in pairs) == sorted(IFM_NAMES)
    assert all(v.isdigit() and 0 <= int(v) <= 100 for _, v in pairs)
    blocks = dict(b.split("#") for b in pose_part.strip("|").split("|"))
    assert set(blocks) == {"head", "rightEye", "leftEye"}
    assert len(blocks["head"].split(",")) == 6 and len(blocks["leftEye"].split(",")) == 3
    assert text.endswith("|") and text.count("=") == 1
