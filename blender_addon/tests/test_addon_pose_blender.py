"""Real Blender: head and eyes onto armature bones, live (VMC and Live Link on real UDP),
recorded and imported from a take, on test armatures named like Rigify (old and new) and
VRM / VRoid rigs. Directions are read from the evaluated pose in world space and compared
with where a face turned by the sent angles points, not with the numbers the add-on wrote.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import run_scenario

pytestmark = pytest.mark.blender


def _turn(yaw: float, pitch: float) -> np.ndarray:
    """Turn to the character's left by `yaw` degrees, then raise the face by `pitch`, in a
    rig that is Z up and faces -Y (its left is +X)."""
    y, p = math.radians(yaw), math.radians(pitch)
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    # Raising the face: -Y swings toward +Z, a negative turn about +X.
    rx = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    return rz @ rx


FORWARD = np.array([0.0, -1.0, 0.0])


def _angle_deg(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    c = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def _world(r, v) -> np.ndarray:
    return np.array(r["rig_matrix"]) @ v


EXPECTED_BONES = {
    "rigify_old": ("Rig:head (auto)", "Rig:MCH-eye.L (auto)", "Rig:MCH-eye.R (auto)"),
    "rigify_new": ("Rig:head (auto)", "Rig:master_eye.L (auto)", "Rig:master_eye.R (auto)"),
    "rigify_aim": ("Rig:head (auto)", "Rig:MCH-eye.L via target eye.L (auto)",
                   "Rig:MCH-eye.R via target eye.R (auto)"),
    "vrm": ("Rig:Head (auto)", "Rig:LeftEye (auto)", "Rig:RightEye (auto)"),
    "vroid": ("Rig:J_Bip_C_Head (auto)", "Rig:J_Adj_L_FaceEye (auto)",
              "Rig:J_Adj_R_FaceEye (auto)"),
}  # fmt: skip


@pytest.mark.parametrize("rig", list(EXPECTED_BONES))
def test_vmc_head_and_gaze_turn_the_bones_the_right_way(addon_zip, tmp_path, rig):
    r = run_scenario("pose_vmc", addon_zip, tmp_path, rig=rig, head_yaw=30, head_pitch=10,
                     eye_yaw=10, eye_pitch=5)  # fmt: skip
    assert r["start_error"] is None and r["internal_errors"] == 0 and r["problems"] == []
    head, left, right = EXPECTED_BONES[rig]
    assert r["driven"] == {"head": head, "left_eye": left, "right_eye": right}
    want_head = _world(r, _turn(30, 10) @ FORWARD)
    assert _angle_deg(r["head_forward"], want_head) < 0.1, r["head_forward"]
    # The eyes are children of the head: their gaze adds to the head's turn.
    want_eye = _world(r, _turn(30, 10) @ _turn(10, 5) @ FORWARD)
    for side in ("left", "right"):
        assert _angle_deg(r[f"{side}_eye_forward"], want_eye) < 0.1, side
    # The sanity of the check itself: the world face direction moved about 32 degrees.
    assert _angle_deg(r["head_forward"], _world(r, FORWARD)) == pytest.approx(31.5, abs=1.0)
    assert r["live"]["jawOpen"] == pytest.approx(0.3)


def test_strength_and_sign_per_axis(addon_zip, tmp_path):
    r = run_scenario("pose_vmc", addon_zip, tmp_path, rig="vrm", head_yaw=30, head_pitch=10,
                     eye_yaw=0, eye_pitch=0, strength=[0.5, 1.0, 1.0],
                     invert=[False, True, False])  # fmt: skip
    assert _angle_deg(r["head_forward"], _world(r, _turn(15, -10) @ FORWARD)) < 0.1


def test_recording_keys_bones_with_shape_keys_on_the_stream_clock(addon_zip, tmp_path):
    r = run_scenario("pose_vmc", addon_zip, tmp_path, rig="vrm", head_yaw=30, head_pitch=10,
                     eye_yaw=10, eye_pitch=5, record=True)  # fmt: skip
    # Recenter: the pose at that moment became straight ahead.
    assert r["recenter"] == ["FINISHED"]
    assert _angle_deg(r["head_forward_recentered"], _world(r, FORWARD)) < 0.1
    assert r["rig_action"] == "Take_head"
    paths = {(p, i): n for p, i, n in r["rig_paths"]}
    for i in range(4):
        assert ('pose.bones["Head"].rotation_quaternion', i) in paths
        assert ('pose.bones["LeftEye"].rotation_quaternion', i) in paths
    assert max(paths.values()) == 31  # one key per scene frame where the value moves
    # Sent in one burst, timed by /VMC/Ext/T at 30 fps: frame 16 is 0.5 s into the take.
    for f, yaw in ((1, 0.0), (16, 15.0), (31, 30.0)):
        played = r["played"][str(f)]
        assert _angle_deg(played["head"], _world(r, _turn(yaw, 0) @ FORWARD)) < 0.2, f
        want_eye = _world(r, _turn(yaw, 0) @ _turn(-yaw / 3, 0) @ FORWARD)
        assert _angle_deg(played["eye"], want_eye) < 0.2, f
    jaw = dict((round(f), v) for f, v in r["jaw_curve"])
    assert jaw[1] == pytest.approx(0.0, abs=1e-3) and jaw[16] == pytest.approx(0.5, abs=0.01)
    assert jaw[31] == pytest.approx(1.0, abs=1e-3)
    assert "Take_head on Rig:Head" in r["message_after"]


def test_livelink_head_and_eye_angles(addon_zip, tmp_path):
    r = run_scenario("pose_livelink", addon_zip, tmp_path, rig="vrm",
                     pose_deg=[20, -10, 0, 8, 4, 0, 8, 4, 0])  # fmt: skip
    assert r["internal_errors"] == 0
    rig_to_world = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])  # the rig turned 90 deg
    assert _angle_deg(r["head_forward"], rig_to_world @ _turn(20, -10) @ FORWARD) < 0.1
    want_eye = rig_to_world @ _turn(20, -10) @ _turn(8, 4) @ FORWARD
    assert _angle_deg(r["left_eye_forward"], want_eye) < 0.1


def test_without_eye_bones_the_gaze_drives_eyelook_shape_keys(addon_zip, tmp_path):
    # VMC with LeftEye/RightEye bones and no eyeLook values: Auto falls back to shape keys.
    r = run_scenario("pose_vmc", addon_zip, tmp_path, rig="no_eyes", head_yaw=0, head_pitch=0,
                     eye_yaw=10, eye_pitch=5)  # fmt: skip
    assert r["eyes_to_shape_keys"] and set(r["driven"]) == {"head"}
    live = r["live"]
    # 30 degrees of gaze is a full eyeLook; looking to the left: left eye out, right eye in.
    assert live["eyeLookOutLeft"] == pytest.approx(10 / 30, abs=1e-3)
    assert live["eyeLookInRight"] == pytest.approx(10 / 30, abs=1e-3)
    assert live["eyeLookUpLeft"] == pytest.approx(5 / 30, abs=1e-3)
    assert live["eyeLookInLeft"] == 0.0 and live["eyeLookDownRight"] == 0.0
    # Live Link sends its own eyeLook values; Shape Keys chosen explicitly overrides them.
    r = run_scenario("pose_livelink", addon_zip, tmp_path, rig="no_eyes", eye_target="SHAPE_KEYS",
                     pose_deg=[0, 0, 0, -12, 0, 0, -12, 0, 0])  # fmt: skip
    assert r["live"]["eyeLookInLeft"] == pytest.approx(12 / 30, abs=1e-3)
    assert r["live"]["eyeLookOutRight"] == pytest.approx(12 / 30, abs=1e-3)


@pytest.mark.parametrize(
    ("rig", "mode", "n_curves"),
    [("rigify_new", "QUATERNION", 12), ("vroid", "QUATERNION", 12), ("rigify_aim", "", 10),
     ("vrm", "YXZ", 9), ("vrm", "AXIS_ANGLE", 12)],
)  # fmt: skip
def test_take_import_keys_head_and_eyes(addon_zip, tmp_path, rig, mode, n_curves):
    """Keys go into each bone's own rotation mode (the user's rig settings are kept)."""
    r = run_scenario("pose_import", addon_zip, tmp_path, rig=rig, tmp=str(tmp_path),
                     rotation_mode=mode)  # fmt: skip
    want_prop = {"QUATERNION": "rotation_quaternion", "YXZ": "rotation_euler",
                 "AXIS_ANGLE": "rotation_axis_angle"}.get(mode)  # fmt: skip
    if want_prop:
        assert {p.rsplit(".", 1)[1] for p, _, _ in r["rig_paths"]} == {want_prop}
    assert "error" not in r, r
    assert "head and eyes onto" in r["summary"]
    # A quaternion per bone; with aim targets, a location per eye target.
    assert r["rig_action"] == "Take_head" and len(r["rig_paths"]) == n_curves, r["rig_paths"]
    rig_to_world = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    # Scene 30 fps; the take's head yaw goes 0 -> 36 deg over 1 s, the eyes 0 -> -18.
    for f in (1, 16, 31):
        t = (f - 1) / 30
        played = r["played"][str(f)]
        head = rig_to_world @ _turn(36 * t, 0) @ FORWARD
        assert _angle_deg(played["head"], head) < 0.2, f
        eye = rig_to_world @ _turn(36 * t, 0) @ _turn(-18 * t, 0) @ FORWARD
        assert _angle_deg(played["eye"], eye) < 0.2, f


def test_missing_bones_give_a_clear_message(addon_zip, tmp_path):
    r = run_scenario("pose_missing", addon_zip, tmp_path, rig="plain", tmp=str(tmp_path))
    assert r["start_error"] is None  # the shape keys still run
    assert r["message"].startswith("No head bone found on 'Rig' (looked for head, Head,")
    assert r["driven"] == {}
    assert r["import"][0] == "TakeError" and "No head bone found on 'Rig'" in r["import"][1]
    assert r["import_op"][0] == "REPORTED" and "No head bone found" in r["import_op"][1]
    r = run_scenario("pose_missing", addon_zip, tmp_path, rig="plain", head_bone="Head",
                     tmp=str(tmp_path))  # fmt: skip
    assert r["message"] == "Armature 'Rig' has no bone 'Head' (Head bone)"
    assert r["import"][1] == "Armature 'Rig' has no bone 'Head' (Head bone)"


def test_panel_lists_driven_bones_shape_keys_and_what_is_unmatched(addon_zip, tmp_path):
    r = run_scenario("panel", addon_zip, tmp_path, rig="vrm", head_bone="Head")
    lines = r["lines"]
    assert "Head -> Rig:Head" in lines  # picked, so no "(auto)"
    assert "Left eye -> Rig:LeftEye (auto)" in lines and "Right eye -> Rig:RightEye (auto)" in lines
    assert "jawOpen -> jawOpen (exact)" in lines
    assert "Unmatched (click to add an override):" in lines and "[mystery]" in lines
    assert "Head: yaw 20, pitch 0, roll 0" in lines
    assert "Left eye: yaw 5, pitch 0, roll 0" in lines
    r = run_scenario("panel", addon_zip, tmp_path, rig="plain")
    assert any(t.startswith("No head bone found on 'Rig'") for t in r["lines"]), r["lines"]
    assert any(t.startswith("Head: yaw 20") and t.endswith("(not applied)") for t in r["lines"])


def test_object_target_turns_in_its_own_frame(addon_zip, tmp_path):
    # The object already faces +X in the scene (turned 90 deg): a nod must still be a nod.
    r = run_scenario("pose_livelink", addon_zip, tmp_path, rig="plain", head_target="OBJECT",
                     pose_deg=[20, 10, 0, 0, 0, 0, 0, 0, 0])  # fmt: skip
    assert r["driven"] == {"head": "Rig"}
    rig_to_world = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    assert _angle_deg(r["object_forward"], rig_to_world @ _turn(20, 10) @ FORWARD) < 0.1


@pytest.mark.model
def test_end_to_end_head_from_avatar_driver_follows_its_own_take(addon_zip, tmp_path):
    """avatar-driver tracks the clip and sends it to Blender (VMC `Head` bone) and to a CSV
    take at once; the head recorded in Blender must turn as the take says it did."""
    from helpers import require
    from test_addon_blender import CLIP, MODEL, REPO, _avatar_driver_cmd

    cmd = _avatar_driver_cmd()
    require(cmd is not None, "avatar-driver's `blender` output is not in this tree")
    require(CLIP.exists() and MODEL.exists(), "shared clip or model missing")
    assert cmd is not None
    csv_path = tmp_path / "truth.csv"
    cmd += ["run", "--source", str(CLIP), "--output", "blender", "--output", f"csv:{csv_path}",
            "--fast", "--quiet"]  # fmt: skip
    r = run_scenario("e2e", addon_zip, tmp_path, cmd=cmd, cwd=str(REPO), model=str(MODEL),
                     rig="vrm")  # fmt: skip
    assert r["returncode"] == 0, r["stderr"]
    assert r["internal_errors"] == 0 and r["rig_action"] == "E2E_head", r
    from avatar_driver.codecs.csv_take import POSE_SCALE, parse_take

    with csv_path.open(encoding="utf-8") as f:
        truth = parse_take(f)
    # The take is in Live Link's (Unreal's) signs: pitch > 0 is chin down, the VMC head's
    # (avatar-driver's) pitch > 0 is chin up.
    yaw = truth.values[:, 52] / POSE_SCALE
    pitch = -truth.values[:, 53] / POSE_SCALE
    track = r["head_track"]
    n = min(len(track), len(truth))
    assert n >= 60, (len(track), len(truth))
    # Scene 30 fps = the clip's rate, from frame 1: frame 1 + k is the take's row k.
    err_yaw = [abs(track[k][1] - yaw[k]) for k in range(n)]
    err_pitch = [abs(track[k][2] - pitch[k]) for k in range(n)]
    # Measured: ~1e-4 degrees (float32 on the wire); a head left at rest would be off by
    # the clip's largest pitch, ~2.2 degrees.
    assert max(err_yaw) < 0.02 and max(err_pitch) < 0.02, (max(err_yaw), max(err_pitch))
    assert float(np.abs(pitch[:n]).max()) > 1.0  # the head really moved in the clip
