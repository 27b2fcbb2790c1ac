"""VRChat discovery over real mDNS, run only inside a private network namespace with just
`lo` (test_oscquery_netns.py starts pytest on this file under ``unshare -n``; it is not
collected otherwise). The stand-in is python-oscquery + zeroconf (tests/vrchat/standin.py),
with an avatar already loaded and 9001 held by another socket.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from avatar_driver.outputs.base import OutputOptions
from avatar_driver.outputs.vrchat import VRChatOptions, VRChatOutput
from avatar_driver.vrchat.oscquery import DISCOVERY_WAIT_S
from tests.conftest import ROOT, cli_env
from tests.outputs.test_vrchat import AVATAR as JSON_AVATAR
from tests.outputs.test_vrchat import face, write_avatar
from tests.vrchat.standin import VRChatStandIn, apps_with_avatar_change

P = "/avatar/parameters/"
AVATAR_A = "avtr_aaaaaaaa-0000-4000-8000-000000000001"
AVATAR_B = "avtr_bbbbbbbb-0000-4000-8000-000000000002"
AVATAR_C = "avtr_cccccccc-0000-4000-8000-000000000003"
PARAMS_A = {
    "FT/v2/JawOpen": 0.0,
    "v2/EyeLidLeft": 0.0,
    "v2/JawX1": False,
    "v2/JawX2": False,
    "v2/JawXNegative": False,
    "VRCEmote": 0,  # declared, but no mapping entry: not sent
    "VelocityX": 0.0,  # read-only (a VRChat built-in)
}
# VRChat's native eye tracking (not avatar parameters) goes out unless the avatar has its own
# gaze or lid parameters, as VRCFaceTracking does: avatar A has its own lid, so gaze only.
GAZE, LIDS = "/tracking/eye/LeftRightPitchYaw", "/tracking/eye/EyesClosedAmount"
SENT_A = {P + n: t for n, t in [("FT/v2/JawOpen", float), ("v2/EyeLidLeft", float),
          ("v2/JawX1", bool), ("v2/JawX2", bool), ("v2/JawXNegative", bool)]}  # fmt: skip
SENT_A[GAZE] = float
#: How many arguments each message has (the gaze is left pitch, left yaw, right pitch, yaw).
ARGS = {GAZE: 4}
PARAMS_B = {"v2/JawOpen": 0.0, "v2/MouthClosed": 0.0}
SENT_B = {P + "v2/JawOpen": float, P + "v2/MouthClosed": float, GAZE: float, LIDS: float}
PARAMS_C = {"FT/v2/JawOpen": 0.0}


@pytest.fixture(autouse=True, scope="module")
def only_lo() -> None:
    """Refuse to speak mDNS anywhere but a namespace whose only interface is lo."""
    names = [n for _, n in socket.if_nameindex()]
    if os.environ.get("AVATAR_DRIVER_IN_NETNS") != "1" or names != ["lo"]:
        pytest.fail(f"not in a private network namespace (interfaces {names}): refusing mDNS")


@pytest.fixture
def port_9001_taken() -> Iterator[socket.socket]:
    """Another OSC app (VRCFaceTracking, VRCOSC...) holds VRChat's output port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 9001))
    yield s
    s.close()


@pytest.fixture
def standin(port_9001_taken: socket.socket) -> Iterator[VRChatStandIn]:
    st = VRChatStandIn(AVATAR_A, PARAMS_A, read_only=("VelocityX",))
    yield st
    st.close()


def drive(out: VRChatOutput, until: Callable[[], bool], timeout: float = 6.0) -> bool:
    """Send a moving face at about 60 frames a second until `until()` holds."""
    end = time.monotonic() + timeout
    k = 0
    while time.monotonic() < end:
        k += 1
        out.send(face(jawOpen=0.3 + 0.2 * math.sin(k / 5), jawLeft=0.1, eyeBlinkLeft=0.2))
        if until():
            return True
        time.sleep(1 / 60)
    return until()


def received_after(st: VRChatStandIn, address: str) -> list[tuple[str, tuple[object, ...]]]:
    """The messages from the bundle holding the first one at `address` on (a bundle's
    messages are handled within a millisecond; frames are 16 ms apart)."""
    times = [t for t, a, _ in st.got if a == address]
    return [(a, v) for t, a, v in st.got if times and t >= times[0] - 0.004]


def discovering_output(logs: list[str], **settings: object) -> VRChatOutput:
    options = OutputOptions(settings=VRChatOptions.model_validate(settings))
    out = VRChatOutput.from_spec(None, options)
    out._log = logs.append
    if out.discovery is not None:
        out.discovery._log = logs.append
    return out


