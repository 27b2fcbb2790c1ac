"""`wires_for_avatar` against a port of VRCFaceTracking's parameter matching.

The port follows VRCFaceTracking (github.com/benaclejames/VRCFaceTracking at 4c58db6):
- VRCFaceTracking.Core/OSC/DataTypes/BaseParameter.cs: ``BaseParam<T>.ResetParam`` takes
  the first avatar parameter whose input address matches
  ``(?<!(v\\d+))(/Name)$|^(Name)$`` and whose type is T;
- VRCFaceTracking.Core/OSC/DataTypes/BinaryBaseParameter.cs: ``ResetParam`` takes the Bool
  parameters matching ``(?<!(v\\d+))/Name\\d+$|^Name\\d+$``, reads the step from the trailing
  digits of ``Name.Replace(name, "")``, keeps powers of two (``GetBinarySteps``), counts
  ``2 ** len(bits)`` steps, and always resets the ``NameNegative`` bool;
- VRCFaceTracking.Core/Params/DataTypes/ParamContainers.cs: ``EParam`` is a Bool, a Float
  and a binary parameter of one name (no Int).
The regexes are used verbatim through the ``regex`` module: .NET's variable-width
look-behind is beyond the standard ``re``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import regex

from avatar_driver.mapping import load_mapping
from avatar_driver.mapping.wires import BIT, BOOL, DIRECT, NEGATIVE
from avatar_driver.shapes import CHANNEL_NAMES
from avatar_driver.vrchat.avatar import AvatarParam, is_avatar_address, wires_for_avatar

PREFIX = "/avatar/parameters/"
MAPPING = load_mapping("vrchat-unified-v2")


@dataclass(frozen=True)
class Sent:
    """What VRCFaceTracking would send for one parameter literal."""

    entry: str
    address: str
    kind: str  # "float", "bool", "bit", "negative"
    step: int = 0  # bit index
    steps: int = 0  # 2 ** steps is the binary maximum


def _base_param(name: str, want: str, params: list[AvatarParam]) -> AvatarParam | None:
    """BaseParam<T>.ResetParam: FirstOrDefault(regex.IsMatch(Address) && Type == T)."""
    rx = regex.compile(r"(?<!(v\d+))(/" + regex.escape(name) + ")$|^(" + regex.escape(name) + ")$")
    return next((p for p in params if rx.search(p.address) and p.type == want), None)


def _get_binary_steps(index: int) -> int | None:
    cur = 1
    for i in range(index):
        if cur == index:
            return i
        cur *= 2
    return None


def vrcft_relevant(name: str, params: list[AvatarParam]) -> set[Sent]:
    """EParam(name).ResetParam(params): the bool, float and binary literals kept."""
    out: set[Sent] = set()
    if (p := _base_param(name, "b", params)) is not None:
        out.add(Sent(name, p.address, "bool"))
    if (p := _base_param(name, "f", params)) is not None:
        out.add(Sent(name, p.address, "float"))
    # BinaryBaseParameter
    if (p := _base_param(name + "Negative", "b", params)) is not None:
        out.add(Sent(name, p.address, "negative"))
    rx = regex.compile(
        r"(?<!(v\d+))/" + regex.escape(name) + r"\d+$|^" + regex.escape(name) + r"\d+$"
    )
    to_create: dict[str, int] = {}
    for p in params:
        if p.type != "b" or not rx.search(p.address):
            continue
        tail = p.name.replace(name, "")[::-1]
        digits = ""
        for c in tail:
            if not c.isdigit():
                break
            digits += c
        if not digits:
            continue
        index = int(digits[::-1])
        step = _get_binary_steps(index)
        if step is not None:
            to_create.setdefault(name + str(index), step)  # C# Add would throw on a repeat
    for bit_name, step in to_create.items():
        p = _base_param(bit_name, "b", params)
        if p is not None:
            out.add(Sent(name, p.address, "bit", step, len(to_create)))
    return out


KIND = {DIRECT: "float", BOOL: "bool", BIT: "bit", NEGATIVE: "negative"}


def ours(params: list[AvatarParam]) -> set[Sent]:
    got: set[Sent] = set()
    for w in wires_for_avatar(MAPPING, params):
        e = MAPPING.entries[w.src]
        if is_avatar_address(e.address):
            got.add(Sent(e.name, w.address, KIND[w.kind], w.bit, w.nbits))
    return got


#: UnifiedExpressionsParameters.cs declares these as ConditionalBoolParameter (a
#: BaseParam<bool>), not EParam.
CONDITIONAL_BOOLS = {"EyeTrackingActive", "ExpressionTrackingActive", "LipTrackingActive"}


def theirs(params: list[AvatarParam]) -> set[Sent]:
    got: set[Sent] = set()
    for e in MAPPING.entries:
        if e.name in CONDITIONAL_BOOLS:
            if (p := _base_param(e.name, "b", params)) is not None:
                got.add(Sent(e.name, p.address, "bool"))
        elif is_avatar_address(e.address):
            got |= {s if s.kind == "bit" else Sent(s.entry, s.address, s.kind)
                    for s in vrcft_relevant(e.name, params)}  # fmt: skip
    return got


def P(name: str, kind: str, address: str | None = None) -> AvatarParam:
    return AvatarParam(name, address or PREFIX + name, kind)


def _bits(stem: str, steps: tuple[int, ...], negative: bool = False) -> list[AvatarParam]:
    out = [P(f"{stem}{s}", "b") for s in steps]
    return out + ([P(stem + "Negative", "b")] if negative else [])


AVATARS: dict[str, list[AvatarParam]] = {
    "floats v2": [P("v2/JawOpen", "f"), P("v2/EyeLidLeft", "f"), P("v2/MouthSmileLeft", "f"),
                  P("v2/Head/Yaw", "f"), P("v2/BrowDownRight", "f")],
    "floats FT/v2": [P("FT/v2/JawOpen", "f"), P("FT/v2/SmileSadLeft", "f"),
                     P("FT/v2/EyeClosedRight", "f")],
    "v1 decoys": [P("v1/JawOpen", "f"), P("v1/v2/JawOpen", "f"), P("FT/v3/v2/JawOpen", "f"),
                  P("xv2/v2/JawOpen", "f"), P("JawOpen", "f"), P("v2/JawOpenX", "f"),
                  P("v22/v2/MouthX", "f"), P("v/v2/MouthX", "f")],
    "bits 1 2 4 8 + Negative": [*_bits("v2/JawX", (1, 2, 4, 8), True),
                                *_bits("v2/JawOpen", (1, 2, 4, 8))],
    "bits 1": _bits("FT/v2/TongueOut", (1,)) + _bits("v2/MouthSmileRight", (1, 2)),
    "bits gap and odd steps": [*_bits("v2/CheekPuffLeft", (2, 4, 8)),
                               *_bits("v2/JawOpen", (1, 3, 6, 16, 0))],
    "negative alone": [P("v2/SmileSadNegative", "b"), P("v2/MouthXNegative", "b")],
    "bool, int, float of one name": [P("v2/JawOpen", "b"), P("v2/JawOpen", "i"),
                                     P("v2/JawOpen", "f", PREFIX + "FT/v2/JawOpen")],
    "int only": [P("v2/EyeLidLeft", "i"), P("v2/JawOpen1", "i"), P("v2/JawOpen2", "i")],
    "flags of other types": [P("EyeTrackingActive", "f"), P("LipTrackingActive", "i"),
                             P("FT/ExpressionTrackingActive", "b"), P("LipTrackingActive1", "b")],
    "float bits as floats": [P("v2/JawOpen1", "f"), P("v2/JawOpen2", "f")],
    "two prefixes, first wins": [P("FT/v2/JawOpen", "f"), P("v2/JawOpen", "f"),
                                 P("v2/EyeLid", "b"), P("FT/v2/EyeLid", "b")],
    "prefix collisions": [P("v2/EyeLid", "f"), P("v2/EyeLidLeft", "f"), P("v2/MouthUpperUp", "f"),
                          P("v2/MouthUpperUpLeft1", "b"), P("v2/BrowUp", "f")],
    "address differs from name": [P("v2/JawOpen", "f", "/avatar/parameters/Custom/v2/JawOpen"),
                                  P("FT/v2/JawX2", "b", "/avatar/parameters/FT/v2/JawX2")],
    "mixed real avatar": [P("FT/v2/EyeLidLeft", "f"), P("FT/v2/EyeLidRight", "f"),
                          P("FT/v2/EyeLeftX", "f"), P("FT/v2/EyeY", "f"),
                          *_bits("FT/v2/JawOpen", (1, 2, 4, 8)),
                          *_bits("FT/v2/JawX", (1, 2, 4), True),
                          *_bits("FT/v2/SmileSadLeft", (1, 2, 4), True),
                          P("EyeTrackingActive", "b"), P("LipTrackingActive", "b"),
                          P("VelocityX", "f"), P("GestureLeft", "i")],
}  # fmt: skip


@pytest.mark.parametrize("name", list(AVATARS))
def test_matches_like_vrcft(name: str) -> None:
    params = AVATARS[name]
    assert ours(params) == theirs(params)


def test_the_sets_are_not_trivial() -> None:
    """The comparison above sees floats, bools, bits and Negative bits, and decoys fail."""
    kinds = {s.kind for params in AVATARS.values() for s in theirs(params)}
    assert kinds == {"float", "bool", "bit", "negative"}
    # Only "v/" survives: the look-behind wants a 'v' and digits ('xv2' ends in 'v2').
    assert theirs(AVATARS["v1 decoys"]) == {Sent("v2/MouthX", PREFIX + "v/v2/MouthX", "float")}
    gaps = theirs(AVATARS["bits gap and odd steps"])
    assert {(s.entry, s.step, s.steps) for s in gaps} == {
        ("v2/CheekPuffLeft", 1, 3), ("v2/CheekPuffLeft", 2, 3), ("v2/CheekPuffLeft", 3, 3),
        ("v2/JawOpen", 0, 2), ("v2/JawOpen", 4, 2),  # 3, 6 and 0 are not steps
    }  # fmt: skip


def test_native_eye_follows_vrcft_conditions() -> None:
    """NativeParameter (UnifiedExpressionsParameters.cs): native gaze unless the avatar has
    its own gaze, native eyelids unless it has its own openness or lid."""

    def native(params: list[AvatarParam]) -> set[str]:
        return {w.address for w in wires_for_avatar(MAPPING, params)
                if not is_avatar_address(w.address)}  # fmt: skip

    both = {"/tracking/eye/LeftRightPitchYaw", "/tracking/eye/EyesClosedAmount"}
    assert native([]) == both
    assert native([P("v2/JawOpen", "f")]) == both
    assert native([P("FT/v2/EyeLeftX", "f")]) == {"/tracking/eye/EyesClosedAmount"}
    assert native([P("v2/EyeOpenLeft", "f")]) == {"/tracking/eye/LeftRightPitchYaw"}
    assert native([P("LeftEyeLid", "f"), P("EyesY", "f")]) == set()  # legacy v1 names
    assert native([P("MyEyeX", "f")]) == both  # not a known name


@pytest.mark.parametrize("name", list(AVATARS))
def test_chosen_wires_compute(name: str) -> None:
    """Every choice above (Negative alone, bit gaps, steps past the count) packs values."""
    wired = MAPPING.with_wires(wires_for_avatar(MAPPING, AVATARS[name]))
    ch = np.full(len(CHANNEL_NAMES), 0.7)
    values = wired.apply(ch)
    assert values.shape == (len(wired),) and np.isfinite(values).all()
    for w, v in zip(wired.wires, values, strict=True):
        if w.type == "b":
            assert v in (0.0, 1.0), w
