"""VMC protocol for Unity (EVMC4U), VSeeFace, Warudo, VNyan, and the Blender add-on.

``vmc`` sends perfect-sync PascalCase names to 127.0.0.1:39539 (the Marionette default);
``blender`` sends lowerCamel ARKit names to 127.0.0.1:39540, the add-on's own VMC port.
The mapping (a preset, or ``--mapping FILE``, reloaded when the file changes) decides names
and values; a precompiled packer (`codecs.vmc.VmcPacker`) writes them, so a frame costs
microseconds.
"""

from __future__ import annotations

from ..codecs.vmc import VmcPacker
from ..frame import Frame
from ..mapping import CompiledMapping, perfect_sync_mapping
from ..mapping.binding import MappingBinding, bind_mapping
from .base import OutputOptions, register_output
from .udp import UdpOutput

__all__ = [
    "BLENDER_PORT",
    "DEFAULT_HOST",
    "VMC_PORT",
    "BlenderOutput",
    "VmcOutput",
]

DEFAULT_HOST = "127.0.0.1"
VMC_PORT = 39539
BLENDER_PORT = 39540


@register_output("vmc", "VMC protocol, perfect-sync names (default 127.0.0.1:39539)")
class VmcOutput(UdpOutput):
    kind = "vmc"
    uses_mapping = True
    default_port = VMC_PORT
    preset = "vmc-perfect-sync"
    pascal_case = True

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int | None = None,
        mapping: CompiledMapping | None = None,
        binding: MappingBinding | None = None,
    ) -> None:
        super().__init__(host=host, port=self.default_port if port is None else port)
        if binding is not None:
            mapping = binding.current
        self.mapping = mapping or perfect_sync_mapping("", pascal_case=self.pascal_case)
        self.binding = binding or MappingBinding(self.mapping)
        self._packer = VmcPacker(self.mapping.names)

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> VmcOutput:
        host, port = cls.address(target)
        binding = bind_mapping(options.mapping, cls.preset, who=cls.kind)
        try:
            return cls(host=host, port=port, binding=binding)
        except BaseException:
            binding.close()
            raise

    def set_mapping(self, mapping: CompiledMapping) -> None:
        """Swap the mapping (hot reload); the packer is rebuilt once, here."""
        self._packer = VmcPacker(mapping.names)
        self.mapping = mapping

    def encode(self, frame: Frame) -> list[bytes]:
        """The datagrams for one frame (pure: no sending)."""
        return self._packer.encode(frame, self.mapping.apply(frame.channels()))

    def send(self, frame: Frame) -> None:
        fresh = self.binding.take()
        if fresh is not None:
            self.set_mapping(fresh)
        self.transmit(self.encode(frame))

    def _close(self) -> None:
        self.binding.close()
        super()._close()


@register_output("blender", "the Blender add-on's VMC stream (default 127.0.0.1:39540)")
class BlenderOutput(VmcOutput):
    kind = "blender"
    default_port = BLENDER_PORT
    preset = "blender-arkit"
    pascal_case = False
