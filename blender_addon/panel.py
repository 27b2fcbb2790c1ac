"""The sidebar panel (3D View > N > Avatar Driver): connection, what is driven and what is
not (shape keys, head and eye bones), recording and take import."""

from __future__ import annotations

import math
from collections.abc import Iterable

import bpy

from .actions import shape_keys
from .properties import AvatarDriverSettings, settings
from .state import rt

__all__ = ["classes"]

_ROLE_LABEL = {"head": "Head", "left_eye": "Left eye", "right_eye": "Right eye"}


class AVATAR_DRIVER_UL_overrides(bpy.types.UIList):
    def draw_item(self, context, layout, _data, item, _icon, _active, _prop, _index=0):
        row = layout.row(align=True)
        row.prop(item, "incoming", text="", emboss=False)
        row.label(icon="FORWARD")
        key = shape_keys(settings(context.scene).target)
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


def _connection(layout: bpy.types.UILayout) -> None:
    rx = rt.receiver
    if rx is None:
        return
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
    box.label(text=f"Tick {rt.tick_ms:.2f} ms")


def _matching(layout: bpy.types.UILayout, s: AvatarDriverSettings) -> None:
    res = rt.match_result
    box = layout.box()
    row = box.row()
    row.prop(
        s, "show_matches", icon="TRIA_DOWN" if s.show_matches else "TRIA_RIGHT",
        emboss=False, text="Shape keys",
    )  # fmt: skip
    if res is not None:
        row.label(text=f"{len(res.matches)} driven, {len(res.unmatched)} unmatched")
    if not s.show_matches:
        return
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


def _deg(radians: float) -> int:
    return round(math.degrees(radians))  # an int: never prints "-0"


def _pose(layout: bpy.types.UILayout, s: AvatarDriverSettings) -> None:
    box = layout.box()
    row = box.row()
    row.prop(
        s, "show_pose", icon="TRIA_DOWN" if s.show_pose else "TRIA_RIGHT",
        emboss=False, text="Head and eyes",
    )  # fmt: skip
    row.prop(s, "head_target", text="")
    if not s.show_pose or s.head_target == "NONE":
        return
    col = box.column()
    col.prop(s, "head_object")
    rig = s.head_object
    if s.head_target == "BONE" and rig is not None and rig.type == "ARMATURE":
        col.prop_search(s, "head_bone", rig.pose, "bones")
    col.prop(s, "eye_target")
    if s.eye_target in ("AUTO", "BONES") and rig is not None and rig.type == "ARMATURE":
        col.prop_search(s, "eye_bone_left", rig.pose, "bones")
        col.prop_search(s, "eye_bone_right", rig.pose, "bones")
    col.prop(s, "rig_up")
    grid = box.grid_flow(columns=2, align=True)
    grid.column(align=True).prop(s, "head_strength", text="Head")
    grid.column(align=True).prop(s, "head_invert", text="Invert")
    grid = box.grid_flow(columns=2, align=True)
    grid.column(align=True).prop(s, "eye_strength", text="Eyes")
    grid.column(align=True).prop(s, "eye_invert", text="Invert")
    row = box.row(align=True)
    row.operator("avatar_driver.recenter", icon="PIVOT_CURSOR")
    row.operator("avatar_driver.recenter", text="", icon="X").clear = True

    # What is driven, from the last resolve (Start, or a settings change while running).
    sub = box.column(align=True)
    for role, label in rt.pose_driven.items():
        sub.label(text=f"{_ROLE_LABEL[role]} -> {label}", icon="BONE_DATA")
    if rt.eyes_to_shape_keys and s.eye_target != "NONE":
        sub.label(text="Eyes -> eyeLook* shape keys", icon="SHAPEKEY_DATA")
    for text in rt.pose_problems:
        sub.label(text=text, icon="ERROR")
    for text in rt.pose_warnings:
        sub.label(text=text, icon="INFO")
    rx = rt.receiver
    if rx is not None and rx.pose:
        for role, (y, p, r) in sorted(rx.pose.items()):
            unused = role not in rt.pose_driven and not (rt.eyes_to_shape_keys and role != "head")
            sub.label(
                text=f"{_ROLE_LABEL[role]}: yaw {_deg(y)}, pitch {_deg(p)}, roll {_deg(r)}"
                + ("  (not applied)" if unused else ""),
            )


class VIEW3D_PT_avatar_driver(bpy.types.Panel):
    bl_label = "Avatar Driver"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Avatar Driver"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        s = settings(context.scene)
        rx = rt.receiver
        layout.column().prop(s, "target")
        row = layout.row(align=True)
        row.enabled = rx is None
        row.prop(s, "protocol", text="")
        row.prop(s, "port", text="Port")
        if rx is None:
            layout.operator("avatar_driver.start", icon="PLAY")
        else:
            layout.operator("avatar_driver.stop", icon="PAUSE")
        if rt.message:
            layout.label(text=rt.message, icon="INFO")
        _connection(layout)
        _matching(layout, s)
        _pose(layout, s)

        box = layout.box()
        row = box.row(align=True)
        row.prop(s, "record", toggle=True, icon="REC")
        row.prop(s, "action_name", text="")
        box.operator("avatar_driver.import_take", icon="IMPORT")
        col = box.column()
        col.prop(s, "timecode_fps")
        col.prop(s, "head_units")


classes = (AVATAR_DRIVER_UL_overrides, VIEW3D_PT_avatar_driver)
