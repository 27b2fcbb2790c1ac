"""VRChat over OSC: avatar parameters to 127.0.0.1:9000 by default.

Each frame the mapping turns channels into parameter values and a precompiled packer
writes them into bundles under 4096 bytes (see codecs.osc), sent in one burst.
"""

from __future__ import annotations

from ..codecs.osc import OscPacker
from ..frame import Frame
from ..mapping import CompiledMapping, perfect_sync_mapping
from .base import OutputBase, OutputOptions, parse_host_port, register_output
from .udp import UdpSender

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "VRChatOutput"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000


@register_output("vrchat", "VRChat OSC avatar parameters (default 127.0.0.1:9000)")
class VRChatOutput(OutputBase):
    kind = "vrchat"

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        mapping: CompiledMapping | None = None,
    ) -> None:
        super().__init__(target=f"{host}:{port}")
        self.mapping = mapping or perfect_sync_mapping()
        self._packer = OscPacker(self.mapping.addresses, self.mapping.types)
        self._udp = UdpSender(host, port, self.stats, kind=self.kind)

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> VRChatOutput:
        host, port = parse_host_port(target, host=DEFAULT_HOST, port=DEFAULT_PORT, kind="vrchat")
        return cls(host=host, port=port)

    def set_mapping(self, mapping: CompiledMapping) -> None:
        """Swap the mapping (hot reload); the packer is rebuilt once, here."""
        self._packer = OscPacker(mapping.addresses, mapping.types)
        self.mapping = mapping

    def encode(self, frame: Frame) -> list[bytes]:
        """The datagrams for one frame (pure: no sending)."""
        return self._packer.pack(self.mapping.apply(frame.channels()))

    def send(self, frame: Frame) -> None:
        if self._udp.send(self.encode(frame)):
            self.stats.frames_sent += 1

    def _close(self) -> None:
        self._udp.close()
