"""The add-on's bpy layer: registration over the bpy-free `core`.

Split by job: `properties` (settings saved in the .blend), `live` (the timer pump:
socket to shape keys and bones), `rig` (which bones take the head and eyes), `actions`
(recordings and take imports as actions), `operators`, `panel`; `state` holds what must
not be saved. The names below are the layer's public face (tests and benchmarks use them).
"""

from __future__ import annotations

import traceback

import bpy
from bpy.app.handlers import persistent
from bpy.props import PointerProperty

from . import operators, panel, properties
from .actions import import_take, start_recording, stop_recording, write_action
from .live import pump, recenter, start, stop
from .state import rt as _rt

__all__ = [
    "classes",
    "import_take",
    "pump",
    "recenter",
    "register",
    "start",
    "start_recording",
    "stop",
    "stop_recording",
    "unregister",
    "write_action",
]


@persistent
def _on_load_pre(*_args: object) -> None:
    # A new file has other scenes: release the port rather than pump into nothing.
    stop(None, finish_recording=False)
    _rt.recorder = None
    _rt.message = ""


classes = properties.classes + operators.classes + panel.classes


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.avatar_driver = PointerProperty(type=properties.AvatarDriverSettings)
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
