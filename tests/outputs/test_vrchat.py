"""The vrchat output on real sockets: python-osc's server and oscdump as receivers, a
sample avatar config (written here) restricting what is sent, the /avatar/change listener
and the hot reload."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from avatar_driver.codecs.osc import message
from avatar_driver.frame import Frame
from avatar_driver.mapping import load_mapping
from avatar_driver.outputs.vrchat import VRChatOutput
from avatar_driver.shapes import INDEX
from tests.conftest import free_udp_port, run_cli

AVATAR = "avtr_01234567-89ab-cdef-0123-456789abcdef"


class Receiver:
    """python-osc's server on an ephemeral port, collecting (address, args)."""

    def __init__(self) -> None:
        self.got: list[tuple[str, tuple[object, ...]]] = []
        disp = Dispatcher()
        disp.set_default_handler(lambda addr, *args: self.got.append((addr, args)))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), disp)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n: int, timeout: float = 3.0) -> None:
        end = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < end:
            time.sleep(0.01)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Receiver:
    r = Receiver()
    yield r  # type: ignore[misc]
    r.close()


def face(**values: float) -> Frame:
    w = np.zeros(52, dtype=np.float32)
    for k, v in values.items():
        w[INDEX[k]] = v
    return Frame(timestamp=0.0, weights=w, face_present=True)


def write_avatar(folder: Path, avatar_id: str = AVATAR, *, json_id: str | None = None) -> Path:
    """A VRChat-style avatar config: a float, binary bits, FT/ prefixes, a tracking flag."""
    prefix = "/avatar/parameters/"
    params = [
        {"name": "v2/JawOpen", "input": {"address": prefix + "v2/JawOpen", "type": "Float"},
         "output": {"address": "/avatar/parameters/v2/JawOpen", "type": "Float"}},
        {"name": "FT/v2/EyeLidLeft",
         "input": {"address": "/avatar/parameters/FT/v2/EyeLidLeft", "type": "Float"}},
        {"name": "v2/JawX1", "input": {"address": "/avatar/parameters/v2/JawX1", "type": "Bool"}},
        {"name": "v2/JawX2", "input": {"address": "/avatar/parameters/v2/JawX2", "type": "Bool"}},
        {"name": "v2/JawXNegative",
         "input": {"address": "/avatar/parameters/v2/JawXNegative", "type": "Bool"}},
        {"name": "EyeTrackingActive",
         "input": {"address": "/avatar/parameters/EyeTrackingActive", "type": "Bool"}},
        {"name": "v1/JawOpen", "input": {"address": prefix + "v1/JawOpen", "type": "Float"}},
        {"name": "VelocityX", "output": {"address": prefix + "VelocityX", "type": "Float"}},
    ]  # fmt: skip
    d = folder / "usr_test" / "Avatars"
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{avatar_id}.json"
    p.write_text(json.dumps({"id": json_id or avatar_id, "name": "Test", "parameters": params}))
    return p


def messages(out: VRChatOutput) -> int:
    """OSC messages per full send (entries sharing an address are one message)."""
    return len(set(out.mapping.addresses))


def test_sends_floats_and_bits_without_avatar(receiver: Receiver) -> None:
    out = VRChatOutput(port=receiver.port)
    try:
        out.send(face(jawOpen=0.5))
        n = messages(out)
        receiver.wait(n)
    finally:
        out.close()
    got = dict(receiver.got)
    base = load_mapping("vrchat-unified-v2")
    binary = sum(e.type == "binary" for e in base.entries)
    assert len(receiver.got) == n
    assert len(out.mapping) == len(base) + binary  # every binary entry also as a float
    assert got["/avatar/parameters/v2/JawOpen"][0] == pytest.approx(0.5)
    assert got["/avatar/parameters/v2/JawOpen8"] == (True,)  # 0.5 * 16 = 8
    assert got["/avatar/parameters/v2/JawOpen4"] == (False,)
    assert got["/avatar/parameters/EyeTrackingActive"] == (True,)
    assert got["/avatar/parameters/v2/EyeLid"][0] == pytest.approx(0.75)
    assert got["/tracking/eye/LeftRightPitchYaw"] == (0.0, 0.0, 0.0, 0.0)
    assert got["/tracking/eye/EyesClosedAmount"] == (0.0,)


def test_sends_only_changes_then_refresh(receiver: Receiver) -> None:
    clock = [0.0]
    out = VRChatOutput(port=receiver.port, clock=lambda: clock[0])
    try:
        out.send(face(jawOpen=0.5))
        first = messages(out)
        receiver.wait(first)
        clock[0] = 0.1
        out.send(face(jawOpen=0.5, eyeWideLeft=0.4))
        receiver.wait(first + 3)
        time.sleep(0.1)
        changed = [a for a, _ in receiver.got[first:]]
        assert sorted(changed) == sorted(
            ["/avatar/parameters/v2/EyeWideLeft", "/avatar/parameters/v2/EyeWide",
             "/avatar/parameters/v2/EyeLidLeft", "/avatar/parameters/v2/EyeLid"]
        )  # fmt: skip
        clock[0] = 0.2
        before = len(receiver.got)
        out.send(face(jawOpen=0.5, eyeWideLeft=0.4))
        time.sleep(0.1)
        assert len(receiver.got) == before  # nothing changed: nothing sent
        clock[0] = 10.0
        out.send(face(jawOpen=0.5, eyeWideLeft=0.4))
        receiver.wait(before + first)
        assert len(receiver.got) == before + first  # periodic full refresh
    finally:
        out.close()


