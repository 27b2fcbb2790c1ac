"""Actions: a finished recording or an imported Live Link Face take becomes keyframes on
the shape keys (one action on the mesh's Key) and on the head and eyes (one ``<name>_head``
action on the rig or head object), both on one timeline from the current frame."""

from __future__ import annotations

import array
import math
from collections.abc import Hashable, Mapping, Sequence

import bpy

from . import rig
from .core import bones, livelink, names, recording, takes
from .properties import AvatarDriverSettings, overrides, settings
from .state import rt

__all__ = ["import_take", "start_recording", "stop_recording", "write_action"]

_LINEAR = 1  # KeyframePoint.interpolation enum value of 'LINEAR'
Curves = dict[tuple[str, int], list[float]]

#: Take columns of each role's (yaw, pitch, roll), compared lowercase.
TAKE_POSE_COLUMNS = {
    "head": ("headyaw", "headpitch", "headroll"),
    "left_eye": ("lefteyeyaw", "lefteyepitch", "lefteyeroll"),
    "right_eye": ("righteyeyaw", "righteyepitch", "righteyeroll"),
}


def shape_keys(obj: bpy.types.Object | None) -> bpy.types.Key | None:
    if obj is None or obj.type != "MESH" or obj.data.shape_keys is None:
        return None
    return obj.data.shape_keys


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def _flat(frames: Sequence[float], values: Sequence[float]) -> list[float]:
    f, v = recording.reduce_constant(frames, values)
    out = [0.0] * (2 * len(f))
    out[0::2], out[1::2] = f, v
    return out


# -- writing actions ----------------------------------------------------------------------
def _fcurve(action: bpy.types.Action, owner: bpy.types.ID, path: str, index: int):
    if hasattr(action, "fcurve_ensure_for_datablock"):  # Blender 4.4+ (slotted actions)
        return action.fcurve_ensure_for_datablock(owner, path, index=index)
    fc = action.fcurves.find(path, index=index)  # Blender 4.2-4.3
    return fc or action.fcurves.new(path, index=index)


def write_action(owner: bpy.types.ID, name: str, curves: Curves) -> bpy.types.Action:
    """A new action on `owner` with one linear F-curve per (data path, index).

    A new action every time (Blender adds .001 on a clash) so no earlier take is lost.
    """
    action = bpy.data.actions.new(name)
    ad = owner.animation_data or owner.animation_data_create()
    ad.action = action
    lo, hi = math.inf, -math.inf
    for (path, index), co in curves.items():
        n = len(co) // 2
        if n == 0:
            continue
        fc = _fcurve(action, owner, path, index)
        fc.keyframe_points.clear()
        fc.keyframe_points.add(n)
        fc.keyframe_points.foreach_set("co", co)
        fc.keyframe_points.foreach_set("interpolation", array.array("i", [_LINEAR]) * n)
        fc.update()
        lo, hi = min(lo, co[0]), max(hi, co[-2])
    if lo <= hi:
        action.use_frame_range = True
        action.frame_start, action.frame_end = lo, max(hi, lo + 1)
    return action


def _fit_scene(scene: bpy.types.Scene, action: bpy.types.Action) -> None:
    # Make the whole take playable from the timeline.
    if action.use_frame_range:
        scene.frame_end = max(scene.frame_end, math.ceil(action.frame_end))


def pose_curves(
    targets: rig.RigTargets,
    up: str,
    frames: Sequence[float],
    series: Mapping[str, Sequence[bones.Angles]],
) -> Curves:
    """F-curves (rotation in each target's own mode) for per-frame angles of each role."""
    curves: Curves = {}
    for role, d in targets.driven.items():
        angles = series.get(role)
        if not angles:
            continue
        d._last = []
        per = [d.values(a, up) for a in angles]
        d._last = []
        prop = d.data_path_prefix + per[0][0]
        for i in range(len(per[0][1])):
            curves[(prop, i)] = _flat(frames, [p[1][i] for p in per])
    return curves


def _write_pose(scene: bpy.types.Scene, targets: rig.RigTargets, name: str, curves: Curves) -> str:
    if not curves or targets.rig is None:
        return ""
    action = write_action(targets.rig, f"{name}_head", curves)
    _fit_scene(scene, action)
    return ", ".join(targets.paths())


# -- recording ------------------------------------------------------------------------------
def start_recording(scene: bpy.types.Scene) -> None:
    rt.recorder = recording.Recorder(scene_fps(scene), start_frame=scene.frame_current)
    s = settings(scene)
    rt.recording_target = s.target.name if s.target else ""
    rt.recording_rig = s.head_object.name if s.head_object else ""


