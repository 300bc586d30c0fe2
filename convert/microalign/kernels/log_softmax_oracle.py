"""TFLite Micro's int8 LOG_SOFTMAX as the oracle: a one-op model, test cases, a C header of vectors.

:func:`build_log_softmax_tflite` writes a model holding one builtin int8 LOG_SOFTMAX (input
``[1, rows, depth]`` of a given scale and zero point; output scale 1/16, zero point 127, what TFLM
requires); :func:`run_tflm` runs it in the PyPI ``tflite-micro`` runtime. :func:`default_cases`
covers the shipped model's quantisation (input scale 0.179, ``[400, 28]`` per window) and
others, on random and adversarial rows (all equal, one peak, values at and around ``diff_min``,
full-range, long rows up to the 4095 limit); :func:`write_header` writes them with the
reference's integer parameters and tables for ``convert/microalign/kernels/c/ma_log_softmax_s8_check.c``.

    python -m microalign.kernels.log_softmax_oracle --out DIR [--small]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cheader import VectorsHeader, c_array
from ..export import flatbuffer as fbk
from . import log_softmax as ls

GENERATOR = "microalign.kernels.log_softmax_oracle"
HEADER_NAME = "ma_log_softmax_s8_vectors.h"
SHIPPED_INPUT_SCALE = 0.17900951      # student_int8.tflite's LOG_SOFTMAX input (zero point 19)
SHIPPED_INPUT_ZERO_POINT = 19


def build_log_softmax_tflite(input_scale: float, input_zero_point: int, rows: int, depth: int,
                             output_scale: float = float(ls.OUTPUT_SCALE),
                             output_zero_point: int = ls.OUTPUT_ZERO_POINT, float32: bool = False) -> bytes:
    """A model with one builtin int8 LOG_SOFTMAX, ``[1, rows, depth]`` in and out (no TensorFlow needed);
    ``float32``: the float operator instead (the quantisation arguments are then ignored)."""
    fb = fbk.schema()
    tensors = []
    for name, (scale, zp) in (("x", (input_scale, input_zero_point)), ("log_probs", (output_scale, output_zero_point))):
        t = fb.TensorT()
        t.name, t.shape, t.buffer = name, [1, rows, depth], 0
        t.type = fb.TensorType.FLOAT32 if float32 else fb.TensorType.INT8
        if not float32:
            q = fb.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(np.float32(scale))], [int(zp)]
            t.quantization = q
        tensors.append(t)
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.LogSoftmaxOptions, fb.LogSoftmaxOptionsT()
    sg = fb.SubGraphT()
    sg.tensors, sg.operators, sg.inputs, sg.outputs, sg.name = tensors, [op], [0], [1], "log_softmax"
    oc = fb.OperatorCodeT()
    code = fb.BuiltinOperator.LOG_SOFTMAX
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
    m = fb.ModelT()
    m.version, m.subgraphs, m.buffers, m.operatorCodes = 3, [sg], [fb.BufferT()], [oc]
    m.description = f"one LOG_SOFTMAX built by {GENERATOR}"
    return fbk.save(m)


def run_tflm(model: bytes, x: np.ndarray) -> np.ndarray:
    """Run a one-op LOG_SOFTMAX model on ``x`` ``[rows, depth]`` (int8, or float32 for a float model) in
    TFLite Micro (PyPI runtime)."""
    from tflite_micro.python.tflite_micro import runtime
    x = np.ascontiguousarray(x)
    ip = runtime.Interpreter.from_bytes(model, arena_size=8 * x.size + (64 << 10))
    ip.set_input(x[None], 0)
    ip.invoke()
    return np.asarray(ip.get_output(0)).reshape(x.shape).astype(x.dtype)


def tflm_log_softmax(x: np.ndarray, input_scale: float, input_zero_point: int = 0) -> np.ndarray:
    rows, depth = x.shape
    return run_tflm(build_log_softmax_tflite(input_scale, input_zero_point, rows, depth), x)


# ------------------------------------------------------------------ cases
@dataclass
class Case:
    name: str
    input_scale: float
    input_zero_point: int
    x: np.ndarray              # [rows, depth] int8
    out: np.ndarray            # the oracle's output


def adversarial_rows(rng: np.random.Generator, params: ls.LogSoftmaxParams, depth: int, n: int) -> np.ndarray:
    """Rows that exercise the edges: all equal, one peak, ties at the maximum, elements at diff_min and
    one below it (and around the output threshold), the full int8 range, near-uniform noise."""
    dm = -params.diff_min                                  # elements with max - x <= dm count
    rows = []
    for i in range(n):
        kind = i % 8
        top = int(rng.integers(-128, 128))
        if kind == 0:                                      # all equal
            r = np.full(depth, top)
        elif kind == 1:                                    # one peak, the rest far below
            r = np.full(depth, -128)
            r[rng.integers(depth)] = 127
        elif kind == 2:                                    # values at max - dm, max - dm - 1, max - dm + 1
            top = int(rng.integers(max(-128 + min(dm + 1, 255), -128), 128))
            r = top - rng.choice([dm - 1, dm, dm + 1, 0], depth)
        elif kind == 3:                                    # full range, extremes
            r = rng.choice([-128, 127, -127, 126, 0], depth)
        elif kind == 4:                                    # ties at the maximum plus a few low values
            r = np.where(rng.random(depth) < 0.7, top, top - rng.integers(0, 256, depth))
        elif kind == 5:                                    # near-flat noise
            r = top - rng.integers(0, 3, depth)
        elif kind == 6:                                    # a spread that puts many elements near the output floor
            r = top - rng.integers(0, min(dm, 255) + 2, depth)
        else:                                              # uniform random
            r = rng.integers(-128, 128, depth)
        rows.append(np.clip(r, -128, 127))
    return np.asarray(rows, dtype=np.int8).reshape(n, depth)


def scale_sweep() -> list[float]:
    """Input scales from just above TFLM's lower limit (2^-26) to above its multiplier cap (32)."""
    return [1.5e-8, 2.0e-8, 1e-6, 3.1e-4, 0.004, 0.02, 0.0625, 0.1, 0.25, 0.5, 1.0, 1.7, 4.0, 16.0, 31.9,
            32.0, 40.0, 1000.0]


