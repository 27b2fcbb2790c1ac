"""VRChat's per-avatar OSC config: find it, read it (data only, size-limited), and choose
for each mapping entry the wire parameters the avatar declares.

VRChat writes ``OSC/<userId>/Avatars/<avatarId>.json`` with the avatar's parameters; an
entry ``v2/JawOpen`` matches the avatar's ``v2/JawOpen`` or ``FT/v2/JawOpen`` (any prefix
path, but not a different version such as ``v1/``), as a Float, Int or Bool, or as binary
bits ``v2/JawOpen1``, ``2``, ``4``... plus ``v2/JawOpenNegative``, exactly the way
VRCFaceTracking matches them. Every declared variant is sent, to the address declared.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..mapping.compiled import BIT, BOOL, DIRECT, NEGATIVE, CompiledMapping, Wire

__all__ = [
    "MAX_AVATAR_JSON_BYTES",
    "AvatarConfig",
    "AvatarConfigError",
    "AvatarParam",
    "default_osc_folders",
    "find_avatar_config",
    "read_avatar_config",
    "wires_for_avatar",
]

MAX_AVATAR_JSON_BYTES = 2 << 20
MAX_BITS = 8
_ID = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")
_VERSION = re.compile(r"(^|/)v\d+$")
_TYPES = {"Float": "f", "Int": "i", "Bool": "b"}
VRCHAT_STEAM_APP = "438100"


class AvatarConfigError(Exception):
    """An avatar config file is missing, malformed or stale (a warning, not fatal)."""


@dataclass(frozen=True)
class AvatarParam:
    name: str
    address: str
    type: str  # "f", "i" or "b"


@dataclass(frozen=True)
class AvatarConfig:
    id: str
    name: str
    path: Path
    params: tuple[AvatarParam, ...]


def default_osc_folders() -> list[Path]:
    """Where VRChat keeps its OSC folder: Windows, then Steam Proton prefixes."""
    out: list[Path] = []
    local = os.environ.get("LOCALAPPDATA")
    if local:
        out.append(Path(local).parent / "LocalLow" / "VRChat" / "VRChat" / "OSC")
    profile = os.environ.get("USERPROFILE")
    if profile:
        out.append(Path(profile) / "AppData" / "LocalLow" / "VRChat" / "VRChat" / "OSC")
    home = Path.home()
    pfx = (
        Path("steamapps") / "compatdata" / VRCHAT_STEAM_APP / "pfx" / "drive_c" / "users"
        / "steamuser" / "AppData" / "LocalLow" / "VRChat" / "VRChat" / "OSC"
    )  # fmt: skip
    for steam in (
        home / ".steam" / "steam",
        home / ".local" / "share" / "Steam",
        home / ".var" / "app" / "com.valvesoftware.Steam" / ".local" / "share" / "Steam",
    ):
        out.append(steam / pfx)
    return out


def find_avatar_config(folders: Sequence[Path], avatar_id: str) -> Path | None:
    """The newest ``*/Avatars/<avatar_id>.json`` in the folders (one per VRChat user)."""
    if not _ID.match(avatar_id) or avatar_id in (".", ".."):
        raise AvatarConfigError(f"avatar id {avatar_id[:60]!r} is not a plain identifier")
    found: list[tuple[float, Path]] = []
    for folder in folders:
        try:
            users = list(folder.iterdir()) if folder.is_dir() else []
        except OSError:
            continue
        for user in users:
            p = user / "Avatars" / f"{avatar_id}.json"
            try:
                if p.is_file():
                    found.append((p.stat().st_mtime, p))
            except OSError:
                continue
    return max(found)[1] if found else None


def read_avatar_config(path: Path, expected_id: str | None = None) -> AvatarConfig:
    """Parse one avatar JSON; AvatarConfigError names the file and what is wrong."""
    try:
        size = path.stat().st_size
        if size > MAX_AVATAR_JSON_BYTES:
            raise AvatarConfigError(f"{path}: {size} bytes, over the {MAX_AVATAR_JSON_BYTES} limit")
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as e:
        raise AvatarConfigError(f"{path}: cannot read ({e.strerror})") from e
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise AvatarConfigError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), list):
        raise AvatarConfigError(f"{path}: expected an object with a 'parameters' list")
    avatar_id = data.get("id")
    if not isinstance(avatar_id, str):
        raise AvatarConfigError(f"{path}: expected a string 'id'")
    if expected_id is not None and avatar_id != expected_id:
        raise AvatarConfigError(
            f"{path}: stale or foreign: its id is {avatar_id!r}, VRChat says {expected_id!r}"
        )
    params: list[AvatarParam] = []
    for i, item in enumerate(data["parameters"]):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise AvatarConfigError(f"{path}: parameters[{i}]: expected an object with a 'name'")
        inp = item.get("input")
        if inp is None:
            continue  # read-only parameter
        if (
            not isinstance(inp, dict)
            or not isinstance(inp.get("address"), str)
            or not inp["address"].startswith("/")
            or inp.get("type") not in _TYPES
        ):
            raise AvatarConfigError(
                f"{path}: parameters[{i}] ({item['name']!r}): expected input with an OSC "
                f"'address' and a 'type' of Float, Int or Bool, got {str(inp)[:80]}"
            )
        params.append(AvatarParam(item["name"], inp["address"], _TYPES[inp["type"]]))
    name = data.get("name")
    return AvatarConfig(avatar_id, name if isinstance(name, str) else "", path, tuple(params))


def _matches(declared: str, name: str) -> bool:
    if declared == name:
        return True
    if not declared.endswith("/" + name):
        return False
    return not _VERSION.search(declared[: -len(name) - 1])


def wires_for_avatar(mapping: CompiledMapping, params: Sequence[AvatarParam]) -> list[Wire]:
    """The wire parameters to send for this avatar: only those it declares, as declared."""
    wires: list[Wire] = []
    by_name = {p.name: p for p in params}
    for i, e in enumerate(mapping.entries):
        half = e.hysteresis / 2
        bits: list[tuple[int, AvatarParam]] = []
        for p in by_name.values():
            if _matches(p.name, e.name):
                if p.type == "b":
                    wires.append(
                        Wire(p.name, p.address, "b", i, BOOL, on=e.threshold + half,
                             off=e.threshold - half)
                    )  # fmt: skip
                else:
                    wires.append(Wire(p.name, p.address, p.type, i, DIRECT))
                continue
            if p.type != "b":
                continue
            stem, sep, rest = p.name.rpartition(e.name)
            if not sep or not _matches(stem + e.name, e.name):
                continue
            if rest == "Negative":
                wires.append(Wire(p.name, p.address, "b", i, NEGATIVE))
            elif rest.isdigit() and int(rest) > 0 and int(rest) & (int(rest) - 1) == 0:
                k = int(rest).bit_length() - 1
                if k < MAX_BITS:
                    bits.append((k, p))
        if bits:
            n = max(k for k, _ in bits) + 1
            for k, p in sorted(bits, key=lambda b: b[0]):
                wires.append(Wire(p.name, p.address, "b", i, BIT, k, n))
    # A Negative bit without any value bits carries no information on its own; drop it.
    with_bits = {w.src for w in wires if w.kind == BIT}
    return [w for w in wires if w.kind != NEGATIVE or w.src in with_bits]
