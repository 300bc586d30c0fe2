"""Graph surgery: the device flatbuffer for TFLite Micro with microalign's custom ops.

``device_flatbuffer(int8_tflite) -> bytes`` rewrites the converted int8 model (the builtin-only
file is left as it is, for stock runtimes):

* every attention subgraph ``BATCH_MATMUL(q' , k, adj_y) -> [MUL(., c)] -> SOFTMAX ->
  BATCH_MATMUL(p, v)`` (``q' = MUL(q, c)`` optional) becomes one CUSTOM ``FA_ATTENTION`` op,
  inputs ``q, k, v``, output the second BATCH_MATMUL's output, its quantisation parameters in
  flexbuffer custom options (keys in tflm_app/kernels/tflm/fa_ops.h); only fused when q, k, v
  and the output are int8 ``[1, H, T, D]`` / ``[H, T, D]`` and every intermediate has one
  consumer;
* a CUSTOM ``FA_DECODE`` op ends the graph: inputs the scores output (int8 ``[1, T, V]``) and two
  new int32 graph inputs ``token_ids [max_tokens]`` and ``word_lengths [max_words]`` (zero-padded;
  the first length <= 0 ends the list); outputs ``word_spans int32 [max_words, 4]`` (start, end
  exclusive, score_sum, frames; unused rows -1), ``token_spans int32 [max_tokens, 2]`` and
  ``decode_status int32 [2]`` (status, path score). Graph outputs: scores, word_spans,
  token_spans, decode_status.

Tensors left without a user are pruned. The result is re-parsed with the TFLite schema
(``check_device_flatbuffer``) before it is returned.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flatbuffers import flexbuffers

FA_DECODE = "FA_DECODE"
FA_ATTENTION = "FA_ATTENTION"


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    return fb


@dataclass
class SurgeryResult:
    data: bytes
    attention_fused: int
    attention_skipped: list[str] = field(default_factory=list)   # why a candidate was not fused
    decode_inputs: tuple[int, int, int] = (0, 0, 0)              # scores, token_ids, word_lengths
    decode_outputs: tuple[int, ...] = ()


def _opcode_index(model, fb, builtin: int | None = None, custom: str | None = None) -> int:
    for i, oc in enumerate(model.operatorCodes):
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if custom is not None:
            if code == fb.BuiltinOperator.CUSTOM and (oc.customCode or b"").decode() == custom:
                return i
        elif code == builtin:
            return i
    if builtin is not None:
        return -1
    oc = fb.OperatorCodeT()
    oc.builtinCode = oc.deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
    oc.customCode = custom.encode()
    oc.version = 1
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1


def _new_tensor(model, sg, fb, name: str, shape, ttype) -> int:
    t = fb.TensorT()
    t.shape = np.asarray(shape, dtype=np.int32)
    t.type = ttype
    t.buffer = 0
    t.name = name.encode()
    sg.tensors.append(t)
    return len(sg.tensors) - 1


def _quant(t) -> tuple[float, int] | None:
    q = t.quantization
    if q is None or q.scale is None or len(q.scale) != 1:
        return None
    return float(q.scale[0]), int(q.zeroPoint[0])


def _const_value(model, t) -> int | None:
    """The int8 value of a one-element constant tensor, else None."""
    if t.buffer <= 0 or t.buffer >= len(model.buffers):
        return None
    data = model.buffers[t.buffer].data
    if data is None or len(data) != 1:
        return None
    return int(np.asarray(data, dtype=np.uint8).view(np.int8)[0])


def _fuse_attention(model, sg, fb, skipped: list[str]) -> int:
    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if isinstance(v, int)}

    def opname(op):
        oc = model.operatorCodes[op.opcodeIndex]
        return names.get(max(oc.builtinCode, oc.deprecatedBuiltinCode), "?")

    def consumers(t):
        return [o for o in sg.operators if t in list(o.inputs)]

    producer = {int(t): op for op in sg.operators for t in op.outputs}
    graph_out = set(int(t) for t in sg.outputs)

    def single_use(t):
        return len(consumers(t)) == 1 and t not in graph_out

    def const_mul(op, data_input):  # MUL(x, c): returns (x, c_tensor) or None
        if opname(op) != "MUL" or (op.builtinOptions is not None and op.builtinOptions.fusedActivationFunction):
            return None
        a, b = (int(i) for i in op.inputs)
        x, c = (a, b) if data_input is None or a == data_input else (b, a)
        if _const_value(model, sg.tensors[c]) is None:
            x, c = c, x
        if _const_value(model, sg.tensors[c]) is None or _quant(sg.tensors[c]) is None:
            return None
        return x, c

    fused = 0
    for sm in [o for o in sg.operators if opname(o) == "SOFTMAX"]:
        removed = [sm]
        s_in, p = int(sm.inputs[0]), int(sm.outputs[0])
        pv = consumers(p)
        if len(pv) != 1 or opname(pv[0]) != "BATCH_MATMUL" or int(pv[0].inputs[0]) != p or not single_use(p):
            skipped.append(f"SOFTMAX -> {p}: not followed by BATCH_MATMUL(p, v)")
            continue
        pv = pv[0]
        removed.append(pv)
        opts = {"softmax_beta": float(sm.builtinOptions.beta) if sm.builtinOptions else 1.0}
        prod = producer.get(s_in)
        if prod is not None and opname(prod) == "MUL" and single_use(s_in):
            cm = const_mul(prod, None)
            if cm is None:
                skipped.append(f"SOFTMAX {s_in}: MUL is not by a constant")
                continue
            x, c = cm
            opts.update(has_s_mul=1, s_mul_value=_const_value(model, sg.tensors[c]))
            opts.update(zip(("s_mul_scale", "s_mul_zp"), _quant(sg.tensors[c])))
            opts.update(zip(("s_mul_out_scale", "s_mul_out_zp"), _quant(sg.tensors[s_in])))
            removed.append(prod)
            s_in, prod = x, producer.get(x)
        if prod is None or opname(prod) != "BATCH_MATMUL" or not single_use(s_in):
            skipped.append(f"SOFTMAX {s_in}: not fed by BATCH_MATMUL")
            continue
        qk = prod
        if not (qk.builtinOptions is not None and qk.builtinOptions.adjY and not qk.builtinOptions.adjX):
            skipped.append(f"BATCH_MATMUL -> {s_in}: k not in adj_y layout")
            continue
        removed.append(qk)
        q, k = int(qk.inputs[0]), int(qk.inputs[1])
        qprod = producer.get(q)
        if qprod is not None and opname(qprod) == "MUL" and single_use(q) and const_mul(qprod, None):
            x, c = const_mul(qprod, None)
            opts.update(has_q_mul=1, q_mul_value=_const_value(model, sg.tensors[c]))
            opts.update(zip(("q_mul_scale", "q_mul_zp"), _quant(sg.tensors[c])))
            opts.update(zip(("q_mul_out_scale", "q_mul_out_zp"), _quant(sg.tensors[q])))
            removed.append(qprod)
            q = x
        v, out = int(pv.inputs[1]), int(pv.outputs[0])
        ts = {n: sg.tensors[i] for n, i in (("q", q), ("k", k), ("v", v), ("out", out))}
        bad = [n for n, t in ts.items()
               if t.type != fb.TensorType.INT8 or _quant(t) is None or not (
                   len(t.shape) == 3 or (len(t.shape) == 4 and t.shape[0] == 1))]
        if bad:
            skipped.append(f"attention -> {out}: {bad} not per-tensor int8 [1,H,T,D]")
            continue
        for n, t in ts.items():
            opts.update(zip((f"{n}_scale", f"{n}_zp"), _quant(t)))
        opts.update(zip(("s_scale", "s_zp"), _quant(sg.tensors[int(qk.outputs[0])])))
        op = fb.OperatorT()
        op.opcodeIndex = _opcode_index(model, fb, custom=FA_ATTENTION)
        op.inputs = np.asarray([q, k, v], dtype=np.int32)
        op.outputs = np.asarray([out], dtype=np.int32)
        op.customOptions = np.frombuffer(bytes(flexbuffers.Dumps(opts)), dtype=np.uint8)
        op.customOptionsFormat = 0
        at = sg.operators.index(pv)
        sg.operators[at] = op
        for r in removed:
            if r is not pv:
                sg.operators.remove(r)
        producer = {int(t): o for o in sg.operators for t in o.outputs}
        fused += 1
    return fused


def _prune_tensors(sg) -> None:
    used = set(int(i) for i in sg.inputs) | set(int(i) for i in sg.outputs)
    for op in sg.operators:
        used |= set(int(i) for i in op.inputs if i >= 0) | set(int(i) for i in op.outputs)
    keep = sorted(used)
    remap = {old: new for new, old in enumerate(keep)}
    sg.tensors = [sg.tensors[i] for i in keep]
    m = lambda a: np.asarray([remap[int(i)] if i >= 0 else -1 for i in a], dtype=np.int32)
    sg.inputs, sg.outputs = m(sg.inputs), m(sg.outputs)
    for op in sg.operators:
        op.inputs, op.outputs = m(op.inputs), m(op.outputs)


def device_flatbuffer(src: bytes | str | Path, max_tokens: int, max_words: int, *,
                      scores_output: int = 0, fuse_attention: bool = True,
                      band: int = 0, beam: int = 64, silence_penalty: int = 0) -> SurgeryResult:
    """Rewrite an int8 .tflite into the device flatbuffer (see the module docstring)."""
    import flatbuffers

    fb = _schema()
    data = Path(src).read_bytes() if isinstance(src, (str, Path)) else bytes(src)
    if not 1 <= max_words <= max_tokens:
        raise ValueError(f"need 1 <= max_words <= max_tokens, got {max_words}, {max_tokens}")
    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    if len(model.subgraphs) != 1:
        raise ValueError(f"expected one subgraph, got {len(model.subgraphs)}")
    sg = model.subgraphs[0]
    if any((oc.customCode or b"").decode() in (FA_DECODE, FA_ATTENTION) for oc in model.operatorCodes):
        raise ValueError("model already has microalign custom ops")
    skipped: list[str] = []
    fused = _fuse_attention(model, sg, fb, skipped) if fuse_attention else 0

    scores = int(sg.outputs[scores_output])
    st = sg.tensors[scores]
    if st.type != fb.TensorType.INT8 or len(st.shape) not in (2, 3):
        raise ValueError(f"scores output {scores} must be int8 [1, T, V], got type {st.type} shape {list(st.shape)}")
    ids = _new_tensor(model, sg, fb, "token_ids", [max_tokens], fb.TensorType.INT32)
    lens = _new_tensor(model, sg, fb, "word_lengths", [max_words], fb.TensorType.INT32)
    words = _new_tensor(model, sg, fb, "word_spans", [max_words, 4], fb.TensorType.INT32)
    toks = _new_tensor(model, sg, fb, "token_spans", [max_tokens, 2], fb.TensorType.INT32)
    status = _new_tensor(model, sg, fb, "decode_status", [2], fb.TensorType.INT32)
    op = fb.OperatorT()
    op.opcodeIndex = _opcode_index(model, fb, custom=FA_DECODE)
    op.inputs = np.asarray([scores, ids, lens], dtype=np.int32)
    op.outputs = np.asarray([words, toks, status], dtype=np.int32)
    op.customOptions = np.frombuffer(bytes(flexbuffers.Dumps(
        {"band": int(band), "beam": int(beam), "silence_penalty": int(silence_penalty)})), dtype=np.uint8)
    op.customOptionsFormat = 0
    sg.operators.append(op)
    sg.inputs = np.asarray(list(sg.inputs) + [ids, lens], dtype=np.int32)
    sg.outputs = np.asarray([scores, words, toks, status], dtype=np.int32)
    _prune_tensors(sg)

    b = flatbuffers.Builder(len(data) + 4096)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    out = bytes(b.Output())
    check_device_flatbuffer(out)
    sg2 = _schema().ModelT.InitFromPackedBuf(bytearray(out), 0).subgraphs[0]
    dec = sg2.operators[-1]
    return SurgeryResult(out, fused, skipped, tuple(int(i) for i in dec.inputs),
                         tuple(int(i) for i in dec.outputs))


def custom_ops(data: bytes) -> list[tuple[str, list[int], list[int], dict]]:
    """(custom code, inputs, outputs, options) of every CUSTOM op, in graph order."""
    fb = _schema()
    m = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    out = []
    for op in m.subgraphs[0].operators:
        oc = m.operatorCodes[op.opcodeIndex]
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == fb.BuiltinOperator.CUSTOM:
            opts = flexbuffers.Loads(bytes(np.asarray(op.customOptions, dtype=np.uint8))) \
                if op.customOptions is not None else {}
            out.append((oc.customCode.decode(), [int(i) for i in op.inputs], [int(i) for i in op.outputs], opts))
    return out


def check_device_flatbuffer(data: bytes) -> None:
    """Re-parse with the TFLite schema; raise ValueError on a malformed file."""
    fb = _schema()
    if not fb.Model.ModelBufferHasIdentifier(data, 0):
        raise ValueError("not a TFLite flatbuffer (identifier TFL3 missing)")
    m = fb.Model.GetRootAs(data, 0)
    n_codes = m.OperatorCodesLength()
    for s in range(m.SubgraphsLength()):
        sg = m.Subgraphs(s)
        n_t = sg.TensorsLength()
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            if not 0 <= op.OpcodeIndex() < n_codes:
                raise ValueError(f"operator {i}: opcode index {op.OpcodeIndex()} out of range")
            for j in list(op.InputsAsNumpy()) + list(op.OutputsAsNumpy()):
                if not -1 <= j < n_t:
                    raise ValueError(f"operator {i}: tensor {j} out of range")
        for j in list(sg.InputsAsNumpy()) + list(sg.OutputsAsNumpy()):
            if not 0 <= j < n_t:
                raise ValueError(f"subgraph {s}: io tensor {j} out of range")
