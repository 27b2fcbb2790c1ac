"""Import MediaPipe's vision tasks without paying for matplotlib at start-up.

`mediapipe.tasks.python.vision` imports its drawing helpers, which import
`matplotlib.pyplot` at module level for one plotting function we never call: ~0.4-0.6 s
of a ~1.2 s start-up here (upstream: google-ai-edge/mediapipe pull request 5830, "Lazily
import matplotlib"). While MediaPipe is imported, stand-ins answer for `matplotlib` and
`matplotlib.pyplot`; afterwards they are taken out of `sys.modules` again, so anyone
importing matplotlib later gets the real one. Only the drawing helpers keep a stand-in,
which imports the real pyplot the first time anything is asked of it.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterator
from typing import Any

__all__ = ["import_vision"]

_DEFERRED = ("matplotlib", "matplotlib.pyplot")


class _Deferred(types.ModuleType):
    """A module that imports the real one it stands for on first attribute access."""

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:  # still inside the import window
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)


@contextlib.contextmanager
def _matplotlib_deferred() -> Iterator[None]:
    if any(name in sys.modules for name in _DEFERRED):
        yield  # already imported (or stood in for): nothing to save
        return
    top, pyplot = (_Deferred(name) for name in _DEFERRED)
    top.__dict__["pyplot"] = pyplot  # `import matplotlib.pyplot as plt` reads this
    sys.modules.update(zip(_DEFERRED, (top, pyplot), strict=True))
    try:
        yield
    finally:
        for name, stand_in in zip(_DEFERRED, (top, pyplot), strict=True):
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


def import_vision() -> tuple[Any, Any, Any]:
    """(mediapipe, BaseOptions, mediapipe.tasks.python.vision), matplotlib left unloaded."""
    with _matplotlib_deferred():
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    return mp, BaseOptions, vision
