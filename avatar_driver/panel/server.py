"""The panel's HTTP server: static page, a server-sent event stream, small JSON controls.

Standard library only (`http.server.ThreadingHTTPServer`): one page on loopback, a few
requests a second and one stream per open tab need no framework, and the project gains
no dependency. Server-sent events carry the live state (one direction is all it needs;
EventSource reconnects by itself) including a small JPEG of the camera a few times a
second (frames never leave this process otherwise), and JSON POSTs the controls.

Every request must carry the token (``?token=`` or the ``X-Panel-Token`` header) and a
Host naming this server; a request with an Origin other than the page's is refused. That
keeps other sites in the user's browser and DNS-rebinding pages out.
"""

from __future__ import annotations

import base64
import errno
import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from ..dynamics.groups import CHANNEL_GROUP
from ..errors import AvatarDriverError, ConfigError
from ..shapes import ARKIT_NAMES, CHANNEL_NAMES, EXTRA_NAMES, POSE_NAMES
from .controls import Controls
from .state import Monitor

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "PanelServer", "parse_address"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
#: Live updates a second sent to each open page; every `FULL_EVERY`th also carries the
#: slow-changing parts (outputs, settings: 3 a second). 21, not more: each event's thread
#: wake-up and socket write (~0.1 ms CPU on a busy machine) are most of the panel's CPU;
#: the page still counts >= 20 a second with timer jitter.
UPDATE_HZ = 21.0
FULL_EVERY = 7
#: Every `PICTURE_EVERY`th event carries the camera picture (5 a second): in the stream,
#: since an HTTP request per picture costs more than the picture (header parsing). A
#: picture costs ~0.5 ms CPU (resize, encode: cold caches each time), so 7 a second were
#: a third of the panel's CPU; 5 still look live beside the 21 a second of the bars.
PICTURE_EVERY = 4
#: With no frame for this long (a stalled or paused source) an event goes out anyway.
STALLED_S = 0.25
JPEG_WIDTH = 320
JPEG_QUALITY = 70
MAX_BODY = 64 * 1024
_STATIC = {"panel.js": "text/javascript", "panel.css": "text/css"}
_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"


def parse_address(text: str | None) -> tuple[str, int | None]:
    """``HOST:PORT``, ``HOST``, ``:PORT`` or ``PORT``; None port: the default, or a free one."""
    if not text:
        return DEFAULT_HOST, None
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = (DEFAULT_HOST, text) if text.isdigit() else (text, "")
    host = host.strip("[]") or DEFAULT_HOST
    if port and (not port.isdigit() or not 0 <= int(port) < 65536):
        raise ConfigError(
            f"--panel: bad port {port!r} in {text!r}; expected 0-65535 (0: any free port)"
        )
    return host, int(port) if port else None


def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # a taken default port must be noticed, not shared


class PanelServer:
    """Serves the page for one run; `close()` stops it and every open stream."""

    def __init__(
        self,
        monitor: Monitor,
        controls: Controls,
        host: str = DEFAULT_HOST,
        port: int | None = None,
    ) -> None:
        self.monitor, self.controls = monitor, controls
        self.token = secrets.token_urlsafe(18)
        self.closing = threading.Event()
        handler = type("Handler", (_Handler,), {"panel": self})
        self.httpd = self._bind(host, port, handler)
        self.host = host
        self.port = int(self.httpd.server_address[1])
        self._hosts = self._allowed_hosts()
        self._jpeg: tuple[int, dict[str, str] | None] = (-1, None)
        self._jpeg_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True,
            name="panel-server",
        )  # fmt: skip
        self._thread.start()

    @staticmethod
    def _bind(host: str, port: int | None, handler: type[_Handler]) -> _Server:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server = type("Server", (_Server,), {"address_family": family})
        try:
            return server((host, DEFAULT_PORT if port is None else port), handler)
        except OSError as e:
            if port is None and e.errno == errno.EADDRINUSE:
                return server((host, 0), handler)  # the default is taken: any free one
            raise ConfigError(f"--panel: cannot listen on {host}:{port} ({e.strerror})") from e

    def _allowed_hosts(self) -> set[str]:
        names = {self.host, "localhost", "127.0.0.1", "[::1]"}
        if ":" in self.host:
            names.add(f"[{self.host}]")
        return {f"{n}:{self.port}" for n in names}

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}/?token={self.token}"

    def host_ok(self, host: str | None) -> bool:
        if not host:
            return False
        if host in self._hosts:
            return True
        if self.host in ("0.0.0.0", "::"):  # bound to every address on purpose: IPs only
            name, _, port = host.rpartition(":")
            try:
                ipaddress.ip_address(name.strip("[]"))
            except ValueError:
                return False  # a DNS name could be a rebinding attacker's
            return port == str(self.port)
        return False

    def picture(self) -> dict[str, str] | None:
        """The newest camera picture for the stream, encoded once per frame for every tab:
        ``jpeg`` (base64, `JPEG_WIDTH` wide) and ``lm``, its landmarks as base64 uint16
        x, y pairs (0..65535 across the picture), which the page draws with the face box.
        Drawing on the page keeps the dots crisp and the encode cheaper (no dots in it)."""
        import cv2

        image, landmarks = self.monitor.picture()
        if image is None:
            return None
        key = id(image)
        with self._jpeg_lock:
            if self._jpeg[0] == key:
                return self._jpeg[1]
            h, w = image.shape[:2]
            scale = min(1.0, JPEG_WIDTH / w)
            # bilinear: reads only the rows it samples (INTER_AREA reads the whole frame,
            # cold in the caches: 0.7 against 0.12 ms for 960x540 -> 320 px)
            small = cv2.resize(image, (round(w * scale), round(h * scale)),
                               interpolation=cv2.INTER_LINEAR)  # fmt: skip
            cv2.cvtColor(small, cv2.COLOR_RGB2BGR, dst=small)  # in place: no new buffer
            ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                return None
            part = {"jpeg": base64.b64encode(buf.tobytes()).decode()}
            if landmarks is not None:
                xy = np.clip(landmarks * 65535.0 + 0.5, 0.0, 65535.0).astype("<u2")  # rounded
                part["lm"] = base64.b64encode(xy.tobytes()).decode()
            self._jpeg = (key, part)
            return part

    def info(self) -> dict[str, Any]:
        return {
            "shapes": list(ARKIT_NAMES),
            "pose": list(POSE_NAMES),
            "extras": list(EXTRA_NAMES),
            "channels": list(CHANNEL_NAMES[: len(ARKIT_NAMES) + len(POSE_NAMES)]),
            "channel_groups": list(CHANNEL_GROUP),
            "update_hz": UPDATE_HZ,
            "pictures": bool(getattr(self.monitor.pipeline.source, "needs_tracker", False)),
            "settings": self.controls.settings(),
            **self.controls.info(),
        }

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(2.0)


