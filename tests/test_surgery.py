"""The flatbuffer toolkit's attention matcher and the graph surgery (microalign.export.flatbuffer / .surgery).

- The matcher accepts exactly what ``ma_attention_s8`` computes: each wrong variant of a tiny
  hand-built int8 graph is rejected with a message naming the reason.
- The device flatbuffer: the attention subgraph became one ``FA_ATTENTION`` operator whose
  parameters (tensors + options, read as the C adapter's Prepare reads them) make the numpy
  reference reproduce the builtin subgraph in the PyPI TFLM runtime byte for byte.
- The shipped ``student_device.tflite`` is exactly the surgery of the shipped ``student_int8.tflite``,
  and the conversion's device check (numpy-oracle path) passes on it and fails on a wrong model.
The TFLM runs of device models (host build with the adapter) are in ``test_tflm_adapters.py``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tflite_micro")
import flatbuffers  # noqa: E402

from microalign.export import flatbuffer as fbk  # noqa: E402
from microalign.export.stages import ConversionError, check_device_model  # noqa: E402
from microalign.export.surgery import FA_ATTENTION, check_device_flatbuffer, custom_ops, device_flatbuffer  # noqa: E402
from microalign.export.tflite_model import read_tflite  # noqa: E402
from microalign.kernels import attention_oracle as ao  # noqa: E402
from microalign.kernels import attention_ref as ar  # noqa: E402

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
INT8 = ASSETS / "student_int8.tflite"
DEVICE = ASSETS / "student_device.tflite"


def _fb():
    return fbk.schema()


def tiny_attention_model(q_mul=True, s_mul=True, adj_y=True, log_softmax=True, softmax_q=(1 / 256, -128),
                         bmm2_adj_y=False, scores_is_output=False, s_mul_relu=False, s_mul_by_variable=False,
                         v_dim=4, q_type=None, s_scale=0.05) -> bytes:
    """x -> LOG_SOFTMAX -> scores; q,k,v -> [MUL] -> BATCH_MATMUL -> [MUL] -> SOFTMAX -> BATCH_MATMUL.

    The keyword arguments make the variants the matcher must reject."""
    fb = _fb()
    m = fb.ModelT()
    m.version = 3
    m.buffers = [fb.BufferT()]
    m.operatorCodes = []
    sg = fb.SubGraphT()
    sg.tensors, sg.operators = [], []
    extra_inputs = []

    def tensor(name, shape, scale, zp, ttype=fb.TensorType.INT8, value=None):
        t = fb.TensorT()
        t.name, t.shape, t.type, t.buffer = name.encode(), np.asarray(shape, np.int32), ttype, 0
        t.quantization = fb.QuantizationParametersT()
        t.quantization.scale, t.quantization.zeroPoint = [scale], [zp]
        if value is not None:
            b = fb.BufferT()
            b.data = np.asarray([value], np.int8).view(np.uint8)
            m.buffers.append(b)
            t.buffer = len(m.buffers) - 1
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    def code(builtin):
        for i, oc in enumerate(m.operatorCodes):
            if oc.builtinCode == builtin:
                return i
        oc = fb.OperatorCodeT()
        oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = builtin, builtin, 1
        m.operatorCodes.append(oc)
        return len(m.operatorCodes) - 1

    def op(builtin, ins, outs, opt_type=0, opts=None):
        o = fb.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = code(builtin), np.asarray(ins, np.int32), np.asarray(outs, np.int32)
        o.builtinOptionsType, o.builtinOptions = opt_type, opts
        sg.operators.append(o)

    B = fb.BuiltinOperator
    x = tensor("x", [1, 10, 28], 0.1, 0)
    scores = x
    if log_softmax:  # else the graph passes its input x through as the scores (custom ops only)
        scores = tensor("scores", [1, 10, 28], 1 / 16, 127)
        op(B.LOG_SOFTMAX, [x], [scores], fb.BuiltinOptions.LogSoftmaxOptions, fb.LogSoftmaxOptionsT())
    q = tensor("q", [1, 2, 6, 4], 0.05, 3, ttype=q_type if q_type is not None else fb.TensorType.INT8)
    k = tensor("k", [1, 2, 6, 4], 0.04, -2)
    v = tensor("v", [1, 2, 6, v_dim], 0.03, 1)
    qq = q
    if q_mul:
        c = tensor("qc", [], 0.5 / 127, 0, value=90)
        qq = tensor("q_scaled", [1, 2, 6, 4], 0.02, 2)
        op(B.MUL, [q, c], [qq], fb.BuiltinOptions.MulOptions, fb.MulOptionsT())
    s = tensor("s", [1, 2, 6, 6], 0.08, -5)
    bo = fb.BatchMatMulOptionsT()
    bo.adjY = adj_y
    op(B.BATCH_MATMUL, [qq, k], [s], fb.BuiltinOptions.BatchMatMulOptions, bo)
    if s_mul:
        c2 = tensor("sc", [], 1 / 127, 0, value=None if s_mul_by_variable else 64)
        s2 = tensor("s_scaled", [1, 2, 6, 6], s_scale, 0)
        mo = fb.MulOptionsT()
        mo.fusedActivationFunction = fb.ActivationFunctionType.RELU if s_mul_relu else 0
        op(B.MUL, [s, c2], [s2], fb.BuiltinOptions.MulOptions, mo)
        if s_mul_by_variable:
            extra_inputs.append(c2)
        s = s2
    p = tensor("p", [1, 2, 6, 6], *softmax_q)
    so = fb.SoftmaxOptionsT()
    so.beta = 1.0
    op(B.SOFTMAX, [s], [p], fb.BuiltinOptions.SoftmaxOptions, so)
    o = tensor("o", [1, 2, 6, v_dim], 0.02, 0)
    bo2 = fb.BatchMatMulOptionsT()
    bo2.adjY = bmm2_adj_y
    op(B.BATCH_MATMUL, [p, v], [o], fb.BuiltinOptions.BatchMatMulOptions, bo2)
    sg.inputs = np.asarray([x, q, k, v] + extra_inputs, np.int32)
    sg.outputs = np.asarray([scores, o] + ([s] if scores_is_output else []), np.int32)
    m.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _op_names(data):
    m = fbk.load(data)
    return m, [fbk.op_name(m, op) for op in m.subgraphs[0].operators]


# --------------------------------------------------------------------------- the matcher
def test_matcher_accepts_the_kernels_pattern_with_and_without_muls():
    for q_mul, s_mul in ((True, True), (True, False), (False, True), (False, False)):
        sites, misses = fbk.match_attention(tiny_attention_model(q_mul=q_mul, s_mul=s_mul))
        assert misses == [] and len(sites) == 1
        s = sites[0]
        assert (s.heads, s.q_len, s.kv_len, s.head_dim) == (2, 6, 6, 4)
        assert (s.quant.q_mul is not None, s.quant.score_mul is not None) == (q_mul, s_mul)
        assert s.quant.q == ar.TensorQuant(0.05, 3) and s.quant.scores == ar.TensorQuant(0.08, -5)
        assert len(s.ops) == 3 + q_mul + s_mul


REJECTED = [
    ("softmax output 1/128, 0", dict(softmax_q=(1 / 128, 0)), "not scale 1/256, zero point -128"),
    ("softmax output 1/256, 0", dict(softmax_q=(1 / 256, 0)), "not scale 1/256, zero point -128"),
    ("k transposed", dict(adj_y=False), "adj_y"),
    ("p·v transposed", dict(bmm2_adj_y=True), "transposed"),
    ("scores also a graph output", dict(s_mul=False, scores_is_output=True), "used elsewhere"),
    ("score MUL with RELU", dict(s_mul_relu=True), "fused activation"),
    ("score MUL by a variable", dict(s_mul_by_variable=True), "not by a one-element int8 constant"),
    ("v head dim differs", dict(v_dim=5), "shapes"),
    ("q int16", dict(q_type=7), "not int8"),
    ("scores scale the kernel cannot reproduce", dict(s_scale=64.0), "cannot reproduce"),
]


@pytest.mark.parametrize("what,kw,reason", REJECTED, ids=[r[0] for r in REJECTED])
def test_matcher_rejects_each_wrong_variant_naming_the_reason(what, kw, reason):
    model = tiny_attention_model(**kw)
    sites, misses = fbk.match_attention(model)
    assert sites == [], what
    assert len(misses) == 1 and reason in misses[0].reason, misses
    # the oracle, the surgery and the model inspector use the same matcher: none takes it
    assert ao.find_attention(model) == []
    info = read_tflite(model)
    assert info.attention == [] and info.attention_not_fusable == [misses[0].reason]
    res = device_flatbuffer(model)
    assert res.attention_fused == 0 and reason in res.attention_skipped[0]
    assert FA_ATTENTION not in _op_names(res.data)[1]


# --------------------------------------------------------------------------- the surgery
def test_surgery_fuses_attention_into_one_op_with_the_kernels_parameters():
    src = tiny_attention_model()
    check_device_flatbuffer(src)
    res = device_flatbuffer(src)
    assert res.attention_fused == 1 and res.attention_skipped == []
    m, ops = _op_names(res.data)
    assert ops == ["LOG_SOFTMAX", FA_ATTENTION]
    sg = m.subgraphs[0]
    name = lambda i: fbk.tensor_name(sg.tensors[i])  # noqa: E731
    (code, ins, outs, opts), = custom_ops(res.data)
    assert code == FA_ATTENTION and [name(i) for i in ins] == ["q", "k", "v"] and name(outs[0]) == "o"
    # q/k/v/out quantisation stays on the tensors only; the options hold the rest
    assert not {"q_scale", "q_zp", "k_scale", "v_scale", "out_scale", "out_zp"} & set(opts)
    assert opts["s_zp"] == -5 and opts["s_scale"] == pytest.approx(0.08)
    assert opts["has_q_mul"] == 1 and opts["q_mul_value"] == 90 and opts["q_mul_out_zp"] == 2
    assert opts["has_s_mul"] == 1 and opts["s_mul_value"] == 64 and opts["softmax_beta"] == 1.0
    assert [name(i) for i in sg.inputs] == ["x", "q", "k", "v"] and [name(i) for i in sg.outputs] == ["scores", "o"]
    assert not {"s", "p", "q_scaled", "s_scaled"} & {fbk.tensor_name(t) for t in sg.tensors}
    # what Prepare reads back is what the matcher found
    qt, window = fbk.fa_attention_quant(m, sg.operators[1])
    assert qt == fbk.find_attention(src)[0].quant and window == (-1, -1)
    assert device_flatbuffer(src).data == res.data                       # deterministic
    with pytest.raises(ValueError, match="already has FA_ATTENTION"):
        device_flatbuffer(res.data)
    with pytest.raises(ValueError, match="TFL3"):
        check_device_flatbuffer(b"\0" * 64)


def test_fused_parameters_reproduce_the_builtin_subgraph_in_tflm():
    """numpy reference with the device op's parameters == PyPI TFLM running the builtin subgraph."""
    from microalign.export.tflm import load_tflm

    for kw in ({}, {"q_mul": False}, {"s_mul": False}):
        src = tiny_attention_model(log_softmax=False, **kw)
        dev = fbk.load(device_flatbuffer(src).data)
        qt, _ = fbk.fa_attention_quant(dev, dev.subgraphs[0].operators[-1])
        params = ar.make_params(qt)
        ip = load_tflm(src)
        rng = np.random.default_rng(1)
        for _ in range(3):
            q, k, v = (rng.integers(-128, 128, (1, 2, 6, 4)).astype(np.int8) for _ in range(3))
            ip.set_input(rng.integers(-128, 128, (1, 10, 28)).astype(np.int8), 0)
            for i, a in enumerate((q, k, v), start=1):
                ip.set_input(a, i)
            ip.invoke()
            want = np.asarray(ip.get_output(1)).reshape(2, 6, 4)
            assert len(np.unique(want)) > 3
            np.testing.assert_array_equal(ar.attention_ref(q[0], k[0], v[0], params), want)


