"""OSC 1.0 encoding (single messages, bundles, a precompiled packer for hot paths); what we
receive (VRChat's /avatar/change) is read by the add-on's strict decoder, `osc_decode`
(one file, `blender_addon/core/osc.py`, shared by the tool and the add-on).

Hot-path rule: a `OscPacker` is built once per parameter list, with every element's bytes
(size, address, type tags) prepared. Send-on-change makes most frames sparse (a few
elements of hundreds): those are joined from the prepared bytes plus one vectorized
conversion of the selected values, a handful of numpy calls in all. Dense frames (a full
refresh, many changes) scatter all values into a template with numpy and slice or gather
its bytes, with no per-message Python work. Only float (``f``), int32 (``i``) and bool
(``T``/``F``) arguments are packed; every one of them has a fixed size, which is what
makes a template possible. Both paths give the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from .osc_decode import OscError, decode_packet

__all__ = [
    "MAX_DATAGRAM",
    "OscError",
    "OscPacker",
    "bundle",
    "decode_packet",
    "message",
    "osc_string",
]

#: Bundles are kept under this size, as VRChat's peers do.
MAX_DATAGRAM = 4096
#: Up to this many selected elements, `OscPacker.pack` joins prepared bytes in Python
#: (about 0.3 us each); above it the template path's fixed cost is lower.
SPARSE_MAX = 48
_BUNDLE_HEAD = b"#bundle\x00" + b"\x00" * 7 + b"\x01"  # time tag 1 = "immediately"
_FLOAT, _INT, _BOOL = 0, 1, 2
_PACK_F32 = struct.Struct(">f").pack


def osc_string(text: str) -> bytes:
    """UTF-8 bytes, NUL-terminated and padded to a multiple of four."""
    raw = text.encode("utf-8") + b"\x00"
    return raw + b"\x00" * (-len(raw) % 4)


def message(address: str, *args: float | int | str | bool) -> bytes:
    """Encode one OSC message (types inferred: bool, int, float, str)."""
    tags = ","
    payload = b""
    for arg in args:
        if isinstance(arg, bool):
            tags += "T" if arg else "F"
        elif isinstance(arg, int):
            tags += "i"
            payload += struct.pack(">i", arg)
        elif isinstance(arg, float):
            tags += "f"
            payload += struct.pack(">f", arg)
        elif isinstance(arg, str):
            tags += "s"
            payload += osc_string(arg)
        else:
            raise TypeError(f"OSC argument must be bool, int, float or str, got {type(arg)!r}")
    return osc_string(address) + osc_string(tags) + payload


def bundle(messages: Sequence[bytes]) -> bytes:
    """One bundle (time tag "immediately") holding the given encoded messages."""
    parts = [_BUNDLE_HEAD]
    for msg in messages:
        parts.append(struct.pack(">i", len(msg)))
        parts.append(msg)
    return b"".join(parts)


class OscPacker:
    """Packs one value per address into bundles under `max_size` bytes.

    ``types`` holds one of ``"f"``, ``"i"``, ``"b"`` (bool) per address. `pack` takes the
    values as a float array in the same order (bools: > 0.5 is true; ints are rounded
    and clipped to int32) and, optionally, a boolean mask of which to include.

    An address given more than once is one message whose arguments are those values in
    order (VRChat's ``/tracking/eye/LeftRightPitchYaw`` takes four floats); it is sent
    whole when any of its values is included, after the single-value messages.
    """

    def __init__(
        self, addresses: Sequence[str], types: Sequence[str], *, max_size: int = MAX_DATAGRAM
    ) -> None:
        if len(addresses) != len(types):
            raise ValueError("addresses and types differ in length")
        self.addresses = tuple(addresses)
        self.types = tuple(types)
        self.max_size = max_size
        self._vectors: _Vectors | None = None
        if len(set(self.addresses)) < len(self.addresses):
            self._vectors = _Vectors(self.addresses, self.types, max_size)
            return
        n = len(self.addresses)
        kinds = np.array([t for t in self.types], dtype="<U1")
        bad = set(self.types) - {"f", "i", "b"}
        if bad:
            raise ValueError(f"unsupported OSC types {sorted(bad)}; expected f, i or b")
        self._is_f = kinds == "f"
        self._is_i = kinds == "i"
        self._is_b = kinds == "b"
        # Each element in a bundle: i32 size | address | type tags | 4-byte payload (f/i).
        elements: list[bytes] = []
        for addr, kind in zip(self.addresses, self.types, strict=True):
            tag = {"f": ",f", "i": ",i", "b": ",F"}[kind]
            body = osc_string(addr) + osc_string(tag) + (b"\x00" * 4 if kind != "b" else b"")
            elements.append(struct.pack(">i", len(body)) + body)
        sizes = np.array([len(e) for e in elements], dtype=np.int64)
        if n and int(sizes.max()) + len(_BUNDLE_HEAD) > max_size:
            raise ValueError("an OSC address is too long to fit in one datagram")
        self._template = np.frombuffer(b"".join(elements), dtype=np.uint8).copy()
        self._starts = np.concatenate(([0], np.cumsum(sizes)))
        ends = self._starts[1:]
        # Payload sits in the last 4 bytes of f/i elements; the tag byte of bool elements is
        # the 3rd of its padded ",F\0\0" which ends the element.
        self._pos4 = ends - 4  # payload of f/i elements: their last 4 bytes
        self._tagpos = ends - 3  # 'T'/'F' of bool elements (",F\0\0" ends the element)
        self._value_idx = np.flatnonzero(~self._is_b)
        self._bool_idx = np.flatnonzero(self._is_b)
        self._any_i = bool(self._is_i.any())
        self._four = np.arange(4)
        self._sizes = sizes
        self._full_chunks = self._chunk(np.arange(n))
        # Sparse frames, per element: (size, kind, bytes before the payload (f/i) or the
        # whole element with F (bool), the whole element with T (bool)).
        self._few: list[tuple[int, int, bytes, bytes]] = []
        for e, t in zip(elements, self.types, strict=True):
            if t == "b":
                self._few.append((len(e), _BOOL, e, e[:-3] + b"T" + e[-2:]))
            else:
                self._few.append((len(e), _FLOAT if t == "f" else _INT, e[:-4], b""))

    def _chunk(self, idx: np.ndarray) -> list[np.ndarray]:
        """Split element indices into runs whose bundle stays under max_size."""
        room = self.max_size - len(_BUNDLE_HEAD)
        chunks: list[np.ndarray] = []
        start = 0
        total = 0
        sizes = self._sizes[idx]
        for k in range(len(idx)):
            if total + sizes[k] > room:
                chunks.append(idx[start:k])
                start, total = k, 0
            total += int(sizes[k])
        if len(idx) > start:
            chunks.append(idx[start:])
        return chunks

    def _fill(self, values: np.ndarray, sel: np.ndarray | None = None) -> np.ndarray:
        """Write values into the template: all elements, or only those in `sel`."""
        tpl = self._template
        if sel is None:
            vi, bi = self._value_idx, self._bool_idx
        else:
            is_b = self._is_b[sel]
            vi, bi = sel[~is_b], sel[is_b]
        if len(vi):
            v = values[vi]
            out = v.astype(">f4").view(">u4")
            if self._any_i:
                ints = np.clip(np.rint(v), -(2**31), 2**31 - 1).astype(">i4").view(">u4")
                out = np.where(self._is_i[vi], ints, out).astype(">u4")
            tpl[self._pos4[vi, None] + self._four] = out.view(np.uint8).reshape(-1, 4)
        if len(bi):
            tpl[self._tagpos[bi]] = np.where(values[bi] > 0.5, ord("T"), ord("F"))
        return tpl

    def pack(self, values: np.ndarray, include: np.ndarray | None = None) -> list[bytes]:
        """Datagrams (bundles) carrying the values, all or those where `include` is true."""
        if self._vectors is not None:
            return self._vectors.pack(values, include)
        values = np.asarray(values, dtype=np.float64)
        if include is not None:
            include = np.asarray(include)
            sel = include.nonzero()[0] if include.ndim == 1 else np.flatnonzero(include)
            if len(sel) <= SPARSE_MAX:
                return self._pack_few(values, sel)
            return self._pack_subset(self._fill(values, sel), sel)
        tpl = self._fill(values)
        starts, ends = self._starts[:-1], self._starts[1:]
        raw = tpl.tobytes()
        out: list[bytes] = []
        for chunk in self._full_chunks:
            if len(chunk):
                lo, hi = int(chunk[0]), int(chunk[-1])
                out.append(_BUNDLE_HEAD + raw[starts[lo] : ends[hi]])
        return out

    def _pack_few(self, values: np.ndarray, idx: np.ndarray) -> list[bytes]:
        """A few selected elements joined from their prepared bytes; bundles split
        greedily as in `_pack_subset`. Floats go through `struct` (the same bytes as
        numpy's cast) unless one overflows float32, where numpy's cast (inf) is used."""
        if len(idx) == 0:
            return []
        v = values[idx]
        i4 = b""
        if self._any_i:
            i4 = np.clip(np.rint(v), -(2**31), 2**31 - 1).astype(">i4").tobytes()
        try:
            return self._join_few(idx.tolist(), v.tolist(), None, i4)
        except OverflowError:
            return self._join_few(idx.tolist(), v.tolist(), v.astype(">f4").tobytes(), i4)

    def _join_few(
        self, idx: list[int], vals: list[float], f4: bytes | None, i4: bytes
    ) -> list[bytes]:
        few = self._few
        room = self.max_size - len(_BUNDLE_HEAD)
        out: list[bytes] = []
        parts = [_BUNDLE_HEAD]
        total = 0
        for j, (i, x) in enumerate(zip(idx, vals, strict=True)):
            n, kind, head, true = few[i]
            if total + n > room:
                out.append(b"".join(parts))
                parts = [_BUNDLE_HEAD]
                total = 0
            total += n
            if kind == _BOOL:
                parts.append(true if x > 0.5 else head)
            elif kind == _FLOAT:
                parts.append(head)
                parts.append(_PACK_F32(x) if f4 is None else f4[4 * j : 4 * j + 4])
            else:
                parts.append(head)
                parts.append(i4[4 * j : 4 * j + 4])
        out.append(b"".join(parts))
        return out

    def _pack_subset(self, tpl: np.ndarray, idx: np.ndarray) -> list[bytes]:
        """Selected elements: one gather of their bytes, then greedy splits per bundle."""
        if len(idx) == 0:
            return []
        sizes = self._sizes[idx]
        cum = np.cumsum(sizes)
        first = self._starts[idx] - (cum - sizes)
        data = tpl[np.repeat(first, sizes) + np.arange(int(cum[-1]))].tobytes()
        room = self.max_size - len(_BUNDLE_HEAD)
        out: list[bytes] = []
        base = 0
        while base < len(data):
            k = int(np.searchsorted(cum, base + room, side="right"))
            end = int(cum[k - 1])
            out.append(_BUNDLE_HEAD + data[base:end])
            base = end
        return out


class _Vectors:
    """Packing for address lists where some address repeats (multi-argument messages).

    The single-value addresses keep the fast `OscPacker` (over a gather of their values);
    each repeated address is one message (there are one or two), its header prepared when
    all its arguments are floats, appended to the last bundle when it fits, else in a
    bundle of its own.
    """

    def __init__(self, addresses: tuple[str, ...], types: tuple[str, ...], max_size: int):
        groups: dict[str, list[int]] = {}
        for i, a in enumerate(addresses):
            groups.setdefault(a, []).append(i)
        single = [g[0] for g in groups.values() if len(g) == 1]
        self.single = np.array(single, dtype=np.intp)
        self.inner = OscPacker([addresses[i] for i in single], [types[i] for i in single],
                               max_size=max_size)  # fmt: skip
        self.max_size = max_size
        # (indices, prepared size + address + tags when all floats, else the address)
        self.groups: list[tuple[np.ndarray, bytes | None, bytes, str]] = []
        for a, idx in groups.items():
            if len(idx) > 1:
                kinds = "".join(types[i] for i in idx)
                if set(kinds) - {"f", "i", "b"}:
                    raise ValueError(f"unsupported OSC types in {kinds!r}; expected f, i or b")
                head = osc_string(a)
                floats = None
                if set(kinds) == {"f"}:
                    body = head + osc_string("," + kinds)
                    floats = struct.pack(">i", len(body) + 4 * len(idx)) + body
                self.groups.append((np.array(idx, dtype=np.intp), floats, head, kinds))
        self.group_idx = np.concatenate([g[0] for g in self.groups])
        self.group_len = [len(g[0]) for g in self.groups]
        if any(len(_BUNDLE_HEAD) + len(self._message(g, np.zeros(len(g[0])))) > max_size
               for g in self.groups):  # fmt: skip
            raise ValueError("an OSC message is too long to fit in one datagram")

    @staticmethod
    def _message(group: tuple[np.ndarray, bytes | None, bytes, str], vals: np.ndarray) -> bytes:
        _, floats, head, kinds = group
        if floats is not None:
            return floats + vals.astype(">f4").tobytes()  # inf past float32, no error
        tags = ","
        payload = b""
        for kind, x in zip(kinds, vals.tolist(), strict=True):
            if kind == "b":
                tags += "T" if x > 0.5 else "F"
            elif kind == "i":
                tags += "i"
                payload += struct.pack(">i", int(min(max(round(x), -(2**31)), 2**31 - 1)))
            else:
                tags += "f"
                payload += np.array([x], dtype=">f4").tobytes()
        body = head + osc_string(tags) + payload
        return struct.pack(">i", len(body)) + body

    def pack(self, values: np.ndarray, include: np.ndarray | None) -> list[bytes]:
        values = np.asarray(values, dtype=np.float64)
        if include is None:
            out = self.inner.pack(values.take(self.single))
            wanted = [True] * len(self.groups)
        else:
            include = np.asarray(include).ravel()
            out = self.inner.pack(values.take(self.single), include.take(self.single))
            flags = include.take(self.group_idx).tolist()
            wanted, pos = [], 0
            for n in self.group_len:
                wanted.append(any(flags[pos : pos + n]))
                pos += n
        chosen = [g for g, want in zip(self.groups, wanted, strict=True) if want]
        extra = b"".join(self._message(g, values.take(g[0])) for g in chosen)
        if extra:
            if out and len(out[-1]) + len(extra) <= self.max_size:
                out[-1] += extra
            else:
                out.append(_BUNDLE_HEAD + extra)
        return out
