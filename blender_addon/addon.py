"""The add-on's bpy layer: a thin layer over the bpy-free `core`.

Properties (saved with the .blend), operators, the sidebar panel and the timer pump.
Networking never touches bpy: the socket is drained by `pump`, a ``bpy.app.timers``
callback on the main thread, which applies the newest value per shape with one
``foreach_get``/``foreach_set`` pair. `pump` is module level so headless tests (where
timers do not fire by themselves) can call it directly.
"""

from __future__ import annotations

import array
import math
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

import bpy
from bpy.app.handlers import persistent
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from .core import names, receiver, recording, takes
from .core.sample import Sample

TIMER_INTERVAL = 1.0 / 120.0  # seconds; the stream's own rate is 30-60 Hz
UI_INTERVAL = 0.25  # seconds between panel refreshes while running
_LINEAR = 1  # KeyframePoint.interpolation enum value of 'LINEAR'


@dataclass
class _Runtime:
    """Process state that must not be saved in the .blend (sockets, caches)."""

    receiver: receiver.Receiver | None = None
    scene_name: str = ""
    message: str = ""  # last error or notice, shown in the panel
    matcher: names.NameMatcher | None = None
    matcher_sig: tuple = ()
    match_result: names.MatchResult | None = None
    match_names_seen: int = -1
    buffer: array.array = field(default_factory=lambda: array.array("f"))
    recorder: recording.Recorder | None = None
    recording_target: str = ""
    tick_ms: float = 0.0
    ticks: int = 0
    internal_errors: int = 0
    last_ui: float = 0.0


_rt = _Runtime()


# -- properties ------------------------------------------------------------------------------
class AvatarDriverOverride(bpy.types.PropertyGroup):
    incoming: StringProperty(name="Incoming", description="Name the sender uses")  # type: ignore[valid-type]
    shape_key: StringProperty(name="Shape Key", description="Shape key it should drive")  # type: ignore[valid-type]


def _poll_mesh(_self: object, obj: bpy.types.Object) -> bool:
    return obj.type == "MESH"


def _protocol_changed(self: AvatarDriverSettings, _context: bpy.types.Context) -> None:
    # Follow the protocol's default port unless the user picked a port of their own.
    if self.port in receiver.DEFAULT_PORTS.values():
        self.port = receiver.DEFAULT_PORTS[self.protocol]


def _record_changed(self: AvatarDriverSettings, context: bpy.types.Context) -> None:
    if self.record:
        start_recording(context.scene)
    else:
        stop_recording(context.scene)


class AvatarDriverSettings(bpy.types.PropertyGroup):
    target: PointerProperty(  # type: ignore[valid-type]
        name="Target", type=bpy.types.Object, poll=_poll_mesh,
        description="Mesh whose shape keys follow the stream",
    )  # fmt: skip
    protocol: EnumProperty(  # type: ignore[valid-type]
        name="Protocol",
        items=[
            ("VMC", "VMC", "VMC protocol (avatar-driver, VSeeFace, XR Animator...)"),
            ("LIVELINK", "Live Link Face", "Live Link Face UDP (iPhone app)"),
        ],
        default="VMC",
        update=_protocol_changed,
    )
    host: StringProperty(  # type: ignore[valid-type]
        name="Address", default="127.0.0.1",
        description="Address to listen on; 127.0.0.1 accepts this computer only",
    )  # fmt: skip
    port: IntProperty(name="Port", default=39540, min=1, max=65535)  # type: ignore[valid-type]
    record: BoolProperty(  # type: ignore[valid-type]
        name="Record", default=False, update=_record_changed,
        description="Turn received weights into keyframes; turn off to finish the action",
    )  # fmt: skip
    action_name: StringProperty(name="Action", default="AvatarDriverTake")  # type: ignore[valid-type]
    overrides: CollectionProperty(type=AvatarDriverOverride)  # type: ignore[valid-type]
    overrides_index: IntProperty(default=0)  # type: ignore[valid-type]
    show_matches: BoolProperty(name="Show matches", default=False)  # type: ignore[valid-type]
    timecode_fps: FloatProperty(  # type: ignore[valid-type]
        name="Timecode FPS", default=0.0, min=0.0, max=1000.0,
        description="Frame rate of the take's timecode; 0 infers it from the file",
    )  # fmt: skip
    head_target: EnumProperty(  # type: ignore[valid-type]
        name="Head",
        items=[
            ("NONE", "None", "Ignore head rotation"),
            ("OBJECT", "Object", "Rotate an object"),
            ("BONE", "Bone", "Rotate a pose bone"),
        ],
        default="NONE",
    )
    head_object: PointerProperty(name="Head Object", type=bpy.types.Object)  # type: ignore[valid-type]
    head_bone: StringProperty(name="Bone")  # type: ignore[valid-type]
    head_units: EnumProperty(  # type: ignore[valid-type]
        name="Units",
        items=[
            (
                "NORMALIZED",
                "Normalized",
                "-1..1 for -180..180 degrees, as Unreal's Live Link reads it "
                "(avatar-driver takes, Live Link Face)",
            ),
            ("RADIANS", "Radians", "Takes that store radians"),
            ("DEGREES", "Degrees", "Takes that store degrees"),
        ],
        default="NORMALIZED",
    )


