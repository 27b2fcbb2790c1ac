"""Operators: start and stop the receiver, recenter head and gaze, import a take, edit
name overrides. Each reports errors to the status bar and the panel, never raises."""

from __future__ import annotations

from typing import ClassVar

import bpy
from bpy.props import StringProperty

from . import actions, live
from .core import takes
from .properties import settings
from .state import rt

__all__ = ["classes"]


class AVATAR_DRIVER_OT_start(bpy.types.Operator):
    """Listen for the stream and drive the target's shape keys, head and eyes"""

    bl_idname = "avatar_driver.start"
    bl_label = "Start"

    def execute(self, context: bpy.types.Context) -> set[str]:
        err = live.start(context.scene)
        if err:
            self.report({"ERROR"}, err)
            return {"CANCELLED"}
        return {"FINISHED"}


class AVATAR_DRIVER_OT_stop(bpy.types.Operator):
    """Stop listening and release the port (finishes a running recording)"""

    bl_idname = "avatar_driver.stop"
    bl_label = "Stop"

    def execute(self, context: bpy.types.Context) -> set[str]:
        live.stop(context.scene)
        return {"FINISHED"}


class AVATAR_DRIVER_OT_recenter(bpy.types.Operator):
    """Take the current head rotation and gaze as straight ahead"""

    bl_idname = "avatar_driver.recenter"
    bl_label = "Recenter"
    bl_options: ClassVar[set[str]] = {"REGISTER", "UNDO"}

    clear: bpy.props.BoolProperty(name="Clear", default=False)  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        if self.clear:
            live.clear_recenter(context.scene)
            rt.message = "Recenter cleared"
            return {"FINISHED"}
        if rt.receiver is None or not rt.receiver.pose:
            msg = "Nothing to recenter on: start the receiver and send head or eye data"
            rt.message = msg
            self.report({"WARNING"}, msg)
            return {"CANCELLED"}
        rt.message = live.recenter(context.scene)
        return {"FINISHED"}


class AVATAR_DRIVER_OT_import_take(bpy.types.Operator):
    """Import a Live Link Face CSV take as actions on the shape keys, head and eyes"""

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
            summary = actions.import_take(context.scene, self.filepath)
        except takes.TakeError as e:
            rt.message = str(e)
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        rt.message = summary
        self.report({"INFO"}, summary)
        return {"FINISHED"}


class AVATAR_DRIVER_OT_override_add(bpy.types.Operator):
    """Add a name override (incoming name -> shape key)"""

    bl_idname = "avatar_driver.override_add"
    bl_label = "Add Override"
    bl_options: ClassVar[set[str]] = {"REGISTER", "UNDO"}

    incoming: StringProperty(name="Incoming")  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        s = settings(context.scene)
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
        s = settings(context.scene)
        if 0 <= s.overrides_index < len(s.overrides):
            s.overrides.remove(s.overrides_index)
            s.overrides_index = max(0, s.overrides_index - 1)
        return {"FINISHED"}


classes = (
    AVATAR_DRIVER_OT_start,
    AVATAR_DRIVER_OT_stop,
    AVATAR_DRIVER_OT_recenter,
    AVATAR_DRIVER_OT_import_take,
    AVATAR_DRIVER_OT_override_add,
    AVATAR_DRIVER_OT_override_remove,
)
