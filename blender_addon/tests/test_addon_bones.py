"""Head and eye rotation maths (`core.bones`) and the pose the decoders attach to samples,
with plain pytest. Directions are checked as vectors (where the face points), not as the
numbers the code wrote."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from adcore import bones, osc, receiver, vmc
from helpers import free_port, livelink_packet
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

FORWARD = (0.0, -1.0, 0.0)  # a Blender character faces -Y
UP = (0.0, 0.0, 1.0)
DEG = math.radians

angle = st.floats(-1.4, 1.4)  # stay clear of gimbal lock (|pitch| = 90 deg)


def _rot(q: bones.Quat) -> np.ndarray:
    return np.array(bones.matrix_from_quaternion(q))


def test_yaw_turns_the_face_to_the_characters_left():
    fwd = bones.apply(bones.char_matrix((DEG(30), 0.0, 0.0)), FORWARD)
    assert fwd == pytest.approx((math.sin(DEG(30)), -math.cos(DEG(30)), 0.0))  # +X is its left


def test_pitch_lifts_the_chin_and_roll_tilts_to_the_left_shoulder():
    fwd = bones.apply(bones.char_matrix((0.0, DEG(20), 0.0)), FORWARD)
    assert fwd[2] == pytest.approx(math.sin(DEG(20))) and fwd[0] == pytest.approx(0.0)
    up = bones.apply(bones.char_matrix((0.0, 0.0, DEG(15))), UP)
    assert up[0] == pytest.approx(math.sin(DEG(15))) and up[1] == pytest.approx(0.0)


@settings(max_examples=200, deadline=None)
@given(angle, angle, angle)
def test_angles_round_trip_through_matrix_and_quaternion(yaw, pitch, roll):
    m = bones.char_matrix((yaw, pitch, roll))
    assert bones.angles_from_matrix(m) == pytest.approx((yaw, pitch, roll), abs=1e-9)
    q = bones.quaternion_from_matrix(m)
    assert np.allclose(bones.matrix_from_quaternion(q), m, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(angle, angle, angle, st.sampled_from([None, "turned"]))
def test_quaternion_path_matches_the_matrix_definitions(yaw, pitch, roll, rest_kind):
    a = (yaw, pitch, roll)
    assert np.allclose(_rot(bones.char_quaternion(a)), bones.char_matrix(a), atol=1e-9)
    rest = UP_BONE if rest_kind is None else bones.char_matrix((0.3, -0.2, 1.1))
    for up in ("Z", "Y"):
        f = np.array(bones.up_frame(up))
        r = f @ np.array(bones.char_matrix(a)) @ f.T
        want = np.array(rest).T @ r @ np.array(rest)
        assert np.allclose(_rot(bones.bone_quaternion(a, rest, up)), want, atol=1e-9)
        want_obj = np.array(rest) @ r
        assert np.allclose(_rot(bones.object_quaternion(a, rest, up)), want_obj, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.tuples(*[st.floats(-1, 1)] * 4).filter(lambda q: sum(c * c for c in q) > 0.1))
def test_unity_quaternion_is_the_reflected_rotation(q):
    qx, qy, qz, qw = q
    # Independent route: Unity's matrix conjugated by the reflection M (x->-x, z->-y, y->z).
    r_unity = _rot((qw, qx, qy, qz))
    m = np.array([[-1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float)
    want = m @ r_unity @ m.T
    got = _rot(bones.unity_to_blender_quaternion(qx, qy, qz, qw))
    assert np.allclose(got, want, atol=1e-9)


@pytest.mark.parametrize("ypr", [(25.0, 0.0, 0.0), (0.0, 15.0, 0.0), (0.0, 0.0, -10.0),
                                 (-20.0, 10.0, 5.0)])  # fmt: skip
def test_vmc_head_from_avatar_driver_sender_reads_back_its_angles(ypr):
    rotation = pytest.importorskip("avatar_driver.codecs.rotation")
    qx, qy, qz, qw = rotation.unity_quaternion(*ypr)  # the sender's own conversion
    got = bones.vmc_angles(qx, qy, qz, qw)
    assert got == pytest.approx(tuple(DEG(a) for a in ypr), abs=1e-6)


def test_unity_positions_map_to_blender_axes():
    assert bones.unity_position(0.1, 1.5, 0.2) == (-0.1, -0.2, 1.5)  # right, up, forward


# Rest rotations as Blender builds them (`Bone.matrix_local`): a head bone pointing up with
# roll 0, and an eye bone pointing forward (-Y) with roll 0.
UP_BONE = ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0))
FWD_BONE = ((-1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))


@pytest.mark.parametrize("rest", [UP_BONE, FWD_BONE], ids=["up", "forward"])
@pytest.mark.parametrize("ypr", [(30, 0, 0), (0, 20, 0), (0, 0, 15), (-25, 10, -5)])
def test_bone_rotation_turns_the_bone_like_the_character_frame(rest, ypr):
    angles = tuple(DEG(a) for a in ypr)
    local = _rot(bones.bone_quaternion(angles, rest))  # what goes into the pose bone
    posed = np.array(rest) @ local  # the bone's armature-space rotation after posing
    # Where the rest pose's "forward" points now, through the bone's own axes:
    fwd_in_bone = np.array(rest).T @ np.array(FORWARD)
    want = np.array(bones.apply(bones.char_matrix(angles), FORWARD))
    assert np.allclose(posed @ fwd_in_bone, want, atol=1e-9)


def test_y_up_rig_turns_about_its_own_up_axis():
    # Y-up data (an FBX armature upright by its object rotation) faces +Z: a left turn
    # moves the face toward +X about +Y.
    q = bones.bone_quaternion((DEG(30), 0.0, 0.0), bones._IDENTITY, up="Y")
    fwd = _rot(q) @ np.array([0.0, 0.0, 1.0])
    assert np.allclose(fwd, [math.sin(DEG(30)), 0.0, math.cos(DEG(30))], atol=1e-9)
    with pytest.raises(ValueError, match="up axis"):
        bones.up_frame("X")


def test_adjust_recenters_inverts_and_scales_per_axis():
    adj = bones.Adjust(strength=(2.0, 1.0, 0.5), invert=(False, True, False),
                       offset=(0.1, 0.0, 0.2))  # fmt: skip
    assert adj((0.3, 0.4, 0.6)) == pytest.approx((0.4, -0.4, 0.2))
    assert bones.Adjust(offset=(0.3, 0.4, 0.6))((0.3, 0.4, 0.6)) == (0.0, 0.0, 0.0)


def test_look_weights_follow_the_gaze():
    w = bones.look_weights(DEG(15), DEG(-30))
    assert w["eyeLookOutLeft"] == pytest.approx(0.5) and w["eyeLookInRight"] == pytest.approx(0.5)
    assert w["eyeLookInLeft"] == 0.0 and w["eyeLookUpLeft"] == 0.0
    assert w["eyeLookDownLeft"] == pytest.approx(1.0) and w["eyeLookDownRight"] == 1.0


RIGIFY_OLD = ["root", "torso", "neck", "head", "ORG-head", "DEF-head", "MCH-eye.L", "MCH-eye.R",
              "eye.L", "eye.R", "eyes", "ORG-eye.L", "ORG-eye.R"]  # fmt: skip
RIGIFY_NEW = ["root", "head", "ORG-spine.006", "DEF-spine.006", "master_eye.L", "master_eye.R",
              "MCH-eye.L", "MCH-eye.R", "eye.L", "eye.R", "eye_common"]  # fmt: skip
VRM = ["Hips", "Spine", "Neck", "Head", "LeftEye", "RightEye"]
VROID = ["J_Bip_C_Neck", "J_Bip_C_Head", "J_Adj_L_FaceEye", "J_Adj_R_FaceEye"]


@pytest.mark.parametrize(
    ("names", "want"),
    [
        (RIGIFY_OLD, ("head", "MCH-eye.L", "MCH-eye.R")),
        (RIGIFY_NEW, ("head", "master_eye.L", "master_eye.R")),
        (VRM, ("Head", "LeftEye", "RightEye")),
        (VROID, ("J_Bip_C_Head", "J_Adj_L_FaceEye", "J_Adj_R_FaceEye")),
        (["DEF-head"], ("DEF-head", None, None)),
        (["HEAD", "lefteye"], ("HEAD", "lefteye", None)),  # case-insensitive fallback
        (["Bone", "Bone.001"], (None, None, None)),
    ],
    ids=["rigify-old", "rigify-new", "vrm", "vroid", "def-only", "case", "none"],
)
def test_find_bone_per_rig(names, want):
    assert tuple(bones.find_bone(r, names) for r in bones.ROLES) == want


# -- the pose the decoders attach -------------------------------------------------------------
def _msg(address: str, *args: Any):
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build()


def _bundle(*msgs) -> bytes:
    b = OscBundleBuilder(IMMEDIATELY)
    for m in msgs:
        b.add_content(m)
    return b.build().dgram


def _quat_yaw(deg: float) -> tuple[float, float, float, float]:
    # Unity: turning to the avatar's own left is a negative rotation about +y.
    h = DEG(-deg) / 2
    return 0.0, math.sin(h), 0.0, math.cos(h)


def test_vmc_bones_after_apply_belong_to_that_frame():
    asm = vmc.VmcAssembler()
    data = _bundle(
        _msg("/VMC/Ext/Blend/Val", "jawOpen", 0.5), _msg("/VMC/Ext/Blend/Apply"),
        _msg("/VMC/Ext/Bone/Pos", "Head", 0.0, 0.1, 0.02, *_quat_yaw(20)),
        _msg("/VMC/Ext/Bone/Pos", "LeftEye", 0.03, 0.05, 0.02, *_quat_yaw(10)),
        _msg("/VMC/Ext/Bone/Pos", "Hips", 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0),  # ignored
        _msg("/VMC/Ext/T", 2.0),
    )  # fmt: skip
    [s] = asm.feed(osc.decode_packet(data), arrival=100.0)
    assert s.values == {"jawOpen": 0.5} and s.time == 2.0
    assert set(s.pose) == {"head", "left_eye"}
    assert s.pose["head"] == pytest.approx((DEG(20), 0.0, 0.0))
    assert s.pose["left_eye"][0] == pytest.approx(DEG(10))
    assert asm.head_position == pytest.approx((0.0, -0.02, 0.1))
    assert asm.bad_messages == 0


def test_vmc_bones_only_datagram_is_a_pose_frame_and_zero_quaternion_is_bad():
    asm = vmc.VmcAssembler()
    data = _bundle(_msg("/VMC/Ext/Bone/Pos", "RightEye", 0.0, 0.0, 0.0, *_quat_yaw(-5)))
    [s] = asm.feed(osc.decode_packet(data), arrival=5.0)
    assert s.values == {} and s.pose["right_eye"][0] == pytest.approx(DEG(-5))
    assert not s.stream_clock
    bad = _bundle(_msg("/VMC/Ext/Bone/Pos", "Head", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
    assert asm.feed(osc.decode_packet(bad), arrival=6.0) == []
    assert asm.bad_messages == 1


def test_livelink_pose_from_values_52_to_60_on_a_real_socket():
    port = free_port()
    vals = [0.0] * 61
    vals[52:61] = [0.1, -0.05, 0.02, 0.08, 0.04, 0.0, 0.07, 0.03, 0.0]
    with receiver.Receiver("LIVELINK", port=port) as rx:
        import socket
        import time

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(livelink_packet(vals, frame=7), ("127.0.0.1", port))
        samples: list = []
        deadline = time.monotonic() + 2.0
        while not samples and time.monotonic() < deadline:
            samples = rx.drain()
            time.sleep(0.001)
    [s] = samples
    # -1..1 is -180..180 degrees: 0.1 is 18 degrees. Live Link's pitch and roll are Unreal's
    # (chin down, toward the right shoulder): the sample has avatar-driver's signs.
    assert s.pose["head"] == pytest.approx((0.1 * math.pi, 0.05 * math.pi, -0.02 * math.pi),
                                           rel=1e-6)  # fmt: skip
    assert s.pose["left_eye"][:2] == pytest.approx((0.08 * math.pi, -0.04 * math.pi), rel=1e-6)
    assert s.pose["right_eye"][:2] == pytest.approx((0.07 * math.pi, -0.03 * math.pi), rel=1e-6)
    assert rx.pose == s.pose


def test_aim_target_moves_so_the_eye_looks_along_the_gaze():
    eye, target = (0.03, -0.08, 1.62), (0.03, -0.4, 1.62)
    rest = bones.char_matrix((0.0, 0.0, 0.7))  # the target bone's own rest axes, rolled
    off = bones.aim_offset((DEG(20), DEG(-10), 0.0), eye, target, rest)
    moved = np.array(target) + np.array(rest) @ np.array(off)  # pose location is in rest axes
    look = moved - np.array(eye)
    want = np.array(bones.apply(bones.char_matrix((DEG(20), DEG(-10), 0.0)), FORWARD))
    assert np.allclose(look / np.linalg.norm(look), want, atol=1e-9)
    assert np.linalg.norm(look) == pytest.approx(0.32)  # same distance: the target swings
