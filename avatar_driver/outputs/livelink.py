"""Unreal Live Link: Live Link Face packets to 127.0.0.1:11111, so Unreal sees an iPhone.

Subject name and device id are settable (``--livelink-subject``, ``--livelink-device-id``,
or ``subject``/``device_id`` in ``[output.livelink]``);
the defaults fit every receiver we know of (see `codecs.livelink`).
"""

from __future__ import annotations

from pydantic import field_validator

from ..codecs.livelink import DEFAULT_DEVICE_ID, DEFAULT_SUBJECT, MAX_TEXT, LiveLinkEncoder
from ..errors import OutputError
from ..frame import Frame
from .base import OutputOptions, OutputSettings, register_output, settings_for
from .udp import UdpOutput

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "LiveLinkOutput"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11111


class LiveLinkOptions(OutputSettings):
    """`--livelink-*` / `[output.livelink]`: the subject name and device id Unreal sees."""

    subject: str = DEFAULT_SUBJECT
    device_id: str = DEFAULT_DEVICE_ID

    @field_validator("subject", "device_id", mode="before")
    @classmethod
    def _text(cls, v: object) -> str:
        if not isinstance(v, str) or not 1 <= len(v) <= MAX_TEXT:
            raise ValueError(f"expected text of 1 to {MAX_TEXT} characters, got {v!r}")
        return v


@register_output("livelink", "Unreal Live Link Face packets (default 127.0.0.1:11111)")
class LiveLinkOutput(UdpOutput):
    kind = "livelink"
    default_port = DEFAULT_PORT
    Options = LiveLinkOptions
    flag_prefix = "livelink"

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
        settings = settings_for(options, LiveLinkOptions)
        return cls(
            host=host,
            port=port,
            subject=settings.subject,
            device_id=settings.device_id,
            fps=options.fps or 60.0,
        )

    def encode(self, frame: Frame) -> bytes:
        return self.encoder.encode(frame)

    def send(self, frame: Frame) -> None:
        self.transmit((self.encoder.encode(frame),))
