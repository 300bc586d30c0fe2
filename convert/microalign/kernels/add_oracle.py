"""TFLite Micro's int8 ADD as the oracle: a one-op model, test cases, a C header of vectors.

:func:`build_add_tflite` writes a model holding one builtin ADD (two inputs of given shapes and
quantisations, a fused activation; int8, or int16 / float32 for the adapter's fallbacks);
:func:`run_tflm` runs it in the PyPI ``tflite-micro`` runtime (TFLM's reference kernels).
:func:`default_cases` covers the quantisations of the shipped device model's ADD operators (read from
the model, so a new model brings its own) and adversarial ones: equal and extreme scale ratios (an
input multiplier flushed to zero), output scales at both ends of TFLM's range (output shift 0, the
shift limits of the C kernel's fast path), zero points at -128 and 127, every fused activation,
lengths 1 .. 7 and odd, every pair of input bytes (65,536 elements) for a few quantisations.
:func:`write_header` writes them with the reference's integer parameters and tables for
``convert/microalign/kernels/c/ma_add_s8_check.c``.

    python -m microalign.kernels.add_oracle --out DIR [--small]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cheader import VectorsHeader, c_array
from ..export import flatbuffer as fbk
from . import add as ad

GENERATOR = "microalign.kernels.add_oracle"
HEADER_NAME = "ma_add_s8_vectors.h"
DEVICE_MODEL = Path(__file__).resolve().parents[1] / "assets" / "student_device.tflite"

Quant = tuple[float, int]        # (scale, zero point)


def build_add_tflite(shape1, q1: Quant, shape2, q2: Quant, out_shape, qo: Quant, activation: str = "none",
                     dtype: str = "int8", const2: np.ndarray | None = None) -> bytes:
    """A model with one builtin ADD (no TensorFlow needed). ``dtype``: int8, int16 or float32 (float32 ignores
    the quantisation). ``const2``: input 2 is this constant tensor (the model's one input is then input 1; what
    ``ma_tflm_run``, which feeds input 0 only, can run)."""
    fb = fbk.schema()
    buffers = [fb.BufferT()]
    ttype = {"int8": fb.TensorType.INT8, "int16": fb.TensorType.INT16, "float32": fb.TensorType.FLOAT32}[dtype]
    tensors = []
    for name, shape, (scale, zp) in (("x1", shape1, q1), ("x2", shape2, q2), ("y", out_shape, qo)):
        t = fb.TensorT()
        t.name, t.shape, t.buffer, t.type = name, [int(d) for d in shape], 0, ttype
        if name == "x2" and const2 is not None:
            buf = fb.BufferT()
            buf.data = np.frombuffer(np.ascontiguousarray(const2).tobytes(), np.uint8)
            buffers.append(buf)
            t.buffer = len(buffers) - 1
        if dtype != "float32":
            q = fb.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(np.float32(scale))], [int(zp)]
            t.quantization = q
        tensors.append(t)
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1], [2]
    opts = fb.AddOptionsT()
    opts.fusedActivationFunction = ad.ACTIVATIONS.index(activation)
    op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.AddOptions, opts
    sg = fb.SubGraphT()
    sg.tensors, sg.operators, sg.outputs, sg.name = tensors, [op], [2], "add"
    sg.inputs = [0] if const2 is not None else [0, 1]
    oc = fb.OperatorCodeT()
    code = fb.BuiltinOperator.ADD
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
    m = fb.ModelT()
    m.version, m.subgraphs, m.buffers, m.operatorCodes = 3, [sg], buffers, [oc]
    m.description = f"one ADD built by {GENERATOR}"
    return fbk.save(m)


def run_tflm(model: bytes, x1: np.ndarray, x2: np.ndarray | None = None) -> np.ndarray:
    """Run a one-op ADD model in TFLite Micro (PyPI runtime); the output as a flat array of the output type.
    ``x2`` None: a model whose input 2 is a constant."""
    from tflite_micro.python.tflite_micro import runtime
    x1 = np.ascontiguousarray(x1)
    ip = runtime.Interpreter.from_bytes(model, arena_size=8 * x1.size + (64 << 10))
    ip.set_input(x1, 0)
    if x2 is not None:
        ip.set_input(np.ascontiguousarray(x2), 1)
    ip.invoke()
    return np.asarray(ip.get_output(0)).ravel()


def tflm_add(x1: np.ndarray, x2: np.ndarray, q1: Quant, q2: Quant, qo: Quant, activation: str = "none") -> np.ndarray:
    """TFLM's int8 ADD of two same-shape int8 arrays (as ``[1, n]`` tensors)."""
    n = x1.size
    model = build_add_tflite([1, n], q1, [1, n], q2, [1, n], qo, activation)
    return run_tflm(model, x1.reshape(1, n), x2.reshape(1, n)).astype(np.int8).reshape(x1.shape)


