"""Compile a validated mapping file into a `CompiledMapping` (once, at load).

Names are resolved here (with "did you mean" suggestions), derived signals are ordered
into dependency levels, and every entry's source, gain, offset and input range are folded
into one row of a matrix over the work vector ``[1, channels..., derived...]``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from ..errors import MappingError
from ..shapes import CHANNEL_NAMES, group_gain
from .compiled import CompiledMapping
from .program import Level, Program
from .schema import Combine, Derived, Gamma, MappingFile, Param, Points
from .wires import Entry

__all__ = ["compile_mapping", "source_text"]

_CHANNEL_SLOT = {name: 1 + i for i, name in enumerate(CHANNEL_NAMES)}
_UFUNC = {"max": np.maximum, "min": np.minimum, "product": np.multiply}
_EXTRA: list[_Node] = []  # helper nodes made while compiling one derived entry


@dataclass
class _Node:
    name: str
    op: str  # "lin", "max", "min", "product"
    terms: list[tuple[str, float]]
    gain: float = 1.0
    offset: float = 0.0
    clamp: tuple[float, float] | None = None
    gamma: float | None = None
    level: int = 0
    slot: int = -1
    label: str = ""


def source_text(src: str | Combine) -> str:
    """The source as a short formula, for summaries."""
    if isinstance(src, str):
        return src
    if src.sum is not None:
        parts = []
        for i, (name, w) in enumerate(src.sum.items()):
            sign = "-" if w < 0 else ("+" if i else "")
            mag = abs(w)
            term = name if mag == 1 else f"{mag:g}*{name}"
            parts.append(f"{sign} {term}" if i else f"{sign}{term}")
        return " ".join(parts)
    names: list[str] = getattr(src, src.op)
    return f"{src.op}({', '.join(names)})"


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _terms(src: str | Combine) -> tuple[str, list[tuple[str, float]]]:
    if isinstance(src, str):
        return "lin", [(src, 1.0)]
    op = "lin" if src.op in ("sum", "mean") else src.op
    return op, src.terms()


def compile_mapping(spec: MappingFile, *, source: str = "<mapping>") -> CompiledMapping:
    """Build the arrays; MappingError names the file, the entry and the field."""
    settings = spec.mapping
    nodes: dict[str, _Node] = {}
    known = list(CHANNEL_NAMES) + list(spec.derived)

    def check_names(label: str, terms: list[tuple[str, float]]) -> None:
        for name, _ in terms:
            if name not in _CHANNEL_SLOT and name not in spec.derived:
                raise MappingError(
                    f"{source}: {label}: field 'source': expected a shape, pose or derived "
                    f"name, got {name!r}{_suggest(name, known)}"
                )

    _EXTRA.clear()
    for name, d in spec.derived.items():
        if name in _CHANNEL_SLOT:
            raise MappingError(
                f"{source}: derived {name!r}: expected a new name, got the name of a channel"
            )
        op, terms = _terms(d.source)
        check_names(f"derived {name!r}", terms)
        nodes[name] = _make_node(name, op, terms, d)
        for extra in _EXTRA:
            nodes[extra.name] = extra
        _EXTRA.clear()

    entries: list[Entry] = []
    rows: list[dict[str, float]] = []
    norm: list[tuple[float, float, float]] = []  # gain, offset, input low end
    for i, p in enumerate(spec.param):
        label = f"parameter {p.name!r}"
        op, terms = _terms(p.source)
        check_names(label, terms)
        if op != "lin":  # a max/min/product source becomes an unnamed node
            anon = f"\x00{i}"
            nodes[anon] = _Node(anon, op, terms, label=p.name)
            terms = [(anon, 1.0)]
        row: dict[str, float] = {}
        for name, w in terms:
            row[name] = row.get(name, 0.0) + w
        rows.append(row)
        entries.append(_entry(p, settings.prefix, settings.default_type, source, label))
        e = entries[-1]
        norm.append((p.gain, p.offset, e.in_range[0]))

    _assign_levels(nodes, source)  # also rejects cycles before anything is inlined
    rows = _inline(nodes, rows)
    for n in nodes.values():
        n.level = 0
    _assign_levels(nodes, source)
    levels, slot_of, n_work = _layout(nodes)

    # out = out_lo + out_span * ((gain * source + offset) - in_lo) / in_span, one row each.
    matrix = np.zeros((len(entries), n_work))
    for r, (row, e, (gain, offset, in_lo)) in enumerate(zip(rows, entries, norm, strict=True)):
        k = (e.out_range[1] - e.out_range[0]) / (e.in_range[1] - e.in_range[0])
        for name, w in row.items():
            matrix[r, slot_of[name]] += w * gain * k
        matrix[r, 0] += (offset - in_lo) * k + e.out_range[0]

    program = _program(spec.param, entries, matrix, levels, n_work)
    program.set_channel_gain(group_gain(settings.group_gain, settings.expression_gain))
    derived_text = [(n, _derived_text(d)) for n, d in spec.derived.items()]
    return CompiledMapping(
        program,
        entries,
        source=source,
        send_threshold=settings.send_threshold,
        refresh_seconds=settings.refresh_seconds,
        derived=derived_text,
    )


def _derived_text(d: Derived) -> str:
    text = source_text(d.source)
    if d.gamma is not None:
        text = f"({text}) ** {d.gamma:g}"
    if d.gain != 1.0:
        text = f"{d.gain:g} * ({text})"
    if d.offset:
        text = f"{text} {'+' if d.offset > 0 else '-'} {abs(d.offset):g}"
    if d.clamp is not None:
        text = f"clamp({text}, {d.clamp[0]:g}, {d.clamp[1]:g})"
    return text


def _make_node(name: str, op: str, terms: list[tuple[str, float]], d: Derived) -> _Node:
    if d.gamma is not None and op != "lin":
        # A reduction's gamma is applied by an extra linear node reading it.
        inner = _Node(f"\x01{name}", op, terms, label=name)
        _EXTRA.append(inner)
        op, terms = "lin", [(inner.name, 1.0)]
    clamp = None
    if d.clamp is not None:
        lo, hi = d.clamp
        clamp = (min(lo, hi), max(lo, hi))
    return _Node(name, op, terms, d.gain, d.offset, clamp, d.gamma, label=name)


def _entry(p: Param, prefix: str, default_type: str, source: str, label: str) -> Entry:
    kind = p.type or default_type
    if kind == "binary":
        out = (-1.0, 1.0) if p.negative else (0.0, 1.0)
    elif kind == "bool":
        out = (0.0, 1.0)
    elif kind == "int":
        out = (0.0, 255.0)
    else:
        out = (0.0, 1.0)
    if p.out_range is not None:
        if kind in ("bool", "binary"):
            raise MappingError(
                f"{source}: {label}: field 'out_range': not used by type {kind!r}; remove it"
            )
        lo, hi = p.out_range
        if kind == "int" and not (min(lo, hi) >= 0 and max(lo, hi) <= 255):
            raise MappingError(
                f"{source}: {label}: field 'out_range': expected values within 0..255 for "
                f"type 'int', got {p.out_range}"
            )
        if lo == hi:
            raise MappingError(
                f"{source}: {label}: field 'out_range': expected two different numbers, "
                f"got {p.out_range}"
            )
        out = (lo, hi)
    if p.in_range is not None:
        in_range = (p.in_range[0], p.in_range[1])
    elif kind == "int":
        in_range = (0.0, 1.0)
    else:
        in_range = out if out[0] < out[1] else (out[1], out[0])
    if isinstance(p.curve, Gamma):
        curve = f"gamma {p.curve.gamma:g}"
    elif isinstance(p.curve, Points):
        curve = "points " + " ".join(f"({x:g},{y:g})" for x, y in p.curve.points)
    else:
        curve = p.curve
    if p.symmetric and curve != "linear":
        curve += " (symmetric)"
    src = source_text(p.source)
    if p.gain != 1.0:
        src = f"{p.gain:g} * ({src})"
    if p.offset:
        src = f"{src} {'+' if p.offset > 0 else '-'} {abs(p.offset):g}"
    return Entry(
        name=p.name,
        address=p.address or (prefix + p.name),
        type=kind,
        source=src,
        in_range=in_range,
        out_range=out,
        curve=curve,
        clamp=p.clamp,
        threshold=p.threshold,
        hysteresis=p.hysteresis,
        bits=p.bits,
        negative=p.negative,
    )


def _inline(nodes: dict[str, _Node], rows: list[dict[str, float]]) -> list[dict[str, float]]:
    """Substitute plain linear derived signals (no gamma, no clamp) into linear readers.

    Each level costs a few array operations per frame, so a weighted sum of a weighted sum
    becomes one row; such a node keeps its own slot only if a max/min/product reads it.
    """
    plain = {k for k, n in nodes.items() if n.op == "lin" and n.gamma is None and n.clamp is None}

    def expand(terms: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for dep, w in terms.items():
            node = nodes.get(dep)
            if dep in plain and node is not None:
                inner: dict[str, float] = {}
                for d2, w2 in node.terms:
                    inner[d2] = inner.get(d2, 0.0) + w2 * node.gain
                if node.offset:
                    inner[""] = inner.get("", 0.0) + node.offset
                for d2, w2 in expand(inner).items():
                    out[d2] = out.get(d2, 0.0) + w * w2
            else:
                out[dep] = out.get(dep, 0.0) + w
        return out

    for n in nodes.values():
        if n.op == "lin":
            merged: dict[str, float] = {}
            for d, w in n.terms:
                merged[d] = merged.get(d, 0.0) + w
            n.terms = list(expand(merged).items())
    expanded = [expand(r) for r in rows]
    needed = {d for n in nodes.values() if n.op != "lin" for d, _ in n.terms}
    for k in list(nodes):
        if k in plain and k not in needed:
            del nodes[k]
    return expanded


def _assign_levels(nodes: dict[str, _Node], source: str) -> None:
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, chain: list[str]) -> int:
        node = nodes.get(name)
        if node is None:
            return 0  # a channel
        if state.get(name) == 2:
            return node.level
        if state.get(name) == 1:
            loop = " -> ".join([*chain[chain.index(name) :], name])
            raise MappingError(
                f"{source}: derived {name!r}: field 'source': expected no cycle, got {loop}"
            )
        state[name] = 1
        node.level = 1 + max(visit(dep, [*chain, name]) for dep, _ in node.terms)
        state[name] = 2
        return node.level

    for name in nodes:
        visit(name, [])


def _layout(nodes: dict[str, _Node]) -> tuple[list[Level], dict[str, int], int]:
    slot_of = dict(_CHANNEL_SLOT)
    slot_of[""] = 0  # the constant 1.0 (offsets of inlined signals)
    pos = 1 + len(CHANNEL_NAMES)
    levels: list[Level] = []
    n_levels = max((n.level for n in nodes.values()), default=0)
    # Linear nodes without gamma first (their gain and offset fold into the matrix), then
    # linear nodes with gamma and the reductions, whose gain and offset come after.
    order = {"lin": 1, "max": 2, "min": 3, "product": 4}

    def key(n: _Node) -> int:
        return 0 if n.op == "lin" and n.gamma is None else order[n.op]

    for lv in range(1, n_levels + 1):
        members = sorted((n for n in nodes.values() if n.level == lv), key=key)
        start = pos
        for n in members:
            n.slot = pos
            slot_of[n.name] = pos
            pos += 1
        lin = [n for n in members if n.op == "lin"]
        lin_m = np.zeros((len(lin), start))
        for r, n in enumerate(lin):
            folded = n.gamma is None
            for dep, w in n.terms:
                lin_m[r, slot_of[dep]] += w * (n.gain if folded else 1.0)
            if folded:
                lin_m[r, 0] += n.offset
        level = Level(start=start, lin_stop=start + len(lin), lin=lin_m, stop=pos)
        for op in ("max", "min", "product"):
            group = [n for n in members if n.op == op]
            if not group:
                continue
            width = max(2, max(len(n.terms) for n in group))
            idx = np.zeros((len(group), width), dtype=np.intp)
            for r, n in enumerate(group):
                deps = [slot_of[d] for d, _ in n.terms]
                pad = 0 if op == "product" else deps[0]  # slot 0 holds 1.0
                idx[r] = deps + [pad] * (width - len(deps))
            cols = [np.ascontiguousarray(idx[:, j]) for j in range(width)]
            level.reduce.append((group[0].slot, group[-1].slot + 1, _UFUNC[op], cols))
        nonlin = [n for n in members if key(n) > 0]
        if any(n.gain != 1.0 or n.offset != 0.0 for n in nonlin):
            level.post_start = nonlin[0].slot
            level.post_gain = np.array([n.gain for n in nonlin])
            level.post_offset = np.array([n.offset for n in nonlin])
        if any(n.clamp is not None for n in members):
            level.clamp_lo = np.array([n.clamp[0] if n.clamp else -np.inf for n in members])
            level.clamp_hi = np.array([n.clamp[1] if n.clamp else np.inf for n in members])
        gam = [n for n in members if n.gamma is not None]  # linear, contiguous (see key)
        if gam:
            level.gamma_start = gam[0].slot
            level.gamma = np.array([n.gamma for n in gam])
        levels.append(level)
    return levels, slot_of, pos


def _program(
    params: list[Param],
    entries: list[Entry],
    matrix: np.ndarray,
    levels: list[Level],
    n_work: int,
) -> Program:
    out_lo = np.array([e.out_range[0] for e in entries])
    out_span = np.array([e.out_range[1] - e.out_range[0] for e in entries])
    lo = np.array(
        [min(e.out_range) if p.clamp else -np.inf for p, e in zip(params, entries, strict=True)]
    )
    hi = np.array(
        [max(e.out_range) if p.clamp else np.inf for p, e in zip(params, entries, strict=True)]
    )
    curve_i = [i for i, p in enumerate(params) if p.curve != "linear"]
    pos = {i: k for k, i in enumerate(curve_i)}
    gamma_i = [i for i in curve_i if isinstance(params[i].curve, Gamma)]
    smooth_i = [i for i in curve_i if params[i].curve == "smoothstep"]
    points_i = [i for i in curve_i if isinstance(params[i].curve, Points)]
    sym_i = [i for i in curve_i if params[i].symmetric]
    point_lists = [params[i].curve.points for i in points_i]  # type: ignore[union-attr]
    k = max((len(pts) for pts in point_lists), default=2)
    px = np.zeros((len(points_i), k))
    py = np.zeros((len(points_i), k))
    for r, pts in enumerate(point_lists):
        padded = pts + [pts[-1]] * (k - len(pts))
        px[r] = [p[0] for p in padded]
        py[r] = [p[1] for p in padded]
    dx = np.diff(px, axis=1)
    dy = np.diff(py, axis=1)
    slope = np.divide(dy, dx, out=np.zeros_like(dy), where=dx > 0)
    slope = np.concatenate((slope, np.zeros((len(points_i), 1))), axis=1)

    def positions(idx: list[int]) -> np.ndarray:
        return np.array([pos[i] for i in idx], dtype=np.intp)

    return Program(
        n_work=n_work,
        levels=levels,
        matrix=matrix,
        lo=lo,
        hi=hi,
        out_lo=out_lo,
        out_span=out_span,
        curve_idx=np.array(curve_i, dtype=np.intp),
        sym_pos=positions(sym_i),
        gamma_pos=positions(gamma_i),
        gamma=np.array([params[i].curve.gamma for i in gamma_i]),  # type: ignore[union-attr]
        smooth_pos=positions(smooth_i),
        points_pos=positions(points_i),
        points_x=px,
        points_y=py,
        points_slope=slope,
        int_idx=np.array([i for i, e in enumerate(entries) if e.type == "int"], dtype=np.intp),
    )
