"""The one TFLite flatbuffer toolkit: schema access, opcodes, constants, quantisation, the attention matcher.

Shared by the graph surgery (:mod:`.surgery`), the attention oracle
(:mod:`microalign.kernels.attention_oracle`) and the model inspector
(:mod:`.tflite_model`). Uses the schema module of the PyPI ``tflite-micro``
package (no TensorFlow).

The attention matcher (:func:`match_attention`) accepts exactly the int8
subgraph ``tflm_app/kernels/ma_attention_s8.c`` computes::

    q' = MUL(q, c)                  optional; c a one-element int8 constant, no fused activation
    s  = BATCH_MATMUL(q', k)        adj_x false, adj_y true
    s' = MUL(s, c2)                 optional, as above
    p  = SOFTMAX(s', beta)          output int8, scale exactly 1/256, zero point exactly -128
    o  = BATCH_MATMUL(p, v)         adj_x false, adj_y false

with every tensor int8 and per-tensor quantised, q/k/v/o ``[1, H, T, D]`` or
``[H, T, D]`` (one head dimension D for all four, k and v of one shape,
``Tk <= MAX_KV_LEN``), every intermediate used only inside the chain, and
quantisation parameters the kernel (and TFLM) accept
(:func:`microalign.kernels.attention_ref.make_params`). Anything else is
reported with the reason it was not matched.

The device model's ``FA_ATTENTION`` operator (:func:`fa_attention_quant`):
inputs q, k, v, output o; the quantisation of q, k, v and o is read from those
tensors; custom options (a flexbuffer map) hold what no tensor of the fused op
carries: ``s_scale s_zp`` (the BATCH_MATMUL(q', k) output), ``has_q_mul q_mul_value
q_mul_scale q_mul_zp q_mul_out_scale q_mul_out_zp``, the same six with ``s_mul``,
``softmax_beta``, and optionally ``window_left window_right``. Options may repeat
``q_scale q_zp k_scale ... out_zp``; then they must equal the tensors' values
(the C adapter ``tflm_app/tflm/fa_attention.cc`` applies the same rules in Prepare).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..kernels import attention_ref as ar

FA_ATTENTION = "FA_ATTENTION"
IDENTIFIER = b"TFL3"
# options keys that repeat a tensor's quantisation (checked against it when present)
TENSOR_OPTION_KEYS = {"q": ("q_scale", "q_zp"), "k": ("k_scale", "k_zp"), "v": ("v_scale", "v_zp"),
                      "out": ("out_scale", "out_zp")}


class FlatbufferError(ValueError):
    """A flatbuffer that is not a TFLite model, or not the model this code expects."""


class AttentionQuantError(ValueError):
    """An FA_ATTENTION operator whose quantisation is missing or contradicts its tensors."""


# ----------------------------------------------------------------------------- schema, I/O
def schema():
    """The TFLite schema module (``schema_py_generated`` of the PyPI ``tflite-micro`` package)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    return fb


def model_bytes(src: bytes | bytearray | str | Path) -> bytes:
    return Path(src).read_bytes() if isinstance(src, (str, Path)) else bytes(src)


def load(src: bytes | bytearray | str | Path):
    """The object API (``ModelT``) of a .tflite (bytes or path); raises :class:`FlatbufferError`."""
    data = model_bytes(src)
    fb = schema()
    if len(data) < 8 or not fb.Model.ModelBufferHasIdentifier(data, 0):
        raise FlatbufferError(f"not a TFLite flatbuffer (identifier {IDENTIFIER.decode()} missing, "
                              f"{len(data)} bytes)")
    return fb.ModelT.InitFromPackedBuf(bytearray(data), 0)


def save(model, size_hint: int = 1 << 16) -> bytes:
    """Serialise a ``ModelT`` (deterministic: the same object gives the same bytes)."""
    import flatbuffers

    b = flatbuffers.Builder(size_hint)
    b.Finish(model.Pack(b), file_identifier=IDENTIFIER)
    return bytes(b.Output())


