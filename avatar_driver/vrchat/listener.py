"""Listen for VRChat's ``/avatar/change`` on its output port (127.0.0.1:9001 by default).

A daemon thread owns one UDP socket. Input is untrusted: datagrams are read into a bounded
buffer, anything that does not decode is counted and ignored, and a failing callback is
counted too; nothing received can stop the thread except `close()`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from ..codecs.osc import OscError, decode_packet

__all__ = ["MAX_PACKET", "AvatarChangeListener"]

MAX_PACKET = 8192
AVATAR_CHANGE = "/avatar/change"
_CHANGE_BYTES = AVATAR_CHANGE.encode()


class AvatarChangeListener:
    """Calls `on_change(avatar_id)` (from its own thread) for each ``/avatar/change``.

    `only_changes` skips, before decoding, every datagram that cannot hold an
    ``/avatar/change``: VRChat also sends the apps it finds by OSCQuery every parameter
    change (ours echoed back, 60 times a second), and decoding those would take GIL time
    from the hot path for nothing.
    """

    def __init__(
        self,
        host: str,
        port: int,
        on_change: Callable[[str], None],
        *,
        only_changes: bool = False,
    ) -> None:
        self._sock = socket.socket(
            socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM
        )
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self._sock.settimeout(0.2)
        self.address = self._sock.getsockname()[:2]
        self.on_change = on_change
        self.only_changes = only_changes
        self.packets = 0
        self.skipped = 0
        self.decode_errors = 0
        self.callback_errors = 0
        self.changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="vrchat-avatar-listener", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        sock = self._sock
        while not self._stop.is_set():
            try:
                data = sock.recv(MAX_PACKET)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            self.packets += 1
            if self.only_changes and _CHANGE_BYTES not in data:
                self.skipped += 1
                continue
            try:
                messages = decode_packet(data)
            except OscError:
                self.decode_errors += 1
                continue
            for address, args in messages:
                if address == AVATAR_CHANGE:
                    if not args or not isinstance(args[0], str):
                        self.decode_errors += 1
                        continue
                    self.changes += 1
                    try:
                        self.on_change(args[0])
                    except Exception:  # the owner's bug must not kill the listener
                        self.callback_errors += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._sock.close()
