"""MediaPipe's vision tasks import without matplotlib, which still works when asked for."""

from __future__ import annotations

import subprocess
import sys

_CHECK = r"""
import sys
from avatar_driver.tracking.mediapipe_import import import_vision

mp, BaseOptions, vision = import_vision()
assert vision.FaceLandmarker and BaseOptions and mp.Image
assert not [m for m in sys.modules if m.split(".")[0] == "matplotlib"], "matplotlib loaded"
drawing = sys.modules["mediapipe.tasks.python.vision.drawing_utils"]
import matplotlib.pyplot as plt  # the real one, imported as if nothing had happened

assert type(plt) is type(sys), type(plt)
assert drawing.plt.figure is plt.figure  # the helpers' stand-in reaches it too
print("ok")
"""

_ALREADY = r"""
import sys
import matplotlib.pyplot as plt
from avatar_driver.tracking.mediapipe_import import import_vision

import_vision()
assert sys.modules["matplotlib.pyplot"] is plt
assert sys.modules["mediapipe.tasks.python.vision.drawing_utils"].plt is plt
print("ok")
"""


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


def test_vision_imports_without_matplotlib_and_pyplot_still_works() -> None:
    assert _run(_CHECK) == "ok"


def test_an_already_imported_matplotlib_is_left_alone() -> None:
    assert _run(_ALREADY) == "ok"