def verify(data: bytes) -> None:
    """Re-parse with the TFLite schema: identifier, opcode and tensor indices in range; raise FlatbufferError."""
    fb = schema()
    if len(data) < 8 or not fb.Model.ModelBufferHasIdentifier(data, 0):
        raise FlatbufferError(f"not a TFLite flatbuffer (identifier {IDENTIFIER.decode()} missing)")
    m = fb.Model.GetRootAs(data, 0)
    n_codes = m.OperatorCodesLength()
    n_buf = m.BuffersLength()
    for s in range(m.SubgraphsLength()):
        sg = m.Subgraphs(s)
        n_t = sg.TensorsLength()
        for i in range(n_t):
            if not 0 <= sg.Tensors(i).Buffer() < max(n_buf, 1):
                raise FlatbufferError(f"subgraph {s} tensor {i}: buffer {sg.Tensors(i).Buffer()} out of range")
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            if not 0 <= op.OpcodeIndex() < n_codes:
                raise FlatbufferError(f"operator {i}: opcode index {op.OpcodeIndex()} out of range")
            for j in list(op.InputsAsNumpy()) + list(op.OutputsAsNumpy()):
                if not -1 <= j < n_t:
                    raise FlatbufferError(f"operator {i}: tensor {j} out of range")
        for j in list(sg.InputsAsNumpy()) + list(sg.OutputsAsNumpy()):
            if not 0 <= j < n_t:
                raise FlatbufferError(f"subgraph {s}: io tensor {j} out of range")


# ----------------------------------------------------------------------------- opcodes
_NAMES: dict[int, str] | None = None


def builtin_names() -> dict[int, str]:
    global _NAMES
    if _NAMES is None:
        fb = schema()
        _NAMES = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}
    return _NAMES


def builtin_code(model, op) -> int:
    """The builtin operator code (``max(builtin_code, deprecated_builtin_code)``, as TFLite reads it)."""
    oc = model.operatorCodes[op.opcodeIndex]
    return max(oc.builtinCode, oc.deprecatedBuiltinCode)


def custom_code(model, op) -> str | None:
    """The custom code of a CUSTOM operator, else None."""
    if builtin_code(model, op) != schema().BuiltinOperator.CUSTOM:
        return None
    cc = model.operatorCodes[op.opcodeIndex].customCode
    return cc.decode() if isinstance(cc, bytes) else str(cc or "")


def op_name(model, op) -> str:
    """Builtin name (``"SOFTMAX"``) or the custom code (``"FA_ATTENTION"``, ``"FlexErf"``)."""
    cc = custom_code(model, op)
    if cc is not None:
        return cc
    code = builtin_code(model, op)
    return builtin_names().get(code, f"BUILTIN_{code}")


def opcode_index(model, builtin: int | None = None, custom: str | None = None, add: bool = True) -> int:
    """Index of a builtin or custom operator code in ``model.operatorCodes``, added when missing
    (``add=False``: -1 when missing)."""
    fb = schema()
    for i, oc in enumerate(model.operatorCodes):
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if custom is not None:
            if code == fb.BuiltinOperator.CUSTOM and (oc.customCode or b"").decode() == custom:
                return i
        elif code == builtin:
            return i
    if not add:
        return -1
    oc = fb.OperatorCodeT()
    if custom is not None:
        oc.builtinCode = oc.deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
        oc.customCode = custom.encode()
    else:
        oc.builtinCode, oc.deprecatedBuiltinCode = builtin, min(int(builtin), 127)
    oc.version = 1
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1


def custom_options(op) -> dict:
    """The flexbuffer map of a custom operator's options ({} when it has none)."""
    from flatbuffers import flexbuffers

    if op.customOptions is None or len(op.customOptions) == 0:
        return {}
    return flexbuffers.Loads(bytes(np.asarray(op.customOptions, dtype=np.uint8)))


def set_custom_options(op, options: dict) -> None:
    from flatbuffers import flexbuffers

    op.customOptions = np.frombuffer(bytes(flexbuffers.Dumps(options)), dtype=np.uint8)
    op.customOptionsFormat = 0          # FLEXBUFFERS


# ----------------------------------------------------------------------------- tensors
def tensor_name(t) -> str:
    return t.name.decode() if isinstance(t.name, bytes) else str(t.name)


def shape(t) -> tuple[int, ...]:
    return tuple(int(s) for s in (t.shape if t.shape is not None else []))


def const_data(model, t) -> np.ndarray | None:
    """The raw bytes (uint8) of a constant tensor, None for a variable tensor."""
    if t.buffer is None or not 0 < t.buffer < len(model.buffers):
        return None
    data = model.buffers[t.buffer].data
    if data is None or len(data) == 0:
        return None
    return np.asarray(data, dtype=np.uint8)


def const_scalar_int8(model, t) -> int | None:
    """The value of a one-element int8 constant tensor, else None."""
    data = const_data(model, t)
    if data is None or len(data) != 1 or t.type != schema().TensorType.INT8:
        return None
    return int(data.view(np.int8)[0])


def quant(t) -> tuple[float, int] | None:
    """(scale, zero point) of a per-tensor quantised tensor, None otherwise (none or per-channel)."""
    q = t.quantization
    if q is None or q.scale is None or q.zeroPoint is None or len(q.scale) != 1 or len(q.zeroPoint) != 1:
        return None
    return float(q.scale[0]), int(q.zeroPoint[0])


