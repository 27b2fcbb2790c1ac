"""VRChat's per-avatar OSC config: find it, read it (data only, size-limited), and choose
for each mapping entry the wire parameters the avatar declares.

VRChat writes ``OSC/<userId>/Avatars/<avatarId>.json`` with the avatar's parameters; an
entry ``v2/JawOpen`` matches the avatar's ``v2/JawOpen`` or ``FT/v2/JawOpen`` (any prefix
path, but not right after a version such as ``v1/``), as a Float or Bool, or as binary
bits ``v2/JawOpen1``, ``2``, ``4``... plus ``v2/JawOpenNegative``, the way VRCFaceTracking
matches them (see `wires_for_avatar`), each sent to the address declared. Knowing nothing
of the avatar, every entry goes out as a float (`wires_without_avatar`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..mapping.compiled import CompiledMapping
from ..mapping.wires import (
    BIT,
    BOOL,
    DIRECT,
    NEGATIVE,
    OSC_TYPE,
    Wire,
    wires_as_written,
)

__all__ = [
    "MAX_AVATAR_JSON_BYTES",
    "AvatarConfig",
    "AvatarConfigError",
    "AvatarParam",
    "default_osc_folders",
    "find_avatar_config",
    "is_avatar_address",
    "read_avatar_config",
    "wires_for_avatar",
    "wires_without_avatar",
]

MAX_AVATAR_JSON_BYTES = 2 << 20
MAX_BITS = 8
_ID = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")
_AFTER_VERSION = re.compile(r"v\d+$")
_TRAILING_DIGITS = re.compile(r"\d+$")
AVATAR_PREFIX = "/avatar/"
#: VRChat's native eye addresses and the letters that mark an avatar's own parameters
#: for them (besides "Eye"): gaze X/Y, eyelid Open/Lid.
_NATIVE_EYE = {
    "/tracking/eye/LeftRightPitchYaw": ("X", "Y"),
    "/tracking/eye/EyesClosedAmount": ("Open", "Lid"),
}
#: VRCFaceTracking's legacy (v1) eye names (Legacy/Eye/EyeTrackingParams.cs) that count as
#: the avatar's own gaze or eyelid parameters.
LEGACY_EYE_NAMES = (
    "EyesX", "EyesY", "LeftEyeX", "LeftEyeY", "RightEyeX", "RightEyeY",
    "LeftEyeLid", "RightEyeLid", "CombinedEyeLid", "LeftEyeLidExpanded",
    "RightEyeLidExpanded", "EyeLidExpanded", "CombinedEyeLidExpanded",
    "LeftEyeLidExpandedSqueeze", "RightEyeLidExpandedSqueeze", "EyeLidExpandedSqueeze",
    "CombinedEyeLidExpandedSqueeze",
)  # fmt: skip
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


def _matches(address: str, name: str) -> bool:
    """VRCFaceTracking's ``(?<!(v\\d+))(/Name)$|^(Name)$`` on the declared input address
    (BaseParameter.cs): any prefix path, but not right after a version such as ``v1``."""
    if address == name:
        return True
    if not address.endswith("/" + name):
        return False
    return not _AFTER_VERSION.search(address[: -len(name) - 1])


def _bit_index(p: AvatarParam, name: str) -> int | None:
    """The bit a bool ``Name<2**k>`` carries, as BinaryBaseParameter.cs finds it: the
    address matches ``/Name\\d+$`` (not after a version), and the step is the trailing
    digits of the parameter's name with ``Name`` removed; it must be a power of two."""
    digits = _TRAILING_DIGITS.search(p.address)
    if digits is None or not _matches(p.address[: digits.start()], name):
        return None
    step = _TRAILING_DIGITS.search(p.name.replace(name, ""))
    if step is None or int(step.group()) < 1:
        return None
    value = int(step.group())
    return value.bit_length() - 1 if value & (value - 1) == 0 else None


def is_avatar_address(address: str) -> bool:
    """Whether an entry is an avatar parameter (else a VRChat address such as
    ``/tracking/eye/...``, sent whatever the avatar declares)."""
    return address.startswith(AVATAR_PREFIX)


