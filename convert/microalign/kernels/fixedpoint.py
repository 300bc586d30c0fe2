"""TFLite / gemmlowp integer primitives, vectorised over numpy int64 arrays.

Each function reproduces one C++ function of TFLite Micro's reference kernels
(``tensorflow/lite/kernels/internal/common.{h,cc}``,
``quantization_util.cc``) or of gemmlowp's ``fixedpoint/fixedpoint.h``,
bit for bit, in the default build (``TFLITE_SINGLE_ROUNDING`` unset: the
"double rounding" requantisation, which is what the PyPI ``tflite-micro``
wheel uses — checked by ``tests/test_attention_kernel.py``).

Values are int32 quantities held in int64 arrays (so products do not
overflow); where C++ would overflow an int32 (``x * (1 << shift)`` in
:func:`multiply_by_quantized_multiplier`) the result is wrapped to 32 bits as
two's-complement hardware does. Scalars in, numpy scalars/arrays out.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap32(x) -> np.ndarray:
    """Two's-complement wrap of an integer array to int32 range."""
    x = _i64(x)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


# ---------------------------------------------------------------- gemmlowp
def srdhm(a, b) -> np.ndarray:
    """``SaturatingRoundingDoublingHighMul(int32 a, int32 b)``."""
    a, b = _i64(a), _i64(b)
    overflow = (a == b) & (a == INT32_MIN)
    ab = a * b
    q = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    res = np.where(q >= 0, q >> 31, -((-q) >> 31))      # C++ '/' truncates toward zero
    return np.where(overflow, INT32_MAX, res)


def rdbpot(x, exponent) -> np.ndarray:
    """``RoundingDivideByPOT(int32 x, exponent)``, 0 <= exponent <= 31."""
    x, e = _i64(x), _i64(exponent)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def sat_shift_left(x, exponent: int) -> np.ndarray:
    """``SaturatingRoundingMultiplyByPOT<exponent>`` for exponent > 0 (int32)."""
    x = _i64(x)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rounding_half_sum(a, b) -> np.ndarray:
    s = _i64(a) + _i64(b)
    t = s + np.where(s >= 0, 1, -1)
    return np.where(t >= 0, t // 2, -((-t) // 2))       # truncating division


def exp_on_interval_between_negative_one_quarter_and_0_excl(a) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), Q0.31 in and out."""
    constant_term = 1895147668                           # exp(-1/8)
    constant_1_over_3 = 715827883
    x = _i64(a) + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    poly = rdbpot(srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1)
    return constant_term + srdhm(constant_term, x + poly)


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits: int = 5) -> np.ndarray:
    """gemmlowp ``exp_on_negative_values`` of a ``FixedPoint<int32, integer_bits>`` (a <= 0), result Q0.31."""
    a = _i64(a)
    frac = 31 - integer_bits
    one_quarter = 1 << (frac - 2)
    a_mod = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        sat_shift_left(a_mod, integer_bits) if integer_bits > 0 else a_mod)
    remainder = a_mod - a
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = np.int64(1) << (frac + exponent)
            result = np.where((remainder & bit) != 0, srdhm(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson, as gemmlowp)."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(half_denominator, -1010580540)            # Q2.29
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(half_denominator, x)
        x = x + sat_shift_left(srdhm(x, one_minus), 2)
    return sat_shift_left(x, 1)


def count_leading_zeros_u32(x) -> np.ndarray:
    """Leading zero bits of a uint32 (32 for 0)."""
    x = _i64(x) & 0xFFFFFFFF
    n = np.zeros(x.shape, dtype=np.int64)
    y = x.copy()
    for s, mask in ((16, 0xFFFF0000), (8, 0xFF000000), (4, 0xF0000000), (2, 0xC0000000), (1, 0x80000000)):
        z = (y & mask) == 0
        n = n + z * s
        y = np.where(z, (y << s) & 0xFFFFFFFF, y)
    return np.where(x == 0, 32, n)


def get_reciprocal(x, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite ``GetReciprocal``: returns (Q0.31 scale, num_bits_over_unit)."""
    x = _i64(x)
    headroom_plus_one = count_leading_zeros_u32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return one_over_one_plus_x_for_x_in_0_1(shifted), num_bits_over_unit


# ------------------------------------------------------------------ TFLite
def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """``MultiplyByQuantizedMultiplier(int32 x, int32 m, int shift)``, double rounding."""
    shift = _i64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rdbpot(srdhm(wrap32(_i64(x) << left), multiplier), right)


def multiply_by_quantized_multiplier_gt_one(x, multiplier, left_shift) -> np.ndarray:
    """``MultiplyByQuantizedMultiplierGreaterThanOne`` (double rounding)."""
    return srdhm(wrap32(_i64(x) << np.int64(left_shift)), multiplier)


def tflite_round(x: float) -> int:
    """``TfLiteRound`` (``std::round``: half away from zero)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """``QuantizeMultiplier(double)`` -> (int32 multiplier, shift)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed > (1 << 31):
        raise ValueError(f"QuantizeMultiplier: bad multiplier {real!r}")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if q_fixed > INT32_MAX:
        raise ValueError(f"QuantizeMultiplier: multiplier out of range {real!r}")
    return int(q_fixed), int(shift)


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int = 5) -> tuple[int, int]:
    """``PreprocessSoftmaxScaling`` (double rounding) -> (multiplier, left_shift)."""
    real = min(beta * input_scale * (1 << (31 - input_integer_bits)), (1 << 31) - 1.0)
    if not real > 1.0:
        raise ValueError(f"softmax input scale {input_scale!r} too small (TFLite requires beta*scale*2^26 > 1)")
    m, s = quantize_multiplier(real)
    if s < 0:
        raise ValueError("softmax: negative left shift")
    return m, s


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """``CalculateInputRadius`` (float path)."""
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1) * (1 << (total_signed_bits - input_integer_bits))
                          / (1 << input_left_shift))
    return int(math.floor(max_input_rescaled))