def tensor_quant(t) -> ar.TensorQuant:
    """Per-tensor int8 quantisation of ``t`` as :class:`~microalign.kernels.attention_ref.TensorQuant`;
    ValueError naming the tensor otherwise."""
    q = quant(t)
    if q is None:
        raise ValueError(f"tensor {tensor_name(t)!r}: needs per-tensor quantisation")
    try:
        return ar.TensorQuant(*q)
    except ValueError as e:
        raise ValueError(f"tensor {tensor_name(t)!r}: {e}") from None


def prune_tensors(sg) -> None:
    """Drop tensors no operator and no graph input/output uses; renumber the rest."""
    used = set(int(i) for i in sg.inputs) | set(int(i) for i in sg.outputs)
    for op in sg.operators:
        used |= set(int(i) for i in op.inputs if i >= 0) | set(int(i) for i in op.outputs)
    keep = sorted(used)
    remap = {old: new for new, old in enumerate(keep)}
    sg.tensors = [sg.tensors[i] for i in keep]

    def m(a):
        return np.asarray([remap[int(i)] if i >= 0 else -1 for i in a], dtype=np.int32)

    sg.inputs, sg.outputs = m(sg.inputs), m(sg.outputs)
    for op in sg.operators:
        op.inputs, op.outputs = m(op.inputs), m(op.outputs)


# ----------------------------------------------------------------------------- attention
@dataclass
class AttentionSite:
    """One attention subgraph (tensor and operator indices of subgraph 0) the fused kernel computes."""

    q: int
    k: int
    v: int
    out: int
    ops: list[int]             # operator indices, in execution order
    quant: ar.AttentionQuant
    heads: int
    q_len: int
    kv_len: int
    head_dim: int
    scores: int = -1           # the BATCH_MATMUL(q', k) output tensor


@dataclass
class AttentionMiss:
    """A SOFTMAX that is not the start of a fusable attention subgraph, and why."""

    softmax_op: int
    reason: str


def _heads_rows_dim(s: tuple[int, ...]) -> tuple[int, int, int] | None:
    if len(s) == 3 or (len(s) == 4 and s[0] == 1):
        return s[-3], s[-2], s[-1]
    return None


