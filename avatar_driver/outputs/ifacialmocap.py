"""iFacialMocap's text stream to 127.0.0.1:49983, for tools that accept that phone app."""

from __future__ import annotations

from ..codecs.ifacialmocap import encode_ifacialmocap
from ..frame import Frame
from .base import OutputBase, OutputOptions, parse_host_port, register_output
from .udp import UdpSender

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "IFacialMocapOutput"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 49983


@register_output("ifacialmocap", "iFacialMocap text frames (default 127.0.0.1:49983)")
class IFacialMocapOutput(OutputBase):
    kind = "ifacialmocap"

    def __init__(self, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        super().__init__(target=f"{host}:{port}")
        self._udp = UdpSender(host, port, self.stats, kind=self.kind)

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> IFacialMocapOutput:
        host, port = parse_host_port(target, host=DEFAULT_HOST, port=DEFAULT_PORT, kind=cls.kind)
        return cls(host=host, port=port)

    def send(self, frame: Frame) -> None:
        if self._udp.send((encode_ifacialmocap(frame),)):
            self.stats.frames_sent += 1

    def _close(self) -> None:
        self._udp.close()
