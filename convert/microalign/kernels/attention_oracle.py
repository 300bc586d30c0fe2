"""The oracle for the fused attention kernel: TFLite Micro running the builtin subgraph it replaces.

Two ways to get that subgraph as its own small ``.tflite``:

- :func:`convert_attention_layer`: a ``student.Attention`` module (the real
  layer, its weights, and a representative dataset) goes PyTorch → ONNX →
  onnx2tf → full-int8 TFLite through the conversion's own stages
  (:mod:`microalign.export.stages`), the route the shipped model takes; then
  :func:`find_attention` (the one matcher, :func:`microalign.export.flatbuffer.match_attention`)
  locates the ``[MUL] → BATCH_MATMUL → [MUL] → SOFTMAX → BATCH_MATMUL`` pattern
  the kernel computes and :func:`cut_attention` copies exactly those
  operators (options, tensors, quantisation, the MUL constant) into a new
  model whose inputs are q, k, v. Needs torch, onnx2tf and tensorflow.
- :func:`build_attention_tflite`: the same operator pattern written directly
  from an :class:`~.attention_ref.AttentionQuant` (no TensorFlow): for sweeps
  over quantisation parameters, other sizes, and the score-MUL variant.
- :func:`run_tflm` runs either in the PyPI ``tflite-micro`` runtime.

:func:`write_header` emits test vectors (inputs, integer parameters, the
oracle's output) as a C header for ``c/ma_attention_s8_check.c``; ``python -m
microalign.kernels.attention_oracle --help`` generates one.

Header layout (all arrays ``static const``; ``N`` = case number)::

    MA_ATT_NUM_CASES
    ma_att_case_N_q/_k/_v   int8, [H][Tq|Tk][dk] contiguous
    ma_att_case_N_out       int8, [H][Tq][dk]: the TFLM oracle's output
    ma_att_case_N_qmap / _smap   int8[256] (present when the MUL is)
    ma_att_case_N_explut    int32[256]
    ma_att_cases[]          struct ma_att_case: dims, window, scales and zero
                            points (to check ma_attention_s8_params_init) and
                            the integer parameters make_params computed
"""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cheader import c_array, tflm_runtime_version, vectors_main
from ..export import flatbuffer as fbk
from ..export.flatbuffer import AttentionSite, find_attention  # noqa: F401  (the oracle's API)
from . import attention_ref as ar

GENERATOR = "microalign.kernels.attention_oracle"
HEADER_NAME = "ma_attention_s8_vectors.h"


def _schema():
    return fbk.schema()


# ------------------------------------------------------------- flatbuffers
def load_model(buf: bytes):
    return fbk.load(buf)


def save_model(model) -> bytes:
    return fbk.save(model)


def cut_attention(buf: bytes, site: AttentionSite) -> bytes:
    """A new model holding exactly ``site.ops`` (options, tensors, constants copied); inputs q, k, v."""
    fb = _schema()
    src = load_model(buf)
    sg = src.subgraphs[0]
    tmap: dict[int, int] = {}
    tensors, buffers = [], [fb.BufferT()]

    def take(t: int) -> int:
        if t not in tmap:
            nt = copy.deepcopy(sg.tensors[t])
            data = src.buffers[nt.buffer].data
            if data is not None and len(data):
                buffers.append(copy.deepcopy(src.buffers[nt.buffer]))
                nt.buffer = len(buffers) - 1
            else:
                nt.buffer = 0
            tmap[t] = len(tensors)
            tensors.append(nt)
        return tmap[t]

    codes, opcode_map, ops = [], {}, []
    for i in site.ops:
        op = copy.deepcopy(sg.operators[i])
        if op.opcodeIndex not in opcode_map:
            opcode_map[op.opcodeIndex] = len(codes)
            codes.append(copy.deepcopy(src.operatorCodes[op.opcodeIndex]))
        op.opcodeIndex = opcode_map[op.opcodeIndex]
        op.inputs = [take(t) for t in op.inputs]
        op.outputs = [take(t) for t in op.outputs]
        ops.append(op)
    out = fb.SubGraphT()
    out.tensors, out.operators = tensors, ops
    out.inputs = [tmap[site.q], tmap[site.k], tmap[site.v]]
    out.outputs = [tmap[site.out]]
    out.name = "attention"
    m = fb.ModelT()
    m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, codes, [out], buffers
    m.description = f"attention subgraph cut by {GENERATOR}"
    return save_model(m)