def test_fa_attention_quant_rejects_options_that_contradict_the_tensors():
    res = device_flatbuffer(tiny_attention_model())
    m = fbk.load(res.data)
    op = m.subgraphs[0].operators[-1]
    opts = fbk.custom_options(op)
    for key, value, msg in (("q_scale", 0.051, "q_scale"), ("out_zp", 1, "out_zp"), ("q_zp", 3, None)):
        fbk.set_custom_options(op, {**opts, key: value})
        if msg is None:                      # a repeated value equal to the tensor's is accepted
            fbk.fa_attention_quant(m, op)
        else:
            with pytest.raises(fbk.AttentionQuantError, match=msg):
                fbk.fa_attention_quant(m, op)
    fbk.set_custom_options(op, {k: v for k, v in opts.items() if k != "s_scale"})
    with pytest.raises(fbk.AttentionQuantError, match="s_scale"):
        fbk.fa_attention_quant(m, op)


# --------------------------------------------------------------------------- the shipped model
def test_shipped_device_model_is_the_surgery_of_the_shipped_int8_model():
    """Keeps assets/student_device.tflite in sync: regenerating it gives the same bytes."""
    res = device_flatbuffer(INT8)
    assert res.attention_fused == 4 and res.attention_skipped == []      # 2 layers x 2 heads
    assert DEVICE.read_bytes() == res.data, ("assets/student_device.tflite is stale: regenerate it with python -m "
                                             "microalign.export.surgery convert/microalign/assets/student_int8.tflite "
                                             "convert/microalign/assets/student_device.tflite")
    assert len(read_tflite(INT8).attention) == 4
    info = read_tflite(DEVICE)
    assert info.op_histogram()["CUSTOM:FA_ATTENTION"] == 4 and "SOFTMAX" not in info.op_histogram()
    assert info.int8_problems(allowed_custom=(FA_ATTENTION,)) == []