def make_case(rng, name: str, input_scale: float, zp: int, x: np.ndarray) -> Case:
    return Case(name, float(np.float32(input_scale)), zp, x, tflm_log_softmax(x, input_scale, zp))


def default_cases(seed: int = 0, small: bool = False) -> list[Case]:
    """The shipped quantisation (a whole [400, 28] window of random and adversarial rows), a sweep of
    scales, odd depths, one row, long rows (4095 = the limit, all equal: the largest int32 sum)."""
    rng = np.random.default_rng(seed)
    s, zp = SHIPPED_INPUT_SCALE, SHIPPED_INPUT_ZERO_POINT
    p = ls.make_params(s)
    rows = 400 if not small else 64
    x = np.concatenate([adversarial_rows(rng, p, 28, rows // 2), rng.integers(-128, 128, (rows - rows // 2, 28))])
    cases = [make_case(rng, f"shipped_{rows}x28", s, zp, x.astype(np.int8))]
    # logits like the model's: a peak of 5-40 units over a noisy floor
    peaky = rng.integers(-60, -20, (rows, 28)) + (rng.random((rows, 28)) < 0.1) * rng.integers(20, 120, (rows, 28))
    cases.append(make_case(rng, f"shipped_peaky_{rows}x28", s, zp, np.clip(peaky, -128, 127).astype(np.int8)))
    for i, sc in enumerate(scale_sweep()):
        pi = ls.make_params(sc)
        depth = [28, 255, 3, 64, 1, 33, 7, 2][i % 8]
        n = 24 if small or depth > 128 else 48          # <= 16384 elements per case (the C check's buffer)
        xs = np.concatenate([adversarial_rows(rng, pi, depth, n), rng.integers(-128, 128, (n, depth))]).astype(np.int8)
        cases.append(make_case(rng, f"scale{i}_{sc:g}_d{depth}", sc, int(rng.integers(-128, 128)), xs))
    for depth in ([4095, 1000] if not small else [4095]):
        xs = np.stack([np.full(depth, 5), rng.integers(-128, 128, depth),
                       np.where(rng.random(depth) < 0.5, 127, 126)]).astype(np.int8)
        cases.append(make_case(rng, f"long_d{depth}", s, zp, xs))
        cases.append(make_case(rng, f"long_d{depth}_tiny_scale", 2.0e-8, 0, xs))
    return cases


# ------------------------------------------------------------------ C header
def log_probe_sums(rng: np.random.Generator, n: int = 2000) -> np.ndarray:
    """Q12.19 sums for the logarithm check: 1.0, the 4095 limit, powers of two and their neighbours, random."""
    lo, hi = 1 << 19, 4095 << 19
    pots = [v for k in range(19, 31) for v in ((1 << k) - 1, 1 << k, (1 << k) + 1)]
    fixed = [lo, lo + 1, hi, hi - 1, 2 ** 31 - 1] + pots
    fixed = [v for v in fixed if lo <= v <= 2 ** 31 - 1]
    rand = np.exp(rng.uniform(np.log(lo), np.log(hi), n - len(fixed))).astype(np.int64)
    return np.concatenate([np.asarray(fixed, np.int64), rand])


def header_body(cases: list[Case], seed: int = 0) -> str:
    """The C struct, arrays and case table of ``cases`` and the logarithm probes (their draw seeded by
    ``seed + 1``); :data:`VECTORS` adds the banner and guard."""
    parts = ["struct ma_ls_case {\n  const char *name;\n  float input_scale;\n  int32_t rows, depth;\n"
             "  int32_t input_multiplier, input_left_shift, reverse_scaling_divisor, reverse_scaling_right_shift,"
             " diff_min;\n  const int32_t *diff_q5, *exp_q12;\n  const int8_t *x, *out;\n};\n\n"]
    rows = []
    for n, c in enumerate(cases):
        p = ls.make_params(c.input_scale)
        dq, eq = ls.tables(p)
        pre = f"ma_ls_case_{n}"
        parts.append(c_array("int8_t", f"{pre}_x", c.x))
        parts.append(c_array("int8_t", f"{pre}_out", c.out))
        parts.append(c_array("int32_t", f"{pre}_diff_q5", dq, 8))
        parts.append(c_array("int32_t", f"{pre}_exp_q12", eq, 8))
        fields = [f'"{c.name}"', repr(float(np.float32(c.input_scale))) + "f", c.x.shape[0], c.x.shape[1],
                  p.input_multiplier, p.input_left_shift, p.reverse_scaling_divisor,
                  p.reverse_scaling_right_shift, p.diff_min,
                  f"{pre}_diff_q5", f"{pre}_exp_q12", f"{pre}_x", f"{pre}_out"]
        rows.append("  {" + ", ".join(str(f) for f in fields) + "}")
    parts.append(f"#define MA_LS_NUM_CASES {len(cases)}\n")
    parts.append("static const struct ma_ls_case ma_ls_cases[MA_LS_NUM_CASES] = {\n" + ",\n".join(rows) + "\n};\n\n")
    sums = log_probe_sums(np.random.default_rng(seed + 1))
    parts.append(f"#define MA_LS_NUM_LOGS {len(sums)}\n")
    parts.append(c_array("int32_t", "ma_ls_log_in", sums, 8))
    parts.append(c_array("int32_t", "ma_ls_log_out", ls.log_q5(sums), 8))
    return "".join(parts)


VECTORS = VectorsHeader(
    GENERATOR, HEADER_NAME, __doc__,
    " * Expected outputs: TFLite Micro's builtin int8 LOG_SOFTMAX run by the PyPI tflite-micro runtime;\n"
    " * integer parameters, tables and logarithms: microalign.kernels.log_softmax.",
    default_cases, header_body)
render_header, write_header, main = VECTORS.render, VECTORS.write, VECTORS.main


if __name__ == "__main__":
    raise SystemExit(main())
