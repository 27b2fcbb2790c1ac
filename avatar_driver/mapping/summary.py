"""Readable summaries of a compiled mapping (`avatar-driver mapping show`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .compiled import CompiledMapping

__all__ = ["describe"]


def describe(mapping: CompiledMapping) -> str:
    """A readable summary: each entry, its source, type and ranges."""
    lines = [
        f"{mapping.source}: {len(mapping.entries)} parameters, {len(mapping.wires)} on the wire"
    ]
    for name, text in mapping.derived:
        lines.append(f"  derived {name} = {text}")
    width = max((len(e.name) for e in mapping.entries), default=0)
    for e in mapping.entries:
        kind = e.type
        if e.type == "binary":
            kind = f"binary {e.bits} bits" + (" + Negative" if e.negative else "")
        elif e.type == "bool":
            kind = f"bool > {e.threshold:g} (hysteresis {e.hysteresis:g})"
        (a, b), (c, d) = e.in_range, e.out_range
        rng = f"[{a:g}, {b:g}] -> [{c:g}, {d:g}]"
        extra = "" if e.curve == "linear" else f" curve {e.curve}"
        extra += "" if e.clamp else " unclamped"
        lines.append(f"  {e.name:<{width}}  {kind:<8}  {rng}{extra}  <- {e.source}  @ {e.address}")
    return "\n".join(lines)
