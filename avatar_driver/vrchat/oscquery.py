"""VRChat's OSCQuery: find VRChat by mDNS, read its current avatar over HTTP, and advertise
our own OSC port so VRChat sends ``/avatar/change`` there (9001 can stay with another app).

VRChat (2023.3.1 and later) advertises ``VRChat-Client-XXXXXX`` for ``_oscjson._tcp`` (its
HTTP server) and ``_osc._udp``. ``GET /?HOST_INFO`` names its OSC input port (``OSC_PORT``);
``GET /avatar`` is a tree of nodes (``FULL_PATH``, ``CONTENTS``, ``TYPE``, ``VALUE``,
``ACCESS``): ``/avatar/change`` holds the current avatar id as its VALUE and
``/avatar/parameters/...`` every parameter of that avatar, nested by ``/`` in the name
(``FT/v2/JawOpen`` is ``parameters -> FT -> v2 -> JawOpen``), with TYPE ``f``, ``i`` or
``T``/``F`` (bool). This is the shape VRCFaceTracking reads (Core/OSC/Query/
OscQueryAvatarInfo.cs) and serves (Core/OSC/Query/mDNS/HttpHandler.cs).

Everything here runs off the hot path: `Discovery` owns a worker thread, zeroconf's own
threads, a small HTTP server on 127.0.0.1 and the ``/avatar/change`` listener, and hands
the output a target and an avatar through callbacks. Network input is untrusted: bounded
reads, short timeouts, a one-line warning for anything malformed, and the last good avatar
kept. `zeroconf` is imported lazily; without it discovery degrades to the fallback.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .avatar import (
    MAX_AVATAR_JSON_BYTES,
    AvatarConfig,
    AvatarConfigError,
    AvatarParam,
    find_avatar_config,
    read_avatar_config,
)
from .listener import AvatarChangeListener

__all__ = [
    "DISCOVERY_WAIT_S",
    "SERVICE_OSC",
    "SERVICE_OSCJSON",
    "VRCHAT_PREFIX",
    "Discovery",
    "HostInfo",
    "OscQueryError",
    "OwnService",
    "get_json",
    "parse_avatar",
    "parse_host_info",
    "read_avatar",
    "read_host_info",
]

SERVICE_OSCJSON = "_oscjson._tcp.local."
SERVICE_OSC = "_osc._udp.local."
VRCHAT_PREFIX = "VRChat-Client"
PARAMS_PREFIX = "/avatar/parameters/"
HTTP_TIMEOUT_S = 1.0
#: How long start-up waits for VRChat before saying so and falling back (sending starts at once).
DISCOVERY_WAIT_S = 2.0
RESOLVE_TIMEOUT_MS = 1500
#: A failed /avatar read is retried this often (VRChat may still be loading the avatar).
RETRY_S = (0.25, 0.5, 1.0, 2.0)
MAX_DEPTH = 32
MAX_NODES = 20000
_ID = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")
_TYPES = {"f": "f", "i": "i", "T": "b", "F": "b"}
READ_ONLY = 1  # OSCQuery ACCESS: 0 none, 1 read-only, 2 write-only, 3 read-write


class OscQueryError(Exception):
    """An OSCQuery answer is missing or malformed (a warning: the last good state is kept)."""


@dataclass(frozen=True)
class HostInfo:
    name: str
    osc_ip: str
    osc_port: int


def get_json(host: str, port: int, path: str, *, timeout: float = HTTP_TIMEOUT_S) -> Any:
    """GET one OSCQuery document, size-limited; OscQueryError names the URL and the fault."""
    url = f"http://{host}:{port}{path}"
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read(MAX_AVATAR_JSON_BYTES + 1)
        status = resp.status
    except (OSError, http.client.HTTPException) as e:
        raise OscQueryError(f"{url}: no answer ({e or type(e).__name__})") from e
    finally:
        conn.close()
    if status != 200:
        raise OscQueryError(f"{url}: HTTP {status}")
    if len(body) > MAX_AVATAR_JSON_BYTES:
        raise OscQueryError(f"{url}: over the {MAX_AVATAR_JSON_BYTES} byte limit")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise OscQueryError(f"{url}: not valid JSON ({e})") from e


def parse_host_info(data: Any, *, source: str, default_ip: str) -> HostInfo:
    """HOST_INFO's NAME and OSC input address (OSC_IP defaults to the HTTP host)."""
    if not isinstance(data, dict):
        raise OscQueryError(f"{source}: HOST_INFO is not a JSON object")
    port = data.get("OSC_PORT")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise OscQueryError(f"{source}: HOST_INFO has no OSC_PORT 1-65535 (got {port!r:.40})")
    transport = data.get("OSC_TRANSPORT", "UDP")
    if transport != "UDP":
        raise OscQueryError(f"{source}: OSC_TRANSPORT is {transport!r:.20}, expected UDP")
    ip = data.get("OSC_IP")
    if not isinstance(ip, str) or not ip or ip in ("0.0.0.0", "::"):
        ip = default_ip
    name = data.get("NAME")
    return HostInfo(name if isinstance(name, str) else "", ip, port)


