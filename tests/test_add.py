"""The int8 ADD kernel (two tables, one requantisation per element) equals TFLM's and CMSIS-NN's ADD byte for byte.

Oracle: the PyPI ``tflite-micro`` runtime running a one-op int8 ADD model (``microalign.kernels.add_oracle``) on
the shipped device model's ADD quantisations (read from the model) and adversarial ones (extreme scale ratios,
output shifts 0, 1, 22, 23, 24 and 31, zero points at both ends, every fused activation, every pair of input
bytes, lengths 0 to 7), plus a random sweep. Checked against it: the numpy reference (``microalign.kernels.add``,
three requantisations per element, no tables), the C kernel (``tflm_app/kernels/ma_add_s8.c``) on the host with
ASan/UBSan and as Cortex-M7 firmware under QEMU mps2-an500 (there beside CMSIS-NN's ``arm_elementwise_add_s8``,
which must give the same bytes), and the TFLM adapter (``tflm_app/tflm/ma_add_tflm.cc``, registered as the builtin
ADD in ``ma_tflm_run`` and the firmware) through the host TFLM build, including its fallbacks to TFLM's own ADD
(broadcasting, int16, float32) and its refusal of quantisations TFLM aborts on.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, qemu_harness
from microalign.kernels import add as ad
from microalign.kernels import add_oracle as ao
from microalign.kernels import fixedpoint as fp

KERNELS = REPO / "tflm_app" / "kernels"
CHECK_C = REPO / "convert" / "microalign" / "kernels" / "c" / "ma_add_s8_check.c"
HOST_CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
               "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


@pytest.fixture(scope="session")
def cases() -> list[ao.Case]:
    return ao.default_cases(seed=0)


@pytest.fixture(scope="session")
def vectors_dir(tmp_path_factory, cases) -> Path:
    d = tmp_path_factory.mktemp("add_vectors")
    ao.write_header(cases, d / ao.HEADER_NAME)
    return d


# ---------------------------------------------------------------- numpy reference == TFLM
def test_oracle_cases_cover_the_edges(cases):
    """The vectors are not trivial: the model's ADDs, both paths of the C kernel and their borders, clamping."""
    assert any(c.name.startswith("model_add") for c in cases)
    params = [c.params() for c in cases]
    assert {0, -1, -22, -23, -24, -31} <= {p.output_shift for p in params}
    assert any(p.output_multiplier == 0 for p in params) and any(p.input1_multiplier == 0 for p in params)
    ranges = [(p.activation_min, p.activation_max) for p in params]
    narrow = [r for r in ranges if r != (-128, 127)]
    assert len(set(narrow)) >= 4 and (127, 127) in narrow
    assert {c.activation for c in cases} == set(ad.ACTIVATIONS)
    assert sum(c.x1.size == 65536 for c in cases) >= 5 and {c.x1.size for c in cases} >= set(range(8))
    outs = np.concatenate([c.out for c in cases])
    assert set(np.unique(outs)) == set(range(-128, 128))            # every output byte occurs, both clamps


def test_reference_equals_tflm_on_the_cases(cases):
    for c in cases:
        out = ad.add_ref(c.x1, c.x2, c.params())
        assert np.array_equal(out, c.out), f"{c.name}: {(out != c.out).sum()} bytes differ"


def _random_quantisation(rng):
    s1, s2 = np.exp(rng.uniform(np.log(1e-6), np.log(10.0), 2))
    s1 = s1 if rng.random() > 0.1 else s2 * float(np.exp(rng.uniform(-30, 0)))     # extreme ratios now and then
    lim = 2 * max(s1, s2) / 2 ** 20
    so = float(lim * np.exp(rng.uniform(0.01, np.log(2 ** 30))))                  # output shift 0 .. 31
    z1, z2, zo = (int(z) for z in rng.integers(-128, 128, 3))
    return (float(s1), z1), (float(s2), z2), (so, zo), str(rng.choice(ad.ACTIVATIONS))


