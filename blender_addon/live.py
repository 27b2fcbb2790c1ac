"""The live pump: a ``bpy.app.timers`` callback on the main thread drains the socket and
applies the newest frame: shape keys with one ``foreach_get``/``foreach_set`` pair, head and
eye rotations onto their bones (or object), and feeds a running recording every frame.

Networking never touches bpy. `pump` is module level so headless tests (where timers do
not fire by themselves) can call it directly.
"""

from __future__ import annotations

import array
import time
import traceback
from collections.abc import Mapping

import bpy

from . import actions, rig
from .core import bones, names, receiver
from .properties import AvatarDriverSettings, overrides, settings
from .state import rt

__all__ = ["TIMER_INTERVAL", "pump", "recenter", "start", "stop"]

TIMER_INTERVAL = 1.0 / 120.0  # seconds; the stream's own rate is 30-60 Hz
UI_INTERVAL = 0.25  # seconds between panel refreshes while running
_EYE_LOOK = frozenset(bones.look_weights(0.0, 0.0))


def _matcher(key: bpy.types.Key, s: AvatarDriverSettings) -> names.NameMatcher:
    kb = key.key_blocks
    sig = (key.as_pointer(), tuple(kb.keys()), tuple(sorted(overrides(s).items())))
    if rt.matcher is None or sig != rt.matcher_sig:
        rt.matcher = names.NameMatcher(sig[1], overrides(s))
        rt.matcher_sig = sig
        rt.match_names_seen = -1
    return rt.matcher


def _apply_shapes(key: bpy.types.Key, matcher: names.NameMatcher, newest: dict[str, float]) -> int:
    """Write the newest values into the shape keys with one foreach_get/set pair."""
    kb = key.key_blocks
    n = len(kb)
    buf = rt.buffer
    if len(buf) != n:
        buf = rt.buffer = array.array("f", bytes(4 * n))
    kb.foreach_get("value", buf)
    hits = 0
    for name, value in newest.items():
        m = matcher.lookup(name)
        if m is not None:
            buf[m.index] = value
            hits += 1
    if hits:
        kb.foreach_set("value", buf)
        key.update_tag()
    return hits


def _by_key(matcher: names.NameMatcher | None, values: Mapping[str, float]) -> dict[str, float]:
    if matcher is None:
        return {}
    out: dict[str, float] = {}
    for name, value in values.items():
        m = matcher.lookup(name)
        if m is not None:
            out[m.key] = value
    return out


def _with_gaze(values: dict[str, float], gaze: dict[str, float], explicit: bool) -> None:
    """Gaze-derived eyeLook* weights: chosen explicitly they win; on Auto the stream's own
    eyeLook values (avatar-driver and Live Link send them) are kept."""
    if not gaze:
        return
    if explicit:
        values.update(gaze)
        return
    sent = {n.lower() for n in values}
    for name, v in gaze.items():
        if name.lower() not in sent:
            values[name] = v


def _redraw() -> None:
    wm = bpy.context.window_manager
    for win in wm.windows if wm else ():
        for area in win.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


def _targets(s: AvatarDriverSettings) -> rig.RigTargets:
    """Resolved once per settings change (cached: resolving reads every bone name)."""
    r = s.head_object
    sig = (
        s.head_target, s.eye_target, s.head_bone, s.eye_bone_left, s.eye_bone_right,
        r.as_pointer() if r else 0, len(r.pose.bones) if r is not None and r.pose else 0,
    )  # fmt: skip
    if rt.targets is None or rt.targets_sig != sig:
        rt.targets = rig.resolve(s, rt.object_base)
        rt.targets_sig = sig
        rt.pose_driven = {role: d.label + (" (auto)" if d.how == "auto" else "")
                          for role, d in rt.targets.driven.items()}  # fmt: skip
        rt.pose_problems = list(rt.targets.problems)
        rt.pose_warnings = [d.warning for d in rt.targets.driven.values() if d.warning]
        rt.eyes_to_shape_keys = rt.targets.eyes_to_shape_keys
    return rt.targets


