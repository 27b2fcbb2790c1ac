"""A small TOML writer for the settings the panel saves into a config file.

Only what `tomllib` gives back from a config file is written (tables, arrays of tables,
strings, numbers, booleans, dates, arrays of those); comments of the original file are
not kept. The result is read back with the real loader before it replaces the file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["dumps_toml", "write_toml"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} as TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _table(data: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    plain = {k: v for k, v in data.items() if not isinstance(v, Mapping) and not _is_table_array(v)}
    lines += [f"{_key(k)} = {_value(v)}" for k, v in plain.items()]
    for k, v in data.items():
        if isinstance(v, Mapping):
            header = ".".join(_key(p) for p in [*path, k])
            lines += ["", f"[{header}]"]
            _table(v, [*path, k], lines)
        elif _is_table_array(v):
            header = ".".join(_key(p) for p in [*path, k])
            for item in v:
                lines += ["", f"[[{header}]]"]
                _table(item, [*path, k], lines)


def dumps_toml(data: Mapping[str, Any]) -> str:
    lines: list[str] = []
    _table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def write_toml(path: Path, data: Mapping[str, Any], header: str = "") -> None:
    """Replace `path` atomically (a crash never leaves half a file)."""
    text = (header + "\n" if header else "") + dumps_toml(data)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