def match_attention(src) -> tuple[list[AttentionSite], list[AttentionMiss]]:
    """Every attention subgraph of subgraph 0 that ``ma_attention_s8`` computes exactly, and for every
    other SOFTMAX the reason it was not matched (see the module docstring for the accepted pattern)."""
    fb = schema()
    m = src if hasattr(src, "subgraphs") else load(src)
    if len(m.subgraphs) != 1:
        raise FlatbufferError(f"expected one subgraph, got {len(m.subgraphs)}")
    sg = m.subgraphs[0]
    BO = fb.BuiltinOperator
    producer: dict[int, int] = {}
    consumers: dict[int, list[int]] = {}
    for i, op in enumerate(sg.operators):
        for t in op.outputs:
            producer[int(t)] = i
        for t in op.inputs:
            if t >= 0:
                consumers.setdefault(int(t), []).append(i)
    graph_out = set(int(t) for t in sg.outputs)
    code = lambda i: builtin_code(m, sg.operators[i])  # noqa: E731
    T = lambda t: sg.tensors[t]  # noqa: E731

    def only_consumer(t: int) -> int | None:
        c = consumers.get(t, [])
        return c[0] if len(c) == 1 and t not in graph_out else None

    def const_mul(op_i: int) -> tuple[int, ar.ConstMul] | str:
        """(variable input, ConstMul) of an int8 MUL by a one-element constant, else the reason."""
        op = sg.operators[op_i]
        if op.builtinOptions is not None and op.builtinOptions.fusedActivationFunction != 0:
            return f"MUL (op {op_i}) has a fused activation"
        a, b = (int(x) for x in op.inputs)
        if const_data(m, T(a)) is not None:
            a, b = b, a
        if const_data(m, T(a)) is not None:
            return f"MUL (op {op_i}) multiplies two constants"
        c = const_scalar_int8(m, T(b))
        if c is None:
            return f"MUL (op {op_i}) is not by a one-element int8 constant"
        try:
            return a, ar.ConstMul(c, tensor_quant(T(b)), tensor_quant(T(int(op.outputs[0]))))
        except ValueError as e:
            return f"MUL (op {op_i}): {e}"

    sites: list[AttentionSite] = []
    misses: list[AttentionMiss] = []
    for si, sm in enumerate(sg.operators):
        if code(si) != BO.SOFTMAX:
            continue

        def miss(reason: str) -> None:
            misses.append(AttentionMiss(si, reason))

        ops = [si]
        s_in, p = int(sm.inputs[0]), int(sm.outputs[0])
        # SOFTMAX output: the C kernel's probabilities are exactly scale 1/256, zero point -128
        if T(p).type != fb.TensorType.INT8:
            miss(f"SOFTMAX (op {si}) output is not int8")
            continue
        pq = quant(T(p))
        if pq is None or (np.float32(pq[0]), pq[1]) != (ar.SOFTMAX_OUT_SCALE, ar.SOFTMAX_OUT_ZP):
            miss(f"SOFTMAX (op {si}) output quantisation {pq} is not scale 1/256, zero point -128 "
                 "(the only one the fused kernel computes)")
            continue
        b2 = only_consumer(p)
        if b2 is None or code(b2) != BO.BATCH_MATMUL or int(sg.operators[b2].inputs[0]) != p:
            miss(f"SOFTMAX (op {si}) output is not used only as the left input of a BATCH_MATMUL")
            continue
        bmm2 = sg.operators[b2]
        if bmm2.builtinOptions is not None and (bmm2.builtinOptions.adjX or bmm2.builtinOptions.adjY):
            miss(f"BATCH_MATMUL (op {b2}) of probabilities and v is transposed (adj_x/adj_y set)")
            continue
        score_mul = None
        pi = producer.get(s_in)
        if pi is not None and code(pi) == BO.MUL:
            if only_consumer(s_in) != si:
                miss(f"scores of SOFTMAX (op {si}) are used elsewhere")
                continue
            r = const_mul(pi)
            if isinstance(r, str):
                miss(r)
                continue
            s_in, score_mul = r
            ops.insert(0, pi)
            pi = producer.get(s_in)
        if pi is None or code(pi) != BO.BATCH_MATMUL:
            miss(f"SOFTMAX (op {si}) input is not produced by BATCH_MATMUL(q, k)")
            continue
        if only_consumer(s_in) != ops[0]:
            miss(f"scores of BATCH_MATMUL (op {pi}) are used elsewhere")
            continue
        bmm1 = sg.operators[pi]
        if bmm1.builtinOptions is None or bmm1.builtinOptions.adjX or not bmm1.builtinOptions.adjY:
            miss(f"BATCH_MATMUL (op {pi}): k not in the adj_y layout (adj_x false, adj_y true required)")
            continue
        ops.insert(0, pi)
        scores = s_in
        q_in, k_in = (int(x) for x in bmm1.inputs)
        q_mul = None
        qi = producer.get(q_in)
        if qi is not None and code(qi) == BO.MUL and only_consumer(q_in) == pi:
            r = const_mul(qi)
            if not isinstance(r, str):
                q_in, q_mul = r
                ops.insert(0, qi)
        v_in, out = int(bmm2.inputs[1]), int(bmm2.outputs[0])
        ops.append(b2)
        names = {"q": q_in, "k": k_in, "v": v_in, "out": out, "scores": scores}
        bad = [n for n, t in names.items() if T(t).type != fb.TensorType.INT8]
        if bad:
            miss(f"attention -> tensor {out}: {bad} not int8")
            continue
        dims = {n: _heads_rows_dim(shape(T(t))) for n, t in names.items() if n != "scores"}
        bad = [n for n, d in dims.items() if d is None]
        if bad:
            miss(f"attention -> tensor {out}: {bad} not [1, H, T, D] or [H, T, D] "
                 f"(shapes {[list(shape(T(names[n]))) for n in bad]})")
            continue
        (h, tq, d), (hk, tk, dk), (hv, tv, dv), (ho, to, do) = dims["q"], dims["k"], dims["v"], dims["out"]
        if not (h == hk == hv == ho and d == dk == dv == do and tk == tv and to == tq):
            miss(f"attention -> tensor {out}: shapes q {dims['q']}, k {dims['k']}, v {dims['v']}, "
                 f"out {dims['out']} are not [H, Tq, D], [H, Tk, D], [H, Tk, D], [H, Tq, D]")
            continue
        if not 1 <= tk <= ar.MAX_KV_LEN or d > 1024:
            miss(f"attention -> tensor {out}: kv_len {tk} or head_dim {d} beyond the kernel's limits "
                 f"({ar.MAX_KV_LEN}, 1024)")
            continue
        try:
            qt = ar.AttentionQuant(q=tensor_quant(T(q_in)), k=tensor_quant(T(k_in)), v=tensor_quant(T(v_in)),
                                   scores=tensor_quant(T(scores)), out=tensor_quant(T(out)), q_mul=q_mul,
                                   score_mul=score_mul,
                                   softmax_beta=float(sm.builtinOptions.beta) if sm.builtinOptions else 1.0)
            ar.make_params(qt)
        except ValueError as e:
            miss(f"attention -> tensor {out}: quantisation the kernel cannot reproduce: {e}")
            continue
        sites.append(AttentionSite(q_in, k_in, v_in, out, ops, qt, heads=h, q_len=tq, kv_len=tk, head_dim=d,
                                   scores=scores))
    return sites, misses


