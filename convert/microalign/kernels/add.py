"""Integer-exact numpy reference of int8 ADD (TFLite Micro's reference kernel, and CMSIS-NN's).

TFLite Micro's int8 ADD of two same-shape tensors (``tensorflow/lite/micro/kernels/add_common.cc``
``CalculateOpDataAdd`` for Prepare; ``tensorflow/lite/kernels/internal/reference/integer_ops/add.h``
``AddFunc`` per element; CMSIS-NN's ``arm_elementwise_add_s8`` computes the same integers), in the
default build (``TFLITE_SINGLE_ROUNDING`` unset). Per element::

    a = MBQM((x1 - zp1) << 20, m1, s1);  b = MBQM((x2 - zp2) << 20, m2, s2)
    out = clamp(MBQM(a + b, mo, so) + zp_out, act_min, act_max)

:func:`make_params` is TFLM's Prepare (and the reference for the C ``ma_add_s8_params_init``);
:func:`add_ref` evaluates the three requantisations of every element with whole-array operations,
as TFLM does, so it is an independent check of the C kernel (``tflm_app/kernels/ma_add_s8.c``),
which looks ``a`` and ``b`` up in two 256-entry tables (:func:`tables`) and requantises only the
sum. :func:`activation_range` is TFLM's ``CalculateActivationRangeQuantized`` for int8.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from . import fixedpoint as fp

LEFT_SHIFT = 20                  # TFLM's left_shift for int8 ADD
ACTIVATIONS = ("none", "relu", "relu_n1_to_1", "relu6")   # TfLiteFusedActivation 0..3 (TFLM's int8 ADD)
INT8_MIN, INT8_MAX = -128, 127


class AddQuantError(ValueError):
    """A quantisation TFLM's int8 ADD Prepare rejects (or aborts on), or a bad activation."""


@dataclass(frozen=True)
class AddParams:
    """TFLM's ``OpDataAdd`` (int8 fields) for one ADD operator."""

    input1_offset: int          # -zero point of input 1
    input1_multiplier: int
    input1_shift: int           # <= 0
    input2_offset: int
    input2_multiplier: int
    input2_shift: int
    output_offset: int          # zero point of the output
    output_multiplier: int
    output_shift: int           # <= 0
    activation_min: int
    activation_max: int
    left_shift: int = LEFT_SHIFT


def _f32(x) -> float:
    return float(np.float32(x))


def _smaller_than_one(real: float, what: str) -> tuple[int, int]:
    """``QuantizeMultiplierSmallerThanOneExp`` (its CHECKs abort TFLM; here they raise)."""
    if not 0.0 < real < 1.0:
        raise AddQuantError(f"ADD {what} multiplier {real!r} must be in (0, 1) (TFLM's Prepare aborts otherwise)")
    m, s = fp.quantize_multiplier(real)
    if s > 0:   # cannot happen for real < 1; kept as TFLM's CHECK
        raise AddQuantError(f"ADD {what} multiplier {real!r}: shift {s} > 0")
    return m, s


def _check_zero_point(zp, what: str) -> int:
    if not INT8_MIN <= int(zp) <= INT8_MAX or int(zp) != zp:
        raise AddQuantError(f"ADD {what} zero point {zp!r} outside the int8 range -128..127")
    return int(zp)


def _check_scale(scale, what: str) -> float:
    s = _f32(scale)
    if not (s > 0 and np.isfinite(s)):
        raise AddQuantError(f"ADD {what} scale must be positive and finite, got {scale!r}")
    return s


def quantize_value(scale: float, zero_point: int, f: float) -> int:
    """TFLM's ``Quantize`` in kernel_util.cc: ``zero_point + (int32) TfLiteRound(f / scale)`` in float32 (a value
    outside the int32 range fails TFLM's Prepare)."""
    tmp = float(np.float32(np.float32(f) / np.float32(scale)))
    if not -2.0 ** 31 <= tmp <= 2.0 ** 31:
        raise AddQuantError(f"ADD activation bound {f!r} on output scale {scale!r} overflows int32 "
                            f"(TFLM's Prepare fails)")
    return int(zero_point) + fp.tflite_round(tmp)


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLM's ``CalculateActivationRangeQuantized`` for an int8 output of ``scale`` and ``zero_point``."""
    if activation not in ACTIVATIONS:
        raise AddQuantError(f"ADD fused activation {activation!r} not one of {', '.join(ACTIVATIONS)}")
    lo, hi = INT8_MIN, INT8_MAX
    if activation == "relu":
        lo = max(lo, quantize_value(scale, zero_point, 0.0))
    elif activation == "relu6":
        lo = max(lo, quantize_value(scale, zero_point, 0.0))
        hi = min(hi, quantize_value(scale, zero_point, 6.0))
    elif activation == "relu_n1_to_1":
        lo = max(lo, quantize_value(scale, zero_point, -1.0))
        hi = min(hi, quantize_value(scale, zero_point, 1.0))
    return lo, hi


