"""Mapping: from canonical channels to an avatar's named, typed parameters."""

from .compiled import CompiledMapping, perfect_sync_mapping

__all__ = ["CompiledMapping", "perfect_sync_mapping"]
