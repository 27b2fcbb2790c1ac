"""One probe frame with one-sided values, sent by the real outputs over real UDP sockets on
127.0.0.1 (and into a real file), read back by each receiver's own logic: every one-sided
value must land on the performer's side.

"left" below is always the performer's own left. Each reader turns what its receiver
understood into a side per feature, in that receiver's own convention (quoted in the
reader), so the test compares meanings, not numbers.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from pythonosc.osc_bundle import OscBundle
from vmcp.events import BlendShapeEvent, BoneTransformEvent

from avatar_driver.frame import Frame
from avatar_driver.outputs import OutputOptions, create_output
from avatar_driver.shapes import INDEX
from tests.codecs.receivers import (
    csv_rows_by_frame,
    unreal_livelink,
    vrcft_ifacialmocap,
    vrcft_livelink,
)

FEATURES = ("jaw", "mouth", "blink", "smile", "gaze", "head")
Sides = dict[str, str]


def probe() -> Frame:
    """jawLeft 0.8, mouthLeft 0.6, a left-eye blink, a left smile, gaze and head turned to
    the performer's left (tracking.pose signs: yaw > 0 is toward the performer's left)."""
    f = Frame(timestamp=3.0, face_present=True)
    for name, value in (("jawLeft", 0.8), ("mouthLeft", 0.6), ("eyeBlinkLeft", 1.0),
                        ("mouthSmileLeft", 0.7), ("eyeLookOutLeft", 0.5),
                        ("eyeLookInRight", 0.5)):  # fmt: skip
        f.weights[INDEX[name]] = value
    f.pose[:] = (20.0, 0.0, 0.0, 15.0, 0.0, 0.0, 15.0, 0.0, 0.0)
    return f


def side(left: float, right: float) -> str:
    if math.isclose(left, right, abs_tol=1e-3):
        return "none"
    return "left" if left > right else "right"


def sign_side(value: float, left_is_positive: bool) -> str:
    if abs(value) < 1e-4:
        return "none"
    return "left" if (value > 0) == left_is_positive else "right"


def read_unreal(datagrams: list[bytes]) -> Sides:
    """Unreal: curves by EARFaceBlendShape; yaw > 0 toward the face's own left in the
    face-relative mode (AppleARKitFaceSupport ToBlendShapeMap)."""
    c = unreal_livelink(datagrams[0]).curves
    return {
        "jaw": side(c["JawLeft"], c["JawRight"]),
        "mouth": side(c["MouthLeft"], c["MouthRight"]),
        "blink": side(c["EyeBlinkLeft"], c["EyeBlinkRight"]),
        "smile": side(c["MouthSmileLeft"], c["MouthSmileRight"]),
        "gaze": sign_side(c["LeftEyeYaw"] + c["RightEyeYaw"], left_is_positive=True),
        "head": sign_side(c["HeadYaw"], left_is_positive=True),
    }


def read_pylivelinkface(datagrams: list[bytes]) -> Sides:
    """PyPI pylivelinkface: FaceBlendShape enum; the same angle convention as Unreal."""
    from pylivelinkface import FaceBlendShape as B
    from pylivelinkface import PyLiveLinkFace

    ok, face = PyLiveLinkFace.decode(datagrams[0])
    assert ok
    g = face.get_blendshape
    return {
        "jaw": side(g(B.JawLeft), g(B.JawRight)),
        "mouth": side(g(B.MouthLeft), g(B.MouthRight)),
        "blink": side(g(B.EyeBlinkLeft), g(B.EyeBlinkRight)),
        "smile": side(g(B.MouthSmileLeft), g(B.MouthSmileRight)),
        "gaze": sign_side(g(B.LeftEyeYaw) + g(B.RightEyeYaw), left_is_positive=True),
        "head": sign_side(g(B.HeadYaw), left_is_positive=True),
    }


def _unified(u: object) -> Sides:
    """VRCFaceTracking's unified data: gaze x and head yaw are > 0 to the right."""
    s = u.shapes  # type: ignore[attr-defined]
    return {
        "jaw": side(s["JawLeft"], s["JawRight"]),
        "mouth": side(s["MouthUpperLeft"], s["MouthUpperRight"]),
        "blink": side(1 - u.left_openness, 1 - u.right_openness),  # type: ignore[attr-defined]
        "smile": side(s["MouthCornerPullLeft"], s["MouthCornerPullRight"]),
        "gaze": sign_side(u.left_gaze_x + u.right_gaze_x, left_is_positive=False),  # type: ignore[attr-defined]
        "head": sign_side(u.head_yaw, left_is_positive=False),  # type: ignore[attr-defined]
    }