# ------------------------------------------------------------------ cases
@dataclass
class Case:
    name: str
    q1: Quant
    q2: Quant
    qo: Quant
    activation: str
    x1: np.ndarray             # [n] int8
    x2: np.ndarray
    out: np.ndarray            # the oracle's output

    def params(self) -> ad.AddParams:
        return ad.make_params(*self.q1, *self.q2, *self.qo, self.activation)


def model_add_quantisations(path: str | Path = DEVICE_MODEL) -> list[tuple[Quant, Quant, Quant, str, int]]:
    """(input 1, input 2, output quantisation, activation, elements) of every same-shape int8 ADD of a model."""
    m = fbk.load(path)
    sg = m.subgraphs[0]
    out = []
    for op in sg.operators:
        if fbk.op_name(m, op) != "ADD":
            continue
        t1, t2, to = (sg.tensors[int(i)] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
        if fbk.shape(t1) != fbk.shape(t2):
            continue
        act = ad.ACTIVATIONS[op.builtinOptions.fusedActivationFunction if op.builtinOptions is not None else 0]
        n = int(np.prod(fbk.shape(to)))
        out.append((fbk.quant(t1), fbk.quant(t2), fbk.quant(to), act, n))
    return out


def every_pair() -> tuple[np.ndarray, np.ndarray]:
    """All 65,536 pairs of input bytes."""
    v = np.arange(-128, 128, dtype=np.int8)
    return np.repeat(v, 256), np.tile(v, 256)


def adversarial_inputs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Extremes and their neighbours on both inputs, mixed with uniform bytes."""
    edges = np.array([-128, -127, -1, 0, 1, 126, 127], np.int8)
    x1 = np.where(rng.random(n) < 0.5, rng.choice(edges, n), rng.integers(-128, 128, n)).astype(np.int8)
    x2 = np.where(rng.random(n) < 0.5, rng.choice(edges, n), rng.integers(-128, 128, n)).astype(np.int8)
    return x1, x2


def output_scale_for_shift(max_input_scale: float, e: int, at: float = 0.5) -> float:
    """An output scale whose TFLM output shift is -e: the real multiplier 2 max / (2^20 so) in [2^-e-1, 2^-e)."""
    real = 2.0 ** (-e - 1) * (1.0 + at)
    return float(np.float32(2.0 * max_input_scale / ((1 << ad.LEFT_SHIFT) * real)))


def quantisation_sweep() -> list[tuple[str, Quant, Quant, Quant, str]]:
    """(name, input 1, input 2, output, activation): the adversarial quantisations."""
    s = 0.1
    lim = 2 * s / (1 << ad.LEFT_SHIFT)               # output scales must exceed this (TFLM aborts otherwise)
    return [
        ("equal", (s, 0), (s, 0), (s, 0), "none"),
        ("equal_out_double", (s, 5), (s, -7), (2 * s, 3), "none"),
        ("ratio_3", (0.3, -128), (0.1, 127), (0.25, -5), "none"),
        ("ratio_1e-3", (1e-4, 10), (0.1, -20), (0.1, 0), "none"),
        ("ratio_1e-11_flushed", (1e-12, 50), (0.1, -3), (0.1, 7), "none"),     # input 1's multiplier is 0
        ("zp_extremes", (0.05, 127), (0.07, -128), (0.06, 127), "none"),
        ("zp_extremes_2", (0.05, -128), (0.07, 127), (0.06, -128), "none"),
        ("saturating", (0.5, 0), (0.5, 0), (0.01, 0), "none"),                # most sums clamp at +-127
        ("out_tiny_e0", (s, 0), (s, 0), (float(np.float32(lim * 1.01)), 0), "none"),   # output shift 0
        ("out_e1", (s, 3), (s, -3), (output_scale_for_shift(s, 1), 0), "none"),
        ("out_e22", (s, 3), (s, -3), (output_scale_for_shift(s, 22), 9), "none"),
        ("out_e23", (s, 3), (s, -3), (output_scale_for_shift(s, 23), -128), "none"),  # the fast path's last
        ("out_e23_zp127", (s, 3), (s, -3), (output_scale_for_shift(s, 23), 127), "none"),
        ("out_e24", (s, 3), (s, -3), (output_scale_for_shift(s, 24), 127), "none"),   # the plain path's first
        ("out_e24_zpm128", (s, -128), (s, 127), (output_scale_for_shift(s, 24), -128), "none"),
        ("out_e31", (s, 3), (s, -3), (output_scale_for_shift(s, 31), 5), "none"),
        ("out_huge", (s, 3), (s, -3), (1e30, 5), "none"),                     # output multiplier 0
        ("relu", (0.1, 3), (0.2, -4), (0.15, -20), "relu"),
        ("relu_zp127", (0.1, 3), (0.2, -4), (0.15, 127), "relu"),             # a one-value range
        ("relu6", (0.1, 3), (0.2, -4), (0.05, -128), "relu6"),
        ("relu6_narrow", (0.01, 0), (0.02, 0), (0.5, -10), "relu6"),
        ("relu_n1_to_1", (0.02, 3), (0.01, -4), (0.01, 0), "relu_n1_to_1"),
        ("relu_n1_to_1_e0", (s, 0), (s, 0), (float(np.float32(lim * 1.5)), 0), "relu_n1_to_1"),
        ("relu_e24", (s, 0), (s, 0), (output_scale_for_shift(s, 24), -100), "relu"),
    ]


def make_case(name: str, q1: Quant, q2: Quant, qo: Quant, activation: str, x1: np.ndarray, x2: np.ndarray) -> Case:
    q1, q2, qo = ((float(np.float32(s)), int(z)) for s, z in (q1, q2, qo))
    return Case(name, q1, q2, qo, activation, x1, x2, tflm_add(x1, x2, q1, q2, qo, activation))


def default_cases(seed: int = 0, small: bool = False) -> list[Case]:
    """The device model's ADD quantisations (one window's worth of elements, or 4,099 when ``small``), the
    adversarial quantisations on odd lengths, every byte pair for a few of them, lengths 0 .. 7."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, (q1, q2, qo, act, n) in enumerate(model_add_quantisations() if DEVICE_MODEL.exists() else []):
        n = n if not small else 4099
        x1, x2 = adversarial_inputs(rng, n)
        cases.append(make_case(f"model_add{i}_{n}", q1, q2, qo, act, x1, x2))
    every = {"equal", "ratio_3", "zp_extremes", "out_e23_zp127", "out_e24", "relu6"}
    if small:
        every = {"ratio_3", "out_e23_zp127", "relu6"}
    for i, (name, q1, q2, qo, act) in enumerate(quantisation_sweep()):
        n = [1001, 257, 1023, 2049][i % 4]
        x1, x2 = adversarial_inputs(rng, n)
        cases.append(make_case(f"{name}_{n}", q1, q2, qo, act, x1, x2))
        if name in every:
            cases.append(make_case(f"{name}_every_pair", q1, q2, qo, act, *every_pair()))
    for n in range(0, 8):
        x1, x2 = adversarial_inputs(rng, n)
        if n == 0:
            cases.append(Case("length_0", (0.1, 0), (0.2, 1), (0.3, 2), "none", x1, x2, np.zeros(0, np.int8)))
        else:
            cases.append(make_case(f"length_{n}", (0.1, 0), (0.2, 1), (0.3, 2), "none", x1, x2))
    return cases