def test_finds_vrchat_sends_declared_and_follows_change(standin: VRChatStandIn) -> None:
    logs: list[str] = []
    t0 = time.monotonic()
    out = discovering_output(logs)
    try:
        assert out.discovery is not None
        assert drive(out, lambda: set(SENT_A) <= standin.addresses()), (logs, standin.got[:5])
        first = min(t for t, a, _ in standin.got if a == P + "FT/v2/JawOpen")
        assert first - t0 < 2.0, f"first correct packet {first - t0:.2f} s after start-up"
        # Everything VRChat got is the avatar's own, typed as declared: the avatar was read
        # before the output moved to VRChat's port.
        assert standin.addresses() == set(SENT_A)
        for _, addr, args in standin.got:
            assert len(args) == ARGS.get(addr, 1), (addr, args)
            assert all(type(a) is SENT_A[addr] for a in args), (addr, args)
        # VRChat finds our OSCQuery service and its /avatar/change node.
        assert apps_with_avatar_change() == [out.discovery.listen_port]
        mark = time.monotonic()
        standin.load_avatar(AVATAR_B, PARAMS_B)  # /avatar/change to us (and to 9001)
        assert drive(out, lambda: P + "v2/JawOpen" in standin.addresses(mark)), logs
        assert out.avatar is not None and out.avatar.id == AVATAR_B
        after = received_after(standin, P + "v2/JawOpen")
        assert {a for a, _ in after} <= set(SENT_B)
        assert all(type(v[0]) is float for _, v in after)
    finally:
        out.close()
    assert sum("found VRChat-Client-A1B2C3 by OSCQuery" in line for line in logs) == 1
    assert not any("not found" in line or "cannot listen" in line for line in logs), logs


def test_recovers_when_vrchat_restarts_on_new_ports(standin: VRChatStandIn) -> None:
    logs: list[str] = []
    out = discovering_output(logs)
    second: VRChatStandIn | None = None
    try:
        assert drive(out, lambda: P + "FT/v2/JawOpen" in standin.addresses())
        old_port = standin.osc_port
        standin.close()  # VRChat quits: goodbye packets
        assert drive(out, lambda: out.target == "127.0.0.1:9000"), logs
        second = VRChatStandIn(AVATAR_C, PARAMS_C, name="VRChat-Client-D4E5F6")
        assert second.osc_port != old_port
        assert drive(out, lambda: P + "FT/v2/JawOpen" in second.addresses(), timeout=8), logs
        assert out.avatar is not None and out.avatar.id == AVATAR_C
        # nothing but the new avatar's (and VRChat's native eyes: it has none of its own)
        assert second.addresses() == {P + "FT/v2/JawOpen", GAZE, LIDS}
    finally:
        out.close()
        if second is not None:
            second.close()
    assert any("left OSCQuery" in line for line in logs)
    assert any("found VRChat-Client-D4E5F6" in line for line in logs)


@pytest.mark.parametrize("mode", ["broken-json", "vanished", "loading"])
def test_bad_avatar_answer_keeps_the_last_good_avatar(standin: VRChatStandIn, mode: str) -> None:
    logs: list[str] = []
    out = discovering_output(logs)
    try:
        assert drive(out, lambda: P + "FT/v2/JawOpen" in standin.addresses())
        standin.set_mode(mode)
        before = out.discovery.read_errors if out.discovery else 0
        standin.load_avatar(AVATAR_B, PARAMS_B)
        assert out.discovery is not None
        assert drive(out, lambda: out.discovery.read_errors > before + 2, timeout=8), logs
        mark = time.monotonic()
        drive(out, lambda: False, timeout=0.3)
    finally:
        out.close()
    assert out.avatar is not None and out.avatar.id == AVATAR_A  # the last good avatar
    assert standin.addresses(mark) and standin.addresses(mark) <= set(SENT_A)  # still sending
    warnings = [line for line in logs if "keeping the last good avatar" in line]
    assert len(warnings) == 1, logs  # retried, but said once
    assert "\n" not in warnings[0] and AVATAR_A in warnings[0]


def test_unknown_parameter_type_is_skipped_with_one_warning(standin: VRChatStandIn) -> None:
    logs: list[str] = []
    out = discovering_output(logs)
    try:
        assert drive(out, lambda: P + "FT/v2/JawOpen" in standin.addresses())
        standin.set_mode("unknown-type")
        mark = time.monotonic()
        standin.load_avatar(AVATAR_B, PARAMS_B)
        assert drive(out, lambda: P + "v2/JawOpen" in standin.addresses(mark)), logs
    finally:
        out.close()
    assert out.avatar is not None and out.avatar.id == AVATAR_B
    assert "Weird" not in {p.name for p in out.avatar.params}
    warnings = [line for line in logs if "unknown type" in line]
    assert len(warnings) == 1 and "Weird (TYPE 'x')" in warnings[0], logs


