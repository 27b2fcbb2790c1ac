"""The mapping file format, validated by pydantic (reference: docs/mapping.md).

Validation is structural here (types, ranges, field names); names of shapes and derived
signals are checked when the file is compiled, where the full set of names is known.
Every error is turned into one line naming the file, the entry and the field.
"""

from __future__ import annotations

import difflib
import itertools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import MappingError
from ..shapes import GROUPS

__all__ = [
    "COMBINE_OPS",
    "CURVE_NAMES",
    "Derived",
    "MappingFile",
    "Param",
    "Settings",
    "format_validation_error",
]

COMBINE_OPS = ("sum", "max", "min", "mean", "product")
CURVE_NAMES = ("linear", "smoothstep")
ParamType = Literal["float", "int", "bool", "binary"]
Pair = Annotated[list[float], Field(min_length=2, max_length=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Combine(_Strict):
    """One combination of named signals; exactly one of the fields is set."""

    sum: dict[str, float] | None = None
    max: list[str] | None = Field(default=None, min_length=1)
    min: list[str] | None = Field(default=None, min_length=1)
    mean: list[str] | None = Field(default=None, min_length=1)
    product: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_op(self) -> Combine:
        used = [op for op in COMBINE_OPS if getattr(self, op) is not None]
        if len(used) != 1:
            raise ValueError(
                f"expected exactly one of {', '.join(COMBINE_OPS)}, got "
                + (", ".join(used) if used else "none")
            )
        if self.sum is not None and not self.sum:
            raise ValueError("expected at least one name in 'sum'")
        return self

    @property
    def op(self) -> str:
        return next(op for op in COMBINE_OPS if getattr(self, op) is not None)

    def terms(self) -> list[tuple[str, float]]:
        """(name, weight) pairs; weights only mean something for sum and mean."""
        if self.sum is not None:
            return list(self.sum.items())
        names: list[str] = getattr(self, self.op)
        w = 1.0 / len(names) if self.op == "mean" else 1.0
        return [(n, w) for n in names]


Source = str | Combine


class Gamma(_Strict):
    gamma: float = Field(gt=0)


class Points(_Strict):
    points: list[Pair] = Field(min_length=2)

    @model_validator(mode="after")
    def _increasing(self) -> Points:
        xs = [p[0] for p in self.points]
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise ValueError(f"expected points with increasing x, got x = {xs}")
        return self


Curve = Literal["linear", "smoothstep"] | Gamma | Points


class Settings(_Strict):
    """Global settings: the ``[mapping]`` table."""

    prefix: str = "/avatar/parameters/"
    default_type: ParamType = "float"
    send_threshold: float = Field(default=0.002, ge=0)
    refresh_seconds: float = Field(default=2.0, gt=0)
    expression_gain: float = Field(default=1.0, ge=0)
    group_gain: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _groups(self) -> Settings:
        for name, gain in self.group_gain.items():
            if name not in GROUPS:
                raise ValueError(
                    f"expected a group name ({', '.join(GROUPS)}), got {name!r}"
                    + _suggest(name, GROUPS)
                )
            if gain < 0:
                raise ValueError(f"expected a gain >= 0 for group {name!r}, got {gain}")
        return self


class Derived(_Strict):
    """A named intermediate signal other entries can read: source, affine, clamp, gamma."""

    source: Source
    gain: float = 1.0
    offset: float = 0.0
    clamp: Pair | None = None
    gamma: float | None = Field(default=None, gt=0)


class Param(_Strict):
    """One output parameter (binary ones expand into several wire parameters)."""

    name: str = Field(min_length=1)
    address: str | None = None
    source: Source
    gain: float = 1.0
    offset: float = 0.0
    in_range: Pair | None = None
    out_range: Pair | None = None
    curve: Curve = "linear"
    symmetric: bool = False
    clamp: bool = True
    type: ParamType | None = None
    threshold: float = 0.5
    hysteresis: float = Field(default=0.1, ge=0)
    bits: int = Field(default=4, ge=1, le=8)
    negative: bool = False

    @model_validator(mode="after")
    def _ranges(self) -> Param:
        if self.in_range is not None and self.in_range[0] == self.in_range[1]:
            raise ValueError(f"in_range: expected two different numbers, got {self.in_range}")
        if self.out_range is not None:
            lo, hi = sorted(self.out_range)
            if self.type == "int" and (lo < 0 or hi > 255):
                raise ValueError(f"out_range: expected values within 0..255, got {self.out_range}")
            if self.type in ("bool", "binary"):
                raise ValueError(f"out_range: not used by type {self.type!r}; remove it")
        if self.address is not None and not self.address.startswith("/"):
            raise ValueError(
                f"address: expected an OSC address starting with '/', got {self.address!r}"
            )
        return self


class MappingFile(_Strict):
    """A whole mapping file."""

    mapping: Settings = Field(default_factory=Settings)
    derived: dict[str, Derived] = Field(default_factory=dict)
    param: list[Param] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> MappingFile:
        seen: set[str] = set()
        for p in self.param:
            if p.name in seen:
                raise ValueError(f"parameter {p.name!r} is defined twice")
            seen.add(p.name)
        # Entries sharing an address are the arguments of one message, in file order.
        first: dict[str, Param] = {}
        for p in self.param:
            address = p.address or (self.mapping.prefix + p.name)
            other = first.setdefault(address, p)
            kinds = {q.type or self.mapping.default_type for q in (p, other)}
            if other is not p and "binary" in kinds:
                raise ValueError(
                    f"parameter {p.name!r}: address {address!r} is also {other.name!r}'s; "
                    "entries sharing an address (one message, several arguments) cannot be "
                    "binary"
                )
        return self


def _suggest(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_FIELDS = {
    "mapping": set(Settings.model_fields),
    "param": set(Param.model_fields),
    "derived": set(Derived.model_fields),
    "": set(MappingFile.model_fields),
}


def _entry(loc: tuple[Any, ...], data: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """A readable entry label and the field path left after it."""
    if not loc:
        return "file", ()
    head = loc[0]
    if head == "param" and len(loc) > 1 and isinstance(loc[1], int):
        idx = loc[1]
        items = data.get("param")
        name = None
        if isinstance(items, list) and idx < len(items) and isinstance(items[idx], dict):
            name = items[idx].get("name")
        label = f"parameter {name!r}" if isinstance(name, str) else f"parameter #{idx + 1}"
        return label, loc[2:]
    if head == "derived" and len(loc) > 1:
        return f"derived {loc[1]!r}", loc[2:]
    if head == "mapping":
        return "[mapping]", loc[1:]
    return "file", loc


def _norm(part: Any) -> Any:
    """'function-after[_one_op(), Combine]' -> 'Combine' (validators wrap union tags)."""
    if isinstance(part, str) and part.startswith("function-") and part.endswith("]"):
        return part[:-1].rpartition(", ")[2]
    return part


def _branch_irrelevant(parts: tuple[Any, ...], value: Any) -> bool:
    """Errors from union members that clearly were not meant (a table given for a name)."""
    for i, p in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if p == "source":
            if nxt == "str" and isinstance(value, dict):
                return True
            if nxt == "Combine" and isinstance(value, str):
                return True
        if p == "curve":
            tag = str(nxt)
            if tag.startswith("literal") and isinstance(value, dict):
                return True
            if tag in ("Gamma", "Points") and not isinstance(value, dict):
                return True
            if tag == "Gamma" and isinstance(value, dict) and "points" in value:
                return True
            if tag == "Points" and isinstance(value, dict) and "points" not in value:
                return True
    return False


def _value_at(data: Any, loc: tuple[Any, ...], key: str) -> Any:
    """The raw value of the field `key` found along `loc`."""
    cur = data
    for p in loc:
        if (isinstance(cur, dict) and p in cur) or (
            isinstance(cur, list) and isinstance(p, int) and p < len(cur)
        ):
            cur = cur[p]
        else:
            break
        if p == key:
            return cur
    return None


def format_validation_error(err: ValidationError, data: dict[str, Any], file: str) -> str:
    """One line per problem: ``file: entry: field 'x': expected ..., got ...``."""
    lines: list[str] = []
    seen: set[str] = set()
    for e in err.errors():
        loc = tuple(_norm(p) for p in e["loc"])
        if _branch_irrelevant(loc, _value_at(data, loc, "source" if "source" in loc else "curve")):
            continue
        entry, rest = _entry(loc, data)
        # Union members show up in loc as type names ('str', 'Combine', "literal[...]").
        parts = [
            str(p)
            for p in rest
            if not (
                isinstance(p, str)
                and (p[:1].isupper() or p == "str" or p.startswith(("literal[", "function-")))
            )
        ]
        field = ".".join(parts)
        msg = str(e["msg"])
        kind = e["type"]
        if kind == "extra_forbidden":
            if "Combine" in loc:
                known = set(COMBINE_OPS)
            elif "Gamma" in loc or "Points" in loc:
                known = {"gamma", "points"}
            elif entry.startswith("parameter"):
                known = _FIELDS["param"]
            elif entry.startswith("derived"):
                known = _FIELDS["derived"]
            elif entry == "[mapping]":
                known = _FIELDS["mapping"]
            else:
                known = _FIELDS[""]
            bad = parts[-1] if parts else field
            text = (
                f"unknown field{_suggest(bad, known)}; expected one of: {', '.join(sorted(known))}"
            )
        elif msg.startswith("Value error, "):
            text = msg[len("Value error, ") :]
        else:
            text = msg.replace("Input should be", "expected", 1)
            text = text.replace("Field required", "missing; expected a value", 1)
            if kind != "missing":
                text += f", got {e.get('input')!r}"
        where = f"{entry}: field '{field}': " if field else f"{entry}: "
        line = f"{file}: {where}{text}"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return "\n".join(lines[:20])


def parse_mapping(data: dict[str, Any], file: str) -> MappingFile:
    """Validate parsed TOML; MappingError names file, entry and field."""
    try:
        return MappingFile.model_validate(data)
    except ValidationError as e:
        raise MappingError(format_validation_error(e, data, file)) from e