def build_attention_tflite(qt: ar.AttentionQuant, heads: int, q_len: int, kv_len: int, head_dim: int) -> bytes:
    """The builtin int8 attention subgraph written directly (same ops and options as the converter's)."""
    fb = _schema()
    tensors, buffers = [], [fb.BufferT()]

    def tensor(name: str, shape, tq: ar.TensorQuant, data: bytes | None = None) -> int:
        t = fb.TensorT()
        t.name, t.shape, t.type = name, list(shape), fb.TensorType.INT8
        q = fb.QuantizationParametersT()
        q.scale, q.zeroPoint = [float(tq.scale)], [int(tq.zero_point)]
        t.quantization = q
        t.buffer = 0
        if data is not None:
            b = fb.BufferT()
            b.data = list(data)
            buffers.append(b)
            t.buffer = len(buffers) - 1
        tensors.append(t)
        return len(tensors) - 1

    codes: list[int] = []

    def op(code: int, inputs, outputs, opt_type: int, opt) -> "fb.OperatorT":
        if code not in codes:
            codes.append(code)
        o = fb.OperatorT()
        o.opcodeIndex = codes.index(code)
        o.inputs, o.outputs = list(inputs), list(outputs)
        o.builtinOptionsType, o.builtinOptions = opt_type, opt
        return o

    BO, OT = fb.BuiltinOperator, fb.BuiltinOptions

    def mul(x: int, cm: ar.ConstMul, shape, name: str):
        c = tensor(name + "/const", [], cm.const_q, bytes([cm.const & 0xFF]))
        y = tensor(name, shape, cm.out)
        opt = fb.MulOptionsT()
        opt.fusedActivationFunction = 0
        return y, op(BO.MUL, [x, c], [y], OT.MulOptions, opt)

    def bmm(a: int, b: int, y: int, adj_y: bool):
        opt = fb.BatchMatMulOptionsT()
        opt.adjX, opt.adjY, opt.asymmetricQuantizeInputs = False, adj_y, False
        return op(BO.BATCH_MATMUL, [a, b], [y], OT.BatchMatMulOptions, opt)

    qs, ks, ss = [1, heads, q_len, head_dim], [1, heads, kv_len, head_dim], [1, heads, q_len, kv_len]
    q = tensor("q", qs, qt.q)
    k = tensor("k", ks, qt.k)
    v = tensor("v", ks, qt.v)
    ops = []
    lhs = q
    if qt.q_mul is not None:
        lhs, o = mul(q, qt.q_mul, qs, "q_scaled")
        ops.append(o)
    s = tensor("scores", ss, qt.scores)
    ops.append(bmm(lhs, k, s, True))
    if qt.score_mul is not None:
        s, o = mul(s, qt.score_mul, ss, "scores_scaled")
        ops.append(o)
    p = tensor("probs", ss, ar.TensorQuant(ar.SOFTMAX_OUT_SCALE, ar.SOFTMAX_OUT_ZP))
    sm = fb.SoftmaxOptionsT()
    sm.beta = float(qt.softmax_beta)
    ops.append(op(BO.SOFTMAX, [s], [p], OT.SoftmaxOptions, sm))
    out = tensor("out", qs, qt.out)
    ops.append(bmm(p, v, out, False))
    sg = fb.SubGraphT()
    sg.tensors, sg.operators, sg.inputs, sg.outputs, sg.name = tensors, ops, [q, k, v], [out], "attention"
    m = fb.ModelT()
    m.version, m.subgraphs, m.buffers = 3, [sg], buffers
    m.operatorCodes = []
    for c in codes:
        oc = fb.OperatorCodeT()
        oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = c, min(c, 127), 1
        m.operatorCodes.append(oc)
    m.description = f"attention subgraph built by {GENERATOR}"
    return save_model(m)


