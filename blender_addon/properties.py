"""The add-on's settings, saved with the .blend (one `AvatarDriverSettings` per scene)."""

from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    BoolVectorProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    FloatVectorProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from .core import receiver

__all__ = ["AvatarDriverOverride", "AvatarDriverSettings", "overrides", "settings"]


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
    from . import actions  # actions needs these classes: import it when first used

    if self.record:
        actions.start_recording(context.scene)
    else:
        actions.stop_recording(context.scene)


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
        description="Turn received weights and rotations into keyframes; off finishes the take",
    )  # fmt: skip
    action_name: StringProperty(name="Action", default="AvatarDriverTake")  # type: ignore[valid-type]
    overrides: CollectionProperty(type=AvatarDriverOverride)  # type: ignore[valid-type]
    overrides_index: IntProperty(default=0)  # type: ignore[valid-type]
    show_matches: BoolProperty(name="Show matches", default=False)  # type: ignore[valid-type]
    show_pose: BoolProperty(name="Show head and eyes", default=True)  # type: ignore[valid-type]
    timecode_fps: FloatProperty(  # type: ignore[valid-type]
        name="Timecode FPS", default=0.0, min=0.0, max=1000.0,
        description="Frame rate of the take's timecode; 0 infers it from the file",
    )  # fmt: skip

    # -- head and eyes (live, recording and take import) ------------------------------------
    head_target: EnumProperty(  # type: ignore[valid-type]
        name="Head",
        items=[
            ("NONE", "None", "Ignore head and eye rotation"),
            ("OBJECT", "Object", "Rotate a whole object (an empty, a head mesh)"),
            ("BONE", "Bone", "Rotate bones of an armature"),
        ],
        default="NONE",
    )
    head_object: PointerProperty(  # type: ignore[valid-type]
        name="Rig", type=bpy.types.Object,
        description="Armature whose head and eye bones turn (or the object to rotate)",
    )  # fmt: skip
    head_bone: StringProperty(  # type: ignore[valid-type]
        name="Head Bone", description="Bone that turns with the head; empty finds it by name",
    )  # fmt: skip
    eye_target: EnumProperty(  # type: ignore[valid-type]
        name="Eyes",
        items=[
            ("AUTO", "Auto", "Eye bones if the rig has them, else the eyeLook shape keys"),
            ("BONES", "Bones", "Rotate the eye bones"),
            ("SHAPE_KEYS", "Shape Keys", "Drive the eyeLook shape keys from the gaze angles"),
            ("NONE", "None", "Ignore gaze angles"),
        ],
        default="AUTO",
    )
    eye_bone_left: StringProperty(  # type: ignore[valid-type]
        name="Left Eye", description="The avatar's left eye bone; empty finds it by name",
    )  # fmt: skip
    eye_bone_right: StringProperty(  # type: ignore[valid-type]
        name="Right Eye", description="The avatar's right eye bone; empty finds it by name",
    )  # fmt: skip
    rig_up: EnumProperty(  # type: ignore[valid-type]
        name="Rig Up",
        items=[
            ("Z", "Z (Blender)", "Rig data is Z up, facing -Y (Rigify, VRM importers)"),
            ("Y", "Y (FBX data)", "Rig data is Y up, facing +Z (FBX kept upright by its object)"),
        ],
        default="Z",
    )
    head_strength: FloatVectorProperty(  # type: ignore[valid-type]
        name="Head Strength", size=3, default=(1.0, 1.0, 1.0), min=0.0, soft_max=2.0,
        description="Yaw, pitch, roll gain", subtype="XYZ",
    )  # fmt: skip
    head_invert: BoolVectorProperty(  # type: ignore[valid-type]
        name="Invert Head", size=3, default=(False, False, False),
        description="Flip yaw, pitch, roll", subtype="XYZ",
    )  # fmt: skip
    eye_strength: FloatVectorProperty(  # type: ignore[valid-type]
        name="Eye Strength", size=2, default=(1.0, 1.0), min=0.0, soft_max=2.0,
        description="Gaze yaw and pitch gain",
    )  # fmt: skip
    eye_invert: BoolVectorProperty(  # type: ignore[valid-type]
        name="Invert Eyes", size=2, default=(False, False), description="Flip gaze yaw, pitch",
    )  # fmt: skip
    head_offset: FloatVectorProperty(size=3, options={"HIDDEN"})  # type: ignore[valid-type]
    left_eye_offset: FloatVectorProperty(size=3, options={"HIDDEN"})  # type: ignore[valid-type]
    right_eye_offset: FloatVectorProperty(size=3, options={"HIDDEN"})  # type: ignore[valid-type]
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
        description="Live Link head and eye angles (stream and takes)",
    )


def settings(scene: bpy.types.Scene) -> AvatarDriverSettings:
    return scene.avatar_driver


def overrides(s: AvatarDriverSettings) -> dict[str, str]:
    return {o.incoming: o.shape_key for o in s.overrides if o.incoming}


classes = (AvatarDriverOverride, AvatarDriverSettings)
