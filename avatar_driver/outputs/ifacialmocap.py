"""iFacialMocap's text stream to 127.0.0.1:49983, for tools that accept that phone app.

Frames are what the app sends a receiver that asked for protocol v2 (``&``, mirrored
side labels, see `codecs.ifacialmocap`); the app's TCP mode is not offered.
"""

from __future__ import annotations

from ..codecs.ifacialmocap import encode_ifacialmocap
from ..frame import Frame
from .base import OutputOptions, register_output
from .udp import UdpOutput

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "IFacialMocapOutput"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 49983


@register_output("ifacialmocap", "iFacialMocap text frames (default 127.0.0.1:49983)")
class IFacialMocapOutput(UdpOutput):
    kind = "ifacialmocap"
    default_port = DEFAULT_PORT

    def __init__(self, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        super().__init__(host=host, port=port)

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> IFacialMocapOutput:
        host, port = cls.address(target)
        return cls(host=host, port=port)

    def send(self, frame: Frame) -> None:
        self.transmit((encode_ifacialmocap(frame),))