def test_no_vrchat_falls_back_to_9000_9001_and_json(tmp_path: Path) -> None:
    got: list[str] = []
    disp = Dispatcher()
    disp.set_default_handler(lambda addr, *args: got.append(addr))
    vrchat_in = ThreadingOSCUDPServer(("127.0.0.1", 9000), disp)  # where VRChat would listen
    import threading

    threading.Thread(target=vrchat_in.serve_forever, daemon=True).start()
    write_avatar(tmp_path)
    logs: list[str] = []
    out = discovering_output(logs, osc_folder=str(tmp_path))
    late: VRChatStandIn | None = None
    try:
        assert drive(out, lambda: bool(got), timeout=1.0)  # sending at once, to 9000
        assert drive(out, lambda: out.discovery is not None and out.discovery.state == "fallback",
                     timeout=DISCOVERY_WAIT_S + 2)  # fmt: skip
        from avatar_driver.codecs.osc import message

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(message("/avatar/change", JSON_AVATAR), ("127.0.0.1", 9001))
        assert drive(out, lambda: P + "FT/v2/EyeLidLeft" in got), logs  # from the JSON file
        # VRChat starts later: the output finds it and moves over.
        late = VRChatStandIn(AVATAR_C, PARAMS_C)
        assert drive(out, lambda: P + "FT/v2/JawOpen" in late.addresses(), timeout=8), logs
        assert out.avatar is not None and out.avatar.id == AVATAR_C
    finally:
        out.close()
        vrchat_in.shutdown()
        vrchat_in.server_close()
        if late is not None:
            late.close()
    fallback = [line for line in logs if "VRChat not found by OSCQuery" in line]
    assert len(fallback) == 1, logs
    assert "127.0.0.1:9000" in fallback[0] and "127.0.0.1:9001" in fallback[0]
    assert "still looking" in fallback[0]


def test_fallback_says_when_9001_is_taken(port_9001_taken: socket.socket) -> None:
    logs: list[str] = []
    out = discovering_output(logs)
    try:
        assert drive(out, lambda: any("not found" in line for line in logs),
                     timeout=DISCOVERY_WAIT_S + 2)  # fmt: skip
    finally:
        out.close()
    assert len(logs) == 1 and "127.0.0.1:9001 is taken" in logs[0], logs


@pytest.mark.parametrize("how", ["target", "listen", "off"])
def test_explicit_target_listen_or_off_keep_todays_behaviour(
    standin: VRChatStandIn, how: str
) -> None:
    got: list[str] = []
    disp = Dispatcher()
    disp.set_default_handler(lambda addr, *args: got.append(addr))
    sink = ThreadingOSCUDPServer(("127.0.0.1", 0), disp)
    import threading

    threading.Thread(target=sink.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{sink.server_address[1]}"
    settings = {"listen": VRChatOptions(listen="127.0.0.1:9001"),
                "off": VRChatOptions(oscquery="off")}  # fmt: skip
    spec = target if how == "target" else None
    out = VRChatOutput.from_spec(spec, OutputOptions(settings=settings.get(how)))
    try:
        assert out.discovery is None
        if how != "target":
            out.on_discovered_target("127.0.0.1", sink.server_address[1])  # aim it at the sink
        assert drive(out, lambda: len(got) > 50, timeout=2)
        time.sleep(0.5)
    finally:
        out.close()
        sink.shutdown()
        sink.server_close()
    assert standin.got == []  # VRChat's advertised port got nothing
    assert P + "v2/JawOpen" in got or P + "v2/JawOpen8" in got  # the mapping as written


def test_cli_end_to_end_with_oscdump(port_9001_taken: socket.socket) -> None:
    """The real command, no target; liblo's oscdump on the port the stand-in advertises."""
    import shutil

    oscdump = shutil.which("oscdump")
    if oscdump is None:
        pytest.fail("oscdump not installed (apt-get install liblo-tools)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dump = subprocess.Popen([oscdump, "-L", str(port)], stdout=subprocess.PIPE, text=True)
    st = VRChatStandIn(AVATAR_A, PARAMS_A, read_only=("VelocityX",), osc_port=port)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "avatar_driver", "run", "--source", "demo",
             "--max-frames", "120", "--output", "vrchat"],
            capture_output=True, text=True, timeout=60, env=cli_env(), cwd=ROOT,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        time.sleep(0.3)
    finally:
        st.close()
        dump.terminate()
        text, _ = dump.communicate(timeout=5)
    lines = [ln.split()[1:] for ln in text.splitlines() if len(ln.split()) > 2]
    lines = [ln for ln in lines if ln[0].startswith("/")]
    assert lines, (text[:500], proc.stderr)
    for ln in lines:  # every message VRChat's port got: the avatar's own, as declared
        assert ln[0] in SENT_A, ln
        n = ARGS.get(ln[0], 1)
        assert ln[1] in ({"f" * n} if SENT_A[ln[0]] is float else {"T", "F"}), ln
    assert {ln[0] for ln in lines} == set(SENT_A)
    assert "(finding VRChat by OSCQuery)" in proc.stderr
    assert "found VRChat-Client-A1B2C3 by OSCQuery" in proc.stderr
