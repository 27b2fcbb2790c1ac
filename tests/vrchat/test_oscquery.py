"""OSCQuery without mDNS: reading VRChat's /avatar (served by python-oscquery's HTTP server,
an independent implementation, and in VRChat's own JSON shape), bad answers, our own
OSCQuery service read by python-oscquery's client, and the output following a target and
an avatar handed to it. Discovery over mDNS is in test_oscquery_netns.py (namespace only).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from pythonoscquery.osc_query_client import OSCQueryClient
from pythonoscquery.osc_query_service import OSCQueryHTTPHandler, OSCQueryHTTPServer
from pythonoscquery.shared.osc_host_info import OSCHostInfo
from zeroconf import ServiceInfo

from avatar_driver.vrchat.avatar import AvatarConfig, AvatarParam
from avatar_driver.vrchat.oscquery import (
    SERVICE_OSCJSON,
    Discovery,
    OscQueryError,
    OwnService,
    parse_avatar,
    read_avatar,
    read_host_info,
)
from tests.outputs.test_vrchat import Receiver, face
from tests.vrchat.standin import address_space

AVATAR = "avtr_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
PARAMS = {
    "FT/v2/JawOpen": 0.0,
    "v2/EyeLidLeft": 0.0,
    "v2/JawX1": False,
    "v2/JawX2": True,
    "VRCEmote": 0,
    "VelocityX": 0.0,
}


@pytest.fixture
def standin_http() -> Iterator[OSCQueryHTTPServer]:
    """python-oscquery's HTTP side alone (no zeroconf), on 127.0.0.1."""
    info = OSCHostInfo("VRChat-Client-TEST01", {"ACCESS": True}, "127.0.0.1", 9000, "UDP")
    srv = OSCQueryHTTPServer(
        address_space(AVATAR, PARAMS, read_only=("VelocityX",)),
        info,
        ("127.0.0.1", 0),
        OSCQueryHTTPHandler,
        True,
    )
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_reads_the_avatar_python_oscquery_serves(standin_http: OSCQueryHTTPServer) -> None:
    port = standin_http.server_address[1]
    host = read_host_info("127.0.0.1", port)
    assert (host.name, host.osc_ip, host.osc_port) == ("VRChat-Client-TEST01", "127.0.0.1", 9000)
    config, skipped = read_avatar("127.0.0.1", port)
    assert config.id == AVATAR and skipped == []
    got = {p.name: (p.address, p.type) for p in config.params}
    assert got == {
        "FT/v2/JawOpen": ("/avatar/parameters/FT/v2/JawOpen", "f"),
        "v2/EyeLidLeft": ("/avatar/parameters/v2/EyeLidLeft", "f"),
        "v2/JawX1": ("/avatar/parameters/v2/JawX1", "b"),
        "v2/JawX2": ("/avatar/parameters/v2/JawX2", "b"),
        "VRCEmote": ("/avatar/parameters/VRCEmote", "i"),
    }  # VelocityX is read-only (ACCESS 1): not an input


# VRChat's shape, as VRCFaceTracking reads it (Core/OSC/Query/OscQueryAvatarInfo.cs:
# CONTENTS["change"].VALUE[0] is the id; parameters nest by "/"; TYPE's first letter) and as
# WiVRn's VRChat OSC test serves it (DESCRIPTION "", ACCESS 3, VALUE a list, bool TYPE "T").
VRCHAT_AVATAR = {
    "DESCRIPTION": "", "FULL_PATH": "/avatar", "ACCESS": 0, "CONTENTS": {
        "change": {"DESCRIPTION": "", "FULL_PATH": "/avatar/change", "ACCESS": 3,
                   "TYPE": "s", "VALUE": [AVATAR]},
        "parameters": {"DESCRIPTION": "", "FULL_PATH": "/avatar/parameters", "ACCESS": 0,
                       "CONTENTS": {
            "MuteSelf": {"FULL_PATH": "/avatar/parameters/MuteSelf", "ACCESS": 1,
                         "TYPE": "T", "VALUE": [True]},
            "EyeTrackingActive": {"FULL_PATH": "/avatar/parameters/EyeTrackingActive",
                                  "ACCESS": 3, "TYPE": "F", "VALUE": [False]},
            "v2": {"FULL_PATH": "/avatar/parameters/v2", "ACCESS": 0, "CONTENTS": {
                "MouthX": {"FULL_PATH": "/avatar/parameters/v2/MouthX", "ACCESS": 3,
                           "TYPE": "f", "VALUE": [0.0]},
                "Odd": {"FULL_PATH": "/avatar/parameters/v2/Odd", "ACCESS": 3, "TYPE": "s",
                        "VALUE": ["?"]},
            }},
        }},
    },
}  # fmt: skip