def test_reference_and_c_tables_equal_tflm_on_a_random_sweep():
    """150 random quantisations (scales over 7 decades, extreme ratios, output shifts 0 .. 31, any zero points
    and activations) on 3,001 adversarial elements each."""
    rng = np.random.default_rng(11)
    shifts = set()
    for i in range(150):
        q1, q2, qo, act = _random_quantisation(rng)
        try:
            p = ad.make_params(*q1, *q2, *qo, act)
        except ad.AddQuantError:
            continue                   # an activation bound beyond int32 (relu6 on a tiny scale): TFLM fails too
        shifts.add(p.output_shift)
        x1, x2 = ao.adversarial_inputs(rng, 3001)
        want = ao.tflm_add(x1, x2, q1, q2, qo, act)
        out = ad.add_ref(x1, x2, p)
        assert np.array_equal(out, want), f"case {i} {q1} {q2} {qo} {act}: {(out != want).sum()} bytes differ"
        # the tables' arithmetic (what the C kernel computes) gives the same bytes
        t = ad.tables(p).astype(np.int64)
        raw = (t[0][x1.view(np.uint8)] + t[1][x2.view(np.uint8)]) // 2
        via = np.clip(fp.multiply_by_quantized_multiplier(raw, p.output_multiplier, p.output_shift) + p.output_offset,
                      p.activation_min, p.activation_max)
        assert np.array_equal(via.astype(np.int8), want), f"case {i}: table arithmetic differs"
    assert len(shifts) >= 15, sorted(shifts)


