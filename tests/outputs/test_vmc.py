"""VMC and the Blender stream on real sockets, read by oscdump (liblo) and python-osc."""

from __future__ import annotations

import math
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from avatar_driver.frame import Frame
from avatar_driver.outputs import OutputOptions, create_output
from avatar_driver.outputs.vmc import BlenderOutput, VmcOutput
from avatar_driver.shapes import ARKIT_NAMES, pascal
from tests.conftest import free_udp_port, run_cli

N = 12
PERFECT_SYNC = [pascal(n) for n in ARKIT_NAMES]


@contextmanager
def osc_server() -> Iterator[tuple[int, list[tuple[str, tuple[Any, ...]]]]]:
    """python-osc's own UDP server on an ephemeral loopback port, recording every message."""
    got: list[tuple[str, tuple[Any, ...]]] = []
    disp = Dispatcher()
    disp.set_default_handler(lambda address, *args: got.append((address, args)))
    server = BlockingOSCUDPServer(("127.0.0.1", 0), disp)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield server.server_address[1], got
    finally:
        time.sleep(0.2)
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def oscdump_on(exe: str) -> Iterator[tuple[int, list[str]]]:
    """oscdump listening on a free port; yields the lines it printed once stopped."""
    port = free_udp_port()
    proc = subprocess.Popen(
        [exe, "-L", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    probe = SimpleUDPClient("127.0.0.1", port)
    deadline = time.monotonic() + 10
    while not any("/probe" in ln for ln in lines):  # it is listening once it echoes a probe
        assert time.monotonic() < deadline, "oscdump did not start"
        probe.send_message("/probe", 1)
        time.sleep(0.05)
    out: list[str] = []
    try:
        yield port, out
    finally:
        time.sleep(0.3)
        proc.terminate()
        proc.wait(5)
        reader.join(5)
        out.extend(ln.strip() for ln in lines if "/probe" not in ln)


def _parse_oscdump(line: str) -> tuple[str, str, list[str]]:
    """``<timetag> <address> <types> <args...>`` -> (address, types, args)."""
    parts = line.split()
    address = parts[1]
    types = parts[2] if len(parts) > 2 and not parts[2].startswith('"') else ""
    return address, types, parts[3:] if types else parts[2:]


def test_vmc_through_oscdump(oscdump: str) -> None:
    with oscdump_on(oscdump) as (port, lines):
        r = run_cli(
            ["run", "--source", "demo", "--fast", "--max-frames", str(N),
             "--output", f"vmc:127.0.0.1:{port}", "--quiet"]
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    msgs = [_parse_oscdump(ln) for ln in lines if ln]
    by_addr: dict[str, list[tuple[str, list[str]]]] = {}
    for address, types, args in msgs:
        by_addr.setdefault(address, []).append((types, args))
    frames = N + 1  # and the neutral frame on stop
    assert len(by_addr["/VMC/Ext/Blend/Apply"]) == frames
    assert {t for t, _ in by_addr["/VMC/Ext/Blend/Apply"]} == {""}
    vals = by_addr["/VMC/Ext/Blend/Val"]
    assert len(vals) == 52 * frames and {t for t, _ in vals} == {"sf"}
    assert [a[0].strip('"') for _, a in vals[:52]] == PERFECT_SYNC
    assert {t for t, _ in by_addr["/VMC/Ext/Bone/Pos"]} == {"sfffffff"}
    assert {t for t, _ in by_addr["/VMC/Ext/T"]} == {"f"}
    assert {t for t, _ in by_addr["/VMC/Ext/OK"]} == {"iiii"}
    bones = by_addr["/VMC/Ext/Bone/Pos"]
    assert [a[0] for _, a in bones] == ['"Head"', '"LeftEye"', '"RightEye"'] * frames
    for _, args in bones:
        q = [float(v) for v in args[4:]]
        assert math.isclose(math.hypot(*q), 1.0, abs_tol=1e-5)
        assert math.hypot(*(float(v) for v in args[1:4])) > 0.05  # never inside the parent
    times = [float(a[0]) for _, a in by_addr["/VMC/Ext/T"]]
    assert times[:N] == pytest.approx([k / 30.0 for k in range(N)], abs=1e-5)
    # Each frame is Val..., Apply, Bone, T, OK: the Apply closes every frame.
    order = [a for a, _, _ in msgs]
    applies = [i for i, a in enumerate(order) if a == "/VMC/Ext/Blend/Apply"]
    assert all(order[i - 1] == "/VMC/Ext/Blend/Val" for i in applies)
    assert by_addr["/VMC/Ext/OK"][-1][1] == ["1", "3", "0", "0"]  # face gone on stop


def test_blender_stream_through_oscdump(oscdump: str) -> None:
    with oscdump_on(oscdump) as (port, lines):
        r = run_cli(
            ["run", "--source", "demo", "--fast", "--max-frames", "3",
             "--output", f"blender:127.0.0.1:{port}", "--quiet"]
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    names = [_parse_oscdump(ln)[2][0].strip('"') for ln in lines if "/VMC/Ext/Blend/Val" in ln]
    assert names[:52] == list(ARKIT_NAMES)
    assert sum("/VMC/Ext/Blend/Apply" in ln for ln in lines) == 4


def test_vmc_through_python_osc_with_known_poses() -> None:
    with osc_server() as (port, got), VmcOutput(port=port) as out:
        for k, (yaw, pitch, roll) in enumerate([(0, 0, 0), (90, 0, 0), (0, 90, 0), (0, 0, 90)]):
            f = Frame(timestamp=k * 0.5, face_present=True)
            f.pose[:3] = (yaw, pitch, roll)
            f.weights[0] = 0.25 * k
            out.send(f)
        deadline = time.monotonic() + 5
        while sum(a == "/VMC/Ext/Blend/Apply" for a, _ in got) < 4:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert out.stats.frames_sent == 4 and out.stats.errors == 0
    bones = [args for a, args in got if a == "/VMC/Ext/Bone/Pos" and args[0] == "Head"]
    s = math.sqrt(0.5)
    expected = [(0, 0, 0, 1), (0, -s, 0, s), (-s, 0, 0, s), (0, 0, s, s)]
    for args, q in zip(bones, expected, strict=True):
        assert args[0] == "Head"
        assert np.allclose(args[4:], q, atol=1e-6)
    blinks = [args[1] for a, args in got if a == "/VMC/Ext/Blend/Val" and args[0] == "EyeBlinkLeft"]
    assert blinks == [0.0, 0.25, 0.5, 0.75]
    assert [args for a, args in got if a == "/VMC/Ext/T"] == [(0.0,), (0.5,), (1.0,), (1.5,)]


def test_defaults_and_presets() -> None:
    vmc = create_output("vmc", OutputOptions())
    blender = create_output("blender", OutputOptions())
    try:
        assert vmc.target == "127.0.0.1:39539" and blender.target == "127.0.0.1:39540"
        assert isinstance(vmc, VmcOutput) and isinstance(blender, BlenderOutput)
        assert list(vmc.mapping.names) == PERFECT_SYNC
        assert list(blender.mapping.names) == list(ARKIT_NAMES)
    finally:
        vmc.close()
        blender.close()


def test_any_mapping_is_accepted() -> None:
    """--mapping replaces the preset: here the Blender preset on the vmc output."""
    out = create_output("vmc:127.0.0.1:9", OutputOptions(mapping="blender-arkit"))
    try:
        assert list(out.mapping.names) == list(ARKIT_NAMES)  # type: ignore[attr-defined]
    finally:
        out.close()


def test_send_errors_are_counted_not_raised() -> None:
    # Port 0 on loopback: the kernel refuses every send (and nothing leaves the machine).
    with VmcOutput(host="127.0.0.1", port=0) as out:
        out.send(Frame(timestamp=0.0))
        out.send(Frame(timestamp=0.1))
    assert out.stats.frames_sent == 0 and out.stats.errors == 2
    assert "OSError" in out.stats.last_error


def test_udp_is_nonblocking_against_a_full_receiver() -> None:
    """A receiver that never reads cannot slow the sender down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sink.bind(("127.0.0.1", 0))
        with VmcOutput(port=sink.getsockname()[1]) as out:
            f = Frame(timestamp=0.0)
            t0 = time.perf_counter()
            for _ in range(2000):
                out.send(f)
            elapsed = time.perf_counter() - t0
    assert elapsed < 2.0
    assert out.stats.frames_sent + out.stats.errors == 2000
