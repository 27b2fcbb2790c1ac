"""VMC bundles: message order, types, one Apply per frame, splitting, head and eye bones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle

from avatar_driver.codecs.osc import MAX_DATAGRAM
from avatar_driver.codecs.rotation import unity_quaternion
from avatar_driver.codecs.vmc import EYE_POSITIONS, HEAD_POSITION, VmcPacker, encode_vmc
from avatar_driver.frame import Frame
from avatar_driver.shapes import ARKIT_NAMES, pascal

NAMES = [pascal(n) for n in ARKIT_NAMES]


def _messages(datagrams: list[bytes]) -> list[tuple[str, list[Any]]]:
    """Decode with python-osc (an independent implementation)."""
    out = []
    for d in datagrams:
        assert OscBundle.dgram_is_bundle(d)
        out += [(m.address, list(m.params)) for m in OscBundle(d)]
    return out


def _frame() -> Frame:
    f = Frame(timestamp=12.25, face_present=True)
    f.weights[:] = np.linspace(0, 1, 52, dtype=np.float32)
    f.pose[:] = (20.0, -10.0, 5.0, 12.0, 4.0, 0.0, 10.0, 4.0, 0.0)
    return f


def test_one_frame_in_order() -> None:
    f = _frame()
    dgrams = encode_vmc(f, NAMES, f.weights.astype(np.float64))
    assert len(dgrams) == 1 and len(dgrams[0]) <= MAX_DATAGRAM
    msgs = _messages(dgrams)
    vals = msgs[:52]
    assert [a for a, _ in vals] == ["/VMC/Ext/Blend/Val"] * 52
    assert [p[0] for _, p in vals] == NAMES
    assert np.allclose([p[1] for _, p in vals], f.weights, atol=1e-7)
    assert [a for a, _ in msgs[52:]] == [
        "/VMC/Ext/Blend/Apply",
        "/VMC/Ext/Bone/Pos",
        "/VMC/Ext/Bone/Pos",
        "/VMC/Ext/Bone/Pos",
        "/VMC/Ext/T",
        "/VMC/Ext/OK",
    ]
    assert msgs[52][1] == []
    bones = {m[1][0]: m[1][1:] for m in msgs[53:56]}
    assert list(bones) == ["Head", "LeftEye", "RightEye"]
    for name, angles in (("Head", f.pose[:3]), ("LeftEye", f.pose[3:6]), ("RightEye", f.pose[6:])):
        bone = bones[name]
        assert len(bone) == 7 and all(isinstance(v, float) for v in bone)
        assert np.allclose(bone[3:], unity_quaternion(*map(float, angles)), atol=1e-6)
        assert math.isclose(math.hypot(*bone[3:]), 1.0, abs_tol=1e-6)
    assert bones["Head"][:3] == pytest.approx(HEAD_POSITION)
    assert bones["LeftEye"][:3] == pytest.approx(EYE_POSITIONS[0])
    assert bones["LeftEye"][0] < 0 < bones["RightEye"][0]  # the avatar's left is -x in Unity
    assert msgs[56][1] == [pytest.approx(12.25)]
    assert msgs[57][1] == [1, 3, 0, 1]


def test_head_position_is_configurable_and_never_zero_by_default() -> None:
    assert math.hypot(*HEAD_POSITION) > 0.05
    msgs = _messages(VmcPacker(NAMES, head_position=(0.0, 0.1, 0.02)).pack(np.zeros(52)))
    head = next(p for a, p in msgs if a == "/VMC/Ext/Bone/Pos" and p[0] == "Head")
    assert head[1:4] == pytest.approx([0.0, 0.1, 0.02])
    with pytest.raises(ValueError, match="triples"):
        VmcPacker(NAMES, head_position=(0.0, 0.1))


def test_tracking_flag_follows_the_face() -> None:
    f = _frame()
    f.face_present = False
    msgs = _messages(encode_vmc(f, NAMES, np.zeros(52)))
    assert msgs[-1] == ("/VMC/Ext/OK", [1, 3, 0, 0])


def test_packer_reuse_gives_fresh_values() -> None:
    packer = VmcPacker(NAMES)
    a = packer.pack(np.full(52, 0.25), time=1.0)
    b = packer.pack(np.full(52, 0.75), time=2.0)
    assert a != b
    assert {p[1] for a_, p in _messages(a)[:52]} == {0.25}
    assert {p[1] for a_, p in _messages(b)[:52]} == {0.75}


def test_long_name_lists_split_with_the_tail_last() -> None:
    names = [f"SomeRatherLongBlendShapeName{i:03d}" for i in range(300)]
    dgrams = VmcPacker(names).pack(np.arange(300) / 300.0, time=3.0)
    assert len(dgrams) > 1
    assert all(len(d) <= MAX_DATAGRAM for d in dgrams)
    msgs = _messages(dgrams)
    assert [p[0] for a, p in msgs if a == "/VMC/Ext/Blend/Val"] == names
    assert sum(a == "/VMC/Ext/Blend/Apply" for a, _ in msgs) == 1
    last = [a for a, _ in _messages(dgrams[-1:])]
    assert "/VMC/Ext/Blend/Apply" in last and "/VMC/Ext/T" in last
    assert all(a == "/VMC/Ext/Blend/Val" for d in dgrams[:-1] for a, _ in _messages([d]))


def test_non_ascii_names_are_utf8() -> None:
    msgs = _messages(VmcPacker(["まばたき"]).pack(np.array([0.5])))
    assert msgs[0] == ("/VMC/Ext/Blend/Val", ["まばたき", 0.5])