def _settings(scene: bpy.types.Scene) -> AvatarDriverSettings:
    return scene.avatar_driver  # type: ignore[attr-defined]


def _overrides(s: AvatarDriverSettings) -> dict[str, str]:
    return {o.incoming: o.shape_key for o in s.overrides if o.incoming}


# -- the pump --------------------------------------------------------------------------------
def _shape_keys(obj: bpy.types.Object | None) -> bpy.types.Key | None:
    if obj is None or obj.type != "MESH" or obj.data.shape_keys is None:
        return None
    return obj.data.shape_keys


def _matcher(key: bpy.types.Key, s: AvatarDriverSettings) -> names.NameMatcher:
    kb = key.key_blocks
    sig = (key.as_pointer(), tuple(kb.keys()), tuple(sorted(_overrides(s).items())))
    if _rt.matcher is None or sig != _rt.matcher_sig:
        _rt.matcher = names.NameMatcher(sig[1], _overrides(s))
        _rt.matcher_sig = sig
        _rt.match_names_seen = -1
    return _rt.matcher


def _apply(key: bpy.types.Key, matcher: names.NameMatcher, newest: dict[str, float]) -> int:
    """Write the newest values into the shape keys with one foreach_get/set pair."""
    kb = key.key_blocks
    n = len(kb)
    buf = _rt.buffer
    if len(buf) != n:
        buf = _rt.buffer = array.array("f", bytes(4 * n))
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


def _record(matcher: names.NameMatcher, samples: list[Sample]) -> None:
    rec = _rt.recorder
    if rec is None:
        return
    for s in samples:
        by_key: dict[str, float] = {}
        for name, value in s.values.items():
            m = matcher.lookup(name)
            if m is not None:
                by_key[m.key] = value
        if by_key:
            rec.add(s.time, by_key)


def _redraw() -> None:
    wm = bpy.context.window_manager
    for win in wm.windows if wm else ():
        for area in win.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


def _tick() -> float | None:
    rx = _rt.receiver
    if rx is None:
        return None
    samples = rx.drain()
    scene = bpy.data.scenes.get(_rt.scene_name)
    if scene is None:
        return TIMER_INTERVAL
    s = _settings(scene)
    key = _shape_keys(s.target)
    if key is not None and (samples or _rt.match_names_seen != len(rx.latest)):
        matcher = _matcher(key, s)
        if samples:
            newest: dict[str, float] = {}
            for smp in samples:
                newest.update(smp.values)
            _apply(key, matcher, newest)
            _record(matcher, samples)
        if _rt.match_names_seen != len(rx.latest):
            _rt.match_result = matcher.match_all(rx.latest)
            _rt.match_names_seen = len(rx.latest)
    now = time.monotonic()
    if samples or now - _rt.last_ui >= UI_INTERVAL:
        _rt.last_ui = now
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
    except Exception:
        _rt.internal_errors += 1
        _rt.message = "Internal error in the receiver (details in the system console)"
        traceback.print_exc()
        interval = TIMER_INTERVAL if _rt.receiver is not None else None
    _rt.tick_ms = (time.perf_counter() - t0) * 1000.0
    _rt.ticks += 1
    return interval


def start(scene: bpy.types.Scene) -> str | None:
    """Open the socket and start the timer; returns an error message instead of raising."""
    stop(scene, finish_recording=False)
    s = _settings(scene)
    rx = receiver.Receiver(s.protocol, host=s.host.strip() or "127.0.0.1", port=s.port)
    try:
        rx.open()
    except receiver.ReceiverError as e:
        _rt.message = str(e)
        return _rt.message
    _rt.receiver = rx
    _rt.scene_name = scene.name
    _rt.message = ""
    _rt.matcher = None
    _rt.match_result = None
    _rt.match_names_seen = -1
    if not bpy.app.timers.is_registered(pump):
        bpy.app.timers.register(pump, first_interval=0.0)
    return None


