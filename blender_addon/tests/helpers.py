"""Test helpers shared by the core tests and the Blender harness (no bpy here).

Senders here use independent encoders (python-osc for VMC, `struct` by hand for Live
Link) so the add-on's decoders are never checked against themselves.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

# The 52 ARKit names in Live Link order, written out again on purpose (not imported).
ARKIT_NAMES: list[str] = [
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
    "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
    "jawRight", "jawLeft", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRight",
    "mouthLeft", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
    "noseSneerRight", "tongueOut",
]  # fmt: skip

#: Shape key names on the test mesh: mostly exact, some the way exporters mangle them.
_RENAMES = {
    "mouthSmileLeft": "BS_mouthSmileLeft",
    "mouthSmileRight": "blendShape.mouthSmileRight",
    "eyeBlinkLeft": "eyeBlink_L",
    "eyeBlinkRight": "eyeBlink_R",
    "jawForward": "JawForward",
    "browInnerUp": "BS_BrowInnerUp",
    "cheekSquintLeft": "cheekSquint.L",
}
KEY_NAMES: list[str] = [_RENAMES.get(n, n) for n in ARKIT_NAMES]

LIVELINK_HEADER = (
    ["Timecode", "BlendShapeCount"]
    + [n[0].upper() + n[1:] for n in ARKIT_NAMES]
    + [
        "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
        "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
    ]
)  # fmt: skip


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _msg(address: str, *args: Any) -> OscMessage:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build()


def vmc_frame(
    values: dict[str, float],
    *,
    t: float | None = None,
    extra: dict[str, float] | None = None,
    nested: bool = False,
) -> bytes:
    """One VMC frame as avatar-driver sends it: Vals, Apply, head bone, T, OK in a bundle.

    nested: put the Vals in an inner bundle (VMC senders do nest bundles).
    """
    vals = [_msg("/VMC/Ext/Blend/Val", n, float(v)) for n, v in {**values, **(extra or {})}.items()]
    tail = [_msg("/VMC/Ext/Blend/Apply"),
            _msg("/VMC/Ext/Bone/Pos", "Head", 0.0, 1.5, 0.0, 0.0, 0.0, 0.0, 1.0)]  # fmt: skip
    if t is not None:
        tail.append(_msg("/VMC/Ext/T", float(t)))
    tail.append(_msg("/VMC/Ext/OK", 1))
    outer = OscBundleBuilder(IMMEDIATELY)
    if nested:
        inner = OscBundleBuilder(IMMEDIATELY)
        for m in vals:
            inner.add_content(m)
        outer.add_content(inner.build())
    else:
        for m in vals:
            outer.add_content(m)
    for m in tail:
        outer.add_content(m)
    return outer.build().dgram


def livelink_packet(
    values: list[float], *, frame: int = 0, subframe: float = 0.0, fps: int = 60,
    device: str = "01234567-89AB-CDEF-0123-456789ABCDEF", subject: str = "iPhone",
) -> bytes:  # fmt: skip
    """A Live Link Face v6 packet, written from the layout (not with the add-on's code)."""
    d, s = device.encode(), subject.encode()
    return (
        struct.pack(">B", 6)
        + struct.pack(">i", len(d)) + d
        + struct.pack(">i", len(s)) + s
        + struct.pack(">ifiiB", frame, subframe, fps, 1, len(values))
        + struct.pack(f">{len(values)}f", *values)
    )  # fmt: skip


def write_take_csv(path, rows: list[list[float]], *, fps: int = 60, start=(1, 2, 3, 0)) -> None:
    """A Live Link Face CSV: one row per timecode frame from `start` (h, m, s, f)."""
    h, m, s, f = start
    lines = [",".join(LIVELINK_HEADER) + ","]
    total = ((h * 60 + m) * 60 + s) * fps + f
    for k, row in enumerate(rows):
        n = total + k
        ff, sec = n % fps, n // fps
        tc = f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}:{ff:02d}.000"
        lines.append(f"{tc},61," + ",".join(f"{v:.6f}" for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def require(condition: bool, reason: str) -> None:
    """Skip when a real part is missing, but fail in CI (AVATAR_DRIVER_REQUIRE_ALL=1)."""
    import os

    import pytest

    if condition:
        return
    if os.environ.get("AVATAR_DRIVER_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (AVATAR_DRIVER_REQUIRE_ALL=1: every real part must be present)")
    pytest.skip(reason)


# -- head and eyes ------------------------------------------------------------------------
def _qmul(a, b):
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def unity_look(yaw_deg: float, pitch_deg: float) -> tuple[float, float, float, float]:
    """A Unity (x, y, z, w) local rotation: turn to the avatar's own left by `yaw_deg`,
    then raise the face by `pitch_deg`. Written from Unity's conventions (left-handed,
    +y turns toward the avatar's right, +x pitches the nose down), not from the add-on."""
    import math

    hy, hp = math.radians(-yaw_deg) / 2, math.radians(-pitch_deg) / 2
    qy = (0.0, math.sin(hy), 0.0, math.cos(hy))
    qx = (math.sin(hp), 0.0, 0.0, math.cos(hp))
    return _qmul(qy, qx)


def vmc_pose_frame(
    values: dict[str, float],
    bones: dict[str, tuple[float, ...]],
    *,
    t: float | None = None,
) -> bytes:
    """A VMC bundle with Vals, Apply, then one ``/VMC/Ext/Bone/Pos`` per bone (name ->
    px, py, pz, qx, qy, qz, qw), T and OK: the order avatar-driver sends."""
    outer = OscBundleBuilder(IMMEDIATELY)
    for n, v in values.items():
        outer.add_content(_msg("/VMC/Ext/Blend/Val", n, float(v)))
    outer.add_content(_msg("/VMC/Ext/Blend/Apply"))
    for name, nums in bones.items():
        outer.add_content(_msg("/VMC/Ext/Bone/Pos", name, *(float(x) for x in nums)))
    if t is not None:
        outer.add_content(_msg("/VMC/Ext/T", float(t)))
    outer.add_content(_msg("/VMC/Ext/OK", 1))
    return outer.build().dgram


def run_scenario(name: str, zip_path, tmp_path, timeout: float = 240, **args) -> dict:
    """Run one `bpy_harness.py` scenario in a fresh process with an isolated Blender user
    directory; returns its RESULT json."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, BLENDER_USER_RESOURCES=str(Path(tmp_path) / "blender_user"))
    harness = Path(__file__).resolve().parent / "bpy_harness.py"
    proc = subprocess.run(
        [sys.executable, str(harness), name, str(zip_path), json.dumps(args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise AssertionError(f"scenario {name} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
