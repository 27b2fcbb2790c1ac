"""Live Link Face packets: golden bytes, and a decoder written from the spec reads them back.

The decoder here follows the published layout (Unreal's remote publisher/listener, PyPI
``pylivelinkface``), not our encoder: u8 version | i32 len + device id | i32 len + subject |
i32 frame | f32 subframe | i32 fps num | i32 fps den | u8 count | count x f32, big-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import pytest

from avatar_driver.codecs.livelink import (
    DEFAULT_DEVICE_ID,
    DEFAULT_SUBJECT,
    LiveLinkEncoder,
    encode_livelink,
    fps_fraction,
)
from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX


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
    f.weights[INDEX["jawOpen"]] = 0.5
    f.weights[INDEX["mouthSmileRight"]] = 0.25
    f.weights[INDEX["tongueOut"]] = 0.75  # unavailable from this tracker: must go out as 0
    f.pose[:] = (90.0, -45.0, 18.0, 9.0, 0.0, 0.0, 9.0, 0.0, 0.0)
    return f


def golden() -> bytes:
    """The packet for `known_frame`, written out from the spec by hand."""
    values = ["00000000"] * 61
    values[0] = "3f800000"  # EyeBlinkLeft 1.0
    values[17] = "3f000000"  # JawOpen 0.5
    values[24] = "3e800000"  # MouthSmileRight 0.25
    values[52] = "3f000000"  # HeadYaw 90 / 180
    values[53] = "be800000"  # HeadPitch -45 / 180
    values[54] = "3dcccccd"  # HeadRoll 18 / 180
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
    assert len(p.values) == 61
    assert p.values[INDEX["eyeBlinkLeft"]] == 1.0
    assert p.values[INDEX["tongueOut"]] == 0.0
    assert p.values[52:55] == pytest.approx((0.5, -0.25, 0.1))


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
