"""How many of VRChat's 256 synced parameter bits an avatar's face parameters take, and
which floats could become binary parameters to fit a smaller budget.

VRChat's costs (creators.vrchat.com, "Expression Parameters"): Int 8 bits, Float 8 bits,
Bool 1 bit, 256 bits in all. A synced Float is 8 bits over -1..1, so a 0..1 value has
about 7 bits of resolution: a 7-bit binary parameter keeps it and saves one bit, a signed
one needs the Negative bit on top. The OSC config does not say which parameters are
synced, so every declared one is counted: the report is an upper bound.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInputError
from ..mapping import CompiledMapping, load_mapping
from ..mapping.wires import BIT, NEGATIVE, Wire, wires_as_written
from .avatar import (
    AvatarConfigError,
    AvatarParam,
    is_avatar_address,
    read_avatar_config,
    wires_for_avatar,
)

__all__ = [
    "BITS",
    "FLOAT_RESOLUTION",
    "SYNCED_BITS",
    "Choice",
    "FaceParam",
    "Report",
    "fit_budget",
    "report",
    "run_params",
]

SYNCED_BITS = 256
BITS = {"f": 8, "i": 8, "b": 1}
#: Bits of magnitude a synced float carries for a 0..1 value (8 bits over -1..1).
FLOAT_RESOLUTION = 7
DEFAULT_MAPPING = "vrchat-unified-v2"


@dataclass(frozen=True)
class FaceParam:
    """One mapping entry as the avatar declares it: its wires and what they cost."""

    entry: str
    signed: bool
    wires: tuple[Wire, ...]

    @property
    def bits(self) -> int:
        return sum(BITS[w.type] for w in self.wires)

    @property
    def name(self) -> str:
        """The name the avatar declares (``FT/v2/JawOpen`` for entry ``v2/JawOpen``)."""
        w = self.wires[0]
        if w.kind == BIT:
            return w.name.rstrip("0123456789")
        return w.name.removesuffix("Negative") if w.kind == NEGATIVE else w.name

    @property
    def kind(self) -> str:
        kinds = {w.kind for w in self.wires}
        if kinds & {BIT, NEGATIVE}:
            n = sum(w.kind == BIT for w in self.wires)
            return f"binary {n}" + (" + Negative" if NEGATIVE in kinds else "")
        return "/".join(sorted({ {"f": "float", "i": "int", "b": "bool"}[w.type]
                                for w in self.wires}))  # fmt: skip

    @property
    def is_float(self) -> bool:
        return all(w.type == "f" for w in self.wires)


@dataclass(frozen=True)
class Choice:
    """Send a float parameter as `bits` binary bits (plus Negative when signed) instead."""

    name: str
    bits: int
    negative: bool

    @property
    def cost(self) -> int:
        return self.bits + self.negative


@dataclass
class Report:
    label: str
    face: list[FaceParam]
    other: list[AvatarParam] = field(default_factory=list)

    @property
    def face_bits(self) -> int:
        return sum(p.bits for p in self.face)

    @property
    def other_bits(self) -> int:
        return sum(BITS[p.type] for p in self.other)


def _face_params(mapping: CompiledMapping, wires: Sequence[Wire]) -> list[FaceParam]:
    by: dict[int, list[Wire]] = {}
    for w in wires:
        if is_avatar_address(w.address):  # native /tracking/ addresses are not parameters
            by.setdefault(w.src, []).append(w)
    out = []
    for src in sorted(by):
        e = mapping.entries[src]
        signed = e.negative or min(e.out_range) < 0
        out.append(FaceParam(e.name, signed, tuple(by[src])))
    return out


def report(mapping: CompiledMapping, params: Sequence[AvatarParam] | None, label: str) -> Report:
    """The face parameters (and, with an avatar, the others) with their synced bits.

    Without an avatar, the mapping as written is costed: what an avatar built for it
    declares (floats as floats, binary entries as their bits).
    """
    if params is None:
        return Report(label, _face_params(mapping, wires_as_written(mapping.entries)))
    wires = wires_for_avatar(mapping, params)
    used = {w.address for w in wires}
    other = [p for p in params if p.address not in used]
    return Report(label, _face_params(mapping, wires), other)


def fit_budget(face: Sequence[FaceParam], budget: int) -> tuple[list[Choice], int] | None:
    """Greedy: save one bit at a time from the float parameter with the most resolution
    left (a float becomes a 7-bit binary, or 6 bits + Negative when signed; a binary
    loses a bit), so all floats end within a bit of each other, until the face fits.

    Returns the choices (one per float made binary) and the bits then used, or None when
    one bit per float does not fit. Bools, ints and existing binary parameters stay; on a
    tie, later mapping entries give up their bits first.
    """
    fixed = sum(p.bits for p in face if not p.is_float)
    floats = [p for p in face if p.is_float]
    res = [FLOAT_RESOLUTION] * len(floats)  # bits of magnitude each one carries
    binary = [False] * len(floats)

    def cost(i: int) -> int:
        return res[i] + floats[i].signed if binary[i] else BITS["f"]

    def after(i: int) -> int:  # resolution after saving one more bit
        if binary[i]:
            return res[i] - 1
        return FLOAT_RESOLUTION - floats[i].signed

    used = fixed + sum(cost(i) for i in range(len(floats)))
    while used > budget:
        open_ = [i for i in range(len(floats)) if after(i) >= 1]
        if not open_:
            return None
        i = max(open_, key=lambda k: (res[k], after(k), k))  # earlier entries keep bits
        res[i], binary[i] = after(i), True
        used = fixed + sum(cost(k) for k in range(len(floats)))
    choices = [Choice(p.name, res[i], p.signed) for i, p in enumerate(floats) if binary[i]]
    return choices, used


def format_report(r: Report, budget: int | None) -> str:
    lines = [r.label]
    counts: dict[str, int] = {}
    for p in r.face:
        counts[p.kind.split(" ")[0]] = counts.get(p.kind.split(" ")[0], 0) + 1
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    total = r.face_bits + r.other_bits
    lines.append(f"  face parameters: {len(r.face)} ({kinds}): {r.face_bits} bits")
    if r.other:
        lines.append(f"  other parameters: {len(r.other)}: {r.other_bits} bits")
    spare = f"{SYNCED_BITS - total} free" if total <= SYNCED_BITS else f"{total - SYNCED_BITS} over"
    lines.append(
        f"  {total} of {SYNCED_BITS} synced bits, {spare} (an upper bound: every declared"
        " parameter counted as synced)"
    )
    for p in r.face:
        lines.append(f"    {p.name:<34} {p.kind:<20} {p.bits:>3} bit{'s' * (p.bits != 1)}")
    target = budget if budget is not None else SYNCED_BITS - r.other_bits
    where = f"a budget of {target} bits" if budget is not None else f"the {target} bits left"
    if r.face_bits <= target:
        lines.append(f"  the face parameters fit {where}")
        return "\n".join(lines)
    fit = fit_budget(r.face, target)
    if fit is None:
        least = sum(p.bits for p in r.face if not p.is_float) + sum(
            1 + p.signed for p in r.face if p.is_float
        )
        lines.append(f"  cannot fit {where}: even 1 bit per float needs {least}; drop parameters")
        return "\n".join(lines)
    choices, used = fit
    lines.append(f"  to fit {where}, make {len(choices)} floats binary ({used} bits then):")
    for c in choices:
        neg = " + Negative" if c.negative else ""
        lines.append(
            f"    {c.name:<34} float 8 -> binary {c.bits}{neg} "
            f"({c.name}1 ... {c.name}{1 << (c.bits - 1)}{neg and ', ' + c.name + 'Negative'})"
        )
    return "\n".join(lines)


def run_params(args: argparse.Namespace) -> int:
    """``avatar-driver vrchat params``: print the report (exit 2 on a bad file)."""
    mapping = load_mapping(args.mapping or DEFAULT_MAPPING)
    if args.avatar_config:
        path = Path(args.avatar_config)
        try:
            config = read_avatar_config(path)
        except AvatarConfigError as e:
            raise BadInputError(str(e)) from e
        label = f"avatar {config.name or config.id} ({path}), mapping {Path(mapping.source).name}"
        r = report(mapping, config.params, label)
    else:
        label = f"mapping {mapping.source} as written (no avatar config given)"
        r = report(mapping, None, label)
    print(format_report(r, args.budget))
    return 0
