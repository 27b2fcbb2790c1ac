"""Head and eyes onto a rig: which bones (or object) take each role, and how a pose in
`core.bones` angles becomes their rotation properties.

The maths is in `core.bones` (bpy-free, tested with plain pytest); this module only reads
rest matrices and rotation modes from Blender and writes rotations in whatever mode the
bone or object already uses (quaternion, axis-angle or any Euler order), so a user's rig
settings are never changed behind their back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import bpy
from mathutils import Euler, Quaternion

from .core import bones
from .properties import AvatarDriverSettings

__all__ = ["Driven", "RigTargets", "resolve", "rotation_path"]

#: Constraints that point a bone at a target: an eye bone with one is turned by moving
#: the target (Rigify's eyes track the eye.L / eye.R controls this way).
AIM_CONSTRAINTS = ("DAMPED_TRACK", "TRACK_TO", "LOCKED_TRACK")

_CONSTRAINTS_THAT_OVERRIDE = {
    "COPY_ROTATION", "COPY_TRANSFORMS", "DAMPED_TRACK", "TRACK_TO", "LOCKED_TRACK",
    "CHILD_OF", "ARMATURE", "IK",
}  # fmt: skip


def _mat3(m: object) -> bones.Mat3:
    r = m.to_3x3().normalized()  # type: ignore[attr-defined]
    return tuple(tuple(float(r[i][j]) for j in range(3)) for i in range(3))  # type: ignore[return-value]


def rotation_path(mode: str) -> tuple[str, int]:
    """(property, length) that holds a rotation in `mode`."""
    if mode == "QUATERNION":
        return "rotation_quaternion", 4
    if mode == "AXIS_ANGLE":
        return "rotation_axis_angle", 4
    return "rotation_euler", 3


@dataclass
class Driven:
    """One role's target: a pose bone or an object, with what its rotation is relative to."""

    role: str
    owner: bpy.types.PoseBone | bpy.types.Object
    label: str  # "Rig:head" or "Head" (for the panel and messages)
    rest: bones.Mat3  # bone: rest rotation in the rig; object: its rotation at start
    is_bone: bool
    how: str = "set"  # "set" (the user's choice) or "auto" (found by name)
    warning: str = ""
    _last: list[float] = field(default_factory=list)
    #: For an eye that tracks a target: the rest head positions of the eye and the target
    #: (`owner` is then the target, moved instead of rotating the eye).
    aim: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None

    def __post_init__(self) -> None:
        self.rest_q = bones.quaternion_from_matrix(self.rest)

    @property
    def data_path_prefix(self) -> str:
        if self.is_bone:
            name = self.owner.name.replace("\\", "\\\\").replace('"', '\\"')
            return f'pose.bones["{name}"].'
        return ""

    def values(self, angles: bones.Angles, up: str) -> tuple[str, list[float]]:
        """(property, values) for `angles`, continuous with the previous call (no flips)."""
        if self.aim is not None:
            return "location", list(bones.aim_offset(angles, *self.aim, self.rest, up))
        if self.is_bone:
            q = bones.local_quaternion(angles, self.rest_q, up)
        else:
            q = bones.object_quaternion(angles, self.rest_q, up)
        mode = self.owner.rotation_mode
        prop, _ = rotation_path(mode)
        quat = Quaternion(q)
        if mode == "QUATERNION":
            vals = list(quat)
            if self._last and sum(a * b for a, b in zip(vals, self._last, strict=True)) < 0:
                vals = [-v for v in vals]
        elif mode == "AXIS_ANGLE":
            axis, ang = quat.to_axis_angle()
            vals = [ang, *axis]
        else:
            compat = Euler(self._last, mode) if len(self._last) == 3 else None
            eul = quat.to_euler(mode, compat) if compat is not None else quat.to_euler(mode)
            vals = list(eul)
        self._last = vals
        return prop, vals

    def write(self, angles: bones.Angles, up: str) -> None:
        prop, vals = self.values(angles, up)
        setattr(self.owner, prop, vals)


@dataclass
class RigTargets:
    """Every role that has a target, plus what to tell the user about the rest."""

    rig: bpy.types.Object | None
    driven: dict[str, Driven] = field(default_factory=dict)
    eyes_to_shape_keys: bool = False
    problems: list[str] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [d.label for d in self.driven.values()]


def _aim_target(rig: bpy.types.Object, pb: bpy.types.PoseBone) -> bpy.types.PoseBone | None:
    """The bone `pb` is pointed at by an aim constraint, if any."""
    for c in pb.constraints:
        if (c.enabled and c.type in AIM_CONSTRAINTS and c.target == rig
                and c.subtarget in rig.pose.bones and c.influence > 0.5):  # fmt: skip
            return rig.pose.bones[c.subtarget]
    return None


def _bone_for(
    rig: bpy.types.Object, role: str, chosen: str, what: str, problems: list[str]
) -> tuple[str | None, str]:
    names = rig.pose.bones.keys()
    if not chosen and role != "head":
        # An eye that tracks a target is the real eye (Rigify's MCH-eye): prefer it.
        for cand in bones.CANDIDATES[role]:
            if cand in rig.pose.bones and _aim_target(rig, rig.pose.bones[cand]) is not None:
                return cand, "auto"
    if chosen:
        if chosen in rig.pose.bones:
            return chosen, "set"
        problems.append(f"Armature {rig.name!r} has no bone {chosen!r} ({what})")
        return None, ""
    found = bones.find_bone(role, names)
    if found is None:
        tried = ", ".join(bones.CANDIDATES[role][:5])
        problems.append(
            f"No {what.lower()} found on {rig.name!r} (looked for {tried}, ...): pick one"
        )
    return found, "auto"


