"""TFLite Micro's int8 FULLY_CONNECTED and 1-D CONV_2D as the oracle: one-op models, test cases, a C header of vectors.

:func:`build_fc_tflite` writes a model holding one builtin FULLY_CONNECTED (input ``[1, T, K]`` or any shape whose
last dimension is K, constant int8 weights ``[N, K]`` quantised per tensor or per channel, an int32 bias or none,
keep_num_dims, a fused activation); :func:`build_conv_tflite` one CONV_2D of height 1 (NHWC ``[1, 1, W, C]``,
weights ``[N, 1, kw, C]``, SAME or VALID, stride over width). :func:`run_tflm` runs a model in the PyPI
``tflite-micro`` runtime (TFLM's reference kernels). :func:`default_cases` covers every FULLY_CONNECTED and
CONV_2D of the shipped device model with its own weights, bias and quantisation (read from the model, so a new model
brings its own) and adversarial ones: output shifts on both sides of the C kernel's fast path (a left shift, 0, 1,
22, 23, 31), biases at and beyond 2^29, zero points at -128 and 127, every fused activation, per-tensor weights,
odd depths and channel counts (1 .. 13), odd row counts, saturating products. :func:`write_header` writes them with
the reference's integer parameters for ``convert/microalign/kernels/c/ma_fc_s8_check.c``.

    python -m microalign.kernels.fc_oracle --out DIR [--small]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..cheader import VectorsHeader, c_array
from ..export import flatbuffer as fbk
from . import fully_connected as fc

GENERATOR = "microalign.kernels.fc_oracle"
HEADER_NAME = "ma_fc_s8_vectors.h"
DEVICE_MODEL = Path(__file__).resolve().parents[1] / "assets" / "student_device.tflite"

Quant = tuple[float, int]        # (scale, zero point)


def _tensor(fb, name, shape, ttype, scales=None, zps=None, buffer=0, qdim=0):
    t = fb.TensorT()
    t.name, t.shape, t.buffer, t.type = name, [int(d) for d in shape], buffer, ttype
    if scales is not None:
        q = fb.QuantizationParametersT()
        q.scale = [float(np.float32(s)) for s in np.atleast_1d(scales)]
        q.zeroPoint = [int(z) for z in np.atleast_1d(zps)]
        q.quantizedDimension = qdim
        t.quantization = q
    return t


def _model(fb, tensors, buffers, op, code, name, inputs=(0,), outputs=None) -> bytes:
    sg = fb.SubGraphT()
    sg.tensors, sg.operators, sg.name = tensors, [op], name
    sg.inputs, sg.outputs = list(inputs), list(outputs if outputs is not None else op.outputs)
    oc = fb.OperatorCodeT()
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
    m = fb.ModelT()
    m.version, m.subgraphs, m.buffers, m.operatorCodes = 3, [sg], buffers, [oc]
    m.description = f"one {name} built by {GENERATOR}"
    return fbk.save(m)


def _const(fb, buffers, arr) -> int:
    buf = fb.BufferT()
    buf.data = np.frombuffer(np.ascontiguousarray(arr).tobytes(), np.uint8)
    buffers.append(buf)
    return len(buffers) - 1


def build_fc_tflite(in_shape, qi: Quant, w: np.ndarray, w_scales, bias: np.ndarray | None, out_shape, qo: Quant,
                    activation: str = "none", keep_num_dims: bool = True, dtype: str = "int8",
                    const_weights: bool = True) -> bytes:
    """One builtin FULLY_CONNECTED. ``w_scales``: one scale (per tensor) or one per output channel. ``dtype``
    int8 (int8 weights, int32 bias) or float32 (float weights and bias, quantisation ignored). ``const_weights``
    False: the weights are the model's second input (a non-constant tensor, which the adapter leaves to TFLM)."""
    fb = fbk.schema()
    buffers = [fb.BufferT()]
    f32 = dtype == "float32"
    tt = fb.TensorType.FLOAT32 if f32 else fb.TensorType.INT8
    ws = np.atleast_1d(np.asarray(w_scales, np.float64))
    tensors = [_tensor(fb, "x", in_shape, tt, None if f32 else qi[0], None if f32 else qi[1])]
    wt = _tensor(fb, "w", w.shape, tt, None if f32 else ws, None if f32 else np.zeros(ws.size, int),
                 _const(fb, buffers, w) if const_weights else 0)
    tensors.append(wt)
    inputs = [0, 1, -1]
    if bias is not None:
        bt = _tensor(fb, "b", bias.shape, fb.TensorType.FLOAT32 if f32 else fb.TensorType.INT32,
                     None if f32 else np.float32(qi[0]) * ws.astype(np.float32),
                     None if f32 else np.zeros(ws.size, int), _const(fb, buffers, bias))
        tensors.append(bt)
        inputs[2] = 2
    tensors.append(_tensor(fb, "y", out_shape, tt, None if f32 else qo[0], None if f32 else qo[1]))
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, inputs, [len(tensors) - 1]
    opts = fb.FullyConnectedOptionsT()
    opts.fusedActivationFunction = fc.ACTIVATIONS.index(activation)
    opts.keepNumDims = bool(keep_num_dims)
    op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.FullyConnectedOptions, opts
    return _model(fb, tensors, buffers, op, fb.BuiltinOperator.FULLY_CONNECTED, "fully_connected",
                  inputs=(0,) if const_weights else (0, 1))


