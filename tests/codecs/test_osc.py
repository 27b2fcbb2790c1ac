"""OSC codec: golden bytes for messages, bundles, the packer and VRChat binary parameters,
the defensive decoder, and python-osc as an independent decoder."""

from __future__ import annotations

import contextlib
import struct

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from avatar_driver.codecs.osc import (
    MAX_DATAGRAM,
    OscError,
    OscPacker,
    bundle,
    decode_packet,
    message,
)
from avatar_driver.mapping import MappingFile, compile_mapping

HEAD = b"#bundle\x00" + b"\x00\x00\x00\x00\x00\x00\x00\x01"


def test_message_golden_bytes() -> None:
    assert message("/a", 1.0) == b"/a\x00\x00,f\x00\x00\x3f\x80\x00\x00"
    assert message("/ab", 7) == b"/ab\x00,i\x00\x00\x00\x00\x00\x07"
    assert message("/abcd", True, False) == b"/abcd\x00\x00\x00,TF\x00"
    assert message("/s", "hi") == b"/s\x00\x00,s\x00\x00hi\x00\x00"


def test_bundle_golden_bytes() -> None:
    m = message("/a", True)
    assert m == b"/a\x00\x00,T\x00\x00"
    assert bundle([m, m]) == HEAD + (b"\x00\x00\x00\x08" + m) * 2


def test_packer_golden_bytes_all_types() -> None:
    packer = OscPacker(["/f", "/i", "/b"], ["f", "i", "b"])
    (dgram,) = packer.pack(np.array([0.5, 200.4, 1.0]))
    assert dgram == HEAD + (
        b"\x00\x00\x00\x0c/f\x00\x00,f\x00\x00\x3f\x00\x00\x00"
        b"\x00\x00\x00\x0c/i\x00\x00,i\x00\x00\x00\x00\x00\xc8"
        b"\x00\x00\x00\x08/b\x00\x00,T\x00\x00"
    )
    (only_bool,) = packer.pack(np.array([0.5, 200.4, 0.0]), np.array([False, False, True]))
    assert only_bool == HEAD + b"\x00\x00\x00\x08/b\x00\x00,F\x00\x00"


def test_binary_parameter_golden_bytes() -> None:
    """v = -0.3 in 4 bits: big = int(0.3 * 16) = 4 -> bit '4' set, Negative set."""
    spec = MappingFile.model_validate(
        {
            "mapping": {"prefix": "/p/"},
            "param": [
                {
                    "name": "X",
                    "source": {"sum": {"jawRight": 1, "jawLeft": -1}},
                    "type": "binary",
                    "bits": 4,
                    "negative": True,
                }
            ],
        }
    )
    m = compile_mapping(spec)
    assert m.names == ("X1", "X2", "X4", "X8", "XNegative")
    ch = np.zeros(64, dtype=np.float32)
    ch[16] = 0.3  # jawLeft
    values = m.apply(ch)
    assert values.tolist() == [0, 0, 1, 0, 1]
    (dgram,) = OscPacker(m.addresses, m.types).pack(values)
    elements = [
        b"/p/X1\x00\x00\x00,F\x00\x00",
        b"/p/X2\x00\x00\x00,F\x00\x00",
        b"/p/X4\x00\x00\x00,T\x00\x00",
        b"/p/X8\x00\x00\x00,F\x00\x00",
        b"/p/XNegative\x00\x00\x00\x00,T\x00\x00",
    ]
    assert dgram == HEAD + b"".join(struct.pack(">i", len(e)) + e for e in elements)


@pytest.mark.parametrize(
    ("value", "bits"),
    [(0.0, [0, 0, 0, 0]), (1.0, [1, 1, 1, 1]), (0.999995, [1, 1, 1, 1]), (0.5, [0, 0, 0, 1]),
     (0.0624, [0, 0, 0, 0]), (0.0625, [1, 0, 0, 0]), (-0.5, [0, 0, 0, 0])],
)  # fmt: skip
def test_binary_encoding_matches_protocol(value: float, bits: list[int]) -> None:
    """big = int(|v| * 2**N), all bits when v > 0.99999, no Negative bit: v < 0 sends 0."""
    spec = MappingFile.model_validate(
        {"param": [{"name": "Y", "source": "jawOpen", "type": "binary", "clamp": False}]}
    )
    m = compile_mapping(spec)
    ch = np.zeros(64)
    ch[17] = value
    assert m.apply(ch).tolist() == bits


def test_packer_splits_under_limit_and_python_osc_decodes() -> None:
    addrs = [f"/avatar/parameters/v2/Some/Long/Name{i}" for i in range(300)]
    packer = OscPacker(addrs, ["f"] * 300)
    values = np.linspace(0, 1, 300)
    dgrams = packer.pack(values)
    assert len(dgrams) > 1 and all(len(d) < MAX_DATAGRAM for d in dgrams)
    got = []
    for d in dgrams:
        assert OscBundle.dgram_is_bundle(d)
        for item in OscBundle(d):
            assert isinstance(item, OscMessage)
            got.append((item.address, item.params[0]))
    assert [a for a, _ in got] == addrs
    assert np.allclose([v for _, v in got], values, atol=1e-6)


def test_decode_packet_roundtrip() -> None:
    m1 = message("/avatar/change", "avtr_123")
    m2 = message("/x", 1, 2.5, True, "s")
    assert decode_packet(m1) == [("/avatar/change", ("avtr_123",))]
    assert decode_packet(bundle([m1, bundle([m2])])) == [
        ("/avatar/change", ("avtr_123",)),
        ("/x", (1, 2.5, True, "s")),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"abc",
        b"/abc",  # unterminated string (length not a multiple of 4 either)
        b"/ab\x00,q\x00\x00",  # unknown tag
        b"/ab\x00,i\x00\x00",  # missing int payload
        b"/ab\x00,s\x00\x00abcd",  # unterminated string argument
        b"/ab\x00,b\x00\x00\x7f\xff\xff\xff",  # blob size out of range
        HEAD + b"\x00\x00\x10\x00/ab\x00",  # element bigger than the bundle
        HEAD + b"\xff\xff\xff\xfc",  # negative element size
        b"/\xff\xfe\x00,s\x00\x00",  # address not UTF-8
        b"#bundle\x00",  # short bundle
    ],
)
def test_decode_packet_rejects_hostile_input(data: bytes) -> None:
    with pytest.raises(OscError):
        decode_packet(data)


def test_decode_packet_bounds_nesting() -> None:
    data = message("/a", 1)
    for _ in range(10):
        data = bundle([data])
    with pytest.raises(OscError):
        decode_packet(data)


def test_decode_packet_random_bytes_never_raise_other_errors() -> None:
    rng = np.random.default_rng(0)
    seed = bundle([message("/avatar/change", "avtr_x"), message("/y", 1.0)])
    for _ in range(3000):
        data = bytearray(seed)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
            data[pos] = int(rng.integers(0, 256))
        with contextlib.suppress(OscError):
            decode_packet(bytes(data[: int(rng.integers(0, len(data) + 1))]))
