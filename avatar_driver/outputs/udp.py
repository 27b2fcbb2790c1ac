"""UDP for the network outputs: a non-blocking sender (a full buffer or an unreachable
peer is counted, not raised) and the base class every network output shares."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence

from ..errors import OutputError
from .base import OutputBase, OutputStats, parse_host_port

__all__ = ["UdpOutput", "UdpSender"]


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


class UdpOutput(OutputBase):
    """An output that sends each frame as datagrams to one host:port.

    Subclasses set `kind` and `default_port`, build their datagrams, and call `transmit`.
    """

    default_host = "127.0.0.1"
    default_port = 0

    def __init__(self, *, host: str, port: int) -> None:
        super().__init__(target=f"{host}:{port}")
        self._udp = UdpSender(host, port, self.stats, kind=self.kind)

    @classmethod
    def address(cls, target: str | None) -> tuple[str, int]:
        """``[HOST:]PORT`` from the command line, with this output's defaults."""
        return parse_host_port(target, host=cls.default_host, port=cls.default_port, kind=cls.kind)

    def transmit(self, datagrams: Sequence[bytes]) -> None:
        """Send one frame. It counts as sent unless a send failed (an empty list is a frame
        with nothing new to say, which is not a failure)."""
        if not datagrams or self._udp.send(datagrams):
            self.stats.frames_sent += 1

    def _close(self) -> None:
        self._udp.close()
