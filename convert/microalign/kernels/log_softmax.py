"""Integer-exact numpy reference of int8 LOG_SOFTMAX (TFLite Micro's reference kernel).

TFLite Micro's int8 LOG_SOFTMAX (``tensorflow/lite/micro/kernels/log_softmax.cc`` for Prepare,
``tensorflow/lite/kernels/internal/reference/log_softmax.h`` ``LogSoftmaxQuantized`` for Eval)
over the last axis, with gemmlowp fixed point, in the default build (``TFLITE_SINGLE_ROUNDING``
unset). :func:`make_params` is TFLM's Prepare (and the reference for the C
``ma_log_softmax_s8_params_init``); :func:`log_softmax_ref` computes every element's exponential
with whole-array operations, as TFLM does, so it is an independent check of the C kernel
(``tflm_app/kernels/ma_log_softmax_s8.c``), which looks the exponential up in a 256-entry table
by ``max(row) - x``; :func:`tables` gives that table (and the rescaled differences) for the
tests to compare with C's. The output quantisation is TFLM's fixed one: scale 1/16, zero
point 127.

Integer wrap-around: where TFLM's C++ adds or subtracts int32 values without saturation, the
result is wrapped to 32 bits as two's-complement hardware does (:func:`fixedpoint.wrap32`).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from . import fixedpoint as fp

OUTPUT_SCALE = np.float32(16.0 / 256.0)
OUTPUT_ZERO_POINT = 127
MAX_DEPTH = 4095           # the Q12.19 sum of exponentials (each <= 2**19) must fit in int32
INPUT_INTEGER_BITS = 5     # kInputIntegerBits (Q5.26 differences)
ACCUM_INTEGER_BITS = 12    # kAccumulationIntegerBits (Q12.19 sums)
OUTPUT_INTEGER_BITS = 4    # kOutputIntegerBits


class LogSoftmaxQuantError(ValueError):
    """An input quantisation TFLM's LOG_SOFTMAX Prepare rejects (or aborts on)."""


@dataclass(frozen=True)
class LogSoftmaxParams:
    """TFLM's ``LogSoftmaxOpData`` for one int8 input scale."""

    input_scale: float
    input_multiplier: int
    input_left_shift: int
    reverse_scaling_divisor: int
    reverse_scaling_right_shift: int
    diff_min: int


def make_params(input_scale: float) -> LogSoftmaxParams:
    """TFLM's Prepare for an int8 input of ``input_scale`` (stored as float32 in the model)."""
    scale = float(np.float32(input_scale))
    if not (scale > 0 and np.isfinite(scale)):
        raise LogSoftmaxQuantError(f"LOG_SOFTMAX input scale must be positive and finite, got {input_scale!r}")
    # PreprocessLogSoftmaxScalingExp(beta=1, scale, 5) -> PreprocessSoftmaxScaling (double rounding cap)
    real = min(1.0 * scale * (1 << (31 - INPUT_INTEGER_BITS)), (1 << 31) - 1.0)
    if not real > 1.0:
        raise LogSoftmaxQuantError(
            f"LOG_SOFTMAX input scale {scale!r} too small: TFLM needs scale * 2^26 > 1 (its Prepare aborts)")
    m, ls = fp.quantize_multiplier(real)
    reverse = (1 << (31 - ls)) / float(m)
    if not 0.0 < reverse < 1.0:
        raise LogSoftmaxQuantError(f"LOG_SOFTMAX input scale {scale!r}: reverse scaling {reverse!r} not in (0, 1)")
    rm, rs = fp.quantize_multiplier(reverse)
    if rs > 0:
        raise LogSoftmaxQuantError(f"LOG_SOFTMAX input scale {scale!r}: reverse scaling shift {rs} > 0")
    diff_min = -fp.calculate_input_radius(INPUT_INTEGER_BITS, ls)
    return LogSoftmaxParams(scale, m, ls, rm, -rs, diff_min)


# ---------------------------------------------------------------- gemmlowp pieces
def _sat_shl_param(x, exponent) -> np.ndarray:
    """``SaturatingRoundingMultiplyByPOTParam(int32 x, exponent)`` for array exponents 0..31."""
    x, e = fp._i64(x), fp._i64(exponent)
    threshold = (np.int64(1) << (31 - e)) - 1
    shifted = fp.wrap32(x << e)
    res = np.where(x > threshold, fp.INT32_MAX, np.where(x < -threshold, fp.INT32_MIN, shifted))
    return np.where(e == 0, x, res)


def _sat_add(a, b) -> np.ndarray:
    return np.clip(fp._i64(a) + fp._i64(b), fp.INT32_MIN, fp.INT32_MAX)


def _sat_sub(a, b) -> np.ndarray:
    return np.clip(fp._i64(a) - fp._i64(b), fp.INT32_MIN, fp.INT32_MAX)


