"""A non-blocking UDP sender: a full buffer or an unreachable peer is counted, not raised."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from ..errors import OutputError
from .base import OutputStats

__all__ = ["UdpSender"]


class UdpSender:
    """Sends datagrams to one address; errors go to the given stats."""

    def __init__(self, host: str, port: int, stats: OutputStats, *, kind: str) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except socket.gaierror as e:
            raise OutputError(f"{kind}: cannot resolve host {host!r} ({e})") from e
        family, _, _, _, address = infos[0]
        self.address = address
        self.stats = stats
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)

    def send(self, datagrams: Iterable[bytes]) -> bool:
        """Send all; returns False (and counts the error) if any send failed."""
        sock, addr = self._sock, self.address
        sent = 0
        try:
            for dgram in datagrams:
                sock.sendto(dgram, addr)
                sent += 1
        except OSError as e:
            self.stats.datagrams += sent
            self.stats.failed(e)
            return False
        self.stats.datagrams += sent
        return True

    def close(self) -> None:
        self._sock.close()
