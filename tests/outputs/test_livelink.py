"""Live Link Face over a real socket, read back with the spec decoder; fan-out isolation."""

from __future__ import annotations

import socket

from avatar_driver.codecs.livelink import DEFAULT_DEVICE_ID, DEFAULT_SUBJECT
from avatar_driver.dynamics import make_dynamics
from avatar_driver.outputs import OutputOptions, create_output
from avatar_driver.outputs.vmc import VmcOutput
from avatar_driver.pipeline import Pipeline
from avatar_driver.sources import DemoSource
from tests.codecs.test_livelink import decode_spec
from tests.conftest import run_cli

N = 10


def _receiver() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5.0)
    return s


def _drain(s: socket.socket, count: int) -> list[bytes]:
    return [s.recv(65536) for _ in range(count)]


def test_command_streams_live_link_packets() -> None:
    with _receiver() as rx:
        port = rx.getsockname()[1]
        r = run_cli(
            ["run", "--source", "demo", "--fast", "--max-frames", str(N),
             "--output", f"livelink:127.0.0.1:{port}", "--quiet",
             "--livelink-subject", "Studio", "--livelink-device-id", "my-phone"]
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        packets = [decode_spec(d) for d in _drain(rx, N + 1)]
    assert {(p.version, p.device_id, p.subject) for p in packets} == {(6, "my-phone", "Studio")}
    assert {(p.fps_num, p.fps_den) for p in packets} == {(30, 1)}
    assert [p.frame for p in packets] == list(range(N + 1))
    assert all(len(p.values) == 61 for p in packets)
    # The demo performer turns its head: the head yaw field carries it (degrees / 180).
    assert any(abs(p.values[52]) > 0.001 for p in packets[:N])


def test_defaults() -> None:
    out = create_output("livelink", OutputOptions())
    try:
        assert out.target == "127.0.0.1:11111"
        assert out.encoder.subject == DEFAULT_SUBJECT  # type: ignore[attr-defined]
        assert out.encoder.device_id == DEFAULT_DEVICE_ID  # type: ignore[attr-defined]
    finally:
        out.close()


def test_a_failing_output_does_not_stall_the_others() -> None:
    """vmc to a port the kernel refuses (0) fails every frame; livelink beside it gets every
    frame. (Port 0 on loopback: nothing leaves the machine.)"""
    with _receiver() as rx:
        port = rx.getsockname()[1]
        vmc = VmcOutput(host="127.0.0.1", port=0)
        livelink = create_output(f"livelink:127.0.0.1:{port}", OutputOptions())
        pipeline = Pipeline(
            source=DemoSource(),
            stages=[("dynamics", make_dynamics("cortical"))],
            outputs=[vmc, livelink],
            fast=True,
            max_frames=N,
        )
        result = pipeline.run()
        packets = _drain(rx, N + 1)
    assert result.frames == N
    assert len(packets) == N + 1
    assert vmc.stats.errors == N + 1 and vmc.stats.frames_sent == 0
    assert livelink.stats.frames_sent == N + 1 and livelink.stats.errors == 0
