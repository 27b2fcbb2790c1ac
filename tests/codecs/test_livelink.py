"""Live Link Face packets: golden bytes, Unreal's enum order, pylivelinkface and a port of
VRCFaceTracking's module reading them, frame numbers and subframes.

The decoder here follows the published layout (Unreal's remote publisher/listener, PyPI
``pylivelinkface``), not our encoder: u8 version | i32 len + device id | i32 len + subject |
i32 frame | f32 subframe | i32 fps num | i32 fps den | u8 count | count x f32, big-endian.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from avatar_driver.codecs.livelink import (
    DEFAULT_DEVICE_ID,
    DEFAULT_SUBJECT,
    PACKET_NAMES,
    LiveLinkEncoder,
    encode_livelink,
    fps_fraction,
)
from avatar_driver.frame import Frame
from avatar_driver.shapes import ARKIT_NAMES, INDEX, POSE_NAMES, pascal
from tests.codecs.receivers import EAR_FACE_BLEND_SHAPE, unreal_livelink, vrcft_livelink


@dataclass
class SpecPacket:
    version: int
    device_id: str
    subject: str
    frame: int
    subframe: float
    fps_num: int
    fps_den: int
    values: tuple[float, ...]


def decode_spec(data: bytes) -> SpecPacket:
    """Read one packet field by field, checking every length against the datagram."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        assert pos + n <= len(data), "truncated packet"
        chunk = data[pos : pos + n]
        pos += n
        return chunk

    version = take(1)[0]
    texts = []
    for _ in range(2):
        (n,) = struct.unpack(">i", take(4))
        texts.append(take(n).decode("utf-8"))
    frame, subframe, num, den = struct.unpack(">ifii", take(16))
    count = take(1)[0]
    values = struct.unpack(f">{count}f", take(4 * count))
    assert pos == len(data), "trailing bytes"
    return SpecPacket(version, texts[0], texts[1], frame, subframe, num, den, values)


def known_frame() -> Frame:
    f = Frame(timestamp=1.5078125, face_present=True)  # 96.5 frames at 64 fps, exactly
    f.weights[INDEX["eyeBlinkLeft"]] = 1.0
    f.weights[INDEX["jawLeft"]] = 0.5
    f.weights[INDEX["mouthRight"]] = 0.125
    f.weights[INDEX["mouthSmileRight"]] = 0.25
    f.weights[INDEX["tongueOut"]] = 0.75  # unavailable from this tracker: must go out as 0
    f.pose[:] = (90.0, -45.0, 18.0, 9.0, 0.0, 0.0, 9.0, 0.0, 0.0)
    return f


def golden() -> bytes:
    """The packet for `known_frame`, written out by hand from Unreal's EARFaceBlendShape."""
    values = ["00000000"] * 61
    values[0] = "3f800000"  # EyeBlinkLeft 1.0
    values[15] = "3f000000"  # JawLeft 0.5 (JawLeft = 15, JawRight = 16)
    values[22] = "3e000000"  # MouthRight 0.125 (MouthLeft = 21, MouthRight = 22)
    values[24] = "3e800000"  # MouthSmileRight 0.25
    values[52] = "3f000000"  # HeadYaw 90 / 180 (same sign)
    values[53] = "3e800000"  # HeadPitch -(-45) / 180: Unreal's pitch is > 0 chin down
    values[54] = "bdcccccd"  # HeadRoll -(18) / 180: Unreal's roll is > 0 to the right
    values[55] = values[58] = "3d4ccccd"  # Left/RightEyeYaw 9 / 180
    return (
        bytes.fromhex("06 00000024")
        + b"77bacdcb-5a79-5132-a4c4-92de17b418ef"
        + bytes.fromhex("00000006")
        + b"Avatar"
        + bytes.fromhex("00000060 3f000000 00000040 00000001 3d")
        + bytes.fromhex("".join(values))
    )


def test_golden_bytes() -> None:
    assert DEFAULT_DEVICE_ID == "77bacdcb-5a79-5132-a4c4-92de17b418ef"
    assert encode_livelink(known_frame(), fps=64) == golden()


def test_spec_decoder_reads_what_was_encoded() -> None:
    p = decode_spec(encode_livelink(known_frame(), fps=64))
    assert (p.version, p.device_id, p.subject) == (6, DEFAULT_DEVICE_ID, DEFAULT_SUBJECT)
    assert (p.frame, p.subframe, p.fps_num, p.fps_den) == (96, 0.5, 64, 1)
    curves = unreal_livelink(encode_livelink(known_frame(), fps=64)).curves
    assert curves["EyeBlinkLeft"] == 1.0 and curves["TongueOut"] == 0.0
    assert (curves["JawLeft"], curves["JawRight"]) == (0.5, 0.0)
    assert (curves["MouthLeft"], curves["MouthRight"]) == (0.0, 0.125)
    assert [curves[k] for k in ("HeadYaw", "HeadPitch", "HeadRoll")] == pytest.approx(
        (0.5, 0.25, -0.1)
    )


def test_order_is_unreals_enum() -> None:
    """The codec's table is Unreal's enum, and only the jaw and mouth pairs differ from the
    CSV order."""
    assert tuple(EAR_FACE_BLEND_SHAPE) == PACKET_NAMES
    csv_order = [pascal(n) for n in ARKIT_NAMES + POSE_NAMES]
    moved = [
        (i, a, b) for i, (a, b) in enumerate(zip(PACKET_NAMES, csv_order, strict=False)) if a != b
    ]
    assert [i for i, _, _ in moved] == [15, 16, 21, 22]


