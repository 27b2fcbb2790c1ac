"""Unreal Live Link: Live Link Face packets to 127.0.0.1:11111, so Unreal sees an iPhone.

Subject name and device id are settable (``--livelink-subject``, ``--livelink-device-id``);
the defaults fit every receiver we know of (see `codecs.livelink`).
"""

from __future__ import annotations

from typing import Any

from ..codecs.livelink import DEFAULT_DEVICE_ID, DEFAULT_SUBJECT, LiveLinkEncoder
from ..errors import OutputError
from ..frame import Frame
from .base import OutputOptions, register_output
from .udp import UdpOutput

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "LiveLinkOutput"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11111


@register_output("livelink", "Unreal Live Link Face packets (default 127.0.0.1:11111)")
class LiveLinkOutput(UdpOutput):
    kind = "livelink"
    default_port = DEFAULT_PORT

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        subject: str = DEFAULT_SUBJECT,
        device_id: str = DEFAULT_DEVICE_ID,
        fps: float = 60.0,
    ) -> None:
        try:
            self.encoder = LiveLinkEncoder(device_id=device_id, subject=subject, fps=fps)
        except ValueError as e:
            raise OutputError(f"livelink: {e}") from e
        super().__init__(host=host, port=port)

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> LiveLinkOutput:
        host, port = cls.address(target)
        extra: dict[str, Any] = options.extra
        return cls(
            host=host,
            port=port,
            subject=str(extra.get("livelink_subject") or DEFAULT_SUBJECT),
            device_id=str(extra.get("livelink_device_id") or DEFAULT_DEVICE_ID),
            fps=options.fps or 60.0,
        )

    def encode(self, frame: Frame) -> bytes:
        return self.encoder.encode(frame)

    def send(self, frame: Frame) -> None:
        self.transmit((self.encoder.encode(frame),))
