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
    unity_look,
    vmc_frame,
    vmc_pose_frame,
    write_take_csv,
)

MODULE = "bl_ext.user_default.avatar_driver_blender"
BPY_LAYER = MODULE + ".addon"
#: Live Link's (Unreal's) sign of each pose value against avatar-driver's: yaw, pitch, roll x3.
UNREAL_SIGN = (1.0, -1.0, -1.0) * 3  # where register() puts the bpy layer (pump, start, stop...)


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
    rig = None
    if args.get("rig"):
        rig = make_rig(args["rig"])
        st.head_target, st.head_object, st.action_name = "BONE", rig, "E2E"
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
    out_err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
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
    if rig is not None:
        out.update(_played_head(scene, rig, RIGS[args["rig"]][0]))
        out["message"] = mod._rt.message
    return out


def _played_head(scene, rig, head: str | None) -> dict:
    """Per scene frame of the recorded take: the head's yaw and pitch in degrees, measured
    from where the evaluated head bone faces in the rig's own frame."""
    import math

    from mathutils import Vector

    ad = rig.animation_data
    if ad is None or ad.action is None:
        return {"rig_action": None}
    lo, hi = (round(v) for v in ad.action.frame_range)
    track = []
    for f in range(lo, hi + 1):
        scene.frame_set(f)
        fwd = Vector(world_forward(rig, head))  # evaluates the depsgraph
        to_rig = rig.evaluated_get(bpy.context.evaluated_depsgraph_get()).matrix_world
        x, y, z = to_rig.to_3x3().inverted() @ fwd
        track.append([f, math.degrees(math.atan2(x, -y)), math.degrees(math.asin(z))])
    return {"rig_action": ad.action.name, "head_track": track}


# -- head and eyes ----------------------------------------------------------------------------
#: Test armatures with each family's naming (built here, no files from outside):
#: head bone, (left, right) eye bones, other bones of the family that must not be picked.
RIGS = {
    "rigify_old": ("head", ("MCH-eye.L", "MCH-eye.R"),
                   ["root", "torso", "neck", "ORG-head", "DEF-head", "eye.L", "eye.R", "eyes",
                    "ORG-eye.L", "ORG-eye.R"]),
    "rigify_new": ("head", ("master_eye.L", "master_eye.R"),
                   ["root", "neck", "ORG-spine.006", "DEF-spine.006", "MCH-eye.L", "MCH-eye.R",
                    "eye.L", "eye.R", "eye_common"]),
    # As a generated Rigify rig has them: MCH-eye.L tracks the eye.L control (Damped Track),
    # the eye.L / eye.R controls sit in front of the face under "eyes", under the head.
    "rigify_aim": ("head", ("MCH-eye.L", "MCH-eye.R"),
                   ["root", "ORG-head", "DEF-head", "master_eye.L", "master_eye.R", "neck"]),
    "vrm": ("Head", ("LeftEye", "RightEye"), ["Hips", "Spine", "Chest", "Neck"]),
    "vroid": ("J_Bip_C_Head", ("J_Adj_L_FaceEye", "J_Adj_R_FaceEye"),
              ["J_Bip_C_Hips", "J_Bip_C_Spine", "J_Bip_C_Neck"]),
    "no_eyes": ("Head", (None, None), ["Hips", "Neck"]),
    "plain": (None, (None, None), ["Bone", "Bone.001"]),
}  # fmt: skip