def _tick() -> float | None:
    rx = rt.receiver
    if rx is None:
        return None
    samples = rx.drain()
    scene = bpy.data.scenes.get(rt.scene_name)
    if scene is None:
        return TIMER_INTERVAL
    s = settings(scene)
    key = actions.shape_keys(s.target)
    names_changed = rt.match_names_seen != len(rx.latest)
    matcher = _matcher(key, s) if key is not None and (samples or names_changed) else None
    if samples:
        targets = _targets(s)
        adj = rig.adjusters(s)
        explicit = s.eye_target == "SHAPE_KEYS"
        newest: dict[str, float] = {}
        newest_pose: dict[str, bones.Angles] = {}
        for smp in samples:
            pose = rig.adjust_pose(smp.pose, adj)
            values = dict(smp.values)
            if targets.eyes_to_shape_keys:
                _with_gaze(values, rig.gaze_weights(pose), explicit)
            newest.update(values)
            newest_pose.update(pose)
            if rt.recorder is not None:
                actions.record_sample(smp.time, _by_key(matcher, values), pose,
                                      list(targets.driven))  # fmt: skip
        if newest_pose:
            rig.apply_pose(targets, newest_pose, s.rig_up)
        if key is not None and matcher is not None and newest:
            _apply_shapes(key, matcher, newest)
    if matcher is not None and names_changed:
        incoming = set(rx.latest)
        if rt.eyes_to_shape_keys and rx.pose.keys() & {"left_eye", "right_eye"}:
            incoming |= _EYE_LOOK
        rt.match_result = matcher.match_all(incoming)
        rt.match_names_seen = len(rx.latest)
    now = time.monotonic()
    if samples or now - rt.last_ui >= UI_INTERVAL:
        rt.last_ui = now
        _redraw()
    return TIMER_INTERVAL


def pump() -> float | None:
    """One timer tick: drain, apply, record. Returns the next interval (None stops it).

    Never raises: an exception escaping a timer makes Blender drop it, and nothing a
    sender does should be able to stop the add-on.
    """
    t0 = time.perf_counter()
    try:
        interval = _tick()
    except ReferenceError:
        # Undo or a deleted bone freed a cached pose bone: resolve the rig again next tick.
        rt.targets = None
        interval = TIMER_INTERVAL if rt.receiver is not None else None
    except Exception:
        rt.internal_errors += 1
        rt.message = "Internal error in the receiver (details in the system console)"
        rt.targets = None  # resolve the rig again, whatever went wrong
        traceback.print_exc()
        interval = TIMER_INTERVAL if rt.receiver is not None else None
    rt.tick_ms = (time.perf_counter() - t0) * 1000.0
    rt.ticks += 1
    return interval


def start(scene: bpy.types.Scene) -> str | None:
    """Open the socket and start the timer; returns an error message instead of raising."""
    stop(scene, finish_recording=False)
    s = settings(scene)
    rx = receiver.Receiver(
        s.protocol, host=s.host.strip() or "127.0.0.1", port=s.port,
        livelink_scale=rig.units_scale(s.head_units),
    )  # fmt: skip
    try:
        rx.open()
    except receiver.ReceiverError as e:
        rt.message = str(e)
        return rt.message
    rt.receiver = rx
    rt.scene_name = scene.name
    rt.message = ""
    rt.matcher = None
    rt.match_result = None
    rt.match_names_seen = -1
    rt.targets = None
    rt.object_base.clear()
    _targets(s)
    if rt.pose_problems:
        rt.message = rt.pose_problems[0]
    if not bpy.app.timers.is_registered(pump):
        bpy.app.timers.register(pump, first_interval=0.0)
    return None


def stop(scene: bpy.types.Scene | None = None, *, finish_recording: bool = True) -> None:
    """Close the socket and the timer; finishing a recording first if one is running."""
    if finish_recording and rt.recorder is not None:
        scene = scene or bpy.data.scenes.get(rt.scene_name)
        if scene is not None:
            settings(scene)["record"] = False  # no update callback: we finish right here
            actions.stop_recording(scene)
    if rt.receiver is not None:
        rt.receiver.close()
        rt.receiver = None
    rt.targets = None
    if bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)


def recenter(scene: bpy.types.Scene) -> str:
    """Take the current head and gaze as neutral (stored in the .blend); returns a summary."""
    rx = rt.receiver
    if rx is None or not rx.pose:
        return "Nothing to recenter on: start the receiver and send head or eye data"
    s = settings(scene)
    for role, prop in (("head", "head_offset"), ("left_eye", "left_eye_offset"),
                       ("right_eye", "right_eye_offset")):  # fmt: skip
        a = rx.pose.get(role)
        if a is not None:
            setattr(s, prop, a)
    _reapply(s)
    return "Recentered: " + ", ".join(sorted(rx.pose))


def clear_recenter(scene: bpy.types.Scene) -> None:
    s = settings(scene)
    s.head_offset = s.left_eye_offset = s.right_eye_offset = (0.0, 0.0, 0.0)
    _reapply(s)


def _reapply(s: AvatarDriverSettings) -> None:
    """Show a changed recenter at once, without waiting for the next frame."""
    if rt.receiver is not None and rt.receiver.pose:
        pose = rig.adjust_pose(rt.receiver.pose, rig.adjusters(s))
        rig.apply_pose(_targets(s), pose, s.rig_up)