def stop(scene: bpy.types.Scene | None = None, *, finish_recording: bool = True) -> None:
    """Close the socket and the timer; finishing a recording first if one is running."""
    if finish_recording and _rt.recorder is not None:
        scene = scene or bpy.data.scenes.get(_rt.scene_name)
        if scene is not None:
            _settings(scene)["record"] = False  # no update callback: we finish right here
            stop_recording(scene)
    if _rt.receiver is not None:
        _rt.receiver.close()
        _rt.receiver = None
    if bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)


# -- recording and actions -------------------------------------------------------------------
def _scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def start_recording(scene: bpy.types.Scene) -> None:
    _rt.recorder = recording.Recorder(_scene_fps(scene), start_frame=scene.frame_current)
    target = _settings(scene).target
    _rt.recording_target = target.name if target else ""


def stop_recording(scene: bpy.types.Scene) -> bpy.types.Action | None:
    """Turn the buffered take into an action on the target's shape keys."""
    rec, _rt.recorder = _rt.recorder, None
    if rec is None or not rec.channels():
        return None
    s = _settings(scene)
    obj = bpy.data.objects.get(_rt.recording_target) or s.target
    key = _shape_keys(obj)
    if key is None:
        _rt.message = "Recording discarded: the target has no shape keys"
        return None
    curves = {(f'key_blocks["{_escape(ch)}"].value', 0): co for ch, co in rec.keyframes().items()}
    action = write_action(key, s.action_name or "AvatarDriverTake", curves)
    _fit_scene(scene, action)
    _rt.message = f"Recorded {rec.duration:.1f} s into action {action.name!r}"
    return action


def _escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def _fcurve(action: bpy.types.Action, owner: bpy.types.ID, path: str, index: int):
    if hasattr(action, "fcurve_ensure_for_datablock"):  # Blender 4.4+ (slotted actions)
        return action.fcurve_ensure_for_datablock(owner, path, index=index)
    fc = action.fcurves.find(path, index=index)  # Blender 4.2-4.3
    return fc or action.fcurves.new(path, index=index)


def write_action(
    owner: bpy.types.ID, name: str, curves: dict[tuple[str, int], list[float]]
) -> bpy.types.Action:
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


def import_take(scene: bpy.types.Scene, filepath: str) -> str:
    """Load a Live Link Face CSV as an action; returns a summary, raises TakeError."""
    s = _settings(scene)
    key = _shape_keys(s.target)
    if key is None:
        raise takes.TakeError("Pick a target mesh with shape keys first")
    take = takes.parse_take(filepath, timecode_fps=s.timecode_fps or None)
    fps = _scene_fps(scene)
    n = round(take.duration * fps) + 1
    start_frame = float(scene.frame_current)
    frames = [start_frame + k for k in range(n)]
    matcher = names.NameMatcher(key.key_blocks.keys(), _overrides(s))

    def flat(values: list[float], scale: float = 1.0) -> list[float]:
        vals = recording.resample(take.times, values, 0.0, fps, n)
        f, v = recording.reduce_constant(frames, [x * scale for x in vals])
        out = [0.0] * (2 * len(f))
        out[0::2], out[1::2] = f, v
        return out

    curves: dict[tuple[str, int], list[float]] = {}
    for ch in take.names:
        m = matcher.lookup(ch)
        if m is not None:
            curves[(f'key_blocks["{_escape(m.key)}"].value', 0)] = flat(take.columns[ch])
    if not curves:
        raise takes.TakeError("No column of the take matches a shape key of the target")
    action = write_action(key, s.action_name or "AvatarDriverTake", curves)
    _fit_scene(scene, action)
    summary = (
        f"Imported {len(curves)} shapes, {take.duration:.2f} s "
        f"(timecode {take.timecode_fps:g} fps{' inferred' if take.fps_inferred else ''}) "
        f"into {action.name!r}"
    )
    head = _import_head(scene, s, take, flat)
    return summary + (f"; head onto {head}" if head else "")