def stop_recording(scene: bpy.types.Scene) -> bpy.types.Action | None:
    """Turn the buffered take into actions: shape keys, and the head and eyes."""
    rec, rt.recorder = rt.recorder, None
    if rec is None or not rec.channels():
        return None
    s = settings(scene)
    name = s.action_name or "AvatarDriverTake"
    keyed = rec.keyframes(reduce=False)
    frames = [rec.start_frame + k for k in range(rec.n_frames())]
    shape_curves: Curves = {}
    series: dict[str, list[list[float]]] = {}
    for ch, co in keyed.items():
        if isinstance(ch, tuple) and ch[0] == "pose":
            _, role, axis = ch
            series.setdefault(role, [[], [], []])[axis] = co[1::2]
        else:
            shape_curves[(f'key_blocks["{escape(str(ch))}"].value', 0)] = _flat(co[0::2], co[1::2])
    done: list[str] = []
    action = None
    obj = bpy.data.objects.get(rt.recording_target) or s.target
    key = shape_keys(obj)
    if shape_curves and key is not None:
        action = write_action(key, name, shape_curves)
        _fit_scene(scene, action)
        done.append(f"action {action.name!r}")
    elif shape_curves:
        rt.message = "Shape keys discarded: the target has no shape keys"
    if series:
        targets = rig.resolve(s, rt.object_base)
        per_role: dict[str, list[bones.Angles]] = {
            role: list(zip(*axes, strict=True)) for role, axes in series.items()
        }
        pose = _write_pose(scene, targets, name, pose_curves(targets, s.rig_up, frames, per_role))
        if pose:
            done.append(f"{name}_head on {pose}")
    if done:
        rt.message = f"Recorded {rec.duration:.1f} s into " + "; ".join(done)
    return action


def record_sample(
    t: float, shapes: Mapping[str, float], pose: Mapping[str, bones.Angles], driven: Sequence[str]
) -> None:
    """Buffer one frame: shape key values by key name and the driven roles' angles."""
    rec = rt.recorder
    if rec is None:
        return
    values: dict[Hashable, float] = {}
    for k, v in shapes.items():
        values[k] = v
    for role in driven:
        a = pose.get(role)
        if a is not None:
            for i in range(3):
                values[("pose", role, i)] = a[i]
    if values:
        rec.add(t, values)


# -- take import ----------------------------------------------------------------------------
def import_take(scene: bpy.types.Scene, filepath: str) -> str:
    """Load a Live Link Face CSV as actions; returns a summary, raises TakeError."""
    s = settings(scene)
    key = shape_keys(s.target)
    if key is None:
        raise takes.TakeError("Pick a target mesh with shape keys first")
    targets = rig.resolve(s, rt.object_base) if s.head_target != "NONE" else None
    if targets is not None and targets.problems and "head" not in targets.driven:
        raise takes.TakeError(targets.problems[0])
    take = takes.parse_take(filepath, timecode_fps=s.timecode_fps or None)
    fps = scene_fps(scene)
    n = round(take.duration * fps) + 1
    start_frame = float(scene.frame_current)
    frames = [start_frame + k for k in range(n)]
    matcher = names.NameMatcher(key.key_blocks.keys(), overrides(s))

    def at_frames(values: list[float]) -> list[float]:
        return recording.resample(take.times, values, 0.0, fps, n)

    curves: Curves = {}
    for ch in take.names:
        m = matcher.lookup(ch)
        if m is not None:
            curves[(f'key_blocks["{escape(m.key)}"].value', 0)] = _flat(
                frames, at_frames(take.columns[ch])
            )
    if not curves:
        raise takes.TakeError("No column of the take matches a shape key of the target")
    name = s.action_name or "AvatarDriverTake"
    action = write_action(key, name, curves)
    _fit_scene(scene, action)
    summary = (
        f"Imported {len(curves)} shapes, {take.duration:.2f} s "
        f"(timecode {take.timecode_fps:g} fps{' inferred' if take.fps_inferred else ''}) "
        f"into {action.name!r}"
    )
    if targets is None:
        return summary
    head = _import_pose(scene, s, targets, take, frames, at_frames)
    return summary + (f"; head and eyes onto {head}" if head else "")


def _import_pose(
    scene: bpy.types.Scene,
    s: AvatarDriverSettings,
    targets: rig.RigTargets,
    take: takes.Take,
    frames: list[float],
    at_frames,
) -> str:
    cols = {c.lower(): c for c in take.names}
    scale = rig.units_scale(s.head_units)
    adj = rig.adjusters(s, with_offset=False)  # a recenter belongs to the live session
    # Takes carry Live Link's (Unreal's) signs, like its packets: back to avatar-driver's.
    sy, sp, sr = livelink.POSE_SIGN[:3]
    series: dict[str, list[bones.Angles]] = {}
    for role, wanted in TAKE_POSE_COLUMNS.items():
        found = [cols.get(k) for k in wanted]
        if role not in targets.driven or not all(found):
            continue
        yaw, pitch, roll = (at_frames(take.columns[c]) for c in found)  # type: ignore[index]
        series[role] = [
            adj[role]((y * scale * sy, p * scale * sp, r * scale * sr))
            for y, p, r in zip(yaw, pitch, roll, strict=True)
        ]
    return _write_pose(scene, targets, s.action_name or "AvatarDriverTake",
                       pose_curves(targets, s.rig_up, frames, series))  # fmt: skip
