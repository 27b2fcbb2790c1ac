"""OscPacker with an address given more than once: one message, several arguments (VRChat's
/tracking/eye/LeftRightPitchYaw takes four floats). Checked against `message()`, golden
bytes and python-osc's decoder."""

from __future__ import annotations

import struct

import numpy as np
from pythonosc.osc_bundle import OscBundle

from avatar_driver.codecs.osc import OscPacker, bundle, message, osc_string

EYE = "/tracking/eye/LeftRightPitchYaw"
ADDRS = ["/a", EYE, "/b", EYE, EYE, "/c", EYE]
TYPES = ["f", "f", "b", "f", "f", "i", "f"]
VALUES = np.array([0.5, -15.0, 1.0, 20.0, -10.0, 7.0, 5.0])


def decode(datagrams: list[bytes]) -> list[tuple[str, list[object]]]:
    return [(m.address, list(m.params)) for d in datagrams for m in OscBundle(d)]


def test_full_send_is_singles_then_the_vector() -> None:
    got = OscPacker(ADDRS, TYPES).pack(VALUES)
    assert got == [bundle([message("/a", 0.5), message("/b", True), message("/c", 7),
                           message(EYE, -15.0, 20.0, -10.0, 5.0)])]  # fmt: skip
    # Golden: size, address, ",ffff", four big-endian floats.
    tail = got[0][-(4 + 32 + 8 + 16) :]
    assert tail[:4] == struct.pack(">i", 56)
    assert tail[4:36] == b"/tracking/eye/LeftRightPitchYaw\x00"
    assert tail[36:44] == b",ffff\x00\x00\x00"
    assert tail[44:] == struct.pack(">4f", -15.0, 20.0, -10.0, 5.0)
    assert decode(got)[-1] == (EYE, [-15.0, 20.0, -10.0, 5.0])


def test_vector_goes_whole_when_any_argument_changed() -> None:
    p = OscPacker(ADDRS, TYPES)
    only_a = np.array([1, 0, 0, 0, 0, 0, 0], bool)
    assert decode(p.pack(VALUES, only_a)) == [("/a", [0.5])]
    third = np.array([0, 0, 0, 0, 1, 0, 0], bool)
    assert decode(p.pack(VALUES, third)) == [(EYE, [-15.0, 20.0, -10.0, 5.0])]
    assert p.pack(VALUES, np.zeros(7, bool)) == []


def test_vector_gets_its_own_bundle_when_the_last_one_is_full() -> None:
    singles = [f"/avatar/parameters/p{i:03d}" for i in range(200)]
    p = OscPacker([*singles, EYE, EYE], ["f"] * 202)
    out = p.pack(np.arange(202.0))
    assert all(len(d) <= 4096 for d in out)
    msgs = decode(out)
    assert [a for a, _ in msgs] == [*singles, EYE]
    assert msgs[-1] == (EYE, [200.0, 201.0])


def test_single_value_lists_keep_their_bytes() -> None:
    """No repeated address: the fast packer, byte for byte as `bundle(message...)`."""
    p = OscPacker(["/x", "/y"], ["f", "b"])
    assert p.pack(np.array([0.25, 0.0])) == [bundle([message("/x", 0.25), message("/y", False)])]


def test_sparse_frames_match_messages_float_and_bool_only() -> None:
    """Floats and bools only (VRChat's wire), sparse frames (the prepared-bytes path):
    `bundle(message...)` of the included singles, then the vector when any of its
    arguments is included, also for a value past float32 (inf, as numpy casts it)."""
    addrs = [f"/p{i}" for i in range(30)] + [EYE] * 4 + [f"/q{i}" for i in range(30)]
    types = ["f", "b"] * 15 + ["f"] * 4 + ["b", "f"] * 15
    p = OscPacker(addrs, types)
    rng = np.random.default_rng(7)
    values = rng.uniform(-1.0, 1.0, len(addrs))
    values[5] = 1e39  # past float32
    for _ in range(50):
        include = rng.random(len(addrs)) < rng.uniform(0.0, 0.6)
        chosen = [i for i in np.flatnonzero(include).tolist() if addrs[i] != EYE]
        msgs = [
            message(addrs[i], bool(values[i] > 0.5))
            if types[i] == "b"
            else message(addrs[i], float(values[i]))
            if i != 5
            else osc_string(addrs[i]) + osc_string(",f") + struct.pack(">f", np.inf)
            for i in chosen
        ]
        if include[30:34].any():
            msgs.append(message(EYE, *(float(v) for v in values[30:34])))
        assert p.pack(values, include) == ([bundle(msgs)] if msgs else [])
