"""Integer-exact numpy reference of int8 FULLY_CONNECTED and 1-D CONV_2D (TFLite Micro's reference kernels, CMSIS-NN).

TFLite Micro's int8 FULLY_CONNECTED (``tensorflow/lite/micro/kernels/fully_connected_common.cc``
``CalculateOpDataFullyConnected`` for Prepare; ``reference_integer_ops::FullyConnected`` /
``FullyConnectedPerChannel`` per output) and CONV_2D of height 1 (``PopulateConvolutionQuantizationParams``,
``reference_integer_ops::ConvPerChannel``), default build (``TFLITE_SINGLE_ROUNDING`` unset). Per output row ``t``
and channel ``n``::

    acc = bias[n] + sum_k (x_t[k] - zp_in) * w[n][k]            (int32)
    out[t][n] = clamp(MBQM(acc, multiplier[n], shift[n]) + zp_out, act_min, act_max)

with ``multiplier[n], shift[n] = QuantizeMultiplier(in_scale * w_scale[n] / out_scale)`` in double (one weight
scale: per tensor). A 1-D convolution in NHWC (height 1) is the same product over overlapping rows: output ``t``
reads input columns ``t * stride - pad_before ...`` for ``kernel_w`` columns, padded columns being the input zero
point (they add nothing).

:func:`make_params` is TFLM's Prepare; :func:`fc_ref` and :func:`conv1d_ref` evaluate the definition with whole
arrays (int64, then wrapped to int32 as the C++ does), independently of the C kernel
(``tflm_app/kernels/ma_fc_s8.c``: weight-stationary blocks, the input zero point folded into a per-channel start
value, a three-instruction requantisation where the shift allows). :func:`conv_padding` is TFLM's
``ComputePaddingHeightWidth`` for one dimension.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import add as ad
from . import fixedpoint as fp

MAX_DEPTH = 16384                 # MA_FC_S8_MAX_DEPTH: |sum (x - zp) w| < 2^29
ACTIVATIONS = ad.ACTIVATIONS      # none, relu, relu_n1_to_1, relu6 (TfLiteFusedActivation 0..3)
PADDINGS = ("same", "valid")      # TFLite Padding 0, 1


class FcQuantError(ValueError):
    """A quantisation or shape TFLM's int8 FULLY_CONNECTED / CONV_2D Prepare rejects, or the kernel cannot take."""


@dataclass(frozen=True)
class FcParams:
    """The integers TFLM's Prepare computes for one int8 FULLY_CONNECTED (or CONV_2D) operator."""

    input_offset: int                 # -input zero point
    output_offset: int                # output zero point
    activation_min: int
    activation_max: int
    per_channel: bool
    multiplier: tuple[int, ...]       # one per output channel (per channel), else one
    shift: tuple[int, ...]

    def channel(self, n_out: int) -> tuple[np.ndarray, np.ndarray]:
        """Multipliers and shifts broadcast to ``n_out`` channels (int64)."""
        m, s = np.asarray(self.multiplier, np.int64), np.asarray(self.shift, np.int64)
        if not self.per_channel:
            return np.full(n_out, m[0]), np.full(n_out, s[0])
        if m.size != n_out:
            raise FcQuantError(f"{m.size} per-channel multipliers for {n_out} output channels")
        return m, s


def _f32(x) -> float:
    return float(np.float32(x))


def _scale(s, what: str) -> float:
    v = _f32(s)
    if not (v > 0 and np.isfinite(v)):
        raise FcQuantError(f"FULLY_CONNECTED {what} scale must be positive and finite, got {s!r}")
    return v


def _zero_point(z, what: str) -> int:
    if int(z) != z or not -128 <= int(z) <= 127:
        raise FcQuantError(f"FULLY_CONNECTED {what} zero point {z!r} outside the int8 range -128..127")
    return int(z)


def make_params(input_scale: float, input_zero_point: int, weight_scales, output_scale: float,
                output_zero_point: int, activation: str = "none") -> FcParams:
    """TFLM's Prepare of an int8 FULLY_CONNECTED (or CONV_2D) with int8 weights of zero point 0: ``weight_scales``
    one float (per tensor) or one per output channel (per channel; a one-element list is per tensor, as in TFLM).
    Scales are taken as the float32 the model stores."""
    si, so = _scale(input_scale, "input"), _scale(output_scale, "output")
    zi, zo = _zero_point(input_zero_point, "input"), _zero_point(output_zero_point, "output")
    ws = np.atleast_1d(np.asarray(weight_scales, np.float64)).astype(np.float32)
    if ws.size == 0:
        raise FcQuantError("FULLY_CONNECTED weights have no scale")
    for w in ws:
        _scale(w, "weight")
    per_channel = ws.size > 1
    mults, shifts = [], []
    for w in ws:
        # per channel: double(in) * double(w) / double(out); per tensor: (double(in) * double(w)) / double(out)
        real = float(np.float64(si) * np.float64(w) / np.float64(so))
        m, s = fp.quantize_multiplier(real)
        mults.append(m)
        shifts.append(s)
    try:
        lo, hi = ad.activation_range(activation, so, zo)
    except ad.AddQuantError as e:
        raise FcQuantError(str(e).replace("ADD", "FULLY_CONNECTED")) from None
    if lo > hi:
        raise FcQuantError(f"FULLY_CONNECTED activation {activation!r} on output scale {output_scale!r} zero point "
                           f"{zo}: empty range {lo}..{hi}")
    return FcParams(-zi, zo, lo, hi, per_channel, tuple(mults), tuple(shifts))


