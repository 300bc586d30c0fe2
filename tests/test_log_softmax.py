"""The int8 LOG_SOFTMAX kernel (table per model, log per row) equals TFLite Micro's reference kernel byte for byte.

Oracle: the PyPI ``tflite-micro`` runtime running a one-op int8 LOG_SOFTMAX model
(``microalign.kernels.log_softmax_oracle``) on random and adversarial rows, with the shipped model's
quantisation (input scale 0.179, [400, 28] per window) and a sweep of others. Checked against it: the
numpy reference (``microalign.kernels.log_softmax``, whole-array arithmetic, no tables), the C kernel
(``tflm_app/kernels/ma_log_softmax_s8.c``) on the host with ASan/UBSan and as Cortex-M7 firmware
under QEMU mps2-an500, and the TFLM adapter (``tflm_app/tflm/ma_log_softmax_tflm.cc``, registered as
the builtin LOG_SOFTMAX in ``ma_tflm_run`` and the firmware) through the host TFLM build, including
its fallbacks to TFLM's own kernel (float32, rows > 4095) and its refusal of scales TFLM aborts on.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, qemu_harness
from microalign.kernels import fixedpoint as fp
from microalign.kernels import log_softmax as ls
from microalign.kernels import log_softmax_oracle as lo

KERNELS = REPO / "tflm_app" / "kernels"
CHECK_C = REPO / "convert" / "microalign" / "kernels" / "c" / "ma_log_softmax_s8_check.c"
HOST_CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
               "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
INT8 = REPO / "convert" / "microalign" / "assets" / "student_int8.tflite"


@pytest.fixture(scope="session")
def cases() -> list[lo.Case]:
    return lo.default_cases(seed=0)


@pytest.fixture(scope="session")
def vectors_dir(tmp_path_factory, cases) -> Path:
    d = tmp_path_factory.mktemp("log_softmax_vectors")
    lo.write_header(cases, d / lo.HEADER_NAME)
    return d


@pytest.fixture(scope="session")
def small_cases() -> list[lo.Case]:
    return lo.default_cases(seed=0, small=True)


# ---------------------------------------------------------------- numpy reference == TFLM
def test_oracle_cases_cover_the_edges(cases):
    """The vectors are not trivial: the shipped window, the whole output range, both scale extremes."""
    shipped = [c for c in cases if c.name.startswith("shipped_")]
    assert shipped and all(c.x.shape == (400, 28) for c in shipped)
    assert set(np.unique(shipped[0].out)) >= {-128, 127}
    assert len(np.unique(np.concatenate([c.out.ravel() for c in shipped]))) == 256
    lshifts = {ls.make_params(c.input_scale).input_left_shift for c in cases}
    assert {1, 24, 31} <= lshifts                       # 2^-26 < scale, the shipped scale, the 2^31 - 1 cap
    assert any(c.x.shape[1] == ls.MAX_DEPTH for c in cases)


def test_reference_equals_tflm_on_the_cases(cases):
    for c in cases:
        out = ls.log_softmax_ref(c.x, ls.make_params(c.input_scale))
        assert np.array_equal(out, c.out), f"{c.name}: {(out != c.out).sum()} bytes differ"


def test_reference_equals_tflm_on_a_parameter_sweep():
    """120 random input scales (log-uniform over TFLM's whole range), depths and row kinds."""
    rng = np.random.default_rng(7)
    for i in range(120):
        scale = float(np.exp(rng.uniform(np.log(1.5e-8), np.log(64.0))))
        p = ls.make_params(scale)
        depth = int(rng.choice([1, 2, 5, 28, 29, 100, 300]))
        x = np.concatenate([lo.adversarial_rows(rng, p, depth, 16), rng.integers(-128, 128, (8, depth))]).astype(np.int8)
        out = ls.log_softmax_ref(x, p)
        want = lo.tflm_log_softmax(x, scale, int(rng.integers(-128, 128)))
        assert np.array_equal(out, want), f"case {i} scale {scale!r} depth {depth}: {(out != want).sum()} bytes differ"


def test_shipped_model_uses_the_cases_quantisation():
    from microalign.export import flatbuffer as fbk

    m = fbk.load(INT8)
    sg = m.subgraphs[0]
    ops = [o for o in sg.operators if fbk.op_name(m, o) == "LOG_SOFTMAX"]
    assert len(ops) == 1
    t_in, t_out = sg.tensors[int(ops[0].inputs[0])], sg.tensors[int(ops[0].outputs[0])]
    assert fbk.shape(t_in) == (1, 400, 28)
    assert fbk.quant(t_in) == (pytest.approx(lo.SHIPPED_INPUT_SCALE, rel=1e-7), lo.SHIPPED_INPUT_ZERO_POINT)
    assert fbk.quant(t_out) == (pytest.approx(1 / 16), 127)


def test_params_equal_tflms_prepare_for_the_shipped_scale():
    """Hand-checked against log_softmax.cc's Prepare arithmetic for scale 0.17900951."""
    p = ls.make_params(lo.SHIPPED_INPUT_SCALE)
    real = float(np.float32(lo.SHIPPED_INPUT_SCALE)) * 2 ** 26
    assert (p.input_multiplier, p.input_left_shift) == fp.quantize_multiplier(real)
    assert p.input_left_shift == 24 and p.diff_min == -124 == -int(31 * 2 ** 26 / 2 ** 24)
    assert p.reverse_scaling_divisor / 2 ** 31 * 2 ** -p.reverse_scaling_right_shift == pytest.approx(
        2 ** (31 - 24) / p.input_multiplier, rel=1e-9)


def test_reference_approximates_the_float_log_softmax():
    """Sanity of the arithmetic itself: within half an output step (1/32) of float64 log_softmax above the floor."""
    rng = np.random.default_rng(1)
    for scale in (0.02, lo.SHIPPED_INPUT_SCALE, 0.5):
        x = rng.integers(-128, 128, (200, 28)).astype(np.int8)
        got = (ls.log_softmax_ref(x, ls.make_params(scale)).astype(np.float64) - 127) / 16
        want = ls.log_softmax_float(x, scale)
        inside = want > -15.9                           # above the output floor (-128 = -15.9375)
        assert inside.sum() > 500
        assert np.abs(got - want)[inside].max() <= 1 / 32 + 1e-4, scale   # half an output step


def test_log_q5_is_the_natural_log():
    s = lo.log_probe_sums(np.random.default_rng(0))
    got = ls.log_q5(s) / 2 ** 26
    assert np.abs(got - np.log(s / 2 ** 19)).max() < 1e-6
    assert ls.log_q5(1 << 19) == 0


def test_bad_input_is_refused_naming_the_value():
    for bad in (0.0, -0.1, float("nan"), float("inf"), 1e-9):
        shown = repr(float(np.float32(bad))) if bad in (1e-9,) else repr(bad)   # the model stores a float32
        with pytest.raises(ls.LogSoftmaxQuantError, match=re.escape(shown)):
            ls.make_params(bad)
    assert issubclass(ls.LogSoftmaxQuantError, ValueError)
    p = ls.make_params(0.1)
    with pytest.raises(ValueError, match="int16"):
        ls.log_softmax_ref(np.zeros((2, 3), np.int16), p)
    with pytest.raises(ValueError, match="4096"):
        ls.log_softmax_ref(np.zeros((1, 4096), np.int8), p)
    with pytest.raises(ValueError, match=r"\(2, 0\)"):
        ls.log_softmax_ref(np.zeros((2, 0), np.int8), p)


# ---------------------------------------------------------------- C kernel == TFLM
def _build_check(out: Path, vectors: Path) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("needs a host C compiler (gcc)")
    exe = out / "ma_log_softmax_s8_check"
    subprocess.run([gcc, *HOST_CFLAGS, f"-I{KERNELS}", f"-I{vectors}", str(CHECK_C),
                    str(KERNELS / "ma_log_softmax_s8.c"), "-o", str(exe)], check=True)
    return exe


def _assert_all_pass(rc: int, out: str, n_cases: int) -> None:
    assert rc == 0, out[-3000:]
    case_lines = [ln for ln in out.splitlines() if ln.startswith("case ")]
    assert len(case_lines) == n_cases and all(ln.endswith("PASS") for ln in case_lines), out[-3000:]
    assert re.search(r"log: 0 of (\d+) sums differ from the reference: PASS", out), out[-3000:]
    assert "api argument checks: PASS" in out
    assert f"PASS: 0 of {n_cases + 2} checks failed" in out


def test_c_kernel_host_sanitizers(tmp_path, vectors_dir, cases):
    exe = _build_check(tmp_path, vectors_dir)
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    _assert_all_pass(p.returncode, p.stdout + p.stderr, len(cases))


def test_c_check_reports_a_wrong_byte(tmp_path, cases):
    """The checker is not vacuous: one flipped expected byte fails through the exit status."""
    c = cases[0]
    bad = lo.Case(c.name, c.input_scale, c.input_zero_point, c.x, c.out.copy())
    bad.out.flat[123] ^= 1
    lo.write_header([cases[-1], bad], tmp_path / lo.HEADER_NAME)
    exe = _build_check(tmp_path, tmp_path)
    p = subprocess.run([str(exe)], capture_output=True, text=True)
    assert p.returncode == 1 and "out-of-place 1, in-place 1 bytes differ: FAIL" in p.stdout, p.stdout


def test_c_kernel_cortex_m7_qemu(tmp_path, small_cases):
    """The small vectors (every scale and kind of row; a 64-row shipped window) on the Cortex-M7 build (-O2, the
    board's flags) under qemu-system-arm -M mps2-an500."""
    harness = qemu_harness()
    lo.write_header(small_cases, tmp_path / lo.HEADER_NAME)
    fw = harness.Firmware(test=str(CHECK_C), srcs=[str(KERNELS / "ma_log_softmax_s8.c")],
                          includes=[str(KERNELS), str(tmp_path)], build=tmp_path / "build")
    rc, out = fw.run_qemu(timeout=600)
    _assert_all_pass(rc, out, len(small_cases))


# ---------------------------------------------------------------- the TFLM adapter (host TFLM)
def _run_host(host_tflm, model: bytes, x: np.ndarray) -> np.ndarray:
    from microalign.export import tflm_host

    out, _ = tflm_host.run_windows(host_tflm, model, x[None, None])
    return out.reshape(x.shape).view(x.dtype) if x.dtype == np.int8 else out


def test_adapter_equals_tflm_reference_int8(host_tflm, cases):
    """ma_tflm_run registers microalign::Register_LOG_SOFTMAX as the builtin: same bytes as the PyPI TFLM."""
    for c in cases:
        model = lo.build_log_softmax_tflite(c.input_scale, c.input_zero_point, *c.x.shape)
        got = _run_host(host_tflm, model, c.x)
        assert np.array_equal(got, c.out), f"{c.name}: {(got != c.out).sum()} bytes differ"


def test_adapter_falls_back_to_tflm_where_the_kernel_does_not_apply(host_tflm, tmp_path):
    from microalign.export import tflm_host

    rng = np.random.default_rng(3)
    # rows longer than 4095: TFLM's own kernel runs (same bytes as the PyPI runtime's)
    x = rng.integers(-128, 128, (2, 5000)).astype(np.int8)
    model = lo.build_log_softmax_tflite(0.02, 0, 2, 5000)
    assert np.array_equal(_run_host(host_tflm, model, x), lo.run_tflm(model, x))
    # float32: TFLM's float kernel
    xf = rng.normal(0, 3, (7, 28)).astype(np.float32)
    fmodel = lo.build_log_softmax_tflite(1.0, 0, 7, 28, float32=True)
    (tmp_path / "in.bin").write_bytes(xf.tobytes())
    (tmp_path / "m.tflite").write_bytes(fmodel)
    p = subprocess.run([str(host_tflm.runner), str(tmp_path / "m.tflite"), str(tmp_path / "in.bin"),
                        str(tmp_path / "out.bin")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = np.frombuffer((tmp_path / "out.bin").read_bytes(), np.float32).reshape(xf.shape)
    np.testing.assert_array_equal(got, lo.run_tflm(fmodel, xf))
    np.testing.assert_allclose(got, ls.log_softmax_float(xf, 1.0), atol=1e-5)
    # a scale TFLM's Prepare aborts on: refused with a message, no crash
    with pytest.raises(tflm_host.TFLMHostError, match="AllocateTensors failed") as e:
        _run_host(host_tflm, lo.build_log_softmax_tflite(1e-9, 0, 2, 28), x[:, :28].copy())
    assert "LOG_SOFTMAX: int8 input scale 1e-09 not supported" in str(e.value)
    # an output quantisation TFLM rejects: rejected too
    with pytest.raises(tflm_host.TFLMHostError, match="AllocateTensors failed"):
        _run_host(host_tflm, lo.build_log_softmax_tflite(0.1, 0, 2, 28, output_scale=0.125), x[:, :28].copy())
