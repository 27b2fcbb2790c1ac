"""iFacialMocap v1 text: golden string, names, integer range, Unity Euler head angles."""

from __future__ import annotations

from avatar_driver.codecs.ifacialmocap import IFM_NAMES, encode_ifacialmocap, ifm_name
from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX


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
    "eyeBlink_L-100|eyeLookDown_L-0|eyeLookIn_L-0|eyeLookOut_L-0|eyeLookUp_L-0|eyeSquint_L-0|"
    "eyeWide_L-0|eyeBlink_R-0|eyeLookDown_R-0|eyeLookIn_R-0|eyeLookOut_R-0|eyeLookUp_R-0|"
    "eyeSquint_R-0|eyeWide_R-0|jawForward-0|jawRight-0|jawLeft-0|jawOpen-46|mouthClose-0|"
    "mouthFunnel-0|mouthPucker-0|mouthRight-0|mouthLeft-20|mouthSmile_L-0|mouthSmile_R-0|"
    "mouthFrown_L-0|mouthFrown_R-0|mouthDimple_L-0|mouthDimple_R-0|mouthStretch_L-0|"
    "mouthStretch_R-0|mouthRollLower-0|mouthRollUpper-0|mouthShrugLower-0|mouthShrugUpper-0|"
    "mouthPress_L-0|mouthPress_R-0|mouthLowerDown_L-0|mouthLowerDown_R-0|mouthUpperUp_L-0|"
    "mouthUpperUp_R-0|browDown_L-0|browDown_R-0|browInnerUp-100|browOuterUp_L-0|"
    "browOuterUp_R-0|cheekPuff-0|cheekSquint_L-0|cheekSquint_R-0|noseSneer_L-0|noseSneer_R-0|"
    "tongueOut-0|"
    "=head#-5.0000,-10.0000,-3.0000,0.0100,-0.0200,-0.6000|"
    "rightEye#1.0000,-6.0000,0.0000|leftEye#-2.0000,-4.0000,0.0000|"
)


def test_golden_string() -> None:
    assert encode_ifacialmocap(known_frame()).decode("ascii") == GOLDEN


def test_names() -> None:
    assert ifm_name("eyeBlinkRight") == "eyeBlink_R"
    assert ifm_name("mouthLeft") == "mouthLeft" and ifm_name("jawRight") == "jawRight"
    assert ifm_name("browInnerUp") == "browInnerUp"
    assert len(set(IFM_NAMES)) == 52


def test_neutral_frame_parses_like_a_receiver() -> None:
    """Split the way receivers do: shapes before '=', blocks found by name."""
    text = encode_ifacialmocap(Frame(timestamp=0.0)).decode()
    shapes_part, _, pose_part = text.partition("=")
    pairs = [p.rsplit("-", 1) for p in shapes_part.strip("|").split("|")]
    assert [n for n, _ in pairs] == list(IFM_NAMES)
    assert all(v.isdigit() and 0 <= int(v) <= 100 for _, v in pairs)
    blocks = dict(b.split("#") for b in pose_part.strip("|").split("|"))
    assert set(blocks) == {"head", "rightEye", "leftEye"}
    assert len(blocks["head"].split(",")) == 6 and len(blocks["leftEye"].split(",")) == 3
    assert text.endswith("|") and text.count("=") == 1
