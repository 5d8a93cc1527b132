"""The e5 encoder as an ONNX graph, built from the package's 4-bit weights.

Run as a child process by `e5.py` (`python -m bot.matching.e5_graph MODEL_FILE
[DELTA_FILE]` writes the serialised graph to stdout; the delta: `E5Weights`), so that the
`onnx` package and the de-quantised float32 temporaries (~85 MB) never enter the bot's
process.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from bot.matching.e5_file import E5Weights


def onnx_graph(w: E5Weights) -> bytes:
    """The encoder as an ONNX graph (bytes), weights from the package file. Input x: the
    embedded tokens (L, H) float32; output: the last hidden states (L, H)."""
    from onnx import TensorProto, helper, numpy_helper

    H, NH, FF = w.H, w.NH, w.FF
    hd = H // NH
    nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]

    def name(base: str) -> str:
        counter[0] += 1
        return f"{base}_{counter[0]}"

    def const(arr: np.ndarray, base: str) -> str:
        n = name(base)
        inits.append(numpy_helper.from_array(arr, n))
        return n

    def node(op: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        out = name(op)
        nodes.append(helper.make_node(op, inputs, [out], domain=domain, **attrs))
        return out

    def int8_linear(x: str, weights: list[np.ndarray], bias: np.ndarray) -> str:
        """x @ W.T + bias with W (the package's 4-bit matrices, de-quantised, stacked by rows)
        re-quantised to int8 per output column; activations are quantised per call
        (onnxruntime's DynamicQuantizeMatMul: an int8 GEMM, ~2x a float32 one)."""
        wt = np.concatenate(weights).T  # (nin, nout)
        scale = np.abs(wt).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(wt / scale), -127, 127).astype(np.int8)
        return node(
            "DynamicQuantizeMatMul",
            [
                x,
                const(q, "W"),
                const(scale.astype(np.float32), "scale"),
                const(np.zeros(q.shape[1], dtype=np.int8), "zero"),
                const(bias.astype(np.float32), "bias"),
            ],
            domain="com.microsoft",
        )

    def layernorm(x: str, prefix: str) -> str:
        return node(
            "LayerNormalization",
            [x, const(w.f32(prefix + ".w"), "g"), const(w.f32(prefix + ".b"), "b")],
            axis=-1,
            epsilon=float(w.eps),
        )

    x = "x"
    qkv_shape = const(np.array([-1, 3, NH, hd], dtype=np.int64), "shape")
    flat_shape = const(np.array([-1, H], dtype=np.int64), "shape")
    scale = const(np.array(1.0 / np.sqrt(hd), dtype=np.float32), "scale")
    for i in range(w.NL):
        p = f"l{i}."
        qkv = int8_linear(
            x,
            [w.dequant(p + part + ".w", H) for part in ("q", "k", "v")],
            np.concatenate([w.f32(p + part + ".b") for part in ("q", "k", "v")]),
        )
        qkv = node("Reshape", [qkv, qkv_shape])  # (L, 3, NH, hd)
        qkv = node("Transpose", [qkv], perm=[1, 2, 0, 3])  # (3, NH, L, hd)
        heads = [
            node("Gather", [qkv, const(np.array(j, dtype=np.int64), "j")], axis=0) for j in range(3)
        ]
        q, k, v = heads
        kt = node("Transpose", [k], perm=[0, 2, 1])
        s = node("Mul", [node("MatMul", [q, kt]), scale])
        s = node("Softmax", [s], axis=-1)
        ctx = node("Transpose", [node("MatMul", [s, v])], perm=[1, 0, 2])
        ctx = node("Reshape", [ctx, flat_shape])
        ao = int8_linear(ctx, [w.dequant(p + "ao.w", H)], w.f32(p + "ao.b"))
        x = layernorm(node("Add", [x, ao]), p + "aln")
        m = int8_linear(x, [w.dequant(p + "fi.w", FF)], w.f32(p + "fi.b"))
        m = node("Gelu", [m], domain="com.microsoft")
        fo = int8_linear(m, [w.dequant(p + "fo.w", H)], w.f32(p + "fo.b"))
        x = layernorm(node("Add", [x, fo]), p + "oln")
    nodes[-1].output[0] = "h"
    graph = helper.make_graph(
        nodes,
        "e5",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["L", H])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["L", H])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 9
    serialized: bytes = model.SerializeToString()
    return serialized


if __name__ == "__main__":
    delta = sys.argv[2] if len(sys.argv) > 2 else None
    sys.stdout.buffer.write(onnx_graph(E5Weights(sys.argv[1], delta)))