def make_rig(kind: str, name: str = "Rig"):
    """An armature with `kind`'s bone names: a slightly tilted neck, a head pointing up with
    a roll (so nothing relies on roll 0), eyes parented to the head (VRoid's pointing up,
    the others forward), the object moved and turned 90 deg about Z in the scene."""
    import math

    head, (eye_l, eye_r), extra = RIGS[kind]
    arm = bpy.data.armatures.new(name)
    rig = bpy.data.objects.new(name, arm)
    bpy.context.scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    eb = arm.edit_bones
    neck = eb.new(extra[-1] if kind != "plain" else extra[0])
    neck.head, neck.tail = (0.0, 0.02, 1.4), (0.0, 0.0, 1.5)
    for i, other in enumerate(extra[:-1] if kind != "plain" else extra[1:]):
        b = eb.new(other)
        b.head, b.tail = (0.3 + 0.05 * i, 0.0, 1.0), (0.3 + 0.05 * i, 0.0, 1.1)
    if head:
        h = eb.new(head)
        h.head, h.tail, h.roll, h.parent = (0.0, 0.0, 1.5), (0.0, 0.0, 1.75), 0.4, neck
        for side, eye in ((1, eye_l), (-1, eye_r)):
            if eye is None:
                continue
            e = eb.new(eye)
            x = 0.03 * side  # the avatar's left is +X (it faces -Y)
            e.head = (x, -0.08, 1.62)
            e.tail = (x, -0.08, 1.64) if kind == "vroid" else (x, -0.10, 1.62)
            e.parent = h
        if kind == "rigify_aim":
            eyes = eb.new("eyes")
            eyes.head, eyes.tail, eyes.parent = (0.0, -0.4, 1.62), (0.0, -0.4, 1.68), h
            for side, name in ((1, "eye.L"), (-1, "eye.R")):
                t = eb.new(name)
                t.head, t.tail, t.parent = (
                    (0.03 * side, -0.4, 1.62),
                    (0.03 * side, -0.4, 1.66),
                    eyes,
                )
    bpy.ops.object.mode_set(mode="OBJECT")
    if kind == "rigify_aim":
        for eye, target in ((eye_l, "eye.L"), (eye_r, "eye.R")):
            c = rig.pose.bones[eye].constraints.new("DAMPED_TRACK")
            c.target, c.subtarget = rig, target
    rig.location = (0.5, 0.0, 0.0)
    rig.rotation_euler = (0.0, 0.0, math.pi / 2)  # facing +X in the scene now
    return rig


def world_forward(rig, bone: str | None) -> list[float]:
    """Where the bone's rest-pose "forward" (-Y of the rig) points now, in world space, read
    from the evaluated pose (not from the values the add-on wrote)."""
    from mathutils import Vector

    dg = bpy.context.evaluated_depsgraph_get()
    ev = rig.evaluated_get(dg)
    pb = ev.pose.bones[bone]
    rest = pb.bone.matrix_local.to_3x3()
    local = rest.inverted() @ Vector((0.0, -1.0, 0.0))
    w = (ev.matrix_world.to_3x3() @ pb.matrix.to_3x3()) @ local
    return list(w.normalized())


def _setup_pose(mod, args):
    scene = bpy.context.scene
    scene.render.fps = 30
    scene.frame_current = 1
    obj = make_mesh()
    for kb in obj.data.shape_keys.key_blocks:
        kb.value = 0.0
    rig = make_rig(args["rig"])
    st = scene.avatar_driver
    st.target = obj
    st.head_target = args.get("head_target", "BONE")
    st.head_object = rig
    st.head_bone = args.get("head_bone", "")
    st.eye_target = args.get("eye_target", "AUTO")
    if args.get("rotation_mode"):
        for pb in rig.pose.bones:
            pb.rotation_mode = args["rotation_mode"]
    return scene, obj, rig, st


def _roles(mod):
    return {"driven": dict(mod._rt.pose_driven), "problems": list(mod._rt.pose_problems),
            "eyes_to_shape_keys": mod._rt.eyes_to_shape_keys}  # fmt: skip


