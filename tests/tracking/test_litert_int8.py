"""The int8 blendshape model against MediaPipe's float one (the reference), on real clips."""

from __future__ import annotations

import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.shapes import ARKIT_NAMES
from avatar_driver.tracking.compare import Track, agreement, load_frames
from avatar_driver.tracking.litert import LiteRtTracker
from avatar_driver.tracking.quantize import int8_conv_weights

#: How far the int8 scores may move from the float model's: a tenth of the bar
#: (tests/tracking/test_litert.py) both are held to against MediaPipe's task.
MAE = 0.004
MAX = 0.08
R_MIN = 0.98


def _track(model: Path, clip: Path, int8: bool) -> Track:
    frames = load_frames(str(clip))
    n = len(frames)
    out = Track(
        np.zeros(n, bool), np.zeros((n, len(ARKIT_NAMES)), np.float32),
        np.zeros((n, 478, 3), np.float32), np.zeros((n, 3), np.float32), np.zeros(n), (0, 0),
    )  # fmt: skip
    with LiteRtTracker(model, int8_blendshapes=int8) as tracker:
        assert tracker.int8_blendshapes is int8
        for i, frame in enumerate(frames):
            f = tracker(frame)
            out.present[i], out.weights[i], out.pose[i] = f.face_present, f.weights, f.pose[:3]
            if f.landmarks is not None:
                out.landmarks[i] = f.landmarks
    assert frames[0].image is not None
    out.size = frames[0].image.shape[1::-1]
    return out


@cache
def _pair(model: Path, clip: Path) -> tuple[Track, Track]:
    return _track(model, clip, int8=False), _track(model, clip, int8=True)


@pytest.mark.parametrize("clip", ["single_face.mp4", "face_noface.mov"])
def test_int8_blendshapes_follow_the_float_model(model: Path, media: Path, clip: str) -> None:
    ref, int8 = _pair(model, media / clip)
    q = agreement(ref, int8)
    # Only the blendshape model differs: same faces, same landmarks, same head pose.
    assert (ref.present == int8.present).all() and q["faces_ref"] >= 60, q
    assert q["landmark_px_mean"] == 0.0 and q["pose_deg_mae"] == 0.0, q
    assert q["weights_mae"] < MAE and q["weights_max"] < MAX, q
    assert q["mouth_jaw_shapes"] >= 5 and q["mouth_jaw_r_min"] >= R_MIN, q
    assert q["blink_peak_drop_max"] < 0.05, q
    assert not np.array_equal(ref.weights, int8.weights)  # the int8 model did run


def _conv_weights(content: bytes) -> list[tuple[int, np.ndarray | None]]:
    """(tensor type, per-channel scales or None) of each CONV_2D's weights, in order."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    g = m.subgraphs[0]
    out = []
    for op in g.operators:
        c = m.operatorCodes[op.opcodeIndex]
        if max(c.builtinCode, c.deprecatedBuiltinCode) == schema.BuiltinOperator.CONV_2D:
            t = g.tensors[op.inputs[1]]
            q = t.quantization
            out.append((t.type, None if q is None or q.scale is None else np.asarray(q.scale)))
    return out


def test_int8_weights_are_the_float_weights_rounded(model: Path) -> None:
    """Each output channel's weights, dequantized, are within half a step of the float16
    originals; the first convolution (raw pixel coordinates in) stays float."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    with zipfile.ZipFile(model) as z:
        content = z.read("face_blendshapes.tflite")
    rewritten, n = int8_conv_weights(content, keep_float=(0,))
    convs = _conv_weights(rewritten)
    assert n == len(convs) - 1 == 18
    assert convs[0][0] != schema.TensorType.INT8
    assert all(t == schema.TensorType.INT8 for t, _ in convs[1:])
    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(rewritten))
    src = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    gs = src.subgraphs[0]
    originals = {}  # a DEQUANTIZE output's name -> the float16 constant it dequantizes
    for op in gs.operators:
        c = src.operatorCodes[op.opcodeIndex]
        if max(c.builtinCode, c.deprecatedBuiltinCode) == schema.BuiltinOperator.DEQUANTIZE:
            t16 = gs.tensors[op.inputs[0]]
            data = bytes(src.buffers[t16.buffer].data)
            originals[gs.tensors[op.outputs[0]].name] = np.frombuffer(data, np.float16)
    checked = 0
    for t in m.subgraphs[0].tensors:
        if t.type != schema.TensorType.INT8:
            continue
        q = np.frombuffer(bytes(m.buffers[t.buffer].data), np.int8).reshape(t.shape[0], -1)
        scale = np.asarray(t.quantization.scale, np.float32)
        w = originals[t.name].astype(np.float32).reshape(q.shape)
        assert (np.abs(q * scale[:, None] - w) <= scale[:, None] / 2 + 1e-7).all()
        assert (np.abs(q).max(axis=1) == 127).all()  # each channel's largest weight: +-127
        checked += 1
    assert checked == 18


def test_nothing_to_quantize_leaves_the_model_alone(model: Path) -> None:
    with zipfile.ZipFile(model) as z:
        content = z.read("face_blendshapes.tflite")
    assert int8_conv_weights(content, keep_float=range(100)) == (content, 0)


def test_int8_symmetric_scores_mirror_within_quantization_noise(model: Path, media: Path) -> None:
    """symmetric=True with int8 blendshapes: mirrored landmarks give the swapped scores to
    within the int8 model's rounding (the float model: to float rounding,
    tests/tracking/test_mirror.py), far closer than the plain model's mirror gap."""
    from avatar_driver.tracking.geometry import parse_metadata
    from avatar_driver.tracking.litert import read_bundle
    from avatar_driver.tracking.mirror import (
        mirror_landmarks,
        mirror_permutation,
        mirror_scores_index,
    )

    mesh, _ = parse_metadata(read_bundle(model)["geometry_pipeline_metadata_landmarks.binarypb"])
    perm, swap = mirror_permutation(mesh), mirror_scores_index()
    ref, _ = _pair(model, media / "single_face.mp4")
    w, h = ref.size
    points = ref.landmarks[ref.present][::6]
    gaps = {}
    for symmetric in (False, True):
        with LiteRtTracker(model, symmetric=symmetric, int8_blendshapes=True) as tracker:
            gaps[symmetric] = max(
                float(
                    np.abs(
                        tracker.blendshapes(p, w, h)
                        - tracker.blendshapes(mirror_landmarks(p, perm), w, h)[swap]
                    ).max()
                )
                for p in points
            )
    assert gaps[True] < 0.02 and gaps[False] > 0.1, gaps  # measured 0.009 and 0.23