def test_parses_vrchat_json_shape() -> None:
    config, skipped = parse_avatar(VRCHAT_AVATAR, source="vrchat")
    assert config.id == AVATAR
    assert [(p.name, p.type) for p in config.params] == [
        ("EyeTrackingActive", "b"),
        ("v2/MouthX", "f"),
    ]
    assert skipped == ["v2/Odd (TYPE 's')"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ([1, 2], "expected a JSON object"),
        ({"FULL_PATH": "/avatar", "ACCESS": 0}, "no CONTENTS"),
        ({"CONTENTS": {"parameters": {}}}, "holds no avatar id"),
        ({"CONTENTS": {"change": {"VALUE": ["../../etc"]}, "parameters": {}}}, "no avatar id"),
        ({"CONTENTS": {"change": {"VALUE": [AVATAR]}}}, "no 'parameters'"),
    ],
)
def test_bad_avatar_node_is_one_clear_error(data: Any, needle: str) -> None:
    with pytest.raises(OscQueryError, match=needle) as err:
        parse_avatar(data, source="host:1/avatar")
    assert "\n" not in str(err.value) and "host:1/avatar" in str(err.value)


def test_deep_tree_is_refused_not_recursed() -> None:
    node: dict[str, Any] = {"FULL_PATH": "/avatar/parameters/x", "TYPE": "f"}
    for _ in range(100):
        node = {"CONTENTS": {"n": node}}
    data = {"CONTENTS": {"change": {"VALUE": [AVATAR]}, "parameters": node}}
    with pytest.raises(OscQueryError, match="deeper or larger"):
        parse_avatar(data, source="s")


class _Fixed(BaseHTTPRequestHandler):
    body = b""
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (200, b'{"CONTENTS": {"change": ', "not valid JSON"),
        (200, b"\xff\xfe garbage", "not valid JSON"),
        (404, b"OSC Path not found", "HTTP 404"),
    ],
)
def test_broken_answers_are_one_line(status: int, body: bytes, needle: str) -> None:
    _Fixed.body, _Fixed.status = body, status
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with pytest.raises(OscQueryError, match=needle) as err:
            read_avatar("127.0.0.1", srv.server_address[1])
    finally:
        srv.shutdown()
        srv.server_close()
    assert "\n" not in str(err.value)


def test_no_server_is_an_error_not_a_hang() -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    port = srv.server_address[1]
    srv.server_close()
    t0 = time.monotonic()
    with pytest.raises(OscQueryError, match="no answer"):
        read_avatar("127.0.0.1", port)
    assert time.monotonic() - t0 < 2.0


def test_own_service_read_by_python_oscquery() -> None:
    svc = OwnService("avatar-driver-test", 45678)
    try:
        assert svc._server.server_address[0] == "127.0.0.1"  # never on other interfaces
        info = ServiceInfo(
            SERVICE_OSCJSON,
            f"avatar-driver-test.{SERVICE_OSCJSON}",
            port=svc.http_port,
            parsed_addresses=["127.0.0.1"],
        )
        host_info = OSCQueryClient(info).get_host_info()
        assert host_info is not None
        assert (host_info.name, host_info.osc_port) == ("avatar-driver-test", 45678)
        assert host_info.osc_transport == "UDP"
        root = requests.get(f"http://127.0.0.1:{svc.http_port}/", timeout=2).json()
        change = root["CONTENTS"]["avatar"]["CONTENTS"]["change"]
        assert change == {
            "FULL_PATH": "/avatar/change", "ACCESS": 2, "TYPE": "s",
            "DESCRIPTION": "the avatar id, on each change",
        }  # fmt: skip
        node = requests.get(f"http://127.0.0.1:{svc.http_port}/avatar/change", timeout=2)
        assert node.json() == change
        missing = requests.get(f"http://127.0.0.1:{svc.http_port}/avatar/nothing", timeout=2)
        assert missing.status_code == 404
        records = svc.service_infos()
        assert [(r.type, r.port) for r in records] == [
            ("_oscjson._tcp.local.", svc.http_port),
            ("_osc._udp.local.", 45678),
        ]
        assert all(r.parsed_addresses() == ["127.0.0.1"] for r in records)
    finally:
        svc.close()