def sc_pose_vmc(mod, args):
    """An independent VMC sender (python-osc bundles on real UDP) turns the head and eyes;
    then a recorded ramp on the stream clock."""
    scene, obj, rig, st = _setup_pose(mod, args)
    st.port = port = free_port()
    st.head_strength = args.get("strength", (1.0, 1.0, 1.0))
    st.head_invert = args.get("invert", (False, False, False))
    err = mod.start(scene)
    head, (eye_l, eye_r), _ = RIGS[args["rig"]]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hy, hp, ey, ep = args["head_yaw"], args["head_pitch"], args["eye_yaw"], args["eye_pitch"]
    vmc_bones = {"Head": (0.0, 0.12, 0.0, *unity_look(hy, hp)),
                 "LeftEye": (0.03, 0.1, 0.08, *unity_look(ey, ep)),
                 "RightEye": (-0.03, 0.1, 0.08, *unity_look(ey, ep))}  # fmt: skip
    sock.sendto(vmc_pose_frame({"jawOpen": 0.3}, vmc_bones, t=5.0), ("127.0.0.1", port))
    pump_for(mod, 0.1)
    out = {"start_error": err, **_roles(mod), "internal_errors": mod._rt.internal_errors,
           "live": key_values(obj), "message": mod._rt.message}  # fmt: skip
    if head and head in rig.pose.bones:
        out["head_forward"] = world_forward(rig, head)
    for role, eye in (("left", eye_l), ("right", eye_r)):
        if eye:
            out[f"{role}_eye_forward"] = world_forward(rig, eye)
    out["rig_matrix"] = [list(r) for r in rig.matrix_world.to_3x3()]
    if args.get("record"):
        # Recenter first: the current pose becomes straight ahead.
        out["recenter"] = list(bpy.ops.avatar_driver.recenter())
        pump_for(mod, 0.02)
        out["head_forward_recentered"] = world_forward(rig, head)
        bpy.ops.avatar_driver.recenter(clear=True)
        st.action_name = "Take"
        st.record = True
        n = 31  # 1 s at 30 fps on the stream clock, sent in one burst: timing from T only
        for k in range(n):
            ramp = k / (n - 1)
            bones_k = {
                "Head": (0.0, 0.12, 0.0, *unity_look(30.0 * ramp, 0.0)),
                "LeftEye": (0.03, 0.1, 0.08, *unity_look(-10.0 * ramp, 0.0)),
            }
            sock.sendto(vmc_pose_frame({"jawOpen": k / (n - 1)}, bones_k, t=100.0 + k / 30.0),
                        ("127.0.0.1", port))  # fmt: skip
        pump_for(mod, 0.15)
        st.record = False
        ad = rig.animation_data
        out["rig_action"] = ad.action.name if ad and ad.action else None
        out["rig_paths"] = _action_paths(ad) if ad else []
        out["message_after"] = mod._rt.message
        out["jaw_curve"] = curve_values(obj, "jawOpen")
        mod.stop(scene)
        samples = {}
        for f in (1, 16, 31):
            scene.frame_set(f)
            samples[f] = {"head": world_forward(rig, head), "eye": world_forward(rig, eye_l)}
        out["played"] = samples
    mod.stop(scene)
    return out


def _action_paths(ad) -> list[list]:
    action = ad.action
    fcs = []
    if hasattr(action, "layers") and len(action.layers):
        for layer in action.layers:
            for strip in layer.strips:
                bag = strip.channelbag(ad.action_slot)
                if bag is not None:
                    fcs += list(bag.fcurves)
    else:
        fcs = list(action.fcurves)
    return [[fc.data_path, fc.array_index, len(fc.keyframe_points)] for fc in fcs]