def _import_head(scene, s, take: takes.Take, flat) -> str:
    if s.head_target == "NONE" or s.head_object is None:
        return ""
    cols = {c.lower(): c for c in take.names}
    yaw, pitch, roll = (cols.get(k) for k in ("headyaw", "headpitch", "headroll"))
    if not (yaw and pitch and roll):
        return ""
    scale = {"DEGREES": math.radians(1.0), "NORMALIZED": math.pi}.get(s.head_units, 1.0)
    obj = s.head_object
    if s.head_target == "BONE":
        if obj.type != "ARMATURE" or s.head_bone not in obj.pose.bones:
            raise takes.TakeError(f"Bone {s.head_bone!r} not found on {obj.name!r}")
        obj.pose.bones[s.head_bone].rotation_mode = "XYZ"
        path = f'pose.bones["{_escape(s.head_bone)}"].rotation_euler'
        # A bone's Y axis runs along it (up the neck): yaw about Y, roll about Z.
        axes = {0: pitch, 1: yaw, 2: roll}
    else:
        obj.rotation_mode = "XYZ"
        path = "rotation_euler"
        axes = {0: pitch, 1: roll, 2: yaw}  # Blender is Z-up: yaw about Z
    curves = {(path, i): flat(take.columns[c], scale) for i, c in axes.items()}
    write_action(obj, f"{s.action_name or 'AvatarDriverTake'}_head", curves)
    return f"{obj.name}" + (f":{s.head_bone}" if s.head_target == "BONE" else "")


# -- operators -------------------------------------------------------------------------------
class AVATAR_DRIVER_OT_start(bpy.types.Operator):
    """Listen for the stream and drive the target's shape keys"""

    bl_idname = "avatar_driver.start"
    bl_label = "Start"

    def execute(self, context: bpy.types.Context) -> set[str]:
        err = start(context.scene)
        if err:
            self.report({"ERROR"}, err)
            return {"CANCELLED"}
        return {"FINISHED"}


class AVATAR_DRIVER_OT_stop(bpy.types.Operator):
    """Stop listening and release the port (finishes a running recording)"""

    bl_idname = "avatar_driver.stop"
    bl_label = "Stop"

    def execute(self, context: bpy.types.Context) -> set[str]:
        stop(context.scene)
        return {"FINISHED"}


class AVATAR_DRIVER_OT_import_take(bpy.types.Operator):
    """Import a Live Link Face CSV take as an action on the target's shape keys"""

    bl_idname = "avatar_driver.import_take"
    bl_label = "Import Take"
    bl_options: ClassVar[set[str]] = {"REGISTER", "UNDO"}

    filepath: StringProperty(subtype="FILE_PATH")  # type: ignore[valid-type]
    filter_glob: StringProperty(default="*.csv", options={"HIDDEN"})  # type: ignore[valid-type]

    def invoke(self, context: bpy.types.Context, _event: bpy.types.Event) -> set[str]:
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            summary = import_take(context.scene, self.filepath)
        except takes.TakeError as e:
            _rt.message = str(e)
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        _rt.message = summary
        self.report({"INFO"}, summary)
        return {"FINISHED"}


class AVATAR_DRIVER_OT_override_add(bpy.types.Operator):
    """Add a name override (incoming name -> shape key)"""

    bl_idname = "avatar_driver.override_add"
    bl_label = "Add Override"
    bl_options: ClassVar[set[str]] = {"REGISTER", "UNDO"}

    incoming: StringProperty(name="Incoming")  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        s = _settings(context.scene)
        item = s.overrides.add()
        item.incoming = self.incoming
        s.overrides_index = len(s.overrides) - 1
        return {"FINISHED"}


class AVATAR_DRIVER_OT_override_remove(bpy.types.Operator):
    """Remove the selected name override"""

    bl_idname = "avatar_driver.override_remove"
    bl_label = "Remove Override"
    bl_options: ClassVar[set[str]] = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        s = _settings(context.scene)
        if 0 <= s.overrides_index < len(s.overrides):
            s.overrides.remove(s.overrides_index)
            s.overrides_index = max(0, s.overrides_index - 1)
        return {"FINISHED"}


# -- panel -----------------------------------------------------------------------------------
class AVATAR_DRIVER_UL_overrides(bpy.types.UIList):
    def draw_item(self, context, layout, _data, item, _icon, _active, _prop, _index=0):
        row = layout.row(align=True)
        row.prop(item, "incoming", text="", emboss=False)
        row.label(icon="FORWARD")
        key = _shape_keys(_settings(context.scene).target)
        if key is not None:
            row.prop_search(item, "shape_key", key, "key_blocks", text="")
        else:
            row.prop(item, "shape_key", text="")


