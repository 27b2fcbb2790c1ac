"""Runs one Blender scenario in a fresh process: ``python bpy_harness.py SCENARIO ZIP [JSON]``.

Each scenario installs the built extension into an isolated user repository (the test sets
BLENDER_USER_RESOURCES), builds a mesh with the 52 ARKit shape keys, drives the add-on
the way Blender would (timers do not fire in bpy-as-a-module, so the pump is called
directly) and prints one ``RESULT <json>`` line that the pytest side asserts on.
A fresh process per scenario because bpy can be imported only once per process and keeps
global state; it also keeps Blender's numpy apart from the test process.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import bpy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from helpers import (  # noqa: E402
    ARKIT_NAMES,
    KEY_NAMES,
    free_port,
    livelink_packet,
    vmc_frame,
)

MODULE = "bl_ext.user_default.avatar_driver_blender"
BPY_LAYER = MODULE + ".addon"  # where register() puts the bpy layer (pump, start, stop...)


def install(zip_path: str):
    """The real user route: install the zip into the user repository and enable it."""
    bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo="user_default", enable_on_install=True
    )
    mod = sys.modules.get(BPY_LAYER)
    if mod is None or not hasattr(bpy.types.Scene, "avatar_driver"):
        raise RuntimeError("extension did not register")
    return mod


def make_mesh(name: str = "Face"):
    """A grid whose 52 shape keys each move one vertex up by 1 (easy to check evaluated)."""
    # Not read_factory_settings: that would also reset preferences and disable the add-on.
    for o in list(bpy.data.objects):
        bpy.data.objects.remove(o)
    bpy.ops.mesh.primitive_grid_add(x_subdivisions=8, y_subdivisions=8, size=2)
    obj = bpy.context.object
    obj.name = name
    obj.shape_key_add(name="Basis")
    for i, kname in enumerate(KEY_NAMES):
        kb = obj.shape_key_add(name=kname, from_mix=False)
        kb.data[i].co.z += 1.0
    return obj


def key_values(obj) -> dict[str, float]:
    return {kb.name: kb.value for kb in obj.data.shape_keys.key_blocks[1:]}


def evaluated_z(obj) -> list[float]:
    dg = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(dg)
    return [ev.data.vertices[i].co.z for i in range(len(KEY_NAMES))]


def pump_for(mod, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        mod.pump()
        time.sleep(0.002)


def curve_values(obj, key_name: str) -> list[list[float]]:
    """[[frame, value], ...] of the action's F-curve for one shape key."""
    ad = obj.data.shape_keys.animation_data
    path = f'key_blocks["{key_name}"].value'
    action = ad.action
    fc = None
    if hasattr(action, "fcurve_ensure_for_datablock"):
        for layer in action.layers:
            for strip in layer.strips:
                bag = strip.channelbag(ad.action_slot)
                if bag is not None:
                    fc = bag.fcurves.find(path)
    else:
        fc = action.fcurves.find(path)
    if fc is None:
        return []
    return [[kp.co[0], kp.co[1]] for kp in fc.keyframe_points]


def curve_paths(obj) -> list[str]:
    ad = obj.data.shape_keys.animation_data
    action = ad.action
    if hasattr(action, "layers") and len(action.layers):
        out = []
        for layer in action.layers:
            for strip in layer.strips:
                bag = strip.channelbag(ad.action_slot)
                if bag is not None:
                    out += [fc.data_path for fc in bag.fcurves]
        return out
    return [fc.data_path for fc in action.fcurves]


def sc_install(mod, args):
    """Install, start, disable (must release socket and timer), re-enable, start again."""
    import addon_utils

    scene = bpy.context.scene
    obj = make_mesh()
    scene.avatar_driver.target = obj
    port = free_port()
    scene.avatar_driver.port = port
    err = mod.start(scene)
    timer_on = bpy.app.timers.is_registered(mod.pump)
    addon_utils.disable(MODULE)
    timer_after_disable = bpy.app.timers.is_registered(mod.pump)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        port_free = True
    except OSError:
        port_free = False
    finally:
        s.close()
    addon_utils.enable(MODULE)
    mod2 = sys.modules[BPY_LAYER]
    err2 = mod2.start(bpy.context.scene)
    running2 = mod2._rt.receiver is not None
    mod2.stop(bpy.context.scene)
    return {
        "start_error": err,
        "timer_on": timer_on,
        "timer_after_disable": timer_after_disable,
        "port_free_after_disable": port_free,
        "start_error_after_reload": err2,
        "running_after_reload": running2,
        "settings_saved": "avatar_driver" in bpy.types.Scene.bl_rna.properties,
    }