def _change_avatar(listen_port: int, avatar_id: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00garbage", ("127.0.0.1", listen_port))  # ignored, counted
        s.sendto(message("/avatar/change", avatar_id), ("127.0.0.1", listen_port))


def _wait_for(cond: object, timeout: float = 3.0) -> None:
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:  # type: ignore[operator]
        time.sleep(0.01)


def test_avatar_config_restricts_what_is_sent(tmp_path: Path, receiver: Receiver) -> None:
    write_avatar(tmp_path)
    listen = free_udp_port()
    logs: list[str] = []
    out = VRChatOutput(
        port=receiver.port, listen=("127.0.0.1", listen), osc_folders=[tmp_path], log=logs.append
    )
    try:
        assert out.listener is not None
        _change_avatar(listen, AVATAR)
        _wait_for(lambda: out._pending[0] == 1)
        assert out.listener.decode_errors == 1
        out.send(face(jawOpen=0.25, jawLeft=0.3, eyeBlinkLeft=1.0))
        receiver.wait(6)
        time.sleep(0.1)
    finally:
        out.close()
    got = dict(receiver.got)
    assert set(got) == {
        "/avatar/parameters/v2/JawOpen",
        "/avatar/parameters/FT/v2/EyeLidLeft",
        "/avatar/parameters/v2/JawX1",
        "/avatar/parameters/v2/JawX2",
        "/avatar/parameters/v2/JawXNegative",
        "/avatar/parameters/EyeTrackingActive",
        # VRChat's native gaze (the avatar has no gaze of its own); no native eyelids, as
        # the avatar has its own (FT/v2/EyeLidLeft), as VRCFaceTracking decides.
        "/tracking/eye/LeftRightPitchYaw",
    }
    assert got["/avatar/parameters/v2/JawOpen"][0] == pytest.approx(0.25)  # float, as declared
    assert got["/avatar/parameters/FT/v2/EyeLidLeft"][0] == pytest.approx(0.0)
    # JawX = -0.3 with the avatar's 2 bits: int(0.3 * 4) = 1 -> bit 1 set, bit 2 clear.
    assert got["/avatar/parameters/v2/JawX1"] == (True,)
    assert got["/avatar/parameters/v2/JawX2"] == (False,)
    assert got["/avatar/parameters/v2/JawXNegative"] == (True,)
    assert got["/avatar/parameters/EyeTrackingActive"] == (True,)
    assert any("avatar Test" in line for line in logs)


@pytest.mark.parametrize("kind", ["malformed", "stale", "missing"])
def test_bad_avatar_config_warns_and_sends_mapping(
    tmp_path: Path, receiver: Receiver, kind: str
) -> None:
    if kind == "malformed":
        p = write_avatar(tmp_path)
        p.write_text('{"id": "' + AVATAR + '", "parameters": [{"name": 5}]')
    elif kind == "stale":
        p = write_avatar(tmp_path, json_id="avtr_someone_else")
    logs: list[str] = []
    out = VRChatOutput(port=receiver.port, osc_folders=[tmp_path], log=logs.append)
    try:
        out.on_avatar_change(AVATAR)
        out.send(face(jawOpen=0.5))
        receiver.wait(messages(out))
    finally:
        out.close()
    assert len(receiver.got) == messages(out)
    assert dict(receiver.got)["/avatar/parameters/v2/JawOpen"][0] == pytest.approx(0.5)
    assert len(logs) == 1
    if kind == "missing":
        assert AVATAR in logs[0]
    else:
        assert str(p) in logs[0]
        assert ("stale" in logs[0]) == (kind == "stale")


def test_hot_reload_keeps_last_good_mapping(tmp_path: Path, receiver: Receiver) -> None:
    p = tmp_path / "live.toml"
    p.write_text('[[param]]\nname = "A"\nsource = "jawOpen"\n')
    clock = [0.0]
    logs: list[str] = []
    out = VRChatOutput(
        port=receiver.port, mapping=load_mapping(p), mapping_path=p,
        clock=lambda: clock[0], log=logs.append,
    )  # fmt: skip
    try:
        out.send(face(jawOpen=0.5))
        p.write_text('[[param]]\nname = "B"\nsource = "jawOpn"\n')  # bad
        out.binding.poll()  # what the binding's watcher thread does every 0.5 s
        clock[0] = 1.0
        out.send(face(jawOpen=0.6))
        assert out.mapping.names == ("A",)
        assert len(logs) == 1 and "jawOpn" in logs[0] and str(p) in logs[0]
        out.binding.poll()
        clock[0] = 2.0
        out.send(face(jawOpen=0.7))
        assert len(logs) == 1  # the same bad file is reported once
        p.write_text('[[param]]\nname = "C"\nsource = "jawOpen"\ntype = "int"\n')
        out.binding.poll()
        clock[0] = 3.0
        out.send(face(jawOpen=0.8))
        assert out.mapping.names == ("C",)
        receiver.wait(4)
    finally:
        out.close()
    addrs = [a for a, _ in receiver.got]
    assert addrs == ["/avatar/parameters/A"] * 3 + ["/avatar/parameters/C"]
    assert receiver.got[-1][1] == (204,)


def test_listener_survives_hostile_input() -> None:
    from avatar_driver.vrchat.listener import AvatarChangeListener

    seen: list[str] = []
    lst = AvatarChangeListener("127.0.0.1", 0, seen.append)
    try:
        port = lst.address[1]
        rng = np.random.default_rng(1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for k in range(200):
                s.sendto(rng.bytes(int(rng.integers(1, 2000))), ("127.0.0.1", port))
                if k % 20 == 0:
                    time.sleep(0.005)  # stay within the socket buffer: count, not drop
            s.sendto(b"\xff" * 60000, ("127.0.0.1", port))
            s.sendto(message("/avatar/change", 5), ("127.0.0.1", port))
            s.sendto(message("/avatar/change", "avtr_ok"), ("127.0.0.1", port))
        _wait_for(lambda: seen)
    finally:
        lst.close()
    assert seen == ["avtr_ok"]
    assert lst.packets >= 100
    assert lst.decode_errors == lst.packets - 1  # all but the one good message


def test_oscdump_sees_restricted_parameters(tmp_path: Path, oscdump: str) -> None:
    """End to end with the real command and liblo's oscdump as the receiver."""
    write_avatar(tmp_path)
    port, listen = free_udp_port(), free_udp_port()
    dump = subprocess.Popen([oscdump, "-L", str(port)], stdout=subprocess.PIPE, text=True)
    seen: list[str] = []
    assert dump.stdout is not None
    out = dump.stdout
    reader = threading.Thread(target=lambda: seen.extend(out), daemon=True)
    reader.start()
    try:
        time.sleep(0.3)
        proc = subprocess.Popen(
            [*__import__("sys").executable.split(), "-m", "avatar_driver", "run", "--source",
             "demo", "--max-frames", "90", "--output", f"vrchat:127.0.0.1:{port}",
             "--vrchat-listen", f"127.0.0.1:{listen}", "--vrchat-osc-folder", str(tmp_path),
             "--quiet"],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # Once the plain mapping arrives (the run is up, however loaded the machine is),
        # announce the avatar until the run ends.
        _wait_for(lambda: len(seen) > 0 or proc.poll() is not None, timeout=30)
        while proc.poll() is None:
            _change_avatar(listen, AVATAR)
            time.sleep(0.2)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        time.sleep(0.3)
    finally:
        dump.terminate()
        dump.communicate(timeout=5)
        reader.join(timeout=5)
    text = "".join(seen)
    # oscdump prints "<timetag> <address> <types> <values...>" per message.
    lines = [ln.split()[1:] for ln in text.splitlines() if len(ln.split()) > 2]
    lines = [ln for ln in lines if ln[0].startswith("/")]
    assert lines, text
    start = [i for i, ln in enumerate(lines) if ln[0] == "/avatar/parameters/FT/v2/EyeLidLeft"]
    assert start, "the avatar-specific address never arrived"
    after = lines[start[0] :]
    assert len(lines[: start[0]]) > len(after) / 10  # plain mapping before the change
    allowed = {
        "/avatar/parameters/v2/JawOpen": "f",
        "/avatar/parameters/FT/v2/EyeLidLeft": "f",
        "/avatar/parameters/v2/JawX1": "T",
        "/avatar/parameters/v2/JawX2": "T",
        "/avatar/parameters/v2/JawXNegative": "T",
        "/avatar/parameters/EyeTrackingActive": "T",
        "/tracking/eye/LeftRightPitchYaw": "ffff",
    }
    for ln in after:
        assert ln[0] in allowed, ln
        assert ln[1] == allowed[ln[0]] if "f" in allowed[ln[0]] else ln[1] in ("T", "F"), ln
    assert "/avatar/parameters/v2/JawOpen" in {ln[0] for ln in after}
    assert "avatar Test" in err


def test_run_with_mapping_option_end_to_end(tmp_path: Path, receiver: Receiver) -> None:
    p = tmp_path / "m.toml"
    p.write_text('[[param]]\nname = "Jaw"\nsource = "jawOpen"\ntype = "int"\n')
    r = run_cli(["run", "--source", "demo", "--fast", "--max-frames", "20", "--mapping", str(p),
                 "--output", f"vrchat:127.0.0.1:{receiver.port}", "--vrchat-listen", "off",
                 "--quiet"])  # fmt: skip
    assert r.returncode == 0, r.stderr
    receiver.wait(1)
    assert receiver.got and {a for a, _ in receiver.got} == {"/avatar/parameters/Jaw"}
    assert all(isinstance(v[0], int) and 0 <= v[0] <= 255 for _, v in receiver.got)