def parse_avatar(data: Any, *, source: str) -> tuple[AvatarConfig, list[str]]:
    """VRChat's ``/avatar`` node -> (the avatar with its typed input parameters, the
    parameters skipped for an unknown TYPE). Read-only parameters are left out, like the
    JSON files' parameters without an ``input``."""
    if not isinstance(data, dict):
        raise OscQueryError(f"{source}: expected a JSON object for /avatar")
    contents = data.get("CONTENTS")
    if not isinstance(contents, dict):
        raise OscQueryError(f"{source}: /avatar has no CONTENTS (no avatar loaded yet?)")
    change = contents.get("change")
    value = change.get("VALUE") if isinstance(change, dict) else None
    avatar_id = value[0] if isinstance(value, list) and value else value
    if not isinstance(avatar_id, str) or not _ID.match(avatar_id):
        raise OscQueryError(
            f"{source}: /avatar/change holds no avatar id (got {str(avatar_id)[:60]!r})"
        )
    params_node = contents.get("parameters")
    if not isinstance(params_node, dict):
        raise OscQueryError(f"{source}: /avatar has no 'parameters' node")
    params: list[AvatarParam] = []
    skipped: list[str] = []
    count = 0
    stack: list[tuple[Any, int]] = [(params_node, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            raise OscQueryError(f"{source}: /avatar/parameters is deeper or larger than expected")
        if not isinstance(node, dict):
            skipped.append(f"{str(node)[:40]!r} (not a node)")
            continue
        children = node.get("CONTENTS")
        if isinstance(children, dict):
            stack.extend((child, depth + 1) for child in reversed(children.values()))
            continue
        type_tag = node.get("TYPE")
        if type_tag is None:
            continue  # an empty container
        path = node.get("FULL_PATH")
        if not isinstance(path, str) or not path.startswith(PARAMS_PREFIX):
            skipped.append(f"{str(path)[:60]!r} (FULL_PATH outside {PARAMS_PREFIX})")
            continue
        name = path[len(PARAMS_PREFIX) :]
        kind = _TYPES.get(type_tag) if isinstance(type_tag, str) else None
        if kind is None:
            skipped.append(f"{name} (TYPE {str(type_tag)[:12]!r})")
            continue
        if node.get("ACCESS") == READ_ONLY:
            continue
        params.append(AvatarParam(name, path, kind))
    params.sort(key=lambda p: p.name)
    return AvatarConfig(avatar_id, "", Path(source), tuple(params)), skipped


def read_host_info(host: str, port: int) -> HostInfo:
    return parse_host_info(
        get_json(host, port, "/?HOST_INFO"), source=f"{host}:{port}", default_ip=host
    )


def read_avatar(host: str, port: int) -> tuple[AvatarConfig, list[str]]:
    return parse_avatar(get_json(host, port, "/avatar"), source=f"{host}:{port}/avatar")


# -- our own OSCQuery service ------------------------------------------------------------


def _node(path: str, *, access: int = 0, **extra: Any) -> dict[str, Any]:
    return {"FULL_PATH": path, "ACCESS": access, **extra}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if "HOST_INFO" in query:
            body: Any = self.server.host_info
        else:
            body = self.server.find(parts.path or "/")
            if body is None:
                self._send(404, b"OSC path not found", "text/plain")
                return
        self._send(200, json.dumps(body).encode(), "application/json")

    def _send(self, code: int, data: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no per-request lines
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    host_info: dict[str, Any]
    tree: dict[str, Any]

    def find(self, path: str) -> dict[str, Any] | None:
        node: dict[str, Any] | None = self.tree
        for part in [p for p in path.split("/") if p]:
            contents = node.get("CONTENTS", {}) if node else {}
            node = contents.get(part)
        return node


class OwnService:
    """Our OSCQuery answer on 127.0.0.1 (HTTP, stdlib): HOST_INFO names the UDP port we
    listen on, and the tree has ``/avatar/change`` (write-only, a string), which is what
    makes VRChat send us its avatar messages (VRCFaceTracking serves the same tree)."""

    def __init__(self, name: str, osc_port: int) -> None:
        self.name = name
        self.osc_port = osc_port
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.host_info = {
            "NAME": name,
            "EXTENSIONS": {"ACCESS": True, "VALUE": False, "TYPE": True, "DESCRIPTION": True},
            "OSC_IP": "127.0.0.1",
            "OSC_PORT": osc_port,
            "OSC_TRANSPORT": "UDP",
        }
        change = _node(
            "/avatar/change", access=2, TYPE="s", DESCRIPTION="the avatar id, on each change"
        )
        avatar = _node("/avatar", CONTENTS={"change": change})
        self._server.tree = _node("/", DESCRIPTION="root node", CONTENTS={"avatar": avatar})
        self.http_port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="vrchat-oscquery-http", daemon=True
        )
        self._thread.start()

    def service_infos(self) -> list[Any]:
        """The two zeroconf records to register: ``_oscjson._tcp`` and ``_osc._udp``."""
        from zeroconf import ServiceInfo

        return [
            ServiceInfo(
                kind,
                f"{self.name}.{kind}",
                port=port,
                properties={"txtvers": "1"},
                server=f"{self.name}.local.",
                parsed_addresses=["127.0.0.1"],
            )
            for kind, port in ((SERVICE_OSCJSON, self.http_port), (SERVICE_OSC, self.osc_port))
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- discovery ---------------------------------------------------------------------------


@dataclass
class _Vrchat:
    name: str
    http: tuple[str, int]
    osc: tuple[str, int]


def _browse_handler(events: queue.Queue[tuple[str, str]]) -> Callable[..., None]:
    """A zeroconf browser handler that forwards VRChat instances to the worker's queue
    (the worker resolves them: zeroconf's thread is not blocked)."""

    def handler(zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        if name.startswith(VRCHAT_PREFIX):
            events.put(("gone" if state_change.name == "Removed" else "found", name))

    return handler


class Discovery:
    """Finds VRChat and follows its avatar, from threads of its own.

    Callbacks (from the worker thread): `on_target(host, port)` with VRChat's OSC input,
    or the fallback when VRChat is not (or no longer) found; `on_avatar(config)` with the
    avatar read from ``/avatar``; `on_json_change(avatar_id)` for an ``/avatar/change``
    heard while VRChat is not found (the output then reads the OSC JSON files).
    """

    def __init__(
        self,
        *,
        on_target: Callable[[str, int], None],
        on_avatar: Callable[[AvatarConfig], None],
        on_json_change: Callable[[str], None],
        log: Callable[[str], None],
        fallback: tuple[str, int] = ("127.0.0.1", 9000),
        fallback_listen: tuple[str, int] | None = ("127.0.0.1", 9001),
        osc_folders: Sequence[Path] = (),
        wait_s: float = DISCOVERY_WAIT_S,
        follow_target: bool = True,
    ) -> None:
        self.on_target = on_target
        self.on_avatar = on_avatar
        self.on_json_change = on_json_change
        self._log = log
        self.fallback = fallback
        self.fallback_listen = fallback_listen
        self.osc_folders = list(osc_folders)
        self.wait_s = wait_s
        self.follow_target = follow_target
        self.name = f"avatar-driver-{secrets.token_hex(3)}"
        self.vrchat: _Vrchat | None = None
        self._known: list[str] = []  # VRChat instances seen, oldest first
        self.avatar: AvatarConfig | None = None
        self.state = "looking"  # looking -> found | fallback
        self.found_at: float | None = None
        self.avatar_reads = 0
        self.read_errors = 0
        self._warned: set[str] = set()
        self._fell_back = False
        self._events: queue.Queue[tuple[str, str]] = queue.Queue()
        self._stop = threading.Event()
        self._zc: Any = None
        self._browser: Any = None
        self._service: OwnService | None = None
        self._fallback_listener: AvatarChangeListener | None = None
        self._retry_at: float | None = None
        self._retries = 0
        self._started = time.monotonic()
        # Our own /avatar/change port: any free UDP port on 127.0.0.1 (not 9001).
        self.listener = AvatarChangeListener("127.0.0.1", 0, self._heard_change, only_changes=True)
        self._worker = threading.Thread(target=self._run, name="vrchat-discovery", daemon=True)
        self._worker.start()

    @property
    def listen_port(self) -> int:
        return int(self.listener.address[1])

    # -- threads ----------------------------------------------------------------------

    def _heard_change(self, avatar_id: str) -> None:
        self._events.put(("change", avatar_id))

    def _run(self) -> None:
        if not self._start_zeroconf():
            self._fall_back("")
        deadline = self._started + self.wait_s
        while not self._stop.is_set():
            now = time.monotonic()
            wake = [t for t in (self._retry_at, None if self._fell_back else deadline) if t]
            timeout = max(0.0, min(wake) - now) if wake else 0.5
            try:
                kind, arg = self._events.get(timeout=min(timeout, 0.5))
            except queue.Empty:
                kind, arg = "", ""
            if self._stop.is_set():
                return
            try:
                self._handle(kind, arg)
            except Exception as e:  # a bug of ours must not end discovery
                self._warn(f"OSCQuery: internal error {type(e).__name__}: {e}")
            now = time.monotonic()
            if self._retry_at is not None and now >= self._retry_at:
                self._retry_at = None
                self._read_avatar()
            if self.vrchat is None and not self._fell_back and now >= deadline:
                self._fall_back(f" within {self.wait_s:g} s")

    def _handle(self, kind: str, arg: str) -> None:
        if kind == "found":
            self._found(arg)
        elif kind == "gone":
            self._gone(arg)
        elif kind == "change":
            if self.vrchat is not None:
                self._retries = 0
                self._read_avatar()
            else:
                self.on_json_change(arg)

    def _start_zeroconf(self) -> bool:
        try:
            from zeroconf import DNSQuestionType, IPVersion, ServiceBrowser, Zeroconf
        except ImportError:
            self._log(
                "OSCQuery discovery needs the zeroconf package (pip install zeroconf); "
                "not looking for VRChat"
            )
            return False
        try:
            self._zc = Zeroconf(ip_version=IPVersion.V4Only)
            self._service = OwnService(self.name, self.listen_port)
            # Multicast questions only: a unicast answer to port 5353 reaches just one of the
            # sockets sharing it (VRChat's own, often), so a QU first query can be lost.
            self._browser = ServiceBrowser(
                self._zc,
                SERVICE_OSCJSON,
                handlers=[_browse_handler(self._events)],
                question_type=DNSQuestionType.QM,
            )
        except Exception as e:  # no multicast route, no interface, port trouble...
            self._log(f"OSCQuery discovery unavailable ({type(e).__name__}: {e})")
            self._close_zeroconf()
            return False
        # Registering probes for name conflicts (1.5 s a record): off the worker thread so
        # finding VRChat is not delayed by it, and both records at once.
        for info in self._service.service_infos():
            threading.Thread(
                target=self._advertise, args=(info,), name="vrchat-advertise", daemon=True
            ).start()
        return True

    def _advertise(self, info: Any) -> None:
        zc = self._zc
        if zc is None or self._stop.is_set():
            return
        try:
            zc.register_service(info, allow_name_change=True)
        except Exception as e:
            if not self._stop.is_set():
                self._log(f"OSCQuery: cannot advertise our service ({type(e).__name__}: {e})")

    # -- what happens ------------------------------------------------------------------

    def _found(self, name: str) -> None:
        if name not in self._known:
            self._known.append(name)
        if self.vrchat is not None and self.vrchat.name != name:
            return  # keep the one we have; another instance is only used when this one goes
        found = self._resolve(name)
        if found is None:
            return
        old = self.vrchat
        first = old is None or (old.http, old.osc) != (found.http, found.osc)
        self.vrchat = found
        if not first:
            return
        self.state = "found"
        if self.found_at is None:
            self.found_at = time.monotonic()
        self._close_fallback_listener()
        short = name.split(".")[0]
        self._log(
            f"found {short} by OSCQuery at {found.http[0]}:{found.http[1]}: sending to "
            f"{found.osc[0]}:{found.osc[1]}, hearing /avatar/change on 127.0.0.1:"
            f"{self.listen_port}"
        )
        # The avatar first, then the target: the output takes both before its next frame,
        # so VRChat never gets the mapping as written when its avatar is readable.
        self._retries = 0
        self._read_avatar()
        if self.follow_target:
            self.on_target(*found.osc)

    def _resolve(self, name: str) -> _Vrchat | None:
        zc = self._zc
        if zc is None:
            return None
        try:
            from zeroconf import DNSQuestionType

            info = zc.get_service_info(
                SERVICE_OSCJSON, name, timeout=RESOLVE_TIMEOUT_MS, question_type=DNSQuestionType.QM
            )
        except Exception as e:
            self._warn(f"OSCQuery: cannot resolve {name} ({type(e).__name__}: {e})")
            return None
        if info is None or not info.port:
            return None
        hosts = [a for a in info.parsed_addresses() if ":" not in a]
        # VRChat on Windows answers HTTP only to this machine: try loopback as well.
        hosts.sort(key=lambda a: a != "127.0.0.1")
        if "127.0.0.1" not in hosts:
            hosts.append("127.0.0.1")
        errors: list[str] = []
        for host in hosts:
            try:
                hi = read_host_info(host, int(info.port))
            except OscQueryError as e:
                errors.append(str(e))
                continue
            return _Vrchat(name, (host, int(info.port)), (hi.osc_ip, hi.osc_port))
        self._warn(f"OSCQuery: {name.split('.')[0]} found but unusable: {errors[0]}")
        return None

    def _gone(self, name: str) -> None:
        if name in self._known:
            self._known.remove(name)
        if self.vrchat is None or self.vrchat.name != name:
            return
        short = name.split(".")[0]
        self.vrchat = None
        self.state = "looking"
        self._retry_at = None
        self._log(
            f"{short} left OSCQuery; sending to {self.fallback[0]}:{self.fallback[1]} with the "
            "last avatar until VRChat is back"
        )
        if self.follow_target:
            self.on_target(*self.fallback)
        for other in self._known:  # another VRChat still advertised: take it
            self._events.put(("found", other))

    def _read_avatar(self) -> None:
        vrc = self.vrchat
        if vrc is None:
            return
        self.avatar_reads += 1
        try:
            config, skipped = read_avatar(*vrc.http)
        except OscQueryError as e:
            self.read_errors += 1
            keep = self.avatar.id if self.avatar else "none yet"
            self._warn(f"OSCQuery: {e}; keeping the last good avatar ({keep})")
            if self._retries < len(RETRY_S):
                self._retry_at = time.monotonic() + RETRY_S[self._retries]
                self._retries += 1
            return
        self._retries = 0
        if skipped:
            self._warn(
                f"OSCQuery: avatar {config.id}: skipped {len(skipped)} parameter(s) of an "
                f"unknown type: {', '.join(skipped[:4])}"
            )
        config = AvatarConfig(config.id, self._avatar_name(config.id), config.path, config.params)
        if config == self.avatar:
            return
        self.avatar = config
        self.on_avatar(config)

    def _avatar_name(self, avatar_id: str) -> str:
        """VRChat's /avatar has no name; the OSC JSON file, when there is one, does."""
        try:
            path = find_avatar_config(self.osc_folders, avatar_id)
            return read_avatar_config(path, expected_id=avatar_id).name if path else ""
        except AvatarConfigError:
            return ""

    def _fall_back(self, why: str) -> None:
        self._fell_back = True
        if self.vrchat is not None:
            return
        self.state = "fallback"
        listen = ""
        if self.fallback_listen is not None:
            host, port = self.fallback_listen
            try:
                self._fallback_listener = AvatarChangeListener(
                    host, port, self._heard_change, only_changes=True
                )
                listen = f", hearing /avatar/change on {host}:{port} and reading the OSC JSON files"
            except OSError as e:
                listen = f"; {host}:{port} is taken ({e.strerror}), so no avatar changes are heard"
        still = " (still looking)" if self._zc is not None else ""
        self._log(
            f"VRChat not found by OSCQuery{why}; sending to {self.fallback[0]}:"
            f"{self.fallback[1]}{listen}{still}"
        )
        if self.follow_target:
            self.on_target(*self.fallback)

    def _warn(self, text: str) -> None:
        """One line per distinct problem: a broken stand-in must not flood stderr."""
        if text not in self._warned:
            self._warned.add(text)
            self._log(text)

    # -- closing -----------------------------------------------------------------------

    def _close_fallback_listener(self) -> None:
        if self._fallback_listener is not None:
            self._fallback_listener.close()
            self._fallback_listener = None

    def _close_zeroconf(self) -> None:
        zc, self._zc = self._zc, None
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._browser.cancel()
            self._browser = None
        if zc is not None:
            with contextlib.suppress(Exception):
                zc.close()  # sends the goodbyes for our records
        if self._service is not None:
            self._service.close()
            self._service = None

    def close(self) -> None:
        self._stop.set()
        self._events.put(("", ""))
        self._worker.join(timeout=3.0)
        self._close_zeroconf()
        self._close_fallback_listener()
        self.listener.close()