def sc_vmc_ramp(mod, args):
    """A VMC sender (python-osc) sends a smile ramp; the mesh follows; record; check action."""
    from pythonosc.udp_client import SimpleUDPClient  # noqa: F401  (independent encoder)

    scene = bpy.context.scene
    scene.render.fps = 24
    scene.frame_current = 1
    obj = make_mesh()
    st = scene.avatar_driver
    st.target = obj
    st.port = port = free_port()
    o = st.overrides.add()
    o.incoming, o.shape_key = "A", "jawOpen"
    assert mod.start(scene) is None
    st.record = True
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 60
    seen_smile = []
    for k in range(n):
        ramp = k / (n - 1)
        values = {name: 0.0 for name in ARKIT_NAMES}
        values["mouthSmileLeft"] = values["mouthSmileRight"] = ramp
        values["eyeBlinkLeft"] = 1.0 - ramp
        sock.sendto(
            vmc_frame(values, t=10.0 + k / 30.0, extra={"A": 0.5 * ramp}, nested=k % 2 == 1),
            ("127.0.0.1", port),
        )
        if k % 3 == 2:  # bursts of three frames between ticks: newest wins live
            time.sleep(0.003)
            mod.pump()
            seen_smile.append(key_values(obj)["BS_mouthSmileLeft"])
    pump_for(mod, 0.1)
    live = key_values(obj)
    z = evaluated_z(obj)
    res = mod._rt.match_result
    st.record = False
    stats = mod._rt.receiver.stats
    out = {
        "live": live,
        "evaluated_z": z,
        "seen_smile": seen_smile,
        "matches": {m.incoming: [m.key, m.how] for m in res.matches.values()},
        "unmatched": res.unmatched,
        "frames": stats.frames,
        "dropped": stats.dropped,
        "internal_errors": mod._rt.internal_errors,
        "action": obj.data.shape_keys.animation_data.action.name,
        "paths": curve_paths(obj),
        "smile_curve": curve_values(obj, "BS_mouthSmileLeft"),
        "blink_curve": curve_values(obj, "eyeBlink_L"),
        "scene_frame_end": scene.frame_end,
        "message": mod._rt.message,
    }
    mod.stop(scene)
    return out


def sc_livelink(mod, args):
    scene = bpy.context.scene
    obj = make_mesh()
    st = scene.avatar_driver
    st.target = obj
    st.protocol = "LIVELINK"
    port_default = st.port
    st.port = port = free_port()
    assert mod.start(scene) is None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    vals = [0.0] * 61
    vals[ARKIT_NAMES.index("jawOpen")] = 0.75
    vals[ARKIT_NAMES.index("mouthSmileLeft")] = 0.25
    vals[52] = 0.1  # head yaw
    for f in range(5):
        sock.sendto(livelink_packet(vals, frame=100 + f), ("127.0.0.1", port))
    pump_for(mod, 0.05)
    out = {
        "port_default": port_default,
        "live": key_values(obj),
        "frames": mod._rt.receiver.stats.frames,
        "head": mod._rt.receiver.head,
        "unmatched": mod._rt.match_result.unmatched,
        "n_matched": len(mod._rt.match_result.matches),
    }
    mod.stop(scene)
    return out


def sc_hostile(mod, args):
    """Garbage, truncation, oversize, wrong types; then port-in-use. Nothing may raise."""
    rnd = random.Random(args.get("seed", 1))
    scene = bpy.context.scene
    obj = make_mesh()
    st = scene.avatar_driver
    st.target = obj
    out = {}
    for proto in ("VMC", "LIVELINK"):
        st.protocol = proto
        st.port = port = free_port()
        assert mod.start(scene) is None
        st.record = True
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dest = ("127.0.0.1", port)
        good_vmc = vmc_frame({"jawOpen": 0.5}, t=1.0)
        good_ll = livelink_packet([0.0] * 17 + [0.5] + [0.0] * 43)
        good = good_vmc if proto == "VMC" else good_ll
        bad = [b"", b"\x00", b"#bundle\x00", b"/VMC/Ext/Blend/Val\x00\x00"]
        bad += [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 600))) for _ in range(300)]
        bad += [good[: rnd.randrange(1, len(good))] for _ in range(50)]  # truncated
        bad += [good + b"\x00" * 4, good * 2, b"\x06" + b"\xff" * 400]
        bad += [b"x" * 20000]  # oversized
        from pythonosc.osc_message_builder import OscMessageBuilder

        def msg(addr, *args):
            b = OscMessageBuilder(address=addr)
            for a in args:
                b.add_arg(a)
            return b.build().dgram

        wrong = [
            msg("/VMC/Ext/Blend/Val", 3, 0.5),
            msg("/VMC/Ext/Blend/Val", "jawOpen", "high"),
            msg("/VMC/Ext/Blend/Val", "jawOpen"),
            msg("/VMC/Ext/Blend/Val", "jawOpen", float("nan")),
            msg("/VMC/Ext/T", "soon"),
            msg("/VMC/Ext/Bone/Pos", "Head", 1.0),
            msg("/VMC/Ext/Blend/Apply"),
        ]
        for i, d in enumerate(bad + wrong):
            sock.sendto(d, dest)
            if i % 40 == 0:
                mod.pump()
        sock.sendto(good, dest)
        pump_for(mod, 0.1)
        st.record = False
        rx = mod._rt.receiver
        out[proto] = {
            "stats": {
                k: getattr(rx.stats, k)
                for k in ("packets", "frames", "malformed", "oversized", "bad_messages")
            },
            "jawOpen": key_values(obj)["jawOpen"],
            "internal_errors": mod._rt.internal_errors,
        }
        mod.stop(scene)
    # Port already in use: a message, not a traceback.
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    st.protocol = "VMC"
    st.port = blocker.getsockname()[1]
    err = mod.start(scene)
    try:
        op = list(bpy.ops.avatar_driver.start())
    except RuntimeError as e:  # how bpy.ops hands an ERROR report to a script
        op = ["REPORTED", str(e)]
    out["port_in_use"] = {
        "error": err,
        "operator": op,
        "panel_message": mod._rt.message,
        "running": mod._rt.receiver is not None,
    }
    blocker.close()
    return out


