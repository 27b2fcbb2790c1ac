"""OSC 1.0 encoding: single messages, bundles, and a precompiled packer for hot paths.

Hot-path rule: a `OscPacker` is built once per parameter list; each frame then costs one
numpy scatter of the new values into a template and a few slices, with no per-message
Python work. Only float (``f``), int32 (``i``) and bool (``T``/``F``) arguments are packed
this way; every one of them has a fixed size, which is what makes a template possible.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

__all__ = ["MAX_DATAGRAM", "OscPacker", "bundle", "message", "osc_string"]

#: Bundles are kept under this size, as VRChat's peers do.
MAX_DATAGRAM = 4096
_BUNDLE_HEAD = b"#bundle\x00" + b"\x00" * 7 + b"\x01"  # time tag 1 = "immediately"


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
    """

    def __init__(
        self, addresses: Sequence[str], types: Sequence[str], *, max_size: int = MAX_DATAGRAM
    ) -> None:
        if len(addresses) != len(types):
            raise ValueError("addresses and types differ in length")
        self.addresses = tuple(addresses)
        self.types = tuple(types)
        self.max_size = max_size
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
        self._value_pos = (ends - 4)[~self._is_b]
        self._bool_pos = (ends - 3)[self._is_b]
        self._value_idx = np.flatnonzero(~self._is_b)
        self._bool_idx = np.flatnonzero(self._is_b)
        self._spread = self._value_pos[:, None] + np.arange(4)
        self._sizes = sizes
        self._full_chunks = self._chunk(np.arange(n))

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

    def _fill(self, values: np.ndarray) -> np.ndarray:
        tpl = self._template
        if len(self._value_idx):
            v = values[self._value_idx]
            out = np.empty(len(v), dtype=">u4")
            is_i = self._is_i[self._value_idx]
            out[~is_i] = v[~is_i].astype(">f4").view(">u4")
            ints = np.clip(np.rint(v[is_i]), -(2**31), 2**31 - 1).astype(">i4")
            out[is_i] = ints.view(">u4")
            tpl[self._spread] = out.view(np.uint8).reshape(-1, 4)
        if len(self._bool_idx):
            tpl[self._bool_pos] = np.where(values[self._bool_idx] > 0.5, ord("T"), ord("F"))
        return tpl

    def pack(self, values: np.ndarray, include: np.ndarray | None = None) -> list[bytes]:
        """Datagrams (bundles) carrying the values, all or those where `include` is true."""
        tpl = self._fill(np.asarray(values, dtype=np.float64))
        chunks = self._full_chunks if include is None else self._chunk(np.flatnonzero(include))
        starts, ends = self._starts[:-1], self._starts[1:]
        raw = tpl.tobytes()
        out: list[bytes] = []
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            lo, hi = int(chunk[0]), int(chunk[-1])
            if hi - lo + 1 == len(chunk):  # contiguous: one slice
                out.append(_BUNDLE_HEAD + raw[starts[lo] : ends[hi]])
            else:
                out.append(_BUNDLE_HEAD + b"".join(raw[starts[i] : ends[i]] for i in chunk))
        return out