def _check(x, w, bias, channel_axis: int = 0, op: str = "FULLY_CONNECTED") -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray | None]:
    """int8 input and weights, and an int32 bias of one value per output channel (weights' ``channel_axis``)."""
    x, w = np.asarray(x), np.asarray(w)
    if x.dtype != np.int8 or w.dtype != np.int8:
        raise ValueError(f"{op} int8 reference needs int8 input and weights, got {x.dtype} and {w.dtype}")
    if bias is not None:
        bias = np.asarray(bias)
        n = w.shape[channel_axis] if w.ndim > channel_axis else -1
        if bias.dtype != np.int32 or bias.shape != (n,):
            raise ValueError(f"{op} bias must be int32 of shape ({n},), got {bias.dtype} {bias.shape}")
    return x, w, bias


def requantize(acc: np.ndarray, params: FcParams) -> np.ndarray:
    """int32 accumulators ``[..., n_out]`` -> int8 outputs: MBQM per channel, + zero point, clamp."""
    m, s = params.channel(acc.shape[-1])
    raw = fp.multiply_by_quantized_multiplier(fp.wrap32(acc), m, s)
    return np.clip(raw + params.output_offset, params.activation_min, params.activation_max).astype(np.int8)


def fc_ref(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, params: FcParams) -> np.ndarray:
    """int8 FULLY_CONNECTED: ``x`` ``[..., K]``, ``w`` ``[N, K]``, ``bias`` ``[N]`` int32 or None -> ``[..., N]``."""
    x, w, bias = _check(x, w, bias)
    if w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"FULLY_CONNECTED input depth {x.shape[-1:]} does not match weights {w.shape}")
    acc = (x.astype(np.int64) + params.input_offset) @ w.astype(np.int64).T
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    return requantize(acc, params)


def conv_padding(in_width: int, kernel_w: int, stride: int, padding: str) -> tuple[int, int]:
    """TFLM's output width and padding before (``ComputeOutSize`` / ``ComputePaddingHeightWidth``, dilation 1)."""
    if padding not in PADDINGS:
        raise ValueError(f"CONV_2D padding {padding!r} not one of {', '.join(PADDINGS)}")
    if stride < 1 or kernel_w < 1 or in_width < 1:
        raise ValueError(f"CONV_2D needs stride, kernel and input width >= 1, got {stride}, {kernel_w}, {in_width}")
    out = (in_width + stride - 1) // stride if padding == "same" else (in_width - kernel_w + stride) // stride
    total = max((out - 1) * stride + kernel_w - in_width, 0)
    return out, total // 2


def conv1d_ref(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, params: FcParams, stride: int = 1,
               padding: str = "valid") -> np.ndarray:
    """int8 CONV_2D of height 1 in NHWC: ``x`` ``[W, C]``, ``w`` ``[N, kernel_w, C]``, ``bias`` ``[N]`` or None ->
    ``[W_out, N]``."""
    x, w, bias = _check(x, w, bias)
    if x.ndim != 2 or w.ndim != 3 or w.shape[2] != x.shape[1]:
        raise ValueError(f"CONV_2D reference needs x [W, C] and w [N, kw, C], got {x.shape} and {w.shape}")
    width, c = x.shape
    kw = w.shape[1]
    out_w, pad = conv_padding(width, kw, stride, padding)
    fill = -params.input_offset
    xp = np.full((pad + max(width, (out_w - 1) * stride + kw - pad), c), fill, np.int64)
    xp[pad:pad + width] = x
    cols = np.stack([xp[t * stride:t * stride + kw].ravel() for t in range(out_w)]) if out_w > 0 else \
        np.zeros((0, kw * c), np.int64)
    acc = (cols + params.input_offset) @ w.reshape(w.shape[0], -1).astype(np.int64).T
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    return requantize(acc, params)


def depthwise_conv1d_ref(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, params: FcParams, stride: int = 1,
                         padding: str = "valid") -> np.ndarray:
    """int8 DEPTHWISE_CONV_2D of height 1, depth multiplier 1, in NHWC (TFLM's ``DepthwiseConvPerChannel``): ``x``
    ``[W, C]``, ``w`` ``[kernel_w, C]`` (TFLite's ``[1, 1, kernel_w, C]``), ``bias`` ``[C]`` or None -> ``[W_out, C]``.
    Channel c of output t sums ``(x[t * stride - pad + j][c] - zp_in) * w[j][c]`` over the taps inside the input."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 2 or w.ndim != 2 or w.shape[1] != x.shape[1]:
        raise ValueError(f"DEPTHWISE_CONV_2D reference needs x [W, C] and w [kw, C], got {x.shape} and {w.shape}")
    x, w, bias = _check(x, w, bias, 1, "DEPTHWISE_CONV_2D")
    width, c = x.shape
    kw = w.shape[0]
    out_w, pad = conv_padding(width, kw, stride, padding)
    xp = np.zeros((pad + max(width, (out_w - 1) * stride + kw - pad), c), np.int64)   # x - zp_in, 0 outside
    xp[pad:pad + width] = x.astype(np.int64) + params.input_offset
    acc = np.zeros((out_w, c), np.int64)
    for j in range(kw):
        acc += xp[j:j + (out_w - 1) * stride + 1:stride] * w[j].astype(np.int64)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    return requantize(acc, params)


def fc_float(x, w, bias, input_scale: float, input_zero_point: int, weight_scales, bias_scale=None) -> np.ndarray:
    """What the int8 operator approximates: the product of the dequantised tensors, in float64."""
    ws = np.broadcast_to(np.asarray(weight_scales, np.float64).astype(np.float32).astype(np.float64), (w.shape[0],))
    y = ((np.asarray(x, np.float64) - input_zero_point) * _f32(input_scale)) @ (w.astype(np.float64) * ws[:, None]).T
    if bias is not None:
        y = y + bias.astype(np.float64) * (_f32(input_scale) * ws if bias_scale is None else bias_scale)
    return y
