"""What every output is, the name -> class registry, and target parsing.

Outputs are small classes with keyword-only constructors; `close()` runs once; every one
is a context manager. A failing send is counted in `stats`, never raised: one broken
output must not stall the others.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..closing import ClosesOnce
from ..errors import OutputError
from ..frame import Frame
from ..registry import Registry

__all__ = [
    "OUTPUTS",
    "OutputBase",
    "OutputOptions",
    "OutputStats",
    "create_output",
    "output_kinds",
    "parse_host_port",
    "register_output",
]


@dataclass
class OutputStats:
    frames_sent: int = 0
    errors: int = 0
    last_error: str = ""
    datagrams: int = 0  # network outputs: datagrams handed to the OS

    def failed(self, error: BaseException) -> None:
        self.errors += 1
        self.last_error = f"{type(error).__name__}: {error}"


@dataclass
class OutputOptions:
    """Run-wide settings an output may use (each output takes what it needs)."""

    mapping: str | None = None
    fps: float = 30.0
    extra: dict[str, Any] = field(default_factory=dict)


class OutputBase(ClosesOnce):
    """What every output is: `kind`, `target`, `stats`, `send`, `finish`, `close` (once),
    a context manager; `finish` sends by default. Contract in docs/stages.md."""

    kind = "output"
    #: True for outputs that show the camera picture (the virtual camera's debug view), so
    #: low-power idling must not drop the pixels of untracked frames.
    needs_image = False
    #: True for outputs whose names and values come from a mapping (`--mapping`), held in a
    #: `mapping.binding.MappingBinding`; a run whose outputs all say False refuses `--mapping`.
    uses_mapping = False

    def __init__(self, *, target: str = "") -> None:
        self.target = target
        self.stats = OutputStats()

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> OutputBase:
        """Build from the command line's TARGET (None when left out) and the run's options."""
        raise NotImplementedError  # pragma: no cover - abstract

    def send(self, frame: Frame) -> None:  # pragma: no cover - abstract
        """Deliver one frame; failures go to `stats`, never raise."""
        raise NotImplementedError

    def finish(self, frame: Frame) -> None:
        """The last frame before closing (the neutral face on stop)."""
        self.send(frame)

    def describe(self) -> str:
        return f"{self.kind}:{self.target}" if self.target else self.kind


#: Every output kind by its command-line name (`--output KIND[:TARGET]`).
OUTPUTS: Registry[type[OutputBase]] = Registry("output kind", OutputError)
T = TypeVar("T", bound=type[OutputBase])


def register_output(kind: str, help: str = "") -> Callable[[T], T]:
    """Class decorator: `kind` on the command line builds the class via `from_spec`."""
    return OUTPUTS.register(kind, help)


def output_kinds() -> dict[str, str]:
    """Registered output kinds and their one-line help."""
    return {name: OUTPUTS.help(name) for name in OUTPUTS}


def create_output(spec: str, options: OutputOptions) -> OutputBase:
    """Build an output from ``KIND[:TARGET]``."""
    kind, sep, target = spec.partition(":")
    cls = OUTPUTS.get(kind.strip().lower(), spec=spec)
    return cls.from_spec(target if sep else None, options)


def parse_host_port(target: str | None, *, host: str, port: int, kind: str) -> tuple[str, int]:
    """``PORT``, ``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` with defaults for what is left out."""
    if not target:
        return host, port
    text = target.strip()
    h, p = host, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise OutputError(f"{kind}: bad address {target!r}; expected [IPv6]:PORT")
        h, p = text[1:end], text[end + 1 :].lstrip(":")
    elif text.isdigit():
        p = text
    elif text.count(":") == 1:
        h, p = text.split(":")
    elif text.count(":") > 1:
        h = text  # a bare IPv6 address
    else:
        h = text
    if p:
        if not p.isdigit() or not 1 <= int(p) <= 65535:
            raise OutputError(f"{kind}: bad port {p!r} in {target!r}; expected 1-65535")
        port = int(p)
    if not h:
        raise OutputError(f"{kind}: empty host in {target!r}")
    try:
        ipaddress.ip_address(h)
    except ValueError:
        if not all(part.isalnum() or "-" in part for part in h.split(".")):
            raise OutputError(f"{kind}: bad host {h!r} in {target!r}") from None
    return h, port
