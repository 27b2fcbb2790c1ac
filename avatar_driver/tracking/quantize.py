"""Dynamic-range int8 weights for a LiteRT model, rewritten in memory when it is loaded.

MediaPipe's face models store their weights as float16 constants, each turned into
float32 by a DEQUANTIZE op. `int8_conv_weights` gives chosen CONV_2D ops int8 weights
instead (symmetric, one scale per output channel) and their biases as float32 constants,
so XNNPACK runs them with its dynamically quantized kernels (QD8: the activations are
quantized to int8 on the fly, then int8 dot products). Measured A/B in one process on
real inputs: the blendshape model costs 0.41x the float model's CPU a call; the landmark
model costs 1.7x (its convolutions have 8-16 channels on 128x128 maps, where quantizing
the activations costs more than the int8 products save; only its 16x16 and smaller stages
get cheaper, ~0.5 ms together, for ~1 px of landmark error in the 256 px crop), so it
stays float.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

__all__ = ["int8_conv_weights"]


def int8_conv_weights(content: bytes, *, keep_float: Collection[int] = ()) -> tuple[bytes, int]:
    """(model, convolutions made int8): every CONV_2D whose weights are a float16 constant
    seen only by it, except those whose position among the CONV_2D ops is in `keep_float`."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    graph = model.subgraphs[0]
    ops = schema.BuiltinOperator

    def code(op: Any) -> int:
        c = model.operatorCodes[op.opcodeIndex]
        return int(max(c.builtinCode, c.deprecatedBuiltinCode))

    producer = {t: i for i, op in enumerate(graph.operators) for t in op.outputs}
    readers: dict[int, int] = {}
    for op in graph.operators:
        for t in op.inputs:
            readers[t] = readers.get(t, 0) + 1

    def float16_source(tensor: int) -> np.ndarray | None:
        """The float16 constant a DEQUANTIZE turns into `tensor` (read by one op only)."""
        p = producer.get(tensor)
        if p is None or readers.get(tensor) != 1 or code(graph.operators[p]) != ops.DEQUANTIZE:
            return None
        src = graph.tensors[graph.operators[p].inputs[0]]
        data = model.buffers[src.buffer].data
        if src.type != schema.TensorType.FLOAT16 or data is None:
            return None
        return np.frombuffer(bytes(data), np.float16).astype(np.float32).reshape(src.shape)

    def constant(values: np.ndarray) -> int:
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(values.tobytes(), np.uint8)
        model.buffers.append(buffer)
        return len(model.buffers) - 1

    dropped: set[int] = set()
    done = 0
    convs = [op for op in graph.operators if code(op) == ops.CONV_2D]
    for k, op in enumerate(convs):
        w = float16_source(op.inputs[1])
        bias = op.inputs[2] if len(op.inputs) > 2 else -1
        b = float16_source(bias) if bias >= 0 else None
        if k in keep_float or w is None or (bias >= 0 and b is None):
            continue
        rows = w.reshape(w.shape[0], -1)
        amax = np.abs(rows).max(axis=1)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8).reshape(w.shape)
        weights = schema.TensorT()
        weights.name = graph.tensors[op.inputs[1]].name
        weights.shape = np.array(w.shape, np.int32)
        weights.type = schema.TensorType.INT8
        weights.buffer = constant(q)
        weights.quantization = schema.QuantizationParametersT()
        weights.quantization.scale = scale
        weights.quantization.zeroPoint = np.zeros(len(scale), np.int64)
        weights.quantization.quantizedDimension = 0
        graph.tensors.append(weights)
        _drop_producer(op.inputs[1], producer, dropped, model, graph)
        op.inputs[1] = len(graph.tensors) - 1
        if b is not None:
            # XNNPACK's QD8 convolution wants a static float32 bias, not a DEQUANTIZE's output.
            _drop_producer(bias, producer, dropped, model, graph)
            graph.tensors[bias].buffer = constant(b.reshape(-1))
        done += 1
    if not done:
        return content, 0
    graph.operators = [op for i, op in enumerate(graph.operators) if i not in dropped]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), done


def _drop_producer(
    tensor: int, producer: dict[int, int], dropped: set[int], model: Any, graph: Any
) -> None:
    """Remove the DEQUANTIZE that made `tensor`; free its float16 constant's bytes unless
    another tensor shares that buffer."""
    p = producer[tensor]
    dropped.add(p)
    buffer = graph.tensors[graph.operators[p].inputs[0]].buffer
    if sum(t.buffer == buffer for t in graph.tensors) == 1:
        model.buffers[buffer].data = None
