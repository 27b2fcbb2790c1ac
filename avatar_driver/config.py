"""The optional TOML config file (`--config`): data only, size-limited, typed, validated early.

`load_config(path)` reads the file into `ConfigFile`: an unknown table or key, or a value
of the wrong kind, is a `ConfigError` naming the file and the key (exit 2), before any
camera or socket is opened. Settings come from the command line over the file over the
defaults (`ConfigFile.dynamics_name`; outputs: `outputs.base.merge_settings`, and
`[output.KIND] mapping` under ``--mapping``). The `[output.KIND]` tables are the outputs'
own `Options` models, found through the output registry. `problem()` turns a pydantic
error into our words for every format validated with pydantic (config, calibration
profile, output options).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import ErrorDetails

from .errors import ConfigError
from .outputs import OUTPUTS
from .outputs.base import OutputBase, OutputSettings
from .tomlfile import read_toml

__all__ = ["MAX_CONFIG_BYTES", "ConfigFile", "load_config", "load_toml", "problem"]

MAX_CONFIG_BYTES = 1 << 20
_WORDS = (
    ("a valid dictionary", "a table"),
    ("a valid string", "text"),
    ("a valid number", "a number"),
    ("a valid integer", "a whole number"),
    ("a valid tuple", "a list"),
    ("a valid list", "a list"),
)


def load_toml(path: str | Path, *, what: str = "config file") -> dict[str, Any]:
    """Read a TOML file into a dict; ConfigError names the file and the problem."""
    return read_toml(path, what=what, limit=MAX_CONFIG_BYTES, error=ConfigError)


def problem(
    err: ErrorDetails,
    fields: dict[tuple[str | int, ...], list[str]] | None = None,
    *,
    where: str | None = None,
) -> str:
    """One pydantic error as ``key: what was expected, got what`` (our words, not
    pydantic's). `fields` lists the keys allowed where an unknown one was found; `where`
    names the place instead of the key path (a command-line flag)."""
    loc = tuple(err["loc"])
    where = where or ".".join(str(x) for x in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = (fields or {}).get(loc[:-1])
        hint = f"; expected one of {', '.join(allowed)}" if allowed else ""
        return f"{where}: unknown key{hint}"
    if kind == "missing" and loc and isinstance(loc[-1], int):
        parent = ".".join(str(x) for x in loc[:-1])
        return f"{parent}: too few items (item {loc[-1] + 1} is missing)"
    if kind == "missing":
        return f"{where}: missing"
    msg = err["msg"].removeprefix("Value error, ")
    if msg.startswith("Input should be "):
        wanted = re.sub(r" or instance of \w+", "", msg.removeprefix("Input should be "))
        wanted = wanted.split(",")[0]
        for theirs, ours in _WORDS:
            wanted = wanted.replace(theirs, ours)
        msg = f"expected {wanted}, got {err.get('input')!r}"
    return f"{where}: {msg}"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DynamicsTable(BaseModel):
    """`[dynamics]`: the default filter's name here; the face-loss keys and group tables
    are checked (with their own messages) by `dynamics.make_dynamics`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str | None = None  # checked with the rest by `load_config` (`_check_dynamics`)


class SolverTable(_Table):
    """`[solver]`: `[solver.gain]` group = factor (checked by the solver's `check_gain`)."""

    gain: dict[str, Any] | None = None

    @field_validator("gain")
    @classmethod
    def _gain(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        from .solver.calibration import check_gain

        return None if v is None else check_gain(v)


def _output_table(kind: str, cls: type[OutputBase]) -> type[BaseModel] | None:
    """`[output.KIND]`: the output's own options, and ``mapping`` if it uses one."""
    base: type[BaseModel] | None = cls.Options
    if not cls.uses_mapping:
        return base
    return create_model(
        f"{kind.capitalize()}Table",
        __base__=base or OutputSettings,
        mapping=(str | None, None),
    )


#: `[output]`: one table per output kind that has options or a mapping (the registry's).
OutputTables: type[BaseModel] = create_model(
    "OutputTables",
    __base__=_Table,
    **{  # type: ignore[call-overload]
        kind: (table | None, None)
        for kind, cls in OUTPUTS.items()
        if (table := _output_table(kind, cls)) is not None
    },
)


class ConfigFile(_Table):
    """The whole config file; every table optional."""

    dynamics: DynamicsTable = DynamicsTable()
    solver: SolverTable = SolverTable()
    output: OutputTables = OutputTables()  # type: ignore[valid-type]
    _path: Path | None = PrivateAttr(default=None)

    @property
    def origin(self) -> str | None:
        """``config file PATH`` for error messages about values read from the file."""
        return f"config file {self._path}" if self._path is not None else None

    def dynamics_name(self, command_line: str | None) -> str:
        """The command line over the file over the default."""
        from .dynamics import DEFAULT_DYNAMICS

        return command_line or self.dynamics.name or DEFAULT_DYNAMICS

    def dynamics_params(self) -> dict[str, Any] | None:
        """The `[dynamics]` settings for `make_dynamics` (the name is already chosen)."""
        extra = dict(self.dynamics.model_extra or {})
        return extra or None

    def output_table(self, kind: str) -> BaseModel | None:
        """`[output.KIND]` as read (only the keys the file sets count), or None."""
        table: BaseModel | None = getattr(self.output, kind, None)
        return table

    def output_mappings(self) -> dict[str, str]:
        """`[output.KIND] mapping = ...` by kind: a preset name, or a file (a relative
        path is the config file's folder's)."""
        found: dict[str, str] = {}
        for kind in OutputTables.model_fields:
            spec = getattr(self.output_table(kind), "mapping", None)
            if spec is not None:
                path = Path(spec).expanduser()
                if self._path is not None and not path.is_absolute():
                    beside = self._path.parent / path
                    spec = str(beside) if beside.is_file() else spec
                found[kind] = spec
        return found


_FIELDS: dict[tuple[str | int, ...], list[str]] = {
    (): list(ConfigFile.model_fields),
    ("solver",): list(SolverTable.model_fields),
    ("output",): list(OutputTables.model_fields),
    **{
        ("output", kind): list(field.annotation.__args__[0].model_fields)  # type: ignore[union-attr]
        for kind, field in OutputTables.model_fields.items()
    },
}


def load_config(path: str | Path) -> ConfigFile:
    """Read and check a config file; ConfigError names the file and the key."""
    data = load_toml(path)
    where = Path(path).expanduser()
    try:
        config = ConfigFile.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"config file {where}: {problem(e.errors()[0], _FIELDS)}") from e
    config._path = where
    _check_dynamics(config)
    _check_mappings(config)
    return config


def _check_mappings(config: ConfigFile) -> None:
    """Each `[output.KIND] mapping` names a preset or an existing file (it is compiled
    when the output is built; a broken file is then a mapping error naming the file)."""
    from .errors import MappingError
    from .mapping.loader import resolve_spec

    for kind, spec in config.output_mappings().items():
        try:
            resolve_spec(spec)
        except MappingError as e:
            raise ConfigError(f"{config.origin}: output.{kind}.mapping: {e}") from e


def _check_dynamics(config: ConfigFile) -> None:
    """Build the file's own `[dynamics]` once, so a bad setting stops the run before
    anything opens, naming the file (the runner builds the chosen one again, also naming
    it: the command line may pick another filter)."""
    from .dynamics import make_dynamics

    table = {**(config.dynamics_params() or {}), "name": config.dynamics_name(None)}
    make_dynamics(table["name"], table, origin=config.origin)  # a bad name: `dynamics.name`