def test_output_follows_a_discovered_target_and_avatar() -> None:
    """What discovery hands the output (target, avatar) is taken on the next frame."""
    from avatar_driver.outputs.vrchat import VRChatOutput

    first, second = Receiver(), Receiver()
    logs: list[str] = []
    out = VRChatOutput(port=first.port, log=logs.append)
    try:
        out.send(face(jawOpen=0.5))
        messages = len(set(out.mapping.addresses))  # the gaze's four values are one message
        first.wait(messages)
        before = len(first.got)
        assert before == messages
        config = AvatarConfig(
            AVATAR,
            "",
            Path("127.0.0.1:1/avatar"),
            (AvatarParam("FT/v2/JawOpen", "/avatar/parameters/FT/v2/JawOpen", "f"),),
        )
        out.on_discovered_target("127.0.0.1", second.port)
        out.on_discovered_avatar(config)
        out.send(face(jawOpen=0.5))  # unchanged face: the new receiver still gets it all
        second.wait(1)
        time.sleep(0.1)
    finally:
        out.close()
        first.close()
        second.close()
    assert len(first.got) == before
    # The avatar's one parameter, plus VRChat's native gaze (the avatar has no gaze of its own).
    avatar_params = [m for m in second.got if not m[0].startswith("/tracking/eye/")]
    assert avatar_params == [("/avatar/parameters/FT/v2/JawOpen", (pytest.approx(0.5),))]
    assert {m[0] for m in second.got} - {m[0] for m in avatar_params} <= {
        "/tracking/eye/LeftRightPitchYaw",
        "/tracking/eye/EyesClosedAmount",
    }
    assert out.target == f"127.0.0.1:{second.port}"
    assert any("OSCQuery 127.0.0.1:1/avatar" in line for line in logs)


def test_without_zeroconf_discovery_degrades_to_the_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "zeroconf", None)  # import zeroconf -> ImportError
    logs: list[str] = []
    targets: list[tuple[str, int]] = []
    d = Discovery(
        on_target=lambda h, p: targets.append((h, p)),
        on_avatar=lambda c: None,
        on_json_change=lambda a: None,
        log=logs.append,
        fallback=("127.0.0.1", 9000),
        fallback_listen=("127.0.0.1", 0),
    )
    try:
        end = time.monotonic() + 3
        while not targets and time.monotonic() < end:
            time.sleep(0.01)
        assert d._fallback_listener is not None  # the fallback listener runs
    finally:
        d.close()
    assert targets == [("127.0.0.1", 9000)]
    assert d.state == "fallback"
    assert len(logs) == 2, logs
    assert "needs the zeroconf package" in logs[0]
    assert "VRChat not found by OSCQuery" in logs[1] and "still looking" not in logs[1]


def test_own_service_json_is_plain_json() -> None:
    svc = OwnService("x", 1)
    try:
        raw = requests.get(f"http://127.0.0.1:{svc.http_port}/?HOST_INFO", timeout=2)
        assert raw.headers["Content-Type"] == "application/json"
        assert json.loads(raw.text)["OSC_PORT"] == 1
    finally:
        svc.close()


def test_own_service_survives_garbage_requests() -> None:
    import socket

    svc = OwnService("x", 1)
    try:
        for junk in (b"\x00\xff" * 3000, b"GET\r\n\r\n", b"POST / HTTP/1.1\r\n\r\n", b""):
            with socket.create_connection(("127.0.0.1", svc.http_port), timeout=2) as s:
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                s.recv(4096)
        host = read_host_info("127.0.0.1", svc.http_port)
    finally:
        svc.close()
    assert host.osc_port == 1 and host.name == "x"


def test_bad_oscquery_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from avatar_driver.errors import OutputError
    from avatar_driver.outputs.base import OutputOptions
    from avatar_driver.outputs.vrchat import VRChatOutput

    monkeypatch.setenv("AVATAR_DRIVER_VRCHAT_OSCQUERY", "maybe")
    with pytest.raises(
        OutputError, match="AVATAR_DRIVER_VRCHAT_OSCQUERY='maybe': expected on or off"
    ):
        VRChatOutput.from_spec("127.0.0.1:9", OutputOptions())


def test_change_listener_skips_parameter_echoes_undecoded() -> None:
    """VRChat sends OSCQuery apps every parameter change; only /avatar/change is decoded."""
    import socket

    from avatar_driver.codecs.osc import bundle, message
    from avatar_driver.vrchat.listener import AvatarChangeListener

    heard: list[str] = []
    lst = AvatarChangeListener("127.0.0.1", 0, heard.append, only_changes=True)
    try:
        echo = bundle([message("/avatar/parameters/v2/JawOpen", 0.5)] * 20)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(50):
                s.sendto(echo, lst.address)
            s.sendto(bundle([message("/avatar/change", AVATAR), echo]), lst.address)
            s.sendto(b"/avatar/change but not OSC", lst.address)
        end = time.monotonic() + 3
        while lst.packets < 52 and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        lst.close()
    assert heard == [AVATAR]
    assert (lst.packets, lst.skipped, lst.decode_errors) == (52, 50, 1)
