"""Graph surgery (microalign.export.surgery) on a tiny hand-built int8 model: the device
flatbuffer parses with the TFLite schema, the attention subgraph became one FA_ATTENTION op
with its quantisation in flexbuffer options, and FA_DECODE ends the graph."""
import numpy as np
import pytest

pytest.importorskip("tflite_micro")
import flatbuffers  # noqa: E402

from microalign.export.surgery import (FA_ATTENTION, FA_DECODE, check_device_flatbuffer,  # noqa: E402
                                       custom_ops, device_flatbuffer)


def _fb():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    return fb


def tiny_attention_model(q_mul=True, s_mul=True, adj_y=True, log_softmax=True) -> bytes:
    """x -> LOG_SOFTMAX -> scores; q,k,v -> [MUL] -> BATCH_MATMUL -> [MUL] -> SOFTMAX -> BATCH_MATMUL."""
    fb = _fb()
    m = fb.ModelT()
    m.version = 3
    m.buffers = [fb.BufferT()]
    m.operatorCodes = []
    sg = fb.SubGraphT()
    sg.tensors, sg.operators = [], []

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
    q = tensor("q", [1, 2, 6, 4], 0.05, 3)
    k = tensor("k", [1, 2, 6, 4], 0.04, -2)
    v = tensor("v", [1, 2, 6, 4], 0.03, 1)
    qq = q
    if q_mul:
        c = tensor("qc", [], 0.5 / 127, 0, value=90)
        qq = tensor("q_scaled", [1, 2, 6, 4], 0.02, 2)
        mo = fb.MulOptionsT()
        op(B.MUL, [q, c], [qq], fb.BuiltinOptions.MulOptions, mo)
    s = tensor("s", [1, 2, 6, 6], 0.08, -5)
    bo = fb.BatchMatMulOptionsT()
    bo.adjY = adj_y
    op(B.BATCH_MATMUL, [qq, k], [s], fb.BuiltinOptions.BatchMatMulOptions, bo)
    if s_mul:
        c2 = tensor("sc", [], 1 / 127, 0, value=64)
        s2 = tensor("s_scaled", [1, 2, 6, 6], 0.05, 0)
        op(B.MUL, [s, c2], [s2], fb.BuiltinOptions.MulOptions, fb.MulOptionsT())
        s = s2
    p = tensor("p", [1, 2, 6, 6], 1 / 256, -128)
    so = fb.SoftmaxOptionsT()
    so.beta = 1.0
    op(B.SOFTMAX, [s], [p], fb.BuiltinOptions.SoftmaxOptions, so)
    o = tensor("o", [1, 2, 6, 4], 0.02, 0)
    op(B.BATCH_MATMUL, [p, v], [o], fb.BuiltinOptions.BatchMatMulOptions, fb.BatchMatMulOptionsT())
    sg.inputs = np.asarray([x, q, k, v], np.int32)
    sg.outputs = np.asarray([scores, o], np.int32)
    m.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _op_names(data):
    fb = _fb()
    m = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if isinstance(v, int)}
    codes = [(oc.customCode or b"").decode() or names[max(oc.builtinCode, oc.deprecatedBuiltinCode)]
             for oc in m.operatorCodes]
    return m, codes, [codes[op.opcodeIndex] for op in m.subgraphs[0].operators]


def test_surgery_fuses_attention_and_appends_decode():
    src = tiny_attention_model()
    check_device_flatbuffer(src)
    res = device_flatbuffer(src, max_tokens=16, max_words=4, silence_penalty=3)
    assert res.attention_fused == 1, res.attention_skipped
    m, codes, ops = _op_names(res.data)
    assert FA_ATTENTION in codes and FA_DECODE in codes
    assert ops == ["LOG_SOFTMAX", FA_ATTENTION, FA_DECODE]
    sg = m.subgraphs[0]
    name = lambda i: sg.tensors[i].name.decode()
    customs = custom_ops(res.data)
    (att_code, att_in, att_out, att_opts), (dec_code, dec_in, dec_out, dec_opts) = customs
    assert att_code == FA_ATTENTION and [name(i) for i in att_in] == ["q", "k", "v"] and name(att_out[0]) == "o"
    assert att_opts["q_zp"] == 3 and att_opts["k_zp"] == -2 and att_opts["v_zp"] == 1
    assert att_opts["s_zp"] == -5 and att_opts["out_zp"] == 0
    assert att_opts["has_q_mul"] == 1 and att_opts["q_mul_value"] == 90 and att_opts["q_mul_out_zp"] == 2
    assert att_opts["has_s_mul"] == 1 and att_opts["s_mul_value"] == 64 and att_opts["s_mul_out_zp"] == 0
    assert att_opts["q_scale"] == pytest.approx(0.05) and att_opts["softmax_beta"] == 1.0
    assert dec_code == FA_DECODE and dec_opts == {"band": 0, "beam": 64, "silence_penalty": 3}
    assert [name(i) for i in dec_in] == ["scores", "token_ids", "word_lengths"]
    assert [name(i) for i in dec_out] == ["word_spans", "token_spans", "decode_status"]
    assert [list(sg.tensors[i].shape) for i in dec_out] == [[4, 4], [16, 2], [2]]
    assert [name(i) for i in sg.inputs] == ["x", "q", "k", "v", "token_ids", "word_lengths"]
    assert [name(i) for i in sg.outputs] == ["scores", "word_spans", "token_spans", "decode_status"]
    # intermediates of the fused subgraph are gone
    assert not {"s", "p", "q_scaled", "s_scaled"} & {t.name.decode() for t in sg.tensors}


def test_surgery_without_optional_muls_and_decode_only():
    res = device_flatbuffer(tiny_attention_model(q_mul=False, s_mul=False), 8, 2)
    assert res.attention_fused == 1
    opts = custom_ops(res.data)[0][3]
    assert opts.get("has_q_mul", 0) == 0 and opts.get("has_s_mul", 0) == 0
    res = device_flatbuffer(tiny_attention_model(), 8, 2, fuse_attention=False)
    assert _op_names(res.data)[2] == ["LOG_SOFTMAX", "MUL", "BATCH_MATMUL", "MUL", "SOFTMAX", "BATCH_MATMUL",
                                      FA_DECODE]


def test_surgery_skips_transposed_k_and_rejects_bad_args():
    res = device_flatbuffer(tiny_attention_model(adj_y=False), 8, 2)
    assert res.attention_fused == 0 and "adj_y" in res.attention_skipped[0]
    with pytest.raises(ValueError, match="max_words"):
        device_flatbuffer(tiny_attention_model(), 2, 3)
    with pytest.raises(ValueError, match="already"):
        device_flatbuffer(device_flatbuffer(tiny_attention_model(), 8, 2).data, 8, 2)
    with pytest.raises(ValueError, match="TFL3"):
        check_device_flatbuffer(b"\0" * 64)
