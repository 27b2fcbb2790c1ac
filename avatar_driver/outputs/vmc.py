"""VMC protocol for Unity (EVMC4U), VSeeFace, Warudo, VNyan, and the Blender add-on.

``vmc`` sends perfect-sync PascalCase names to 127.0.0.1:39539 (the Marionette default);
``blender`` sends lowerCamel ARKit names to 127.0.0.1:39540, the add-on's own VMC port.
The mapping (a preset, or ``--mapping FILE``, reloaded when the file changes) decides names
and values; a precompiled packer (`codecs.vmc.VmcPacker`) writes them, so a frame costs
microseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from pydantic import field_validator

from ..codecs.vmc import HEAD_POSITION, VmcPacker
from ..frame import Frame
from ..mapping import CompiledMapping, perfect_sync_mapping
from ..mapping.binding import MappingBinding, load_bound
from .base import OutputOptions, OutputSettings, register_output, settings_for
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


def parse_position(value: object) -> tuple[float, float, float]:
    """``X,Y,Z`` text or three numbers (metres) as three finite floats within 10 m;
    ValueError otherwise."""
    parts: tuple[float, ...] = ()
    try:
        if isinstance(value, str):
            parts = tuple(float(v) for v in value.split(","))
        elif isinstance(value, list | tuple) and not any(isinstance(v, bool) for v in value):
            parts = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        parts = ()
    if len(parts) != 3 or not all(math.isfinite(v) and abs(v) <= 10.0 for v in parts):
        raise ValueError(f"expected X,Y,Z in metres like 0,0.08,0, got {value!r}")
    return parts[0], parts[1], parts[2]


class VmcOptions(OutputSettings):
    """`--vmc-*` / `[output.vmc]`, `[output.blender]`: the Head bone's local position."""

    head_position: tuple[float, float, float] = HEAD_POSITION

    @field_validator("head_position", mode="before")
    @classmethod
    def _position(cls, v: object) -> tuple[float, float, float]:
        return parse_position(v)


class _Wiring(NamedTuple):
    """A mapping and the packer for its names: built together (on the binding's watcher
    thread for a reload) and swapped in whole."""

    mapping: CompiledMapping
    packer: VmcPacker


@register_output("vmc", "VMC protocol, perfect-sync names (default 127.0.0.1:39539)")
class VmcOutput(UdpOutput):
    kind = "vmc"
    uses_mapping = True
    default_port = VMC_PORT
    preset = "vmc-perfect-sync"
    pascal_case = True
    Options = VmcOptions
    flag_prefix = "vmc"  # blender's too: --vmc-head-position

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int | None = None,
        mapping: CompiledMapping | None = None,
        mapping_path: str | Path | None = None,
        head_position: Sequence[float] = HEAD_POSITION,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(host=host, port=self.default_port if port is None else port)
        self.head_position = tuple(head_position)
        base = mapping or perfect_sync_mapping("", pascal_case=self.pascal_case)
        self.binding = MappingBinding(base, self._wiring, path=mapping_path, who=self.kind, log=log)
        self.mapping, self._packer = self.binding.prepared

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> VmcOutput:
        host, port = cls.address(target)
        head = settings_for(options, VmcOptions).head_position
        mapping, path = load_bound(options.mapping, cls.preset)
        return cls(host=host, port=port, mapping=mapping, mapping_path=path, head_position=head)

    def _wiring(self, mapping: CompiledMapping) -> _Wiring:
        return _Wiring(mapping, VmcPacker(mapping.names, head_position=self.head_position))

    def encode(self, frame: Frame) -> list[bytes]:
        """The datagrams for one frame (pure: no sending)."""
        return self._packer.encode(frame, self.mapping.apply(frame.channels()))

    def send(self, frame: Frame) -> None:
        fresh = self.binding.take()
        if fresh is not None:  # prepared on the watcher thread: only the swap is here
            self.mapping, self._packer = fresh
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