def _native_wanted(address: str, params: Sequence[AvatarParam], known: set[str]) -> bool:
    """VRCFaceTracking's NativeParameter conditions (UnifiedExpressionsParameters.cs): no
    native gaze when the avatar has its own gaze parameters (a known name containing
    ``Eye`` and ``X`` or ``Y``), no native eyelids when it has its own openness or lid ones."""
    rule = _NATIVE_EYE.get(address)
    if rule is None:
        return True
    for p in params:
        own = "Eye" in p.name and any(c in p.name for c in rule)
        if own and any(p.address.endswith(n) for n in known):
            return False
    return True


def wires_without_avatar(mapping: CompiledMapping) -> list[Wire]:
    """The wires to send when nothing is known of the avatar: every entry as a float (a
    "binary" one also as its bits and Negative bit), so an avatar built with float
    parameters gets its face too; never bits alone."""
    wires: list[Wire] = []
    for w in wires_as_written(mapping.entries):
        e = mapping.entries[w.src]
        if e.type == "binary" and w.kind == BIT and w.bit == 0:
            wires.append(Wire(e.name, e.address, "f", w.src, DIRECT))
        wires.append(w)
    return wires


def wires_for_avatar(mapping: CompiledMapping, params: Sequence[AvatarParam]) -> list[Wire]:
    """The wire parameters to send for this avatar: only those it declares, as declared,
    matched the way VRCFaceTracking matches them (EParam in ParamContainers.cs: a Float
    parameter, a Bool one and binary bits; BaseParameter.cs, BinaryBaseParameter.cs).

    Like VRCFaceTracking, the first declared Float (and the first Bool) whose address
    matches is used; an Int is taken only by an ``int`` entry (VRCFaceTracking sends no
    ints); a ``bool`` entry (the tracking flags, VRCFT's ConditionalBoolParameter) fills
    only a Bool; bits count ``2**n`` steps for the n bits declared; a Negative bit is sent
    even without value bits. Bits past the 8th are ignored.
    """
    wires: list[Wire] = []
    known = {e.name for e in mapping.entries} | set(LEGACY_EYE_NAMES)
    for i, e in enumerate(mapping.entries):
        if not is_avatar_address(e.address):
            if _native_wanted(e.address, params, known):
                wires.append(Wire(e.name, e.address, OSC_TYPE[e.type], i, DIRECT))
            continue
        flag = next((p for p in params if p.type == "b" and _matches(p.address, e.name)), None)
        if e.type == "bool":  # a flag (VRCFT's ConditionalBoolParameter): Bool only
            if flag is not None:
                half = e.hysteresis / 2
                wires.append(Wire(flag.name, flag.address, "b", i, BOOL, on=e.threshold + half,
                                  off=e.threshold - half))  # fmt: skip
            continue
        value_type = "i" if e.type == "int" else "f"
        direct = next((p for p in params if p.type == value_type and _matches(p.address, e.name)),
                      None)  # fmt: skip
        if direct is not None:
            wires.append(Wire(direct.name, direct.address, value_type, i, DIRECT))
        if flag is not None:
            half = e.hysteresis / 2
            wires.append(Wire(flag.name, flag.address, "b", i, BOOL, on=e.threshold + half,
                              off=e.threshold - half))  # fmt: skip
        negative = next(
            (p for p in params if p.type == "b" and _matches(p.address, e.name + "Negative")), None
        )
        if negative is not None:
            wires.append(Wire(negative.name, negative.address, "b", i, NEGATIVE))
        bits: dict[int, AvatarParam] = {}
        for p in params:
            if p.type == "b":
                k = _bit_index(p, e.name)
                if k is not None:
                    bits.setdefault(k, p)
        n = len(bits)
        for k, p in sorted(bits.items()):
            if k < MAX_BITS:
                wires.append(Wire(p.name, p.address, "b", i, BIT, k, min(n, MAX_BITS)))
    return wires
