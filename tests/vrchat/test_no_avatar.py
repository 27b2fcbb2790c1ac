"""Knowing nothing of the avatar (no listener, no config), the vrchat output sends every
entry as a float, binary ones with their bits too: an avatar built with float parameters
gets its face. Received by two independent receivers: python-osc's server and oscdump."""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from avatar_driver.frame import Frame
from avatar_driver.outputs.vrchat import VRChatOutput
from avatar_driver.shapes import INDEX
from tests.conftest import free_udp_port

JAW = "/avatar/parameters/v2/JawOpen"


def _frame(jaw: float) -> Frame:
    w = np.zeros(52, dtype=np.float32)
    w[INDEX["jawOpen"]] = jaw
    return Frame(timestamp=0.0, weights=w, face_present=True)


def test_python_osc_gets_jaw_open_as_a_float() -> None:
    got: list[tuple[str, tuple[object, ...]]] = []
    disp = Dispatcher()
    disp.set_default_handler(lambda addr, *args: got.append((addr, args)))
    server = BlockingOSCUDPServer(("127.0.0.1", 0), disp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    out = VRChatOutput(port=server.server_address[1], osc_folders=[])
    try:
        assert out.avatar is None and out.listener is None
        out.send(_frame(0.625))
        end = time.monotonic() + 3
        while JAW + "8" not in dict(got) and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        out.close()
        server.shutdown()
        server.server_close()
    by = dict(got)
    assert isinstance(by[JAW][0], float) and by[JAW][0] == pytest.approx(0.625)
    # The bits go too (the mapping asks for them): 0.625 * 16 = 10 = 8 + 2.
    assert [by[f"{JAW}{b}"] for b in (1, 2, 4, 8)] == [(False,), (True,), (False,), (True,)]


def test_oscdump_gets_jaw_open_as_a_float(oscdump: str) -> None:
    port = free_udp_port()
    dump = subprocess.Popen([oscdump, "-L", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        out = VRChatOutput(port=port, osc_folders=[])
        try:
            for jaw in (0.25, 0.5):
                out.send(_frame(jaw))
                time.sleep(0.05)
        finally:
            out.close()
        time.sleep(0.3)
    finally:
        dump.terminate()
        text, _ = dump.communicate(timeout=5)
    # "<timetag> <address> <types> <values...>" per message.
    seen = [ln.split()[2:] for ln in text.splitlines() if ln.split()[1:2] == [JAW]]
    assert [t for t, _ in seen] == ["f", "f"], text[:400]
    assert [float(v) for _, v in seen] == [0.25, 0.5]