def _conv_tensors(fb, buffers, height: int, width: int, channels: int, qi: Quant, w: np.ndarray, w_scales, bias,
                  qo: Quant, out_shape, qdim: int) -> tuple[list, list[int]]:
    """The tensors of a one-op convolution (x, w quantised along ``qdim``, bias or none, y) and the op's inputs (two
    without a bias: TFLM's depthwise Eval reads a listed third input slot even when it is -1)."""
    ws = np.atleast_1d(np.asarray(w_scales, np.float64))
    tensors = [_tensor(fb, "x", [1, height, width, channels], fb.TensorType.INT8, qi[0], qi[1]),
               _tensor(fb, "w", w.shape, fb.TensorType.INT8, ws, np.zeros(ws.size, int), _const(fb, buffers, w), qdim)]
    inputs = [0, 1]
    if bias is not None:
        tensors.append(_tensor(fb, "b", bias.shape, fb.TensorType.INT32, np.float32(qi[0]) * ws.astype(np.float32),
                               np.zeros(ws.size, int), _const(fb, buffers, bias)))
        inputs.append(2)
    tensors.append(_tensor(fb, "y", out_shape, fb.TensorType.INT8, qo[0], qo[1]))
    return tensors, inputs


def _out_size(width: int, kh: int, kw: int, height: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    eff = (kw - 1) * dilation + 1
    out_w = (width + stride - 1) // stride if padding == "same" else (width - eff + stride) // stride
    return (height if padding == "same" else height - kh + 1), out_w


def _conv_options(opts, stride: int, padding: str, activation: str, dilation: int):
    """The fields CONV_2D's and DEPTHWISE_CONV_2D's options share: padding, stride and dilation over width, the fused
    activation."""
    opts.padding = fc.PADDINGS.index(padding)
    opts.strideW, opts.strideH = stride, 1
    opts.dilationWFactor, opts.dilationHFactor = dilation, 1
    opts.fusedActivationFunction = fc.ACTIVATIONS.index(activation)
    return opts


def build_conv_tflite(width: int, channels: int, qi: Quant, w: np.ndarray, w_scales, bias: np.ndarray | None,
                      qo: Quant, stride: int = 1, padding: str = "valid", activation: str = "none",
                      height: int = 1, dilation: int = 1) -> bytes:
    """One builtin CONV_2D over NHWC ``[1, height, width, channels]`` with weights ``[N, kh, kw, C]`` (``w``)."""
    fb = fbk.schema()
    buffers = [fb.BufferT()]
    n, kh, kw, _ = w.shape
    out_h, out_w = _out_size(width, kh, kw, height, stride, dilation, padding)
    tensors, inputs = _conv_tensors(fb, buffers, height, width, channels, qi, w, w_scales, bias, qo,
                                    [1, out_h, out_w, n], 0)
    if bias is None:
        inputs.append(-1)
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, inputs, [len(tensors) - 1]
    opts = _conv_options(fb.Conv2DOptionsT(), stride, padding, activation, dilation)
    op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.Conv2DOptions, opts
    return _model(fb, tensors, buffers, op, fb.BuiltinOperator.CONV_2D, "conv_2d")


def build_dwconv_tflite(width: int, channels: int, qi: Quant, w: np.ndarray, w_scales, bias: np.ndarray | None,
                        qo: Quant, stride: int = 1, padding: str = "valid", activation: str = "none",
                        height: int = 1, dilation: int = 1, depth_multiplier: int = 1) -> bytes:
    """One builtin DEPTHWISE_CONV_2D over NHWC ``[1, height, width, channels]`` with weights ``[1, kh, kw, C * m]``
    (``w``, quantised along its last dimension)."""
    fb = fbk.schema()
    buffers = [fb.BufferT()]
    _, kh, kw, n = w.shape
    out_h, out_w = _out_size(width, kh, kw, height, stride, dilation, padding)
    tensors, inputs = _conv_tensors(fb, buffers, height, width, channels, qi, w, w_scales, bias, qo,
                                    [1, out_h, out_w, n], 3)
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, inputs, [len(tensors) - 1]
    opts = _conv_options(fb.DepthwiseConv2DOptionsT(), stride, padding, activation, dilation)
    opts.depthMultiplier = depth_multiplier
    op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.DepthwiseConv2DOptions, opts
    return _model(fb, tensors, buffers, op, fb.BuiltinOperator.DEPTHWISE_CONV_2D, "depthwise_conv_2d")


def run_tflm(model: bytes, *inputs: np.ndarray) -> np.ndarray:
    """Run a one-op model in TFLite Micro (PyPI runtime); the output as a flat array."""
    from tflite_micro.python.tflite_micro import runtime
    size = sum(np.asarray(x).size for x in inputs)
    ip = runtime.Interpreter.from_bytes(model, arena_size=8 * size + (256 << 10))
    for i, x in enumerate(inputs):
        ip.set_input(np.ascontiguousarray(x), i)
    ip.invoke()
    return np.asarray(ip.get_output(0)).ravel()


# ------------------------------------------------------------------ cases
@dataclass
class Case:
    name: str
    kind: str                    # "fc", "conv" or "dw" (depthwise)
    x: np.ndarray                # fc: [T, K]; conv, dw: [W, C]
    w: np.ndarray                # fc: [N, K]; conv: [N, kw, C]; dw: [kw, C]
    bias: np.ndarray | None      # [N] int32 (dw: [C])
    qi: Quant
    w_scales: tuple[float, ...]  # one (per tensor) or N
    qo: Quant
    activation: str = "none"
    stride: int = 1
    padding: str = "valid"
    out: np.ndarray = field(default=None)   # TFLM's output, [rows, N]

    def params(self) -> fc.FcParams:
        return fc.make_params(*self.qi, self.w_scales, *self.qo, self.activation)

    def reference(self) -> np.ndarray:
        p = self.params()
        if self.kind == "fc":
            return fc.fc_ref(self.x, self.w, self.bias, p)
        if self.kind == "dw":
            return fc.depthwise_conv1d_ref(self.x, self.w, self.bias, p, self.stride, self.padding)
        return fc.conv1d_ref(self.x, self.w, self.bias, p, self.stride, self.padding)

    def geometry(self) -> dict:
        """The C kernel's rows, depth, channels, row stride (and conv: input width and channels, padding; dw: depth is
        the kernel width)."""
        if self.kind == "dw":
            width, c = self.x.shape
            out_w, pad = fc.conv_padding(width, self.w.shape[0], self.stride, self.padding)
            return dict(rows=out_w, depth=self.w.shape[0], channels=c, row_stride=self.stride * c, in_width=width,
                        in_channels=c, pad_before=pad)
        n = self.w.shape[0]
        if self.kind == "fc":
            t, k = self.x.shape
            return dict(rows=t, depth=k, channels=n, row_stride=k, in_width=t, in_channels=k, pad_before=0)
        width, c = self.x.shape
        kw = self.w.shape[1]
        out_w, pad = fc.conv_padding(width, kw, self.stride, self.padding)
        return dict(rows=out_w, depth=kw * c, channels=n, row_stride=self.stride * c, in_width=width, in_channels=c,
                    pad_before=pad)


def tflm_case(c: Case) -> np.ndarray:
    """TFLM's output for a case, ``[rows, N]`` int8."""
    if c.kind == "dw":
        width, ch = c.x.shape
        model = build_dwconv_tflite(width, ch, c.qi, c.w.reshape(1, 1, -1, ch), c.w_scales, c.bias, c.qo, c.stride,
                                    c.padding, c.activation)
        return run_tflm(model, c.x.reshape(1, 1, width, ch)).astype(np.int8).reshape(-1, ch)
    n = c.w.shape[0]
    if c.kind == "fc":
        t, k = c.x.shape
        model = build_fc_tflite([1, t, k], c.qi, c.w, c.w_scales, c.bias, [1, t, n], c.qo, c.activation)
        return run_tflm(model, c.x.reshape(1, t, k)).astype(np.int8).reshape(t, n)
    width, ch = c.x.shape
    model = build_conv_tflite(width, ch, c.qi, c.w.reshape(n, 1, -1, ch), c.w_scales, c.bias, c.qo, c.stride,
                              c.padding, c.activation)
    return run_tflm(model, c.x.reshape(1, 1, width, ch)).astype(np.int8).reshape(-1, n)


def make_case(c: Case) -> Case:
    c.qi = (float(np.float32(c.qi[0])), int(c.qi[1]))
    c.qo = (float(np.float32(c.qo[0])), int(c.qo[1]))
    c.w_scales = tuple(float(np.float32(s)) for s in np.atleast_1d(c.w_scales))
    c.out = tflm_case(c)
    return c


@dataclass
class ModelLayer:
    """One FULLY_CONNECTED, CONV_2D or DEPTHWISE_CONV_2D of a model: its constants and quantisation."""
    index: int
    kind: str                    # "fc", "conv" or "dw"
    rows: int                    # output rows (FC: T; conv: output width)
    in_width: int                # conv: input width; FC: T
    depth: int                   # FC: K; conv: kw * C
    channels: int
    in_channels: int
    w: np.ndarray                # fc [N, K]; conv [N, kw, C]; dw [kw, C]
    bias: np.ndarray | None
    qi: Quant
    w_scales: tuple[float, ...]
    qo: Quant
    activation: str
    stride: int = 1
    padding: str = "valid"

    @property
    def macs(self) -> int:
        return self.rows * self.depth * self.channels // (self.in_channels if self.kind == "dw" else 1)


def model_layers(path: str | Path = DEVICE_MODEL) -> list[ModelLayer]:
    """Every int8 FULLY_CONNECTED and height-1 CONV_2D and DEPTHWISE_CONV_2D (depth multiplier 1) of a model, with its
    weights, bias and quantisation."""
    m = fbk.load(path)
    sg = m.subgraphs[0]
    out = []
    for i, op in enumerate(sg.operators):
        name = fbk.op_name(m, op)
        if name not in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        x, w = sg.tensors[int(op.inputs[0])], sg.tensors[int(op.inputs[1])]
        b = sg.tensors[int(op.inputs[2])] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        y = sg.tensors[int(op.outputs[0])]
        wd = fbk.const_data(m, w)
        if wd is None or w.type != fbk.schema().TensorType.INT8:
            continue
        wq = w.quantization
        bias = fbk.const_data(m, b).view(np.int32).copy() if b is not None else None
        opts = op.builtinOptions
        act = fc.ACTIVATIONS[opts.fusedActivationFunction if opts is not None else 0]
        qi, qo = fbk.quant(x), fbk.quant(y)
        scales = tuple(float(s) for s in wq.scale)
        ws, ys = fbk.shape(w), fbk.shape(y)
        if name == "FULLY_CONNECTED":
            n, k = ws
            rows = int(np.prod(ys[:-1]))
            out.append(ModelLayer(i, "fc", rows, rows, k, n, k, wd.view(np.int8).reshape(n, k).copy(), bias, qi,
                                  scales, qo, act))
        elif name == "DEPTHWISE_CONV_2D":
            xs = fbk.shape(x)
            _, kh, kw, c = ws
            if xs[1] != 1 or kh != 1 or opts.dilationWFactor != 1 or opts.depthMultiplier != 1 or xs[3] != c:
                continue
            out.append(ModelLayer(i, "dw", ys[2], xs[2], kw, c, c, wd.view(np.int8).reshape(kw, c).copy(), bias, qi,
                                  scales, qo, act, opts.strideW, fc.PADDINGS[opts.padding]))
        else:
            xs = fbk.shape(x)
            n, kh, kw, c = ws
            if xs[1] != 1 or kh != 1 or opts.dilationWFactor != 1:
                continue
            out.append(ModelLayer(i, "conv", ys[2], xs[2], kw * c, n, c, wd.view(np.int8).reshape(n, kw, c).copy(),
                                  bias, qi, scales, qo, act, opts.strideW, fc.PADDINGS[opts.padding]))
    return out


def adversarial_inputs(rng: np.random.Generator, shape) -> np.ndarray:
    """Extremes and their neighbours mixed with uniform bytes."""
    edges = np.array([-128, -127, -1, 0, 1, 126, 127], np.int8)
    size = int(np.prod(shape))
    v = np.where(rng.random(size) < 0.4, rng.choice(edges, size), rng.integers(-128, 128, size))
    return v.astype(np.int8).reshape(shape)


def out_scale_for_shift(in_scale: float, w_scale: float, shift: int, at: float = 0.5) -> float:
    """An output scale whose TFLM shift (QuantizeMultiplier's exponent) is ``shift``: real in [2^(shift-1), 2^shift)."""
    real = 2.0 ** (shift - 1) * (1.0 + at)
    return float(np.float32(in_scale * w_scale / real))


def _weights(rng, n, k, kind="uniform") -> np.ndarray:
    if kind == "extreme":
        return rng.choice(np.array([-128, -127, 127], np.int8), (n, k)).astype(np.int8)
    return rng.integers(-128, 128, (n, k)).astype(np.int8)


def _fc(name, rng, t, k, n, qi, w_scales, qo, activation="none", bias="random", wkind="uniform") -> Case:
    w = _weights(rng, n, k, wkind)
    if bias == "random":
        b = rng.integers(-20000, 20000, n).astype(np.int32)
    elif bias == "none":
        b = None
    else:
        b = np.asarray(bias, np.int64).astype(np.int32)
    return make_case(Case(name, "fc", adversarial_inputs(rng, (t, k)), w, b, qi, w_scales, qo, activation))


def synthetic_cases(rng: np.random.Generator, small: bool = False) -> list[Case]:
    """Adversarial quantisations, biases and sizes."""
    si, sw = 0.05, 0.004
    per_ch = lambda n, s=sw: tuple(float(x) for x in s * np.exp(rng.uniform(-1, 1, n)))   # noqa: E731
    cases = []
    for shift in (1, 0, -1, -2, -21, -22, -23, -24, -31):
        so = out_scale_for_shift(si, sw, shift)
        cases.append(_fc(f"shift_{shift}", rng, 9, 20, 8, (si, -3), sw, (so, 5)))
    cases += [
        _fc("per_channel_shifts_mixed", rng, 11, 24, 12, (si, 7),
            tuple([sw] * 4 + [sw * 2 ** 24] * 4 + [sw * 2 ** -4] * 4), (out_scale_for_shift(si, sw, -10), -2)),
        _fc("zp_in_m128_out_127", rng, 7, 32, 8, (si, -128), per_ch(8), (0.4, 127)),
        _fc("zp_in_127_out_m128", rng, 7, 32, 8, (si, 127), per_ch(8), (0.4, -128)),
        _fc("saturating", rng, 13, 64, 16, (0.5, 0), per_ch(16, 0.01), (0.01, 0), wkind="extreme"),
        _fc("bias_2p29", rng, 5, 16, 8, (si, 1), sw, (0.3, 2),
            bias=[(1 << 29) - 1, 1 << 29, -(1 << 29), -(1 << 29) + 1, (1 << 31) - 1, -(1 << 31), 123, -7]),
        _fc("no_bias", rng, 9, 48, 12, (si, -38), per_ch(12), (0.05, 8), bias="none"),
        _fc("relu", rng, 9, 40, 8, (si, -20), per_ch(8), (0.05, -20), "relu"),
        _fc("relu6", rng, 9, 40, 8, (si, 3), per_ch(8), (0.02, -100), "relu6"),
        _fc("relu_n1_to_1", rng, 9, 40, 8, (si, 3), per_ch(8), (0.01, 0), "relu_n1_to_1"),
        _fc("relu_zp127", rng, 5, 12, 4, (si, 3), per_ch(4), (0.05, 127), "relu"),
    ]
    sizes = [(1, 1, 1), (3, 1, 5), (5, 3, 7), (7, 5, 3), (2, 7, 1), (9, 13, 6), (4, 2, 2), (3, 4, 4), (17, 6, 9),
             (6, 29, 13), (1, 200, 3)]
    for t, k, n in sizes:
        cases.append(_fc(f"size_t{t}_k{k}_n{n}", rng, t, k, n, (si, int(rng.integers(-128, 128))), per_ch(n),
                         (0.1, int(rng.integers(-128, 128)))))
    for k, (t, kk, n) in enumerate([(21, 96, 48), (9, 128, 96), (33, 48, 28)] if not small else [(9, 96, 48)]):
        cases.append(_fc(f"per_tensor_t{t}_k{kk}_n{n}", rng, t, kk, n, (0.1, -40), 0.003, (0.12, -5)))
    # convolutions: SAME and VALID, strides 1 .. 3, odd sizes, padding beyond the input
    convs = (("same_k5", 23, 4, 5, 8, 1, "same"), ("valid_s2", 21, 6, 3, 8, 2, "valid"),
             ("same_s2", 17, 3, 3, 5, 2, "same"), ("same_k7_w3", 3, 2, 7, 4, 1, "same"),
             ("same_s3_odd", 10, 5, 4, 7, 3, "same"), ("valid_k1", 9, 8, 1, 4, 1, "valid"))
    for name, width, c, kw, n, stride, pad in convs:
        w = rng.integers(-128, 128, (n, kw, c)).astype(np.int8)
        cases.append(make_case(Case(f"conv_{name}", "conv", adversarial_inputs(rng, (width, c)), w,
                                    rng.integers(-5000, 5000, n).astype(np.int32),
                                    (0.05, int(rng.integers(-128, 128))),
                                    per_ch(n), (0.2, int(rng.integers(-128, 128))), "relu" if stride == 2 else "none",
                                    stride, pad)))
    # depthwise: the model's shape, channel counts off a multiple of 4, strides, VALID, padding wider than the input,
    # activations, both requantisation paths (per-channel shifts across the fast path's border), no bias, large biases
    dws = (("same_k7", 37, 96, 7, 1, "same", "none", None), ("same_c6", 23, 6, 5, 1, "same", "relu", None),
           ("valid_s2_c5", 21, 5, 3, 2, "valid", "none", None), ("same_k7_w3", 3, 8, 7, 1, "same", "relu6", None),
           ("same_s3_c1", 10, 1, 4, 3, "same", "none", None), ("valid_k1_c12", 9, 12, 1, 1, "valid", "none", None),
           ("shifts_c8", 15, 8, 3, 1, "same", "none", "shifts"), ("no_bias_c4", 11, 4, 5, 2, "same", "none", "none"),
           ("bias_2p29_c8", 9, 8, 3, 1, "same", "relu_n1_to_1", "big"))
    for name, width, c, kw, stride, pad, act, special in dws:
        w = rng.integers(-128, 128, (kw, c)).astype(np.int8)
        b = rng.integers(-5000, 5000, c).astype(np.int32)
        scales = per_ch(c)
        if special == "shifts":
            scales = tuple([sw] * 2 + [sw * 2 ** 24] * 2 + [sw * 2 ** -14] * 2 + [sw * 2 ** 8] * 2)
        elif special == "none":
            b = None
        elif special == "big":
            b = np.array([(1 << 29) - 1, 1 << 29, -(1 << 29), -(1 << 29) + 1, (1 << 31) - 1, -(1 << 31), 123, -7],
                         np.int64).astype(np.int32)
        so = 0.2 if special != "shifts" else out_scale_for_shift(si, sw, -10)
        cases.append(make_case(Case(f"dw_{name}", "dw", adversarial_inputs(rng, (width, c)), w, b,
                                    (si, int(rng.integers(-128, 128))), scales, (so, int(rng.integers(-128, 128))),
                                    act, stride, pad)))
    return cases


def random_cases(rng: np.random.Generator, n: int) -> list[Case]:
    """A random sweep: sizes (rows 1 .. 40, depth 1 .. 70, channels 1 .. 20; convolutions of width 1 .. 30, kernel
    1 .. 6, stride 1 .. 3, SAME or VALID), quantisations over 6 decades (output shifts from a left shift to -30),
    any zero points and activations, per tensor or per channel, biases small, large or absent."""
    cases = []
    while len(cases) < n:
        i = len(cases)
        r = rng.random()
        conv, dw = 0.3 <= r < 0.6, r >= 0.85
        act = str(rng.choice(ACTS))
        si = float(np.exp(rng.uniform(np.log(1e-3), np.log(1.0))))
        nch = int(rng.integers(1, 21))
        per_channel = rng.random() < 0.75
        ws = np.exp(rng.uniform(np.log(1e-4), np.log(0.05), nch if per_channel else 1))
        so = float(si * ws.max() * np.exp(rng.uniform(np.log(2.0 ** -30), np.log(4.0))))
        qi, qo = (si, int(rng.integers(-128, 128))), (so, int(rng.integers(-128, 128)))
        kind = rng.integers(0, 4)
        bias = None if kind == 0 else (rng.integers(-(1 << 31), 1 << 31, nch) if kind == 1
                                       else rng.integers(-100000, 100000, nch)).astype(np.int32)
        if bias is not None and not per_channel and so < si * ws[0] * 1e-4:
            continue                                 # TFLM's per-tensor Prepare wants |bias scale - in * w| < 0.02 out
        try:
            fc.make_params(*qi, tuple(ws), *qo, act)
        except fc.FcQuantError:
            continue                                 # relu6 on a tiny scale: TFLM's Prepare fails too
        if dw:
            width, kw = int(rng.integers(1, 31)), int(rng.integers(1, 8))
            stride, pad = int(rng.integers(1, 4)), str(rng.choice(fc.PADDINGS))
            if pad == "valid" and width < kw:
                continue
            w = rng.integers(-128, 128, (kw, nch)).astype(np.int8)
            case = Case(f"random_{i}_dw", "dw", adversarial_inputs(rng, (width, nch)), w, bias, qi, tuple(ws), qo,
                        act, stride, pad)
        elif conv:
            width, c, kw = int(rng.integers(1, 31)), int(rng.integers(1, 9)), int(rng.integers(1, 7))
            stride, pad = int(rng.integers(1, 4)), str(rng.choice(fc.PADDINGS))
            if pad == "valid" and width < kw:
                continue
            w = rng.integers(-128, 128, (nch, kw, c)).astype(np.int8)
            case = Case(f"random_{i}_conv", "conv", adversarial_inputs(rng, (width, c)), w, bias, qi, tuple(ws), qo,
                        act, stride, pad)
        else:
            t, k = int(rng.integers(1, 41)), int(rng.integers(1, 71))
            w = rng.integers(-128, 128, (nch, k)).astype(np.int8)
            case = Case(f"random_{i}_fc", "fc", adversarial_inputs(rng, (t, k)), w, bias, qi, tuple(ws), qo, act)
        cases.append(make_case(case))
    return cases


ACTS = fc.ACTIVATIONS


def model_cases(rng: np.random.Generator, small: bool = False, path: str | Path = DEVICE_MODEL) -> list[Case]:
    """The model's layers, their own constants, on adversarial inputs (all rows; 37 rows when ``small``)."""
    cases = []
    for layer in model_layers(path):
        if layer.kind == "fc":
            rows = layer.rows if not small else 37
            x = adversarial_inputs(rng, (rows, layer.depth))
        elif layer.kind == "dw":
            x = adversarial_inputs(rng, (layer.in_width if not small else 37, layer.in_channels))
        else:
            width = layer.in_width if not small else 37 + layer.depth // layer.in_channels
            x = adversarial_inputs(rng, (width, layer.in_channels))
        cases.append(make_case(Case(f"model_{layer.kind}{layer.index}", layer.kind, x, layer.w, layer.bias, layer.qi,
                                    layer.w_scales, layer.qo, layer.activation, layer.stride, layer.padding)))
    return cases


def default_cases(seed: int = 0, small: bool = False) -> list[Case]:
    """The model's layers (all rows, or 37 when ``small``), the adversarial cases, a random sweep (40, or 12)."""
    rng = np.random.default_rng(seed)
    return ((model_cases(rng, small) if DEVICE_MODEL.exists() else []) + synthetic_cases(rng, small)
            + random_cases(rng, 12 if small else 40))


def cmsis_nn_sources(cmsis_nn: str | Path) -> list[Path]:
    """CMSIS-NN's int8 convolution (depthwise too), fully-connected and support sources under a CMSIS-NN tree (what the C check and
    eval/bench_fc.py link to run CMSIS-NN beside the kernel)."""
    out = []
    for d in ("ConvolutionFunctions", "FullyConnectedFunctions", "NNSupportFunctions"):
        out += [p for p in sorted((Path(cmsis_nn) / "Source" / d).glob("*.c"))
                if "s8" in p.name or not any(t in p.name for t in ("s4", "s16", "s64"))]
    return out


# ------------------------------------------------------------------ C header
def header_body(cases: list[Case], seed: int = 0) -> str:
    parts = ["#define MA_FC_KIND_FC 0\n#define MA_FC_KIND_CONV 1\n#define MA_FC_KIND_DW 2\n\n"
             "struct ma_fc_case {\n  const char *name;\n  int32_t kind; /* MA_FC_KIND_* */\n"
             "  int32_t rows, depth, channels, row_stride, in_width, in_channels, pad_before;\n"
             "  int32_t input_offset, output_offset, act_min, act_max, per_channel;\n"
             "  const int32_t *multiplier, *shift, *bias;\n  const int8_t *x, *w, *out;\n};\n\n"]
    rows = []
    for i, c in enumerate(cases):
        p, g = c.params(), c.geometry()
        pre = f"ma_fc_case_{i}"
        parts += [c_array("int8_t", f"{pre}_x", c.x), c_array("int8_t", f"{pre}_w", c.w),
                  c_array("int8_t", f"{pre}_out", c.out), c_array("int32_t", f"{pre}_mult", p.multiplier),
                  c_array("int32_t", f"{pre}_shift", p.shift)]
        if c.bias is not None:
            parts.append(c_array("int32_t", f"{pre}_bias", c.bias))
        fields = [f'"{c.name}"', ("fc", "conv", "dw").index(c.kind), g["rows"], g["depth"], g["channels"], g["row_stride"],
                  g["in_width"], g["in_channels"], g["pad_before"], p.input_offset, p.output_offset, p.activation_min,
                  p.activation_max, int(p.per_channel), f"{pre}_mult", f"{pre}_shift",
                  f"{pre}_bias" if c.bias is not None else "0", f"{pre}_x", f"{pre}_w", f"{pre}_out"]
        rows.append("  {" + ", ".join(str(f) for f in fields) + "}")
    parts.append(f"#define MA_FC_NUM_CASES {len(cases)}\n")
    parts.append("static const struct ma_fc_case ma_fc_cases[MA_FC_NUM_CASES] = {\n" + ",\n".join(rows) + "\n};\n")
    return "".join(parts)


VECTORS = VectorsHeader(
    GENERATOR, HEADER_NAME, __doc__,
    " * Expected outputs: TFLite Micro's builtin int8 FULLY_CONNECTED / CONV_2D run by the PyPI tflite-micro\n"
    " * runtime; integer parameters: microalign.kernels.fully_connected.",
    default_cases, header_body)
render_header, write_header, main = VECTORS.render, VECTORS.write, VECTORS.main


if __name__ == "__main__":
    raise SystemExit(main())