def test_tables_are_twice_the_scaled_inputs():
    p = ad.make_params(0.3, -128, 0.1, 127, 0.25, -5)
    t = ad.tables(p)
    assert t.shape == (2, 256) and t.dtype == np.int32
    v = np.arange(256).astype(np.uint8).view(np.int8)
    assert np.array_equal(t[0] // 2, ad.scaled_inputs(v, p.input1_offset, p.input1_multiplier, p.input1_shift))
    assert np.array_equal(t[1] // 2, ad.scaled_inputs(v, p.input2_offset, p.input2_multiplier, p.input2_shift))
    # the larger scale gets the multiplier 1/2: (x - zp) * 2^20 / 2 = (x + 128) * 2^19 for x = 127
    assert t[0][127] == 2 * (255 << 19) and np.abs(t).max() <= 2 * ((255 << 19) + 1) < 2 ** 29


def test_reference_approximates_the_float_sum():
    """Sanity of the arithmetic itself: within one output step of the float sum where nothing clamps."""
    rng = np.random.default_rng(2)
    for q1, q2, qo in (((0.1, 3), (0.2, -4), (0.15, -20)), ((0.05, 127), (0.07, -128), (0.06, 127)),
                       ((0.3, -128), (0.1, 127), (0.25, -5))):
        x1, x2 = rng.integers(-128, 128, (2, 5000)).astype(np.int8)
        got = (ad.add_ref(x1, x2, ad.make_params(*q1, *q2, *qo)).astype(np.float64) - qo[1]) * np.float32(qo[0])
        want = ad.add_float(x1, x2, *q1, *q2)
        inside = np.abs(want / np.float32(qo[0]) + qo[1]) < 127
        assert inside.sum() > 1000
        assert np.abs(got - want)[inside].max() <= 0.5 * qo[0] * (1 + 1e-3), qo


def test_activation_ranges_are_tflms():
    assert ad.activation_range("none", 0.1, 5) == (-128, 127)
    assert ad.activation_range("relu", 0.1, -20) == (-20, 127)
    assert ad.activation_range("relu6", 0.05, -128) == (-128, -8)     # 6 / 0.05 = 120
    assert ad.activation_range("relu_n1_to_1", 0.01, 0) == (-100, 100)
    assert ad.activation_range("relu_n1_to_1", 0.001, 0) == (-128, 127)


def test_bad_input_is_refused_naming_the_value():
    assert issubclass(ad.AddQuantError, ValueError)
    for args, shown in (((0.0, 0, 0.1, 0, 0.1, 0), "0.0"), ((0.1, 0, -0.5, 0, 0.1, 0), "-0.5"),
                        ((0.1, 0, 0.1, 0, float("nan"), 0), "nan"), ((0.1, 200, 0.1, 0, 0.1, 0), "200"),
                        ((0.1, 0, 0.1, 0, 0.1, -129), "-129"), ((0.1, 0, 0.1, 0, 1e-7, 0), "1e-07")):
        with pytest.raises(ad.AddQuantError, match=re.escape(shown)):
            ad.make_params(*args)
    with pytest.raises(ad.AddQuantError, match="'gelu'"):
        ad.make_params(0.1, 0, 0.1, 0, 0.1, 0, "gelu")
    p = ad.make_params(0.1, 0, 0.1, 0, 0.1, 0)
    with pytest.raises(ValueError, match="int16"):
        ad.add_ref(np.zeros(3, np.int16), np.zeros(3, np.int8), p)
    with pytest.raises(ValueError, match=r"\(3,\) and \(1,\)"):
        ad.add_ref(np.zeros(3, np.int8), np.zeros(1, np.int8), p)


def test_every_add_of_the_shipped_model_runs_on_the_kernel():
    """The device model's ADDs (whatever model is shipped): same-shape int8, quantisations the kernel takes."""
    adds = ao.model_add_quantisations()
    assert adds, "the device model has no same-shape ADD"
    for q1, q2, qo, act, n in adds:
        p = ad.make_params(*q1, *q2, *qo, act)
        assert n > 0 and p.left_shift == 20


# ---------------------------------------------------------------- C kernel == TFLM (host, sanitizers)
def _build_check(out: Path, vectors: Path) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("needs a host C compiler (gcc)")
    exe = out / "ma_add_s8_check"
    subprocess.run([gcc, *HOST_CFLAGS, f"-I{KERNELS}", f"-I{vectors}", str(CHECK_C), str(KERNELS / "ma_add_s8.c"),
                    "-o", str(exe)], check=True)
    return exe


def _assert_all_pass(rc: int, out: str, n_cases: int, cmsis: bool = False) -> None:
    assert rc == 0, out[-3000:]
    case_lines = [ln for ln in out.splitlines() if ln.startswith("case ")]
    assert len(case_lines) == n_cases and all(ln.endswith("PASS") for ln in case_lines), out[-3000:]
    if cmsis:
        assert all(", CMSIS-NN 0 bytes differ" in ln for ln in case_lines), out[-3000:]
    assert "api argument checks: PASS" in out
    assert f"PASS: 0 of {n_cases + 1} checks failed" in out


def test_c_kernel_host_sanitizers(tmp_path, vectors_dir, cases):
    exe = _build_check(tmp_path, vectors_dir)
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    _assert_all_pass(p.returncode, p.stdout + p.stderr, len(cases))


def test_c_check_reports_a_wrong_byte(tmp_path, cases):
    """The checker is not vacuous: one flipped expected byte fails through the exit status."""
    c = next(c for c in cases if c.name.startswith("out_e23_zp127_every"))
    bad = ao.Case(c.name, c.q1, c.q2, c.qo, c.activation, c.x1, c.x2, c.out.copy())
    bad.out[40000] ^= 1
    ao.write_header([cases[-1], bad], tmp_path / ao.HEADER_NAME)
    exe = _build_check(tmp_path, tmp_path)
    p = subprocess.run([str(exe)], capture_output=True, text=True)
    assert p.returncode == 1 and "out-of-place 1, in-place 1 / 1 bytes differ: FAIL" in p.stdout, p.stdout


# ---------------------------------------------------------------- Cortex-M7 (QEMU), beside CMSIS-NN
def test_c_kernel_cortex_m7_qemu_equals_tflm_and_cmsis_nn(tmp_path):
    """The small vectors (every quantisation above, the model's ADDs on 4,099 elements, three every-pair cases) on
    the Cortex-M7 build (-O2, the board's flags: the SMMLAR/SSAT path) under qemu-system-arm -M mps2-an500; with
    a CMSIS-NN tree (../shared/tflm/cortex-m7-cmsis-nn or TFLM_M7_ROOT), CMSIS-NN's arm_elementwise_add_s8 runs
    on the same vectors and must give TFLM's bytes too."""
    from microalign.export import tflm_host

    harness = qemu_harness()
    small = ao.default_cases(seed=0, small=True)
    ao.write_header(small, tmp_path / ao.HEADER_NAME)
    srcs, includes, defines = [str(KERNELS / "ma_add_s8.c")], [str(KERNELS), str(tmp_path)], []
    m7 = tflm_host.find_tflm_m7_root()
    if m7 is not None:
        nn = Path(m7) / "third_party" / "cmsis_nn"
        srcs.append(str(nn / "Source" / "BasicMathFunctions" / "arm_elementwise_add_s8.c"))
        includes += [str(nn / "Include"), str(nn)]
        defines.append("MA_CHECK_CMSIS_NN")
    fw = harness.Firmware(test=str(CHECK_C), srcs=srcs, includes=includes, build=tmp_path / "build", defines=defines)
    rc, out = fw.run_qemu(timeout=900)
    _assert_all_pass(rc, out, len(small), cmsis=m7 is not None)


# ---------------------------------------------------------------- the TFLM adapter (host TFLM)
def _run_host(host_tflm, model: bytes, x1: np.ndarray) -> np.ndarray:
    from microalign.export import tflm_host

    out, _ = tflm_host.run_windows(host_tflm, model, x1[None])
    return out.reshape(-1)


def test_adapter_equals_tflm_reference_int8(host_tflm, cases):
    """ma_tflm_run registers microalign::Register_ADD as the builtin: same bytes as the PyPI TFLM, on every case
    (input 2 a constant tensor: ma_tflm_run feeds one input)."""
    for c in cases:
        n = c.x1.size
        if n == 0:
            continue
        model = ao.build_add_tflite([1, n], c.q1, [1, n], c.q2, [1, n], c.qo, c.activation, const2=c.x2.reshape(1, n))
        got = _run_host(host_tflm, model, c.x1.reshape(1, n))
        assert np.array_equal(got, c.out), f"{c.name}: {(got != c.out).sum()} bytes differ"


def test_adapter_handles_the_models_shapes_and_falls_back_elsewhere(host_tflm, tmp_path):
    from microalign.export import tflm_host

    rng = np.random.default_rng(5)
    q1, q2, qo = (0.0759, -128), (0.156, -9), (0.1288, -38)
    # [1, 1, 200, 96] + [1, 200, 96]: element-wise (leading ones), as in the device model
    x1, x2 = rng.integers(-128, 128, (2, 200 * 96)).astype(np.int8)
    model = ao.build_add_tflite([1, 1, 200, 96], q1, [1, 200, 96], q2, [1, 1, 200, 96], qo,
                                const2=x2.reshape(1, 200, 96))
    want = ad.add_ref(x1, x2, ad.make_params(*q1, *q2, *qo))
    assert np.array_equal(_run_host(host_tflm, model, x1.reshape(1, 1, 200, 96)), want)
    assert np.array_equal(ao.run_tflm(model, x1.reshape(1, 1, 200, 96)).astype(np.int8), want)
    # broadcasting [1, 5, 6] + [1, 1, 6]: TFLM's own kernel runs (same bytes as the PyPI runtime's)
    b1, b2 = rng.integers(-128, 128, 30).astype(np.int8), rng.integers(-128, 128, 6).astype(np.int8)
    model = ao.build_add_tflite([1, 5, 6], q1, [1, 1, 6], q2, [1, 5, 6], qo, "relu", const2=b2.reshape(1, 1, 6))
    got = _run_host(host_tflm, model, b1.reshape(1, 5, 6))
    want = ad.add_ref(b1, np.tile(b2, 5), ad.make_params(*q1, *q2, *qo, "relu"))
    assert np.array_equal(got, want)
    assert np.array_equal(ao.run_tflm(model, b1.reshape(1, 5, 6)).astype(np.int8), want)

    def run_raw(model: bytes, x: np.ndarray, dtype) -> np.ndarray:
        (tmp_path / "in.bin").write_bytes(np.ascontiguousarray(x).tobytes())
        (tmp_path / "m.tflite").write_bytes(model)
        p = subprocess.run([str(host_tflm.runner), str(tmp_path / "m.tflite"), str(tmp_path / "in.bin"),
                            str(tmp_path / "out.bin")], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype)

    # int16 (zero points 0, as TFLM requires): TFLM's int16 kernel
    h1, h2 = rng.integers(-32768, 32768, (2, 64)).astype(np.int16)
    model = ao.build_add_tflite([1, 64], (0.001, 0), [1, 64], (0.002, 0), [1, 64], (0.003, 0), dtype="int16",
                                const2=h2.reshape(1, 64))
    got = run_raw(model, h1.reshape(1, 64), np.int16)
    np.testing.assert_array_equal(got, ao.run_tflm(model, h1.reshape(1, 64)))
    assert np.abs(got * 0.003 - (h1 * 0.001 + h2 * 0.002)).max() <= 0.003
    # float32: TFLM's float kernel
    f1, f2 = rng.normal(0, 3, (2, 7, 28)).astype(np.float32)
    model = ao.build_add_tflite([7, 28], (1, 0), [7, 28], (1, 0), [7, 28], (1, 0), "relu6", dtype="float32",
                                const2=f2)
    got = run_raw(model, f1, np.float32)
    np.testing.assert_array_equal(got, ao.run_tflm(model, f1))
    np.testing.assert_allclose(got, np.clip(f1 + f2, 0, 6).ravel(), atol=1e-6)
    # an output scale TFLM's Prepare aborts on: refused with a message, no crash
    with pytest.raises(tflm_host.TFLMHostError, match="AllocateTensors failed") as e:
        _run_host(host_tflm, ao.build_add_tflite([1, 8], (0.1, 0), [1, 8], (0.1, 0), [1, 8], (1e-7, 0),
                                                 const2=np.zeros((1, 8), np.int8)), np.zeros((1, 8), np.int8))
    assert "ADD: int8 scales 0.1, 0.1 -> 1e-07 not supported" in str(e.value)
