"""One size-limited TOML reader for config, calibration profile and mapping files.

Each caller supplies only what differs: the words for the file in messages, the size
limit and its error class (as pydantic-settings' ``_read_files`` leaves only the parser
to each format). Every failure is one line naming the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import BadInputError

__all__ = ["read_toml"]


def read_toml(
    path: str | Path, *, what: str, limit: int, error: type[BadInputError]
) -> dict[str, Any]:
    """The TOML file at `path` as a dict; `error` says "`what` PATH ..." on any failure.

    The size is checked before anything is read, so a huge file costs no memory.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise error(f"{what} {p} is a folder; expected a TOML file")
    if not p.is_file():
        raise error(f"{what} {p} does not exist")
    try:
        size = p.stat().st_size
        if size > limit:
            raise error(f"{what} {p} is {size} bytes; the limit is {limit}")
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{what} {p} is not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise error(f"{what} {p}: cannot read it ({e.strerror})") from e
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{what} {p} is not valid TOML: {e}") from e