# ------------------------------------------------------------------ C header
def header_body(cases: list[Case], seed: int = 0) -> str:
    """The C struct, arrays and case table of ``cases`` (:data:`VECTORS` adds the banner and guard)."""
    parts = ["struct ma_add_case {\n  const char *name;\n  float scale1, scale2, scale_out;\n"
             "  int32_t zp1, zp2, zp_out, act_min, act_max, n;\n"
             "  int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift, output_multiplier,"
             " output_shift;\n  const int32_t *tables;\n  const int8_t *x1, *x2, *out;\n};\n\n"]
    rows = []
    for k, c in enumerate(cases):
        p = c.params()
        pre = f"ma_add_case_{k}"
        parts.append(c_array("int8_t", f"{pre}_x1", c.x1))
        parts.append(c_array("int8_t", f"{pre}_x2", c.x2))
        parts.append(c_array("int8_t", f"{pre}_out", c.out))
        parts.append(c_array("int32_t", f"{pre}_tables", ad.tables(p), 8))
        fields = [f'"{c.name}"', *(repr(s) + "f" for s in (c.q1[0], c.q2[0], c.qo[0])), c.q1[1], c.q2[1], c.qo[1],
                  p.activation_min, p.activation_max, c.x1.size, p.input1_multiplier, p.input1_shift,
                  p.input2_multiplier, p.input2_shift, p.output_multiplier, p.output_shift,
                  f"{pre}_tables", f"{pre}_x1", f"{pre}_x2", f"{pre}_out"]
        rows.append("  {" + ", ".join(str(f) for f in fields) + "}")
    parts.append(f"#define MA_ADD_NUM_CASES {len(cases)}\n")
    parts.append("static const struct ma_add_case ma_add_cases[MA_ADD_NUM_CASES] = {\n" + ",\n".join(rows) + "\n};\n")
    return "".join(parts)


VECTORS = VectorsHeader(
    GENERATOR, HEADER_NAME, __doc__,
    " * Expected outputs: TFLite Micro's builtin int8 ADD run by the PyPI tflite-micro runtime;\n"
    " * integer parameters and tables: microalign.kernels.add.",
    default_cases, header_body)
render_header, write_header, main = VECTORS.render, VECTORS.write, VECTORS.main


if __name__ == "__main__":
    raise SystemExit(main())