class _Handler(BaseHTTPRequestHandler):
    panel: PanelServer
    protocol_version = "HTTP/1.1"
    server_version = "avatar-driver-panel"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal belongs to the status line

    # -- checks -----------------------------------------------------------------------------

    def _refuse(self, code: int, why: str) -> None:
        body = (why + "\n").encode()
        self.close_connection = True  # an unread request body must not become the next one
        self.send_response(code)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _allowed(self) -> tuple[str, dict[str, list[str]]] | None:
        """(path, query) of an allowed request; otherwise the refusal is sent."""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        host = self.headers.get("Host")
        if not self.panel.host_ok(host):
            self._refuse(403, "forbidden: unknown Host")
            return None
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{host}":
            self._refuse(403, "forbidden: foreign Origin")
            return None
        token = self.headers.get("X-Panel-Token") or (query.get("token") or [""])[0]
        if not hmac.compare_digest(token.encode(), self.panel.token.encode()):
            self._refuse(403, "forbidden: missing or wrong token")
            return None
        return parts.path, query

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", _CSP)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: Any, code: int = 200) -> None:
        self._send(code, json.dumps(data).encode(), "application/json")

    # -- routes -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        allowed = self._allowed()
        if allowed is None:
            return
        path, query = allowed
        if path in ("/", "/index.html"):
            html = _static("index.html").decode().replace("{{TOKEN}}", self.panel.token)
            self._send(200, html.encode(), "text/html; charset=utf-8")
        elif path.lstrip("/") in _STATIC:
            name = path.lstrip("/")
            self._send(200, _static(name), _STATIC[name] + "; charset=utf-8")
        elif path == "/api/info":
            self._json(self.panel.info())
        elif path == "/events":
            self._events(query)
        else:
            self._refuse(404, "not found")

    def do_POST(self) -> None:
        allowed = self._allowed()
        if allowed is None:
            return
        path, _ = allowed
        if path != "/api/control":
            self._refuse(404, "not found")
            return
        if self.headers.get_content_type() != "application/json":
            self._refuse(415, "expected application/json")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self._refuse(413, f"expected a JSON body of at most {MAX_BODY} bytes")
            return
        try:
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
        except ValueError as e:
            self._json({"ok": False, "message": f"bad request: {e}"}, 400)
            return
        try:
            message = self.panel.controls.handle(body)
        except AvatarDriverError as e:
            self._json({"ok": False, "message": str(e)}, 400)
            return
        self._json({"ok": True, "message": message, "settings": self.panel.controls.settings()})

    def _events(self, query: dict[str, list[str]]) -> None:
        """The live stream: one JSON snapshot per event at `UPDATE_HZ` (at most one per
        frame) while the tab is open, each sent right after the first new frame finished at
        or after its due time (or `STALLED_S` later if none comes: a stalled source still
        shows its state)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        monitor, panel = self.panel.monitor, self.panel
        monitor.connect()
        since = monitor.seq
        period = 1.0 / UPDATE_HZ
        due = time.perf_counter()
        n = 0
        pictures = bool(getattr(monitor.pipeline.source, "needs_tracker", False))
        try:
            while not panel.closing.is_set():
                slow: dict[str, Any] | None = None
                if n % FULL_EVERY == 0:
                    slow = {**monitor.slow_part(), "settings": panel.controls.settings()}
                n += 1
                if pictures and n % PICTURE_EVERY == 1 and (picture := panel.picture()):
                    slow = {**(slow or {}), **picture}
                sent_frame = monitor.frame_at
                data, since = monitor.event_json(since, slow=slow)
                self.connection.sendall(f"data: {data}\n\n".encode())  # unbuffered anyway
                due += period
                now = time.perf_counter()
                if due < now - period:  # fell behind (a stall): start again from now
                    due = now
                # a newer frame than this event's, and none before the due time
                monitor.frame_after(max(due, sent_frame + 1e-6), timeout=STALLED_S)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the tab was closed
        finally:
            monitor.disconnect()