def sc_import(mod, args):
    scene = bpy.context.scene
    scene.render.fps = args.get("scene_fps", 30)
    scene.frame_current = 1
    obj = make_mesh()
    head = bpy.data.objects.new("Head", None)
    scene.collection.objects.link(head)
    st = scene.avatar_driver
    st.target = obj
    st.action_name = "Take"
    st.head_target = "OBJECT"
    st.head_object = head
    summary = mod.import_take(scene, args["csv"])
    want = args.get("keys", ["mouthSmileLeft", "jawOpen"])
    curves = {k: curve_values(obj, _key_for(k)) for k in want}
    had = head.animation_data.action
    frames = args.get("sample_frames") or [1 + f for f in range(0, 200, 7)]
    sampled = {}
    for k in want:
        kb = obj.data.shape_keys.key_blocks[_key_for(k)]
        vals = []
        for f in frames:
            scene.frame_set(f)
            vals.append(kb.value)
        sampled[k] = vals
    yaw = []
    for f in frames:
        scene.frame_set(f)
        yaw.append(head.rotation_euler[2])
    bad = None
    if "bad_csv" not in args:
        return {"summary": summary, "frames": frames, "sampled": sampled}
    try:
        mod.import_take(scene, args["bad_csv"])
    except Exception as e:  # the operator turns this TakeError into a report
        bad = [type(e).__name__, str(e)]
    try:
        op = list(bpy.ops.avatar_driver.import_take(filepath=args["bad_csv"]))
    except RuntimeError as e:  # how bpy.ops hands an ERROR report to a script
        op = ["REPORTED", str(e)]
    return {
        "summary": summary,
        "curves": curves,
        "frames": frames,
        "sampled": sampled,
        "head_action": had.name if had else None,
        "yaw": yaw,
        "bad": bad,
        "bad_operator": op,
        "paths": curve_paths(obj),
    }


def _key_for(arkit_name: str) -> str:
    return KEY_NAMES[ARKIT_NAMES.index(arkit_name)]


def sc_e2e(mod, args):
    """The real avatar-driver `blender` output against the add-on (default VMC port)."""
    scene = bpy.context.scene
    scene.render.fps = 30
    scene.frame_current = 1
    obj = make_mesh()
    st = scene.avatar_driver
    st.target = obj
    err = mod.start(scene)
    if err:
        return {"start_error": err}
    st.record = True
    env = dict(os.environ, AVATAR_DRIVER_MODEL=args["model"])
    proc = subprocess.Popen(
        args["cmd"], cwd=args["cwd"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    snaps = []
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        mod.pump()
        snaps.append(key_values(obj)["BS_mouthSmileLeft"])
        time.sleep(0.002)
    if proc.poll() is None:
        proc.kill()
    pump_for(mod, 0.3)
    out_err = proc.stderr.read().decode(errors="replace")[-2000:]
    res = mod._rt.match_result
    st.record = False
    out = {
        "returncode": proc.returncode,
        "stderr": out_err,
        "snaps": snaps,
        "frames": mod._rt.receiver.stats.frames,
        "dropped": mod._rt.receiver.stats.dropped,
        "matched": len(res.matches) if res else 0,
        "unmatched": res.unmatched if res else [],
        "smile_curve": curve_values(obj, "BS_mouthSmileLeft"),
        "smile_right_curve": curve_values(obj, "blendShape.mouthSmileRight"),
        "internal_errors": mod._rt.internal_errors,
    }
    mod.stop(scene)
    return out


def main() -> None:
    scenario, zip_path = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    mod = install(zip_path)
    result = globals()[f"sc_{scenario}"](mod, args)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # skip bpy's slow atexit teardown; results are already printed