def _warning(pb: bpy.types.PoseBone) -> str:
    over = [c.type for c in pb.constraints if c.enabled and c.type in _CONSTRAINTS_THAT_OVERRIDE]
    if over:
        return (
            f"{pb.name} has a {over[0].replace('_', ' ').title()} constraint that may override it"
        )
    return ""


def resolve(
    s: AvatarDriverSettings, object_base: dict[str, bones.Mat3] | None = None
) -> RigTargets:
    """The targets the settings name; missing bones become `problems`, never exceptions.

    object_base: rest rotations of objects driven as a whole, by object name, kept by the
    caller so a live session rotates relative to where the object stood when it started.
    """
    rig = s.head_object
    out = RigTargets(rig)
    if s.head_target == "NONE" or rig is None:
        if s.head_target != "NONE":
            out.problems.append("Pick the rig (or object) for the head")
        out.eyes_to_shape_keys = s.eye_target == "SHAPE_KEYS"
        return out
    is_arm = rig.type == "ARMATURE"
    if s.head_target == "BONE" and not is_arm:
        out.problems.append(f"{rig.name!r} is not an armature: choose Object or an armature")
    elif s.head_target == "BONE":
        name, how = _bone_for(rig, "head", s.head_bone.strip(), "Head bone", out.problems)
        if name:
            _add_bone(out, rig, "head", name, how)
    else:
        base = (object_base or {}).get(rig.name)
        if base is None:
            base = _mat3(rig.matrix_basis)
            if object_base is not None:
                object_base[rig.name] = base
        out.driven["head"] = Driven("head", rig, rig.name, base, False)

    if s.eye_target in ("AUTO", "BONES") and is_arm:
        for role, prop, what in (("left_eye", "eye_bone_left", "Left eye bone"),
                                 ("right_eye", "eye_bone_right", "Right eye bone")):  # fmt: skip
            chosen = getattr(s, prop).strip()
            probs: list[str] = []
            name, how = _bone_for(rig, role, chosen, what, probs)
            if name:
                _add_bone(out, rig, role, name, how)
            elif s.eye_target == "BONES" or chosen:
                out.problems += probs
    has_eye_bones = "left_eye" in out.driven or "right_eye" in out.driven
    out.eyes_to_shape_keys = s.eye_target == "SHAPE_KEYS" or (
        s.eye_target == "AUTO" and not has_eye_bones
    )
    if s.eye_target == "BONES" and not is_arm:
        out.problems.append(f"{rig.name!r} is not an armature, so it has no eye bones")
    return out


def _add_bone(out: RigTargets, rig: bpy.types.Object, role: str, name: str, how: str) -> None:
    pb = rig.pose.bones[name]
    target = _aim_target(rig, pb) if role != "head" else None
    if target is not None:
        eye, tgt = pb.bone.head_local, target.bone.head_local
        out.driven[role] = Driven(
            role, target, f"{rig.name}:{name} via target {target.name}",
            _mat3(target.bone.matrix_local), True, how,
            aim=((eye[0], eye[1], eye[2]), (tgt[0], tgt[1], tgt[2])),
        )  # fmt: skip
        return
    out.driven[role] = Driven(
        role, pb, f"{rig.name}:{name}", _mat3(pb.bone.matrix_local), True, how, _warning(pb)
    )


def apply_pose(targets: RigTargets, pose: Mapping[str, bones.Angles], up: str) -> dict[str, float]:
    """Rotate every driven role present in `pose`; returns eyeLook* weights when the gaze
    goes to shape keys (both eyes' gaze averaged, as the shapes describe one gaze)."""
    for role, d in targets.driven.items():
        a = pose.get(role)
        if a is not None:
            d.write(a, up)
    if targets.eyes_to_shape_keys:
        return gaze_weights(pose)
    return {}


def gaze_weights(pose: Mapping[str, bones.Angles]) -> dict[str, float]:
    eyes = [pose[r] for r in ("left_eye", "right_eye") if r in pose]
    if not eyes:
        return {}
    yaw = sum(e[0] for e in eyes) / len(eyes)
    pitch = sum(e[1] for e in eyes) / len(eyes)
    return bones.look_weights(yaw, pitch)


def adjusters(s: AvatarDriverSettings, *, with_offset: bool = True) -> dict[str, bones.Adjust]:
    """Per role: the user's sign, strength and (live only) recenter offset."""

    def off(v: Sequence[float]) -> bones.Angles:
        return (float(v[0]), float(v[1]), float(v[2])) if with_offset else (0.0, 0.0, 0.0)

    hs, hi = s.head_strength, s.head_invert
    head = bones.Adjust(
        (float(hs[0]), float(hs[1]), float(hs[2])),
        (bool(hi[0]), bool(hi[1]), bool(hi[2])),
        off(s.head_offset),
    )
    eye_strength = (float(s.eye_strength[0]), float(s.eye_strength[1]), 0.0)
    eye_invert = (bool(s.eye_invert[0]), bool(s.eye_invert[1]), False)
    return {
        "head": head,
        "left_eye": bones.Adjust(eye_strength, eye_invert, off(s.left_eye_offset)),
        "right_eye": bones.Adjust(eye_strength, eye_invert, off(s.right_eye_offset)),
    }


def adjust_pose(
    pose: Mapping[str, bones.Angles], adj: Mapping[str, bones.Adjust]
) -> dict[str, bones.Angles]:
    return {role: adj[role](a) for role, a in pose.items() if role in adj}


def units_scale(units: str) -> float:
    """Radians per Live Link head/eye unit for the Units setting."""
    return {"NORMALIZED": math.pi, "DEGREES": math.radians(1.0)}.get(units, 1.0)
