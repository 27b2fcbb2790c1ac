"""Avatar Driver for Blender: shape keys follow a face-tracking stream (VMC, Live Link Face).

Blender needs `register` and `unregister` here; everything that touches bpy lives in
`addon` and is imported only when Blender calls them, so the package and its bpy-free
`core` import anywhere, for instance in a test run without Blender.
"""

from __future__ import annotations


def register() -> None:
    import importlib
    import sys

    layer = sys.modules.get(__name__ + ".addon")
    if layer is not None:  # enabled again, or Reload Scripts: take the code as it is now
        importlib.reload(layer)
    from . import addon

    addon.register()


def unregister() -> None:
    from . import addon

    addon.unregister()
