"""Mapping: from canonical channels to an avatar's named, typed parameters.

`load_mapping("vrchat-unified-v2")` or `load_mapping(path)` gives a `CompiledMapping`;
`apply(channels)` is the per-frame call; `new_state()` holds what an output remembers.
"""

from .compile import compile_mapping
from .compiled import CompiledMapping
from .loader import load_mapping, perfect_sync_mapping, preset_names, preset_path
from .schema import MappingFile, parse_mapping
from .state import MappingState
from .wires import Entry, Wire

__all__ = [
    "CompiledMapping",
    "Entry",
    "MappingFile",
    "MappingState",
    "Wire",
    "compile_mapping",
    "load_mapping",
    "parse_mapping",
    "perfect_sync_mapping",
    "preset_names",
    "preset_path",
]