def read_vrcft_livelink(datagrams: list[bytes]) -> Sides:
    u = vrcft_livelink(datagrams[0])
    assert u is not None, "VRCFaceTracking reads only 312-byte packets"
    return _unified(u)


def read_vrcft_ifacialmocap(datagrams: list[bytes]) -> Sides:
    return _unified(vrcft_ifacialmocap(datagrams[0]))


def _forward_x(q: tuple[float, float, float, float]) -> float:
    """x of Unity's forward (0, 0, 1) turned by a unit (x, y, z, w) quaternion."""
    x, y, z, w = q
    return 2 * (x * z + y * w)


def read_vmc(datagrams: list[bytes]) -> Sides:
    """VMC through python-osc and PyPI vmcp's events: Unity space, the avatar facing +z,
    its own left at -x (EVMC4U applies the local rotation as sent)."""
    shapes: dict[str, float] = {}
    bones: dict[str, tuple[float, float, float, float]] = {}
    for d in datagrams:
        for m in OscBundle(d):
            if m.address == BlendShapeEvent.ADDRESS_PATTERN:
                e = BlendShapeEvent.from_message_data("probe", m.address, tuple(m.params))
                shapes[e.key] = e.value
            elif m.address == BoneTransformEvent.ADDRESS_PATTERN:
                b = BoneTransformEvent.from_message_data("probe", m.address, tuple(m.params))
                r = b.rotation
                bones[b.joint.value] = (r.x, r.y, r.z, r.w)
    assert {"Head", "LeftEye", "RightEye"} <= set(bones)
    return {
        "jaw": side(shapes["JawLeft"], shapes["JawRight"]),
        "mouth": side(shapes["MouthLeft"], shapes["MouthRight"]),
        "blink": side(shapes["EyeBlinkLeft"], shapes["EyeBlinkRight"]),
        "smile": side(shapes["MouthSmileLeft"], shapes["MouthSmileRight"]),
        "gaze": sign_side(
            _forward_x(bones["LeftEye"]) + _forward_x(bones["RightEye"]), left_is_positive=False
        ),
        "head": sign_side(_forward_x(bones["Head"]), left_is_positive=False),
    }


RECEIVERS: list[tuple[str, Callable[[list[bytes]], Sides], Sides]] = [
    ("livelink", read_unreal, {}),
    ("livelink", read_pylivelinkface, {}),
    # VRCFaceTracking's LiveLink module copies eye yaw into gaze x unconverted (+ = right),
    # while Unreal's yaw is + toward the performer's left: that module shows gaze mirrored.
    ("livelink", read_vrcft_livelink, {"gaze": "right"}),
    ("ifacialmocap", read_vrcft_ifacialmocap, {}),
    ("vmc", read_vmc, {}),
]


@pytest.mark.parametrize(
    ("kind", "reader", "exceptions"), RECEIVERS, ids=[r[1].__name__[5:] for r in RECEIVERS]
)
def test_one_sided_probe_lands_on_the_performers_side(
    kind: str, reader: Callable[[list[bytes]], Sides], exceptions: Sides
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5.0)
        out = create_output(f"{kind}:127.0.0.1:{rx.getsockname()[1]}", OutputOptions(fps=60))
        with out:
            out.send(probe())
        datagrams = [rx.recv(65536)]
        rx.setblocking(False)
        try:
            while True:
                datagrams.append(rx.recv(65536))
        except BlockingIOError:
            pass
    sides = reader(datagrams)
    expected = {f: exceptions.get(f, "left") for f in FEATURES}
    assert sides == expected


def test_one_sided_probe_in_a_csv_take(tmp_path: Path) -> None:
    """A take read the way importers read it (rows by HH:MM:SS:FF, columns by name);
    angles in Unreal's convention (HeadYaw > 0 toward the performer's left)."""
    path = tmp_path / "probe.csv"
    with create_output(f"csv:{path}", OutputOptions(fps=60)) as out:
        out.send(probe())
    (row,) = csv_rows_by_frame(path.read_text()).values()
    sides = {
        "jaw": side(row["JawLeft"], row["JawRight"]),
        "mouth": side(row["MouthLeft"], row["MouthRight"]),
        "blink": side(row["EyeBlinkLeft"], row["EyeBlinkRight"]),
        "smile": side(row["MouthSmileLeft"], row["MouthSmileRight"]),
        "gaze": sign_side(row["LeftEyeYaw"] + row["RightEyeYaw"], left_is_positive=True),
        "head": sign_side(row["HeadYaw"], left_is_positive=True),
    }
    assert sides == dict.fromkeys(FEATURES, "left")