def test_pylivelinkface_reads_every_shape_by_name() -> None:
    """PyPI pylivelinkface (its FaceBlendShape enum) reads each shape where we put it."""
    from pylivelinkface import FaceBlendShape, PyLiveLinkFace

    for k, name in enumerate(ARKIT_NAMES):
        if name == "tongueOut":
            continue
        f = Frame(timestamp=k / 60)
        f.weights[INDEX[name]] = 0.5
        ok, face = PyLiveLinkFace.decode(encode_livelink(f))
        assert ok
        got = {b.name: face.get_blendshape(b) for b in FaceBlendShape if b.value < 52}
        assert got.pop(pascal(name)) == 0.5, name
        assert set(got.values()) == {0.0}, name


def test_vrcft_livelink_port_reads_one_sided_shapes_on_their_side() -> None:
    f = Frame(timestamp=0.0)
    f.weights[INDEX["jawLeft"]] = 0.8
    f.weights[INDEX["mouthLeft"]] = 0.6
    u = vrcft_livelink(encode_livelink(f))
    assert u is not None
    assert (u.shapes["JawLeft"], u.shapes["JawRight"]) == pytest.approx((0.8, 0.0))
    assert (u.shapes["MouthUpperLeft"], u.shapes["MouthUpperRight"]) == pytest.approx((0.6, 0.0))


@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0, 29.97])
def test_frame_numbers_strictly_increase_and_subframes_stay_below_one(fps: float) -> None:
    """Timestamps at the rate, a bit off it, repeated, and faster than it."""
    enc = LiveLinkEncoder(fps=fps)
    rate = enc.fps_num / enc.fps_den
    times = [k / rate for k in range(200)]
    times += [times[-1]] * 3 + [times[-1] + k / (3 * rate) for k in range(1, 30)]
    times += [times[-1] + k / rate + 1e-9 for k in range(1, 50)]
    frames = [unreal_livelink(enc.encode(Frame(timestamp=t))) for t in times]
    numbers = [p.frame for p in frames]
    assert all(b > a for a, b in itertools.pairwise(numbers))
    assert all(0.0 <= p.subframe < 1.0 for p in frames)
    assert numbers[:200] == list(range(200))  # on the rate: frame k, not k-1 + 1.0
    assert {p.subframe for p in frames[:200]} == {0.0}


def test_frame_numbers_continue_a_take_timecode() -> None:
    """A replayed take stamps frames with its own timecode: 17:49:11:28 at 60 fps."""
    t = 17 * 3600 + 49 * 60 + 11 + 28 / 60
    p = unreal_livelink(LiveLinkEncoder(fps=60).encode(Frame(timestamp=t)))
    assert p.frame == (17 * 3600 + 49 * 60 + 11) * 60 + 28 and p.subframe == 0.0


def test_defaults_fit_fixed_offset_receivers() -> None:
    """312 bytes (VRCFaceTracking), and pylivelinkface's fixed offsets land on our fields."""
    data = encode_livelink(known_frame())
    assert len(data) == 312
    assert data[4:41].decode() == "$" + DEFAULT_DEVICE_ID  # its '<I' version + '$' trick
    assert struct.unpack(">i", data[41:45])[0] == len(DEFAULT_SUBJECT)
    assert data[45:51].decode() == DEFAULT_SUBJECT


def test_custom_subject_and_device_id() -> None:
    enc = LiveLinkEncoder(device_id="phone-7", subject="Performer Ü", fps=30)
    p = decode_spec(enc.encode(known_frame()))
    assert (p.device_id, p.subject) == ("phone-7", "Performer Ü")


def test_weights_are_clamped() -> None:
    f = Frame(timestamp=0.0)
    f.weights[:] = np.linspace(-0.5, 1.5, 52, dtype=np.float32)
    v = decode_spec(encode_livelink(f)).values
    assert min(v[:52]) == 0.0 and max(v[:52]) == 1.0


@pytest.mark.parametrize(
    ("fps", "expected"), [(30.0, (30, 1)), (60.0, (60, 1)), (29.97, (30000, 1001)), (24.0, (24, 1))]
)
def test_fps_fraction(fps: float, expected: tuple[int, int]) -> None:
    assert fps_fraction(fps) == expected


@pytest.mark.parametrize("bad", ["", "x" * 257])
def test_bad_subject_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="subject name"):
        LiveLinkEncoder(subject=bad)


def _addon_livelink() -> ModuleType:
    """The Blender add-on's bpy-free decoder, loaded without the add-on package (bpy)."""
    core = Path(__file__).resolve().parents[2] / "blender_addon" / "core"
    if "adcore" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "adcore", core / "__init__.py", submodule_search_locations=[str(core)]
        )
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules["adcore"] = mod
        spec.loader.exec_module(mod)
    return importlib.import_module("adcore.livelink")


def test_the_addon_decoder_reads_our_packets_by_name() -> None:
    addon = _addon_livelink()
    f = known_frame()
    p = addon.decode_packet(encode_livelink(f, fps=64))
    assert (p.shapes["JawLeft"], p.shapes["JawRight"]) == (0.5, 0.0)
    assert (p.shapes["MouthLeft"], p.shapes["MouthRight"]) == (0.0, 0.125)
    assert addon.pose_degrees(p.values[52:]) == pytest.approx(f.pose.tolist(), abs=1e-4)
    assert addon.CHANNEL_NAMES == PACKET_NAMES
