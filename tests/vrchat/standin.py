"""A stand-in for VRChat's OSCQuery side, built from an independent implementation: PyPI
`python-oscquery` (its OSCQueryService serves HOST_INFO and the address space over HTTP and
advertises ``_oscjson._tcp`` + ``_osc._udp`` with `zeroconf`), python-osc to receive what
the tool sends, and python-oscquery's browser to find the tool the way VRChat does.

Only for use inside a private network namespace (see test_oscquery_netns.py): it speaks
mDNS.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient
from pythonoscquery.osc_query_browser import OSCQueryBrowser
from pythonoscquery.osc_query_client import OSCQueryClient
from pythonoscquery.osc_query_service import OSCQueryHTTPHandler, OSCQueryService
from pythonoscquery.shared.osc_access import OSCAccess
from pythonoscquery.shared.osc_address_space import OSCAddressSpace
from pythonoscquery.shared.osc_path_node import OSCPathNode

Params = dict[str, float | int | bool]  # name -> a value of the parameter's type


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def address_space(avatar_id: str, params: Params, *, read_only: tuple[str, ...] = ()) -> Any:
    """VRChat's tree: /avatar/change with the id, /avatar/parameters/<name> typed by value."""
    space = OSCAddressSpace()
    space.add_node(OSCPathNode("/avatar/change", access=OSCAccess.READWRITE_VALUE, value=avatar_id))
    for name, value in params.items():
        access = OSCAccess.READONLY_VALUE if name in read_only else OSCAccess.READWRITE_VALUE
        space.add_node(OSCPathNode(f"/avatar/parameters/{name}", access=access, value=value))
    return space


class _Broken(OSCQueryHTTPHandler):
    """What a misbehaving VRChat might serve for /avatar (HOST_INFO stays good)."""

    mode = "ok"

    def do_GET(self) -> None:
        if "HOST_INFO" in self.path or self.mode == "ok":
            super().do_GET()
        elif self.mode == "broken-json":
            self._respond(200, '{"FULL_PATH": "/avatar", "CONTENTS": {"change": ')
        elif self.mode == "vanished":
            self._respond(404, "OSC Path not found")
        elif self.mode == "loading":  # VRCFT's note: queried while an avatar is loading
            self._respond(200, json.dumps({"FULL_PATH": "/avatar", "ACCESS": 0}))
        elif self.mode == "unknown-type":
            body = json.loads(self.server.address_space.find_node("/avatar").to_json())
            body["CONTENTS"]["parameters"]["CONTENTS"]["Weird"] = {
                "FULL_PATH": "/avatar/parameters/Weird", "ACCESS": 3, "TYPE": "x", "VALUE": [1]
            }  # fmt: skip
            self._respond(200, json.dumps(body))


class VRChatStandIn:
    """VRChat with an avatar already loaded, its OSC input on `osc_port`."""

    def __init__(
        self,
        avatar_id: str,
        params: Params,
        *,
        name: str = "VRChat-Client-A1B2C3",
        read_only: tuple[str, ...] = (),
        osc_port: int | None = None,
    ) -> None:
        """`osc_port` given: another receiver (oscdump) listens there, not python-osc."""
        self.got: list[tuple[float, str, tuple[Any, ...]]] = []
        self.osc: ThreadingOSCUDPServer | None = None
        if osc_port is None:
            disp = Dispatcher()
            disp.set_default_handler(
                lambda addr, *args: self.got.append((time.monotonic(), addr, args))
            )
            self.osc = ThreadingOSCUDPServer(("127.0.0.1", 0), disp)
            osc_port = int(self.osc.server_address[1])
            threading.Thread(target=self.osc.serve_forever, daemon=True).start()
        self.osc_port = osc_port
        self.http_port = free_tcp_port()
        self.service = OSCQueryService(
            address_space(avatar_id, params, read_only=read_only),
            name,
            self.http_port,
            self.osc_port,
        )
        self.service.start()
        assert self.service.http_server is not None
        self.service.http_server.RequestHandlerClass = _Broken
        self.set_mode("ok")

    def set_mode(self, mode: str) -> None:
        _Broken.mode = mode

    def load_avatar(self, avatar_id: str, params: Params) -> None:
        """Switch avatars: the tree changes, then /avatar/change goes to every OSCQuery app
        that has an /avatar/change node (and to 9001, like VRChat)."""
        assert self.service.http_server is not None
        self.service.http_server.address_space = address_space(avatar_id, params)
        for port in [*apps_with_avatar_change(), 9001]:
            SimpleUDPClient("127.0.0.1", port).send_message("/avatar/change", avatar_id)

    def addresses(self, since: float = 0.0) -> set[str]:
        return {a for t, a, _ in self.got if t >= since}

    def wait_for(self, cond: Callable[[], bool], timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.01)
        return cond()

    def close(self) -> None:
        self.service.stop()  # goodbye packets: the service leaves mDNS
        if self.osc is not None:
            self.osc.shutdown()
            self.osc.server_close()


def apps_with_avatar_change(timeout: float = 5.0) -> list[int]:
    """OSC ports of the OSCQuery apps (not VRChat) whose tree has /avatar/change: the ones
    VRChat sends avatar messages to. Found with python-oscquery's browser and client
    (browsing until one shows up or `timeout` passes)."""
    browser = OSCQueryBrowser()
    end = time.monotonic() + timeout
    try:
        while True:
            ports = []
            for svc in browser.get_discovered_oscquery():
                if svc is None or svc.name.startswith("VRChat-Client"):
                    continue
                host_info = OSCQueryClient(svc).get_host_info()
                if host_info is None:
                    continue
                root = requests.get(f"http://127.0.0.1:{svc.port}/", timeout=1).json()
                if "change" in root.get("CONTENTS", {}).get("avatar", {}).get("CONTENTS", {}):
                    ports.append(int(host_info.osc_port))
            if ports or time.monotonic() > end:
                return ports
            time.sleep(0.2)
    finally:
        browser.zc.close()
