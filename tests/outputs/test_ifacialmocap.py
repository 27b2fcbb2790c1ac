"""iFacialMocap text frames over a real socket from the real command."""

from __future__ import annotations

import socket

from avatar_driver.codecs.ifacialmocap import IFM_NAMES
from avatar_driver.outputs import OutputOptions, create_output
from tests.conftest import run_cli


def test_command_streams_ifacialmocap_frames() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5.0)
        r = run_cli(
            ["run", "--source", "demo", "--fast", "--max-frames", "5",
             "--output", f"ifacialmocap:127.0.0.1:{rx.getsockname()[1]}", "--quiet"]
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        texts = [rx.recv(65536).decode("ascii") for _ in range(6)]
    for text in texts:
        shapes, _, pose = text.partition("=")
        pairs = dict(p.split("&") for p in shapes.strip("|").split("|"))
        assert sorted(pairs) == sorted(IFM_NAMES) and text.startswith("tongueOut&0|")
        assert all(0 <= int(v) <= 100 for v in pairs.values())
        assert pose.startswith("head#") and "|rightEye#" in pose and "|leftEye#" in pose


def test_default_target() -> None:
    out = create_output("ifacialmocap", OutputOptions())
    try:
        assert out.target == "127.0.0.1:49983"
    finally:
        out.close()
