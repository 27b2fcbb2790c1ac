"""The optional TOML config file (`--config`): data only, size-limited, validated early."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "load_toml"]

MAX_CONFIG_BYTES = 1 << 20


def load_toml(path: str | Path, *, what: str = "config file") -> dict[str, Any]:
    """Read a TOML file into a dict; ConfigError names the file and the problem."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"{what} {p} does not exist")
    size = p.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{what} {p} is {size} bytes; the limit is {MAX_CONFIG_BYTES}")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what} {p} is not UTF-8 text ({e.reason})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{what} {p} is not valid TOML: {e}") from e