def run_tflm(model: bytes, q: np.ndarray, k: np.ndarray, v: np.ndarray, arena_size: int | None = None) -> np.ndarray:
    """Run an attention model (inputs q, k, v ``[H, T, dk]`` int8) in TFLite Micro; returns ``[H, Tq, dk]``."""
    from tflite_micro.python.tflite_micro import runtime
    h, tq, dk = q.shape
    tk = k.shape[1]
    if arena_size is None:
        arena_size = 2 * h * tq * tk + 2 * h * (tq + 2 * tk) * dk + (256 << 10)
    ip = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
    for i, a in enumerate((q, k, v)):
        ip.set_input(np.ascontiguousarray(a, dtype=np.int8)[None], i)
    ip.invoke()
    return np.asarray(ip.get_output(0)).reshape(h, tq, dk).astype(np.int8)


# ------------------------------------------------------- converted layers
def convert_attention_layer(attn, calibration: np.ndarray, workdir: str | Path | None = None) -> bytes:
    """A ``student.Attention`` module → full-int8 TFLite through the conversion's stages
    (:mod:`microalign.export.stages`: dynamo ONNX export, onnx2tf, the int8 TFLite converter with the
    shipped model's options).

    ``calibration``: float32 ``[N, T, d_model]`` representative inputs of the layer.
    """
    import torch

    from ..export import stages

    calibration = np.asarray(calibration, np.float32)
    if calibration.ndim != 3:
        raise ValueError(f"calibration must be [N, T, d], got {calibration.shape}")
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix="ma_att_")) if own else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        onnx_path = work / "attention.onnx"
        with torch.no_grad():
            stages.export_onnx(attn.eval(), onnx_path, work / "logs" / "onnx.log",
                               example=torch.from_numpy(calibration[:1]))
        stages.onnx_to_saved_model(onnx_path, work / "saved_model", work / "logs" / "onnx2tf.log")
        out = work / "attention_int8.tflite"
        stages.saved_model_to_int8_tflite(work / "saved_model", out, calibration[:, None],
                                          work / "logs" / "tflite_int8.log")
        return out.read_bytes()
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def capture_litert(model: bytes, x_float: np.ndarray, tensors: list[int]) -> list[np.ndarray]:
    """Run the converted layer in LiteRT (reference kernels) and return the named int8 intermediates.

    TFLM cannot run the whole converted layer (onnx2tf emits a 5-D STRIDED_SLICE
    for the q/k/v split, TFLM supports 4-D), so realistic q, k, v come from
    LiteRT; the oracle is TFLM on the cut subgraph.
    """
    from ai_edge_litert import interpreter as lit
    ip = lit.Interpreter(model_content=model, experimental_op_resolver_type=lit.OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
    ip.allocate_tensors()
    d = ip.get_input_details()[0]
    scale, zp = d["quantization"]
    xq = np.clip(np.round(np.asarray(x_float, np.float32) / scale) + zp, -128, 127).astype(np.int8)
    ip.set_tensor(d["index"], xq.reshape(d["shape"]))
    ip.invoke()
    return [np.array(ip.get_tensor(t)) for t in tensors]


def student_attention_inputs(n_windows: int = 12, layer: int = 0, seed: int = 0,
                             data_dir: str | Path | None = None):
    """(attention module, float inputs ``[N, T2, d]``, source) of one student layer on real speech.

    Uses the shipped checkpoint when present, else a seeded random-init
    student (say so in reports). Audio: TIMIT dev sample utterances cut into
    model windows; the layer input is captured with a forward hook on the
    BatchNorm-folded model.
    """
    import soundfile as sf
    import torch

    from ..frontend.features import features_from_pcm, float_to_pcm16, model_input
    from ..model.checkpoint import default_model_path, load_checkpoint
    from ..model.student import StudentAligner, StudentConfig

    if default_model_path().is_file():
        model, _ = load_checkpoint()
        source = "shipped checkpoint"
    else:
        torch.manual_seed(seed)
        model = StudentAligner(StudentConfig()).eval()
        source = f"random-init student (seed {seed})"
    fused = model.fuse()
    cfg = fused.cfg
    if data_dir is None:                 # the repository's ../shared, as tests/conftest.py finds it
        shared = Path(os.environ.get("MICROALIGN_SHARED", Path(__file__).resolve().parents[3].parent / "shared"))
        data_dir = shared / "data" / "timit-sample-dev"
    wavs = sorted(Path(data_dir).glob("*/*.wav"))
    if not wavs:
        raise FileNotFoundError(f"no .wav under {data_dir}")
    feats = []
    for w in wavs:                       # utterances back to back, cut into model windows
        audio, _ = sf.read(str(w), dtype="float32")
        feats.append(features_from_pcm(float_to_pcm16(audio)))
        if sum(len(f) for f in feats) >= n_windows * cfg.window:
            break
    allf = np.concatenate(feats, 0)
    windows = [model_input(allf[i * cfg.window:(i + 1) * cfg.window]) for i in range(len(allf) // cfg.window)]
    windows = windows[:n_windows]
    got = []
    attn = fused.blocks[layer].attn
    hook = attn.register_forward_hook(lambda mod, inp, out: got.append(inp[0].detach().numpy().copy()))
    with torch.no_grad():
        for win in windows:
            fused(torch.from_numpy(win)[None])
    hook.remove()
    return attn, np.concatenate(got, 0).astype(np.float32), source


# ------------------------------------------------------------------ vectors
@dataclass
class Case:
    name: str
    quant: ar.AttentionQuant
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    out: np.ndarray            # the oracle's output
    window: tuple[int, int] | None = None


def random_quant(rng: np.random.Generator, dk: int, q_mul: bool = True, score_mul: bool = False,
                 extreme: bool = False) -> ar.AttentionQuant:
    """Random but plausible int8 quantisation of the subgraph (``extreme``: very peaky or flat softmax)."""
    T = ar.TensorQuant
    zp = lambda: int(rng.integers(-20, 21))  # noqa: E731
    scale = lambda: float(np.exp(rng.uniform(np.log(0.002), np.log(0.06))))  # noqa: E731
    q, k, v = T(scale(), zp()), T(scale(), zp()), T(scale(), zp())
    qm = None
    q_eff = q.scale
    if q_mul:
        c = 1.0 / np.sqrt(dk)
        cq = T(c / 255.0, -128)
        out_scale = q.scale * c * float(rng.uniform(0.6, 1.6))
        qm = ar.ConstMul(127, cq, T(out_scale, zp()))
        q_eff = out_scale
    # std of the int32 Q·Kᵀ accumulator for uniform int8 inputs is about 74² sqrt(dk); a converter
    # picks a score scale that puts it near ±40 int8 steps
    typical = q_eff * k.scale * 74.0 * 74.0 * np.sqrt(dk) / 40.0
    mode = str(rng.choice(["saturating", "peaky"])) if extreme else "normal"
    if mode == "normal":
        s_scale = typical * float(np.exp(rng.uniform(-1.0, 3.0)))   # peaky .. flat
    elif mode == "saturating":
        s_scale = typical / 30.0
    else:                      # real score spread of ~10-20 units: one key takes (almost) all
        s_scale = float(rng.uniform(0.1, 0.5))
        k = T(k.scale * s_scale / typical, k.zero_point)
    s_scale = min(s_scale, 8.0)
    sm = None
    if score_mul:
        sm = ar.ConstMul(int(rng.integers(60, 128)), T(float(rng.uniform(0.002, 0.02)), -128),
                         T(min(s_scale * float(rng.uniform(0.3, 3.0)), 8.0), zp()))
    return ar.AttentionQuant(q=q, k=k, v=v, scores=T(s_scale, zp()),
                             out=T(v.scale * float(rng.uniform(0.3, 1.2)), zp()), q_mul=qm, score_mul=sm)


def random_case(rng, name: str, heads: int, q_len: int, kv_len: int, dk: int, **kw) -> Case:
    qt = random_quant(rng, dk, **kw)
    mk = lambda t: rng.integers(-128, 128, (heads, t, dk)).astype(np.int8)  # noqa: E731
    q, k, v = mk(q_len), mk(kv_len), mk(kv_len)
    out = run_tflm(build_attention_tflite(qt, heads, q_len, kv_len, dk), q, k, v)
    return Case(name, qt, q, k, v, out)


def windowed_case(rng, name: str, heads: int, t: int, dk: int, window: tuple[int, int]) -> Case:
    """A windowed case whose expected output is built row by row from TFLM runs on the cut K/V rows."""
    qt = random_quant(rng, dk)
    mk = lambda n: rng.integers(-128, 128, (heads, n, dk)).astype(np.int8)  # noqa: E731
    q, k, v = mk(t), mk(t), mk(t)
    lo, hi = ar.window_bounds(t, t, window)
    out = np.empty((heads, t, dk), np.int8)
    models: dict[int, bytes] = {}
    for i in range(t):
        n = int(hi[i] - lo[i] + 1)
        if n not in models:
            models[n] = build_attention_tflite(qt, heads, 1, n, dk)
        out[:, i:i + 1] = run_tflm(models[n], q[:, i:i + 1], k[:, lo[i]:hi[i] + 1], v[:, lo[i]:hi[i] + 1])
    return Case(name, qt, q, k, v, out, window)


def beyond_tflm_case(kv_len: int = 600) -> Case:
    """A row TFLM's SOFTMAX aborts on (>= 512 keys tied at the maximum): expected output from the reference.

    Named ``ref_only_*`` in headers: the one kind of case whose expected bytes are not TFLM's.
    """
    T = ar.TensorQuant
    qt = ar.AttentionQuant(q=T(0.02, 0), k=T(0.02, 0), v=T(0.02, 3), scores=T(0.016, 0), out=T(0.02, -5))
    rng = np.random.default_rng(11)
    q = rng.integers(-128, 128, (1, 3, 32)).astype(np.int8)
    k = np.zeros((1, kv_len, 32), np.int8)           # every score equal
    v = rng.integers(-128, 128, (1, kv_len, 32)).astype(np.int8)
    return Case(f"ref_only_flat_k{kv_len}", qt, q, k, v, ar.attention_ref(q, k, v, ar.make_params(qt)))


def render_header(cases: list[Case]) -> str:
    tflm_version = tflm_runtime_version()
    parts = [f"/* Generated by {GENERATOR} (tflite-micro {tflm_version}). Do not edit.\n"
             " * Expected outputs are TFLite Micro's builtin int8 MUL/BATCH_MATMUL/SOFTMAX/BATCH_MATMUL\n"
             " * subgraph run by the PyPI tflite-micro runtime, except cases named ref_only_* (rows TFLM\n"
             " * aborts on; expected from microalign.kernels.attention_ref). */\n",
             "#ifndef MA_ATTENTION_S8_VECTORS_H\n#define MA_ATTENTION_S8_VECTORS_H\n#include <stdint.h>\n\n",
             "struct ma_att_case {\n  const char *name;\n  int32_t heads, q_len, kv_len, head_dim;\n"
             "  int32_t window_left, window_right;  /* -1: no window */\n"
             "  float q_scale, k_scale, v_scale, s_scale, o_scale; int32_t q_zp, k_zp, v_zp, s_zp, o_zp;\n"
             "  int32_t has_qmul; int32_t qmul_const; float qmul_const_scale; int32_t qmul_const_zp;\n"
             "  float qmul_out_scale; int32_t qmul_out_zp;\n"
             "  int32_t has_smul; int32_t smul_const; float smul_const_scale; int32_t smul_const_zp;\n"
             "  float smul_out_scale; int32_t smul_out_zp; float beta;\n"
             "  /* integer parameters (make_params) */\n"
             "  int32_t qk_lhs_zp, qk_rhs_zp, qk_multiplier, qk_shift, qk_out_zp;\n"
             "  int32_t sm_multiplier, sm_left_shift, sm_diff_min;\n"
             "  int32_t pv_rhs_zp, pv_multiplier, pv_shift, pv_out_zp;\n"
             "  const int8_t *qmap, *smap; const int32_t *explut;\n"
             "  const int8_t *q, *k, *v, *out;\n};\n\n"]
    rows = []
    for n, c in enumerate(cases):
        p = ar.make_params(c.quant)
        pre = f"ma_att_case_{n}"
        for nm, a in (("q", c.q), ("k", c.k), ("v", c.v), ("out", c.out)):
            parts.append(c_array("int8_t", f"{pre}_{nm}", a))
        parts.append(c_array("int32_t", f"{pre}_explut", p.exp_lut, 8))
        if p.q_map is not None:
            parts.append(c_array("int8_t", f"{pre}_qmap", p.q_map))
        if p.s_map is not None:
            parts.append(c_array("int8_t", f"{pre}_smap", p.s_map))
        qt = c.quant
        f = lambda x: repr(float(np.float32(x))) + "f"  # noqa: E731
        h, tq, dk = c.q.shape
        wl, wr = c.window if c.window is not None else (-1, -1)
        qm, sm = qt.q_mul, qt.score_mul
        fields = [f'"{c.name}"', h, tq, c.k.shape[1], dk, wl, wr,
                  f(qt.q.scale), f(qt.k.scale), f(qt.v.scale), f(qt.scores.scale), f(qt.out.scale),
                  qt.q.zero_point, qt.k.zero_point, qt.v.zero_point, qt.scores.zero_point, qt.out.zero_point,
                  int(qm is not None), qm.const if qm else 0, f(qm.const_q.scale) if qm else "0.0f",
                  qm.const_q.zero_point if qm else 0, f(qm.out.scale) if qm else "0.0f", qm.out.zero_point if qm else 0,
                  int(sm is not None), sm.const if sm else 0, f(sm.const_q.scale) if sm else "0.0f",
                  sm.const_q.zero_point if sm else 0, f(sm.out.scale) if sm else "0.0f", sm.out.zero_point if sm else 0,
                  f(qt.softmax_beta),
                  p.qk_lhs_zp, p.qk_rhs_zp, p.qk_multiplier, p.qk_shift, p.qk_out_zp,
                  p.sm_multiplier, p.sm_left_shift, p.sm_diff_min,
                  p.pv_rhs_zp, p.pv_multiplier, p.pv_shift, p.pv_out_zp,
                  f"{pre}_qmap" if p.q_map is not None else "0", f"{pre}_smap" if p.s_map is not None else "0",
                  f"{pre}_explut", f"{pre}_q", f"{pre}_k", f"{pre}_v", f"{pre}_out"]
        rows.append("  {" + ", ".join(str(x) for x in fields) + "}")
    parts.append(f"#define MA_ATT_NUM_CASES {len(cases)}\n")
    parts.append("static const struct ma_att_case ma_att_cases[MA_ATT_NUM_CASES] = {\n" + ",\n".join(rows) + "\n};\n")
    parts.append("\n#endif /* MA_ATTENTION_S8_VECTORS_H */\n")
    return "".join(parts)


def write_header(cases: list[Case], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_header(cases))
    return path


def default_cases(seed: int = 0, small: bool = False) -> list[Case]:
    """Random-input cases over sizes, heads, both MUL placements, extreme scales, windows, and one
    ``ref_only`` case beyond TFLM (no TensorFlow needed)."""
    rng = np.random.default_rng(seed)
    shapes = [(1, 1, 1, 4), (2, 7, 7, 8), (1, 5, 13, 32), (4, 16, 16, 32), (3, 33, 33, 16)]
    if not small:
        shapes += [(4, 200, 200, 32), (1, 250, 250, 32)]
    cases = [random_case(rng, f"rand_h{h}_q{tq}_k{tk}_d{d}", h, tq, tk, d) for h, tq, tk, d in shapes]
    cases.append(random_case(rng, "score_mul_h2_t24_d32", 2, 24, 24, 32, q_mul=False, score_mul=True))
    cases.append(random_case(rng, "no_mul_h1_t40_d32", 1, 40, 40, 32, q_mul=False))
    cases += [random_case(rng, f"extreme{i}_h2_t48_d32", 2, 48, 48, 32, extreme=True) for i in range(3)]
    cases.append(windowed_case(rng, "window_3_2_h2_t20_d32", 2, 20, 32, (3, 2)))
    cases.append(windowed_case(rng, "window_0_5_h1_t12_d8", 1, 12, 8, (0, 5)))
    cases.append(beyond_tflm_case())
    cases += kernel_path_cases(rng)
    return cases


def quant_case(rng, name: str, qt: ar.AttentionQuant, heads: int, q_len: int, kv_len: int, dk: int,
               fill: tuple[int, int, int] | None = None) -> Case:
    """A case with the given quantisation: random int8 tensors, or constant ones (``fill``: q, k, v)."""
    def mk(t: int, value: int | None) -> np.ndarray:
        if value is not None:
            return np.full((heads, t, dk), value, np.int8)
        return rng.integers(-128, 128, (heads, t, dk)).astype(np.int8)
    fq, fk, fv = fill if fill is not None else (None, None, None)
    q, k, v = mk(q_len, fq), mk(kv_len, fk), mk(kv_len, fv)
    return Case(name, qt, q, k, v, run_tflm(build_attention_tflite(qt, heads, q_len, kv_len, dk), q, k, v))


def kernel_path_cases(rng) -> list[Case]:
    """Cases aimed at the C kernel's DSP path (pairs of query rows, two keys at a time, the six-
    instruction score requantisation) and its fallbacks: odd query and key counts (a last single row,
    a last single key), head sizes not a multiple of 4 or 8, a MUL on the scores with row pairs,
    score shifts of 0 and > 0 (the generic requantisation), the largest |Q·Kᵀ| accumulator (every
    factor ±255, dk = 64) and windows where some neighbouring rows see the same keys."""
    T = ar.TensorQuant
    cases = [random_case(rng, "pair_odd_h2_q9_k9_d13", 2, 9, 9, 13),
             random_case(rng, "pair_h1_q17_k31_d36", 1, 17, 31, 36),
             random_case(rng, "pair_h3_q6_k5_d6", 3, 6, 5, 6),
             random_case(rng, "pair_smap_h2_q7_k11_d20", 2, 7, 11, 20, q_mul=False, score_mul=True),
             random_case(rng, "pair_extreme_h2_q13_k21_d40", 2, 13, 21, 40, extreme=True)]
    base = dict(q=T(0.05, 3), k=T(0.05, -2), v=T(0.03, 1), out=T(0.02, -4))
    # Q·Kᵀ real multiplier 0.625 (shift 0) and 2.5 (shift +2): not the fast requantisation
    cases.append(quant_case(rng, "shift0_h2_q10_k10_d32", ar.AttentionQuant(scores=T(0.0045, 5), **base), 2, 10, 10, 32))
    cases.append(quant_case(rng, "shiftpos_h1_q9_k7_d8", ar.AttentionQuant(scores=T(0.001, -3), **base), 1, 9, 7, 8))
    # every (q - zq)(k - zk) = -255 * 255: |acc| = 64 * 65025, the largest for dk = 64
    ext = ar.AttentionQuant(q=T(0.02, 127), k=T(0.02, -128), v=T(0.02, 0), scores=T(8.0, 0), out=T(0.02, 0))
    cases.append(quant_case(rng, "max_acc_h1_q5_k7_d64", ext, 1, 5, 7, 64, fill=(-128, 127, 100)))
    cases.append(windowed_case(rng, "window_2_100_h2_t16_d12", 2, 16, 12, (2, 100)))
    cases.append(windowed_case(rng, "window_40_30_h1_t12_d20", 1, 12, 20, (40, 30)))
    return cases


def main(argv: list[str] | None = None) -> int:
    return vectors_main(argv, generator=GENERATOR, header_name=HEADER_NAME, doc=__doc__,
                        default_cases=default_cases, write=lambda cases, path, seed: write_header(cases, path))


if __name__ == "__main__":
    raise SystemExit(main())
