"""Hostile input against the avatar-change listener, fuzzed with hypothesis on a real socket.

Random bytes, OSC messages with the right address but wrong argument types, absurd
strings and floods: the listener counts and drops them, stays alive, and still hears the
one well-formed `/avatar/change` sent after them.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avatar_driver.codecs.osc import OscError, bundle, decode_packet, message
from avatar_driver.vrchat.listener import AvatarChangeListener

ARGS = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.floats(width=32, allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=3000),
)
PACKETS = st.one_of(
    st.binary(max_size=9000),
    st.lists(ARGS, max_size=6).map(lambda args: message("/avatar/change", *args)),
    st.lists(ARGS, max_size=3).map(lambda args: bundle([message("/avatar/change", *args)] * 3)),
)


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[AvatarChangeListener, list[str], socket.socket]]:
    seen: list[str] = []
    lst = AvatarChangeListener("127.0.0.1", 0, seen.append)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield lst, seen, sender
    sender.close()
    lst.close()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(packet=PACKETS)
def test_decoder_raises_only_its_own_error(packet: bytes) -> None:
    with contextlib.suppress(OscError):
        decode_packet(packet)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(packets=st.lists(PACKETS, min_size=1, max_size=8))
def test_listener_survives_and_still_hears(
    listener: tuple[AvatarChangeListener, list[str], socket.socket], packets: list[bytes]
) -> None:
    lst, seen, sender = listener
    before = lst.packets
    for packet in packets:
        with contextlib.suppress(OSError):  # larger than a datagram can be: not sent
            sender.sendto(packet, lst.address)
    token = f"avtr_{time.perf_counter_ns()}"
    sender.sendto(message("/avatar/change", token), lst.address)
    deadline = time.monotonic() + 5
    while token not in seen and time.monotonic() < deadline:
        time.sleep(0.002)
    assert token in seen  # alive, and the good message after the junk still counts
    assert lst.packets > before
