"""Cost of one add-on timer tick with 52 shapes, in real Blender (the bpy wheel).

``python benchmarks/blender_tick.py [--ticks N]`` builds the extension, installs it into a
throw-away user repository, makes a mesh with the 52 ARKit shape keys, then for each tick
sends one VMC frame (52 values, as avatar-driver's `blender` output does) on loopback and
times `pump()` (drain + decode + match + foreach_set). Prints median and p95 in ms; the
target is at most 2 ms. A second line times ticks with nothing waiting (the idle cost).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADDON = REPO / "blender_addon"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=2000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="adbench-")
    os.environ["BLENDER_USER_RESOURCES"] = tmp  # read when bpy is imported
    sys.path[:0] = [str(ADDON), str(ADDON / "tests")]
    import bpy
    import build
    from bpy_harness import KEY_NAMES, free_port, install, make_mesh
    from helpers import ARKIT_NAMES, vmc_frame

    mod = install(str(build.build(Path(tmp) / "dist")))
    scene = bpy.context.scene
    obj = make_mesh()
    st = scene.avatar_driver
    st.target = obj
    st.port = port = free_port()
    assert mod.start(scene) is None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    frames = [
        vmc_frame({n: (k + i) % 100 / 100 for i, n in enumerate(ARKIT_NAMES)}, t=k / 60)
        for k in range(100)
    ]
    busy, idle = [], []
    for k in range(args.ticks + 100):
        sock.sendto(frames[k % 100], ("127.0.0.1", port))
        time.sleep(0.0005)  # let loopback deliver before the tick
        t0 = time.perf_counter()
        mod.pump()
        t1 = time.perf_counter()
        mod.pump()
        t2 = time.perf_counter()
        if k >= 100:  # warm-up
            busy.append((t1 - t0) * 1e3)
            idle.append((t2 - t1) * 1e3)
    rx = mod._rt.receiver
    assert rx.stats.frames == args.ticks + 100, rx.stats
    last = args.ticks + 99
    got = obj.data.shape_keys.key_blocks[KEY_NAMES[5]].value
    assert abs(got - (last + 5) % 100 / 100) < 1e-6, got  # the newest frame was applied
    mod.stop(scene)

    def q(xs: list[float], p: float) -> float:
        return sorted(xs)[int(p * (len(xs) - 1))]

    print(
        f"blender tick, 52 shapes, 1 VMC frame/tick: median {statistics.median(busy):.3f} ms, "
        f"p95 {q(busy, 0.95):.3f} ms, max {max(busy):.3f} ms over {len(busy)} ticks "
        f"(target <= 2 ms)"
    )
    print(
        f"blender tick, idle (nothing waiting):      median {statistics.median(idle):.3f} ms, "
        f"p95 {q(idle, 0.95):.3f} ms"
    )
    sys.stdout.flush()
    os._exit(0)  # skip bpy's slow teardown


if __name__ == "__main__":
    sys.exit(main())