def _lines(layout: bpy.types.UILayout, items: Iterable[str], limit: int = 60) -> None:
    col = layout.column(align=True)
    items = list(items)
    for text in items[:limit]:
        col.label(text=text)
    if len(items) > limit:
        col.label(text=f"... and {len(items) - limit} more")


class VIEW3D_PT_avatar_driver(bpy.types.Panel):
    bl_label = "Avatar Driver"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Avatar Driver"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        s = _settings(context.scene)
        rx = _rt.receiver
        col = layout.column()
        col.prop(s, "target")
        col.enabled = True
        row = layout.row(align=True)
        row.enabled = rx is None
        row.prop(s, "protocol", text="")
        row.prop(s, "port", text="Port")
        if rx is None:
            layout.operator("avatar_driver.start", icon="PLAY")
        else:
            layout.operator("avatar_driver.stop", icon="PAUSE")
        if _rt.message:
            layout.label(text=_rt.message, icon="INFO")

        if rx is not None:
            box = layout.box()
            age = rx.age()
            st = rx.stats
            box.label(
                text="Receiving" if rx.receiving() else "Waiting for data",
                icon="RADIOBUT_ON" if rx.receiving() else "RADIOBUT_OFF",
            )
            box.label(text=f"{rx.protocol} on {rx.host}:{rx.port}, {rx.rate():.0f} packets/s")
            box.label(text="No packet yet" if age is None else f"Last packet {age:.1f} s ago")
            box.label(text=f"Malformed, dropped: {st.dropped}  (packets {st.packets})")
            box.label(text=f"Tick {_rt.tick_ms:.2f} ms")

        res = _rt.match_result
        box = layout.box()
        row = box.row()
        row.prop(
            s, "show_matches", icon="TRIA_DOWN" if s.show_matches else "TRIA_RIGHT",
            emboss=False, text="Name matching",
        )  # fmt: skip
        if res is not None:
            row.label(text=f"{len(res.matches)} driven, {len(res.unmatched)} unmatched")
        if s.show_matches:
            if res is None:
                box.label(text="Start and send data to see matches")
            else:
                _lines(box, (f"{m.incoming} -> {m.key} ({m.how})" for m in res.matches.values()))
                if res.unmatched:
                    box.label(text="Unmatched (click to add an override):")
                    for name in res.unmatched[:30]:
                        op = box.operator("avatar_driver.override_add", text=name, icon="ADD")
                        op.incoming = name
                for bad in res.bad_overrides:
                    box.label(text=f"Override target missing for {bad!r}", icon="ERROR")
            row = box.row()
            row.template_list(
                "AVATAR_DRIVER_UL_overrides", "", s, "overrides", s, "overrides_index", rows=3
            )
            col = row.column(align=True)
            col.operator("avatar_driver.override_add", text="", icon="ADD")
            col.operator("avatar_driver.override_remove", text="", icon="REMOVE")

        box = layout.box()
        row = box.row(align=True)
        row.prop(s, "record", toggle=True, icon="REC")
        row.prop(s, "action_name", text="")
        box.operator("avatar_driver.import_take", icon="IMPORT")
        col = box.column()
        col.prop(s, "timecode_fps")
        col.prop(s, "head_target")
        if s.head_target != "NONE":
            col.prop(s, "head_object")
            if s.head_target == "BONE" and s.head_object and s.head_object.type == "ARMATURE":
                col.prop_search(s, "head_bone", s.head_object.pose, "bones")
            col.prop(s, "head_units")


# -- registration ----------------------------------------------------------------------------
@persistent
def _on_load_pre(*_args: object) -> None:
    # A new file has other scenes: release the port rather than pump into nothing.
    stop(None, finish_recording=False)
    _rt.recorder = None
    _rt.message = ""


classes = (
    AvatarDriverOverride,
    AvatarDriverSettings,
    AVATAR_DRIVER_OT_start,
    AVATAR_DRIVER_OT_stop,
    AVATAR_DRIVER_OT_import_take,
    AVATAR_DRIVER_OT_override_add,
    AVATAR_DRIVER_OT_override_remove,
    AVATAR_DRIVER_UL_overrides,
    VIEW3D_PT_avatar_driver,
)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.avatar_driver = PointerProperty(type=AvatarDriverSettings)
    bpy.app.handlers.load_pre.append(_on_load_pre)


def unregister() -> None:
    try:
        stop(None)
    except Exception:  # unregistering must always release what it can
        traceback.print_exc()
    if _on_load_pre in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(_on_load_pre)
    del bpy.types.Scene.avatar_driver
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
