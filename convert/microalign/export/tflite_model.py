"""Reading a .tflite flatbuffer without TensorFlow: operators, tensors, quantisation, sizes, MACs.

Parsing goes through :mod:`.flatbuffer` (the schema module shipped with the
PyPI ``tflite-micro`` package), so it is as fast to import as the TFLM runtime.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import flatbuffer as fbk

_DTYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
           7: "int16", 9: "int8", 10: "float64", 15: "uint32", 16: "uint16", 17: "int4"}
_ITEMSIZE = {"float32": 4, "float16": 2, "int32": 4, "uint8": 1, "int64": 8, "bool": 1, "int16": 2, "int8": 1,
             "float64": 8, "uint32": 4, "uint16": 2, "int4": 0.5}


@dataclass
class TensorInfo:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    constant: bool                      # has data in the flatbuffer (weights, biases, shapes)
    nbytes: int
    scale: list[float] = field(default_factory=list)        # empty: not quantised
    zero_point: list[int] = field(default_factory=list)
    quantized_dimension: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    def quant_dict(self) -> dict:
        d = {"index": self.index, "name": self.name, "shape": list(self.shape), "dtype": self.dtype,
             "constant": self.constant}
        if len(self.scale) == 1:
            d.update(scale=self.scale[0], zero_point=self.zero_point[0])
        elif self.scale:
            s = np.asarray(self.scale)
            d.update(channels=len(s), axis=self.quantized_dimension, scale_min=float(s.min()),
                     scale_max=float(s.max()), zero_points=sorted(set(int(z) for z in self.zero_point)))
        return d


@dataclass
class OpInfo:
    index: int
    name: str                           # builtin name, or "CUSTOM:<code>"
    inputs: list[int]
    outputs: list[int]
    macs: int = 0


@dataclass
class TFLiteModelInfo:
    """A flat description of the (single-subgraph) model."""

    tensors: list[TensorInfo]
    ops: list[OpInfo]
    inputs: list[int]
    outputs: list[int]
    size_bytes: int
    # attention subgraphs the fused kernel computes (flatbuffer.match_attention), and why other
    # SOFTMAX operators are not such a subgraph
    attention: list = field(default_factory=list)
    attention_not_fusable: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ summaries
    def op_histogram(self) -> dict[str, int]:
        return dict(sorted(Counter(o.name for o in self.ops).items(), key=lambda kv: (-kv[1], kv[0])))

    def weight_bytes(self) -> dict[str, int]:
        """Bytes of constant tensor data by dtype (int8 weights, int32 biases and shape vectors)."""
        out: Counter = Counter()
        for t in self.tensors:
            if t.constant:
                out[t.dtype] += t.nbytes
        return dict(sorted(out.items()))

    def activation_tensors(self) -> list[TensorInfo]:
        return [t for t in self.tensors if not t.constant]

    def macs(self) -> int:
        return sum(o.macs for o in self.ops)

    def macs_by_op(self) -> dict[str, int]:
        out: Counter = Counter()
        for o in self.ops:
            if o.macs:
                out[o.name] += o.macs
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def io_quant(self) -> tuple[tuple[float, int] | None, tuple[float, int] | None]:
        """(scale, zero_point) of the first input and output, None when not quantised."""
        def q(i: int):
            t = self.tensors[i]
            return (float(t.scale[0]), int(t.zero_point[0])) if len(t.scale) == 1 else None

        return q(self.inputs[0]), q(self.outputs[0])

    def int8_problems(self, allowed_custom: tuple[str, ...] = ()) -> list[str]:
        """Why this is not a pure int8 graph (empty when it is).

        Pure means: no custom (Flex) ops but those in ``allowed_custom`` (e.g.
        ``("FA_ATTENTION",)`` for the device model), no QUANTIZE/DEQUANTIZE, every
        activation int8, every constant int8 (weights) or int32 (biases, shapes),
        no float tensor anywhere.
        """
        problems = []
        allowed = {f"CUSTOM:{n}" for n in allowed_custom}
        for o in self.ops:
            if o.name in allowed:
                continue
            if o.name.startswith("CUSTOM") or o.name.startswith("Flex"):
                problems.append(f"op {o.index} {o.name}: custom/Flex operator")
            elif o.name in ("QUANTIZE", "DEQUANTIZE"):
                problems.append(f"op {o.index} {o.name}: (de)quantisation inside the graph")
        for t in self.tensors:
            if t.dtype.startswith("float"):
                problems.append(f"tensor {t.index} {t.name!r}: {t.dtype}")
            elif not t.constant and t.dtype != "int8":
                problems.append(f"tensor {t.index} {t.name!r}: {t.dtype} activation")
            elif t.constant and t.dtype not in ("int8", "int32"):
                problems.append(f"tensor {t.index} {t.name!r}: {t.dtype} constant")
        return problems


def _macs(op: OpInfo, tensors: list[TensorInfo], adj_x: bool) -> int:
    out = int(np.prod(tensors[op.outputs[0]].shape)) if op.outputs else 0
    if op.name == "FULLY_CONNECTED":
        return out * tensors[op.inputs[1]].shape[-1]
    if op.name == "CONV_2D":                     # filter [O, kh, kw, I]
        _, kh, kw, ci = tensors[op.inputs[1]].shape
        return out * kh * kw * ci
    if op.name == "DEPTHWISE_CONV_2D":           # filter [1, kh, kw, O]
        _, kh, kw, _ = tensors[op.inputs[1]].shape
        return out * kh * kw
    if op.name == "BATCH_MATMUL":
        lhs = tensors[op.inputs[0]].shape
        return out * (lhs[-2] if adj_x else lhs[-1])
    return 0


def read_tflite(model: bytes | str | Path) -> TFLiteModelInfo:
    """Parse a .tflite file (path or bytes)."""
    data = fbk.model_bytes(model)
    m = fbk.load(data)
    if len(m.subgraphs) != 1:
        raise fbk.FlatbufferError(f"expected one subgraph, found {len(m.subgraphs)}")
    g = m.subgraphs[0]
    tensors = []
    for i, t in enumerate(g.tensors):
        dtype = _DTYPES.get(t.type, f"type{t.type}")
        shape = tuple(int(s) for s in (t.shape if t.shape is not None else []))
        buf = m.buffers[t.buffer] if t.buffer is not None and t.buffer < len(m.buffers) else None
        constant = buf is not None and buf.data is not None and len(buf.data) > 0
        n = int(np.prod(shape)) if shape else 1
        q = t.quantization
        scale = [float(s) for s in q.scale] if q is not None and q.scale is not None else []
        zp = [int(z) for z in q.zeroPoint] if q is not None and q.zeroPoint is not None else []
        tensors.append(TensorInfo(i, fbk.tensor_name(t), shape, dtype,
                                  constant, int(np.ceil(n * _ITEMSIZE.get(dtype, 4))), scale, zp,
                                  int(q.quantizedDimension) if q is not None else 0))
    ops = []
    for i, o in enumerate(g.operators):
        name = fbk.op_name(m, o)
        if fbk.custom_code(m, o) is not None and not name.startswith("Flex"):
            name = f"CUSTOM:{name}"
        info = OpInfo(i, name, [int(x) for x in o.inputs], [int(x) for x in o.outputs])
        adj_x = bool(getattr(o.builtinOptions, "adjX", False)) if name == "BATCH_MATMUL" else False
        info.macs = _macs(info, tensors, adj_x)
        ops.append(info)
    sites, misses = fbk.match_attention(m)
    return TFLiteModelInfo(tensors, ops, [int(x) for x in g.inputs], [int(x) for x in g.outputs], len(data),
                           sites, [x.reason for x in misses])
