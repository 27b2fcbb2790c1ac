"""What every output is, the name -> class registry, typed options, and target parsing.

Outputs are small classes with keyword-only constructors; `close()` runs once; every one
is a context manager. A failing send is counted in `stats`, never raised: one broken
output must not stall the others.

An output with settings of its own declares them as `Options`, a small pydantic model
(`OutputSettings`), and the `flag_prefix` of their command-line flags (``--vcam-size`` is
the virtual camera's ``size``). They come from the command line over the config file's
``[output.KIND]`` table over the model's defaults (`merge_settings`), each layer validated
once before anything opens; `from_spec` reads them typed, from `OutputOptions.settings`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..closing import ClosesOnce
from ..errors import ConfigError, OutputError
from ..frame import Frame
from ..registry import Registry

__all__ = [
    "OUTPUTS",
    "OutputBase",
    "OutputOptions",
    "OutputSettings",
    "OutputStats",
    "create_output",
    "flag_settings",
    "merge_settings",
    "output_kinds",
    "parse_host_port",
    "register_output",
    "settings_for",
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


class OutputSettings(BaseModel):
    """Base of every output's `Options`: frozen, every key optional, an unknown key an
    error. Validators raise ValueError("expected ..., got ...") in our words: the message
    is shown after the flag (``--vcam-size: ...``) or the file, table and key."""

    model_config = ConfigDict(extra="forbid", frozen=True)


S = TypeVar("S", bound=OutputSettings)


@dataclass
class OutputOptions:
    """What one output is built from besides its target: the run's mapping choice for it,
    the source's frame rate, and its own typed options (None: the defaults)."""

    mapping: str | None = None
    fps: float = 30.0
    settings: OutputSettings | None = None


def settings_for(options: OutputOptions, model: type[S]) -> S:
    """`options.settings` as the output's own `Options` (its defaults when None)."""
    given = options.settings
    if given is None:
        return model()
    if not isinstance(given, model):
        raise TypeError(f"expected {model.__name__} settings, got {type(given).__name__}")
    return given


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
    #: This output's own settings (a pydantic model), or None when it has none.
    Options: ClassVar[type[OutputSettings] | None] = None
    #: Its command-line flags are ``--{flag_prefix}-{key}`` (``--vcam-size``).
    flag_prefix: ClassVar[str] = ""

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


def flag_name(cls: type[OutputBase], key: str) -> str:
    """The command-line flag of one option (``--vcam-size``)."""
    return f"--{cls.flag_prefix}-{key.replace('_', '-')}"


def flag_settings(values: Mapping[str, Any]) -> dict[str, OutputSettings]:
    """Each output kind's options set on the command line, validated.

    `values` are the parsed arguments by argparse dest (``vcam_size``; None: not given).
    A bad value is a ConfigError naming the flag: ``--vcam-size: expected WxH, got 'x'``.
    """
    from ..config import problem  # pydantic's wording turned into ours

    out: dict[str, OutputSettings] = {}
    for kind, cls in OUTPUTS.items():
        if cls.Options is None:
            continue
        given = {
            key: values[dest]
            for key in cls.Options.model_fields
            if values.get(dest := f"{cls.flag_prefix}_{key}") is not None
        }
        try:
            out[kind] = cls.Options.model_validate(given)
        except ValidationError as e:
            err = e.errors()[0]
            key = str(err["loc"][0]) if err["loc"] else ""
            raise ConfigError(problem(err, where=flag_name(cls, key))) from e
    return out


def merge_settings(kind: str, *layers: BaseModel | None) -> OutputSettings | None:
    """One kind's options: each layer's keys that were set, later layers winning (the
    config file's table, then the command line), over the defaults. Keys a layer has
    that are not options (a table's ``mapping``) are left to their own users."""
    model = OUTPUTS.get(kind).Options
    if model is None:
        return None
    chosen: dict[str, Any] = {}
    for layer in layers:
        if layer is not None:
            chosen.update(
                (k, getattr(layer, k)) for k in layer.model_fields_set if k in model.model_fields
            )
    return model.model_validate(chosen)


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
