"""Avatar Driver for Blender: shape keys, head and eyes follow a face-tracking stream (VMC,
Live Link Face).

Blender needs `register` and `unregister` here; everything that touches bpy lives in the
modules listed in `_LAYER` and is imported only when Blender calls them, so the package
and its bpy-free `core` import anywhere, for instance in a test run without Blender.
"""

from __future__ import annotations

#: The bpy layer, in import order (each imports only those before it).
_LAYER = ("state", "properties", "rig", "actions", "live", "operators", "panel", "addon")


def register() -> None:
    import importlib
    import sys

    # Enabled again, or Reload Scripts: take the code as it is now, dependencies first.
    for name in _LAYER:
        mod = sys.modules.get(f"{__name__}.{name}")
        if mod is not None:
            importlib.reload(mod)
    from . import addon

    addon.register()


def unregister() -> None:
    from . import addon

    addon.unregister()