def find_attention(src) -> list[AttentionSite]:
    """The matched attention subgraphs only (see :func:`match_attention`)."""
    return match_attention(src)[0]


def fa_attention_options(site: AttentionSite) -> dict:
    """Custom options of the ``FA_ATTENTION`` operator replacing ``site`` (tensor quantisation not repeated)."""
    qt = site.quant
    opts: dict = {"s_scale": qt.scores.scale, "s_zp": qt.scores.zero_point, "softmax_beta": float(qt.softmax_beta)}
    for key, cm in (("q_mul", qt.q_mul), ("s_mul", qt.score_mul)):
        if cm is not None:
            opts.update({f"has_{key}": 1, f"{key}_value": cm.const, f"{key}_scale": cm.const_q.scale,
                         f"{key}_zp": cm.const_q.zero_point, f"{key}_out_scale": cm.out.scale,
                         f"{key}_out_zp": cm.out.zero_point})
    return opts


def fa_attention_quant(model, op) -> tuple[ar.AttentionQuant, tuple[int, int]]:
    """(quantisation, window) of an ``FA_ATTENTION`` operator, read as the C adapter's Prepare reads it:
    q/k/v/out from the tensors, the rest from the options; repeated options must agree with the tensors.
    Raises :class:`AttentionQuantError` naming the problem."""
    sg = model.subgraphs[0]
    if custom_code(model, op) != FA_ATTENTION:
        raise AttentionQuantError(f"not an {FA_ATTENTION} operator: {op_name(model, op)}")
    if len(op.inputs) != 3 or len(op.outputs) != 1:
        raise AttentionQuantError(f"{FA_ATTENTION}: needs 3 inputs and 1 output, got {len(op.inputs)}, "
                                  f"{len(op.outputs)}")
    opts = custom_options(op)
    tensors = dict(zip(("q", "k", "v", "out"), [sg.tensors[int(i)] for i in (*op.inputs, *op.outputs)]))
    tq = {}
    for n, t in tensors.items():
        try:
            tq[n] = tensor_quant(t)
        except ValueError as e:
            raise AttentionQuantError(f"{FA_ATTENTION} {n}: {e}") from None
        ks, kz = TENSOR_OPTION_KEYS[n]
        if ks in opts and np.float32(opts[ks]) != np.float32(tq[n].scale):
            raise AttentionQuantError(f"{FA_ATTENTION}: option {ks}={opts[ks]!r} disagrees with tensor "
                                      f"{tensor_name(t)!r} scale {tq[n].scale!r}")
        if kz in opts and int(opts[kz]) != tq[n].zero_point:
            raise AttentionQuantError(f"{FA_ATTENTION}: option {kz}={opts[kz]} disagrees with tensor "
                                      f"{tensor_name(t)!r} zero point {tq[n].zero_point}")
    if "s_scale" not in opts or "s_zp" not in opts:
        raise AttentionQuantError(f"{FA_ATTENTION}: options lack s_scale / s_zp (the scores' quantisation)")

    def cm(key: str) -> ar.ConstMul | None:
        if not int(opts.get(f"has_{key}", 0)):
            return None
        return ar.ConstMul(int(opts[f"{key}_value"]), ar.TensorQuant(opts[f"{key}_scale"], opts[f"{key}_zp"]),
                           ar.TensorQuant(opts[f"{key}_out_scale"], opts[f"{key}_out_zp"]))

    try:
        qt = ar.AttentionQuant(q=tq["q"], k=tq["k"], v=tq["v"], out=tq["out"],
                               scores=ar.TensorQuant(opts["s_scale"], opts["s_zp"]), q_mul=cm("q_mul"),
                               score_mul=cm("s_mul"), softmax_beta=float(opts.get("softmax_beta", 1.0)))
    except (KeyError, ValueError) as e:
        raise AttentionQuantError(f"{FA_ATTENTION}: bad options: {e}") from None
    return qt, (int(opts.get("window_left", -1)), int(opts.get("window_right", -1)))
