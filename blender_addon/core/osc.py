"""A small, strict OSC 1.0 decoder for untrusted datagrams.

Hand-written (not python-osc) so the extension ships no wheel and so every read is bounds
checked: anything the network sends either decodes or raises `OscError`, never another
exception, and nested bundles, message counts and string lengths are capped.
"""

from __future__ import annotations

import struct

__all__ = ["MAX_DEPTH", "MAX_MESSAGES", "OscArg", "OscError", "OscMessage", "decode_packet"]

OscArg = int | float | str | bytes | bool | None
OscMessage = tuple[str, tuple[OscArg, ...]]

MAX_DEPTH = 8  # nested bundles
MAX_MESSAGES = 4096  # messages in one datagram, bundles included
MAX_ARGS = 64
MAX_STRING = 1024

_BUNDLE = b"#bundle\x00"
_I32 = struct.Struct(">i")
_F32 = struct.Struct(">f")
_I64 = struct.Struct(">q")
_F64 = struct.Struct(">d")
#: Fixed-size argument types: their codec and what a truncated one is called.
_FIXED: dict[str, tuple[struct.Struct, str]] = {
    **dict.fromkeys("icrm", (_I32, "int32")),
    "f": (_F32, "float32"),
    **dict.fromkeys("ht", (_I64, "int64")),
    "d": (_F64, "float64"),
}


class OscError(ValueError):
    """The datagram is not valid OSC (or exceeds a safety limit)."""


def _pad4(n: int) -> int:
    return (n + 3) & ~3


def _read_string(data: bytes, pos: int, end: int) -> tuple[str, int]:
    stop = data.find(b"\x00", pos, min(end, pos + MAX_STRING + 1))
    if stop < 0:
        raise OscError(f"unterminated or over-long string at byte {pos}")
    nxt = pos + _pad4(stop - pos + 1)
    if nxt > end:
        raise OscError(f"string padding runs past the end at byte {pos}")
    try:
        return data[pos:stop].decode("utf-8"), nxt
    except UnicodeDecodeError as e:
        raise OscError(f"string at byte {pos} is not UTF-8") from e


def _need(pos: int, size: int, end: int, what: str) -> None:
    if pos + size > end:
        raise OscError(f"truncated {what} at byte {pos}")


def _decode_message(data: bytes, pos: int, end: int) -> OscMessage:
    address, pos = _read_string(data, pos, end)
    if not address.startswith("/"):
        raise OscError(f"address {address[:40]!r} does not start with '/'")
    if pos >= end:
        return address, ()  # pre-1.0 senders may omit the type tag string
    tags, pos = _read_string(data, pos, end)
    if not tags.startswith(","):
        raise OscError(f"type tag string {tags[:40]!r} does not start with ','")
    if len(tags) - 1 > MAX_ARGS:
        raise OscError(f"{len(tags) - 1} arguments, limit {MAX_ARGS}")
    args: list[OscArg] = []
    for tag in tags[1:]:
        fixed = _FIXED.get(tag)
        if fixed is not None:
            codec, what = fixed
            _need(pos, codec.size, end, what)
            args.append(codec.unpack_from(data, pos)[0])
            pos += codec.size
        elif tag == "s" or tag == "S":
            s, pos = _read_string(data, pos, end)
            args.append(s)
        elif tag == "b":
            _need(pos, 4, end, "blob size")
            size = _I32.unpack_from(data, pos)[0]
            pos += 4
            if size < 0 or pos + _pad4(size) > end:
                raise OscError(f"blob of {size} bytes does not fit at byte {pos}")
            args.append(bytes(data[pos : pos + size]))
            pos += _pad4(size)
        elif tag == "T":
            args.append(True)
        elif tag == "F":
            args.append(False)
        elif tag == "N" or tag == "I":
            args.append(None)
        else:  # arrays and unknown tags: refuse rather than guess their size
            raise OscError(f"unsupported type tag {tag!r} in {address[:40]!r}")
    if pos != end:
        raise OscError(f"{end - pos} stray bytes after {address[:40]!r}")
    return address, tuple(args)


def _decode(data: bytes, pos: int, end: int, depth: int, out: list[OscMessage]) -> None:
    if end - pos < 4 or (end - pos) % 4:
        raise OscError(f"element of {end - pos} bytes is not a positive multiple of 4")
    if data.startswith(_BUNDLE, pos):
        if depth >= MAX_DEPTH:
            raise OscError(f"bundles nested deeper than {MAX_DEPTH}")
        pos += 16  # "#bundle\0" + 8-byte time tag (ignored: we apply on arrival)
        if pos > end:
            raise OscError("truncated bundle header")
        while pos < end:
            _need(pos, 4, end, "bundle element size")
            size = _I32.unpack_from(data, pos)[0]
            pos += 4
            if size <= 0 or pos + size > end:
                raise OscError(f"bundle element of {size} bytes does not fit at byte {pos}")
            _decode(data, pos, pos + size, depth + 1, out)
            pos += size
        return
    if len(out) >= MAX_MESSAGES:
        raise OscError(f"more than {MAX_MESSAGES} messages in one datagram")
    out.append(_decode_message(data, pos, end))


def decode_packet(data: bytes) -> list[OscMessage]:
    """Every message in one datagram, bundles flattened in order.

    Raises `OscError` (only) if any part is malformed: a datagram is kept or dropped
    whole, so a half-read frame never reaches the mesh.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise OscError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    out: list[OscMessage] = []
    _decode(data, 0, len(data), 0, out)
    return out