def _sample_windows(n: int = 2) -> np.ndarray:
    from microalign.audio import load_audio
    from microalign.frontend import features_from_pcm

    f = features_from_pcm(load_audio(ASSETS / "sample.wav", quiet=True))
    return np.stack([f[i * 200:i * 200 + 400] for i in range(n)])


def test_device_check_numpy_oracle_passes_on_the_shipped_model_and_fails_on_a_wrong_one(tmp_path):
    windows = _sample_windows(2)
    r = check_device_model(INT8, DEVICE, windows, tflm_root=None)
    assert r["method"] == "numpy-oracle" and r["fa_attention_ops"] == 4 and r["windows"] == 2
    assert r["identical_bytes"] == 2 * 4 * 200 * 48
    # one FA_ATTENTION op with a wrong scores scale: the oracle must see it (a shifted zero point
    # would not do: softmax ignores it unless the scores clamp)
    m = fbk.load(DEVICE)
    op = next(o for o in m.subgraphs[0].operators if fbk.custom_code(m, o) == FA_ATTENTION)
    opts = fbk.custom_options(op)
    fbk.set_custom_options(op, {**opts, "s_scale": opts["s_scale"] * 1.5})
    bad = tmp_path / "bad_device.tflite"
    bad.write_bytes(fbk.save(m, 1 << 18))
    with pytest.raises(ConversionError, match="differs from the builtin attention subgraph"):
        check_device_model(INT8, bad, windows, tflm_root=None)
    # a device model that is not the int8 model's surgery
    other = tmp_path / "other.tflite"
    other.write_bytes(device_flatbuffer(tiny_attention_model()).data)
    with pytest.raises(ConversionError, match="is not"):
        check_device_model(INT8, other, windows, tflm_root=None)