def log_q5(sum_q12) -> np.ndarray:
    """TFLM ``log_x_for_x_greater_than_or_equal_to_1<5>`` of a Q12.19 value (>= 1.0), result Q5.26."""
    w = fp.wrap32
    accum_bits = 6                                    # OutputIntegerBits + 1
    log_2, sqrt_sqrt_half, sqrt_half = 1488522236, 1805811301, 1518500250
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    shifted_quarter = fp.rdbpot(536870912, accum_bits)
    z_a = fp._i64(sum_q12)
    z_a_headroom_plus_1 = fp.count_leading_zeros_u32(z_a)
    r_a_tmp = _sat_shl_param(z_a, z_a_headroom_plus_1 - 1)
    r_a_raw = _sat_shl_param(fp.srdhm(r_a_tmp, sqrt_half), 1)
    z_a_pow_2_adj = _sat_add(_sat_shl_param(ACCUM_INTEGER_BITS - z_a_headroom_plus_1, 31 - accum_bits),
                             shifted_quarter)
    z_b = fp.srdhm(z_a, sqrt_half)
    z_b_headroom = fp.count_leading_zeros_u32(z_b) - 1
    r_b_raw = _sat_shl_param(z_a, z_b_headroom)
    z_b_pow_2_adj = _sat_sub(_sat_shl_param(ACCUM_INTEGER_BITS - z_b_headroom, 31 - accum_bits), shifted_quarter)
    r = np.minimum(r_a_raw, r_b_raw)
    z_pow_2_adj = np.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    p = fp.rounding_half_sum(r, sqrt_sqrt_half)
    q = w(r - sqrt_sqrt_half)
    q = w(q + q)
    common_sq = fp.srdhm(q, q)
    num = w(fp.srdhm(q, r) + fp.srdhm(fp.srdhm(q, common_sq), alpha_n))
    denom_minus_one_0 = w(fp.srdhm(p, w(w(alpha_i + q) + fp.srdhm(alpha_d, common_sq))) + fp.srdhm(alpha_f, q))
    recip_denom = fp.one_over_one_plus_x_for_x_in_0_1(denom_minus_one_0)
    num_scaled = fp.rdbpot(num, accum_bits)
    return fp.sat_shift_left(w(fp.srdhm(z_pow_2_adj, log_2) + fp.srdhm(num_scaled, recip_denom)), 1)


# ---------------------------------------------------------------- the operator
def _check_input(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.int8:
        raise ValueError(f"LOG_SOFTMAX int8 reference needs an int8 array, got {x.dtype}")
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"LOG_SOFTMAX needs a last axis of length >= 1, got shape {x.shape}")
    if x.shape[-1] > MAX_DEPTH:
        raise ValueError(f"LOG_SOFTMAX last axis {x.shape[-1]} exceeds {MAX_DEPTH} (the int32 sum of exponentials)")
    return x


def log_softmax_ref(x: np.ndarray, params: LogSoftmaxParams) -> np.ndarray:
    """int8 LOG_SOFTMAX of ``x`` over its last axis, exactly as TFLM computes it (any leading shape)."""
    x = _check_input(x)
    p = params
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    diff = rows - rows.max(axis=1, keepdims=True)                       # <= 0
    used = diff >= p.diff_min
    diff_q5 = fp.multiply_by_quantized_multiplier(np.where(used, diff, 0), p.input_multiplier, p.input_left_shift)
    exps = fp.rdbpot(fp.exp_on_negative_values(diff_q5, INPUT_INTEGER_BITS), ACCUM_INTEGER_BITS)   # Rescale<12>
    sums = np.where(used, exps, 0).sum(axis=1, keepdims=True)
    log_sum = log_q5(sums)
    adjusted = np.maximum(p.diff_min - 1,
                          fp.multiply_by_quantized_multiplier(fp.wrap32(log_sum + fp.INT32_MIN),
                                                              p.reverse_scaling_divisor,
                                                              -p.reverse_scaling_right_shift))
    shift = 31 - INPUT_INTEGER_BITS - OUTPUT_INTEGER_BITS
    out = np.clip(fp.rdbpot(fp.wrap32(diff_q5 - log_sum), shift) + 127, -128, 127)
    out = np.where(diff > adjusted, out, -128)
    return out.astype(np.int8).reshape(x.shape)


def tables(params: LogSoftmaxParams) -> tuple[np.ndarray, np.ndarray]:
    """The C kernel's tables by ``d = max(row) - x``: (Q5.26 differences, Q12.19 exponentials), 0 where unused."""
    d = np.arange(256, dtype=np.int64)
    used = -d >= params.diff_min
    diff_q5 = fp.multiply_by_quantized_multiplier(np.where(used, -d, 0), params.input_multiplier,
                                                  params.input_left_shift)
    exps = fp.rdbpot(fp.exp_on_negative_values(diff_q5, INPUT_INTEGER_BITS), ACCUM_INTEGER_BITS)
    return np.where(used, diff_q5, 0), np.where(used, exps, 0)


def log_softmax_float(x: np.ndarray, input_scale: float) -> np.ndarray:
    """What the int8 operator approximates: log_softmax of the dequantised input, in float64."""
    z = np.asarray(x, dtype=np.float64) * float(np.float32(input_scale))
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m microalign.kernels.log_softmax",
                                 description="Print TFLM's int8 LOG_SOFTMAX parameters for an input scale.")
    ap.add_argument("input_scale", type=float)
    a = ap.parse_args(argv)
    print(make_params(a.input_scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