def make_params(input1_scale: float, input1_zero_point: int, input2_scale: float, input2_zero_point: int,
                output_scale: float, output_zero_point: int, activation: str = "none") -> AddParams:
    """TFLM's Prepare of an int8 ADD (scales as the float32 the model stores)."""
    s1, s2, so = (_check_scale(s, w) for s, w in ((input1_scale, "input 1"), (input2_scale, "input 2"),
                                                   (output_scale, "output")))
    z1, z2, zo = (_check_zero_point(z, w) for z, w in ((input1_zero_point, "input 1"),
                                                        (input2_zero_point, "input 2"),
                                                        (output_zero_point, "output")))
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one(s1 / twice_max, "input 1")
    m2, sh2 = _smaller_than_one(s2 / twice_max, "input 2")
    real_out = twice_max / ((1 << LEFT_SHIFT) * so)
    if not real_out < 1.0:
        raise AddQuantError(f"ADD output scale {output_scale!r} too small for input scales {input1_scale!r}, "
                            f"{input2_scale!r}: TFLM needs 2 * max(input scales) / (2^20 * output scale) < 1 "
                            f"(got {real_out!r}; its Prepare aborts)")
    mo, sho = _smaller_than_one(real_out, "output")
    lo, hi = activation_range(activation, so, zo)
    if lo > hi:
        raise AddQuantError(f"ADD activation {activation!r} on output scale {output_scale!r} zero point {zo}: "
                            f"empty range {lo}..{hi}")
    return AddParams(-z1, m1, sh1, -z2, m2, sh2, zo, mo, sho, lo, hi)


def _check_inputs(x1, x2) -> tuple[np.ndarray, np.ndarray]:
    x1, x2 = np.asarray(x1), np.asarray(x2)
    for x, w in ((x1, "input 1"), (x2, "input 2")):
        if x.dtype != np.int8:
            raise ValueError(f"ADD int8 reference needs int8 arrays, {w} is {x.dtype}")
    if x1.shape != x2.shape:
        raise ValueError(f"ADD reference needs same-shape inputs (no broadcasting), got {x1.shape} and {x2.shape}")
    return x1, x2


def scaled_inputs(x, offset: int, multiplier: int, shift: int) -> np.ndarray:
    """``MultiplyByQuantizedMultiplierSmallerThanOneExp((x + offset) * 2^20, multiplier, shift)``."""
    return fp.multiply_by_quantized_multiplier(fp.wrap32((np.asarray(x, np.int64) + offset) << LEFT_SHIFT),
                                               multiplier, shift)


def add_ref(x1: np.ndarray, x2: np.ndarray, params: AddParams) -> np.ndarray:
    """int8 ADD of two same-shape arrays, exactly as TFLM computes it."""
    x1, x2 = _check_inputs(x1, x2)
    p = params
    a = scaled_inputs(x1, p.input1_offset, p.input1_multiplier, p.input1_shift)
    b = scaled_inputs(x2, p.input2_offset, p.input2_multiplier, p.input2_shift)
    raw = fp.multiply_by_quantized_multiplier(fp.wrap32(a + b), p.output_multiplier, p.output_shift)
    out = np.clip(raw + p.output_offset, p.activation_min, p.activation_max)
    return out.astype(np.int8).reshape(x1.shape)


def tables(params: AddParams) -> np.ndarray:
    """The C kernel's tables ``[2, 256]`` int32: twice each input's scaled value, by the input byte read as uint8
    (entry ``i`` is for the int8 value ``(int8) i``). Doubled so that the sum feeds SMMLAR directly."""
    x = np.arange(256, dtype=np.int64).astype(np.uint8).view(np.int8).astype(np.int64)
    p = params
    t1 = scaled_inputs(x, p.input1_offset, p.input1_multiplier, p.input1_shift)
    t2 = scaled_inputs(x, p.input2_offset, p.input2_multiplier, p.input2_shift)
    return (2 * np.stack([t1, t2])).astype(np.int32)


def add_float(x1: np.ndarray, x2: np.ndarray, input1_scale: float, input1_zero_point: int, input2_scale: float,
              input2_zero_point: int) -> np.ndarray:
    """What the int8 operator approximates: the sum of the dequantised inputs, in float64."""
    return ((np.asarray(x1, np.float64) - input1_zero_point) * _f32(input1_scale)
            + (np.asarray(x2, np.float64) - input2_zero_point) * _f32(input2_scale))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m microalign.kernels.add",
                                 description="Print TFLM's int8 ADD parameters for two inputs' and the output's "
                                             "quantisation.")
    for n in ("input1", "input2", "output"):
        ap.add_argument(f"{n}_scale", type=float)
        ap.add_argument(f"{n}_zero_point", type=int)
    ap.add_argument("--activation", default="none", choices=ACTIVATIONS)
    a = ap.parse_args(argv)
    print(make_params(a.input1_scale, a.input1_zero_point, a.input2_scale, a.input2_zero_point, a.output_scale,
                      a.output_zero_point, a.activation))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