def sc_pose_livelink(mod, args):
    """Live Link Face values 52-60 (normalized: 1 = 180 deg) onto the head and eyes; with no
    eye bones the gaze drives the eyeLook shape keys instead."""
    scene, obj, rig, st = _setup_pose(mod, args)
    st.protocol = "LIVELINK"
    st.port = port = free_port()
    err = mod.start(scene)
    vals = [0.0] * 61
    # pose_deg is in avatar-driver's signs; Live Link carries Unreal's (pitch > 0 chin down,
    # roll > 0 toward the right shoulder), so a real sender flips pitch and roll.
    vals[52:61] = [v / 180.0 * s for v, s in zip(args["pose_deg"], UNREAL_SIGN, strict=True)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(livelink_packet(vals, frame=10), ("127.0.0.1", port))
    pump_for(mod, 0.1)
    head, (eye_l, _), _ = RIGS[args["rig"]]
    if st.head_target == "OBJECT":
        from mathutils import Vector

        bpy.context.view_layer.update()
        fwd = rig.matrix_world.to_3x3() @ Vector((0.0, -1.0, 0.0))
        out = {**_roles(mod), "object_forward": list(fwd.normalized())}
        mod.stop(scene)
        return out
    out = {"start_error": err, **_roles(mod), "live": key_values(obj),
           "head_forward": world_forward(rig, head),
           "internal_errors": mod._rt.internal_errors}  # fmt: skip
    if eye_l:
        out["left_eye_forward"] = world_forward(rig, eye_l)
    mod.stop(scene)
    return out


def sc_pose_import(mod, args):
    """A Live Link CSV take with head and eye columns keys the bones."""
    scene, _obj, rig, st = _setup_pose(mod, args)
    st.action_name = "Take"
    n = 61  # 1 s at 60 fps: head yaw 0 -> 36 deg (0.2 normalized), left eye yaw 0 -> -18
    rows = []
    for k in range(n):
        row = [0.0] * 61
        row[ARKIT_NAMES.index("jawOpen")] = k / (n - 1)
        row[52] = 0.2 * k / (n - 1)
        row[55] = row[58] = -0.1 * k / (n - 1)
        rows.append(row)
    path = Path(args["tmp"]) / "pose_take.csv"
    write_take_csv(path, rows, fps=60)
    out = {}
    try:
        out["summary"] = mod.import_take(scene, str(path))
    except Exception as e:
        out["error"] = [type(e).__name__, str(e)]
        return out
    head, (eye_l, _), _ = RIGS[args["rig"]]
    ad = rig.animation_data
    out["rig_action"] = ad.action.name if ad and ad.action else None
    out["rig_paths"] = _action_paths(ad) if ad and ad.action else []
    out["played"] = {}
    for f in (1, 16, 31):
        scene.frame_set(f)
        out["played"][f] = {"head": world_forward(rig, head), "eye": world_forward(rig, eye_l)}
    return out


def sc_pose_missing(mod, args):
    """Bones that are not there: a clear message at Start, on import, and in the panel."""
    scene, _obj, _rig, st = _setup_pose(mod, args)
    st.port = free_port()
    out = {"start_error": mod.start(scene), "message": mod._rt.message, **_roles(mod)}
    mod.stop(scene)
    csv = Path(args["tmp"]) / "t.csv"
    write_take_csv(csv, [[0.0] * 61 for _ in range(3)], fps=60)
    try:
        mod.import_take(scene, str(csv))
        out["import"] = None
    except Exception as e:
        out["import"] = [type(e).__name__, str(e)]
    try:
        out["import_op"] = list(bpy.ops.avatar_driver.import_take(filepath=str(csv)))
    except RuntimeError as e:
        out["import_op"] = ["REPORTED", str(e)]
    return out


class RecordingLayout:
    """Stands in for `UILayout`, which headless Blender cannot create (no window): records
    labels and checks every property, operator and icon against Blender's own RNA."""

    ICONS = frozenset(
        bpy.types.UILayout.bl_rna.functions["label"].parameters["icon"].enum_items.keys()
    )

    def __init__(self, out: list[str]) -> None:
        self.out = out
        self.enabled = True

    def _child(self, *_a, **_k):
        return RecordingLayout(self.out)

    row = column = box = grid_flow = _child

    def _icon(self, icon: str | None) -> None:
        if icon and icon not in self.ICONS:
            raise ValueError(f"unknown icon {icon!r}")

    def label(self, text: str = "", icon: str | None = None) -> None:
        self._icon(icon)
        self.out.append(text)

    def prop(self, data, name: str, icon: str | None = None, **_k) -> None:
        self._icon(icon)
        if name not in data.bl_rna.properties:
            raise AttributeError(f"no property {name!r}")

    def prop_search(self, data, name: str, search_data, search_name: str, **_k) -> None:
        if name not in data.bl_rna.properties or not hasattr(search_data, search_name):
            raise AttributeError(f"prop_search {name!r} / {search_name!r}")

    def operator(self, idname: str, text: str = "", icon: str | None = None, **_k):
        self._icon(icon)
        mod, op = idname.split(".")
        getattr(getattr(bpy.ops, mod), op).get_rna_type()  # raises for an unknown operator
        self.out.append(f"[{text or idname}]")
        return type("OpProps", (), {})()

    def template_list(self, *_a, **_k) -> None:
        pass


def draw_panel(mod) -> list[str]:
    out: list[str] = []
    panel = sys.modules[MODULE + ".panel"].VIEW3D_PT_avatar_driver
    panel.draw(type("P", (), {"layout": RecordingLayout(out)})(), bpy.context)
    return out


def sc_panel(mod, args):
    """The panel after a VMC frame: what is driven (shape keys, bones), what is not."""
    scene, _obj, _rig, st = _setup_pose(mod, args)
    st.show_matches = st.show_pose = True
    st.port = port = free_port()
    mod.start(scene)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    vmc_bones = {"Head": (0.0, 0.12, 0.0, *unity_look(20, 0)),
                 "LeftEye": (0.0, 0.1, 0.08, *unity_look(5, 0))}  # fmt: skip
    sock.sendto(vmc_pose_frame({"jawOpen": 0.4, "mystery": 0.1}, vmc_bones, t=1.0),
                ("127.0.0.1", port))  # fmt: skip
    pump_for(mod, 0.1)
    out = {"lines": draw_panel(mod)}
    mod.stop(scene)
    out["lines_stopped"] = draw_panel(mod)
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
