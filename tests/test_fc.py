"""The int8 FULLY_CONNECTED / 1-D CONV_2D / 1-D DEPTHWISE_CONV_2D kernel (ma_fc_s8) equals TFLM's and CMSIS-NN's byte
for byte.

Oracle: the PyPI ``tflite-micro`` runtime running one-op int8 FULLY_CONNECTED and CONV_2D models
(``microalign.kernels.fc_oracle``) on every such layer of the shipped device model with its own weights, bias and
quantisation (read from the model), on adversarial quantisations (output shifts from a left shift to -31 across the C
kernel's fast-path borders, biases at and beyond 2^29, zero points at both ends, every fused activation, per-tensor
weights, saturating products), odd sizes, SAME / VALID convolutions with strides 1 .. 3 and padding wider than the
input, and a random sweep. Checked against it: the numpy reference (``microalign.kernels.fully_connected``), the C
kernel (``tflm_app/kernels/ma_fc_s8.c``) on the host with ASan/UBSan (its portable loop and its DSP loop with the
instructions emulated) and as Cortex-M7 firmware under QEMU mps2-an500 (the SMLAD/SMMLAR path, beside CMSIS-NN's
kernels as TFLM calls them, which must give the same bytes), and the TFLM adapters (``tflm_app/tflm/ma_fc_tflm.cc``,
registered as the builtin FULLY_CONNECTED and CONV_2D in ``ma_tflm_run`` and the firmware) through the host TFLM
build, with their fallbacks to TFLM's own kernels (float32, int16, dilation, height > 1).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, qemu_harness
from microalign.kernels import fc_oracle as fo
from microalign.kernels import fully_connected as fc

KERNELS = REPO / "tflm_app" / "kernels"
CHECK_C = REPO / "convert" / "microalign" / "kernels" / "c" / "ma_fc_s8_check.c"
HOST_CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
               "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


@pytest.fixture(scope="session")
def cases() -> list[fo.Case]:
    return fo.default_cases(seed=0)


@pytest.fixture(scope="session")
def vectors_dir(tmp_path_factory, cases) -> Path:
    d = tmp_path_factory.mktemp("fc_vectors")
    fo.write_header(cases, d / fo.HEADER_NAME)
    return d


# ---------------------------------------------------------------- numpy reference == TFLM
def test_oracle_cases_cover_the_edges(cases):
    """The vectors are not trivial: every model layer, both requantisation paths and their borders, clamping."""
    layers = fo.model_layers()
    assert {c.name for c in cases} >= {f"model_{layer.kind}{layer.index}" for layer in layers}
    params = [c.params() for c in cases]
    shifts = {s for p in params for s in p.shift}
    assert {1, 0, -1, -21, -22, -23, -24, -31} <= shifts and max(shifts) >= 14
    assert any(not p.per_channel for p in params) and any(c.bias is None for c in cases)
    big = [c for c in cases if c.bias is not None and np.abs(c.bias.astype(np.int64)).max() >= 1 << 29]
    assert len(big) >= 5
    assert {c.activation for c in cases} == set(fc.ACTIVATIONS)
    assert any((p.activation_min, p.activation_max) == (127, 127) for p in params)     # a one-value range
    geo = [c.geometry() for c in cases]
    assert {g["depth"] % 8 for g in geo} == set(range(8)) and {g["channels"] % 4 for g in geo} == set(range(4))
    assert any(g["rows"] % 2 == 1 for g in geo) and any(g["depth"] == 1 for g in geo)
    for kind in ("conv", "dw"):
        convs = [c for c in cases if c.kind == kind]
        assert {c.padding for c in convs} == set(fc.PADDINGS) and {c.stride for c in convs} >= {1, 2, 3}
        assert any(c.geometry()["pad_before"] * c.x.shape[1] >= c.x.size for c in convs)  # padding wider than input
    dws = [c for c in cases if c.kind == "dw"]
    assert {c.x.shape[1] % 4 for c in dws} == set(range(4)) and any(c.bias is None for c in dws)
    assert {c.activation for c in dws} == set(fc.ACTIVATIONS)
    dw_shifts = {s for c in dws for s in c.params().shift}
    assert {s for s in dw_shifts if -22 <= s <= -1} and {s for s in dw_shifts if not -22 <= s <= -1}
    outs = np.concatenate([c.out.ravel() for c in cases])
    assert set(np.unique(outs)) == set(range(-128, 128))            # every output byte occurs, both clamps


def test_reference_equals_tflm_on_the_cases(cases):
    for c in cases:
        out = c.reference()
        assert out.shape == c.out.shape and np.array_equal(out, c.out), f"{c.name}: {(out != c.out).sum()} differ"


def test_reference_equals_tflm_on_another_random_sweep():
    """80 more random cases (another seed) through the reference and TFLM."""
    rng = np.random.default_rng(17)
    for c in fo.random_cases(rng, 80):
        assert np.array_equal(c.reference(), c.out), c.name


def test_params_are_tflms_prepare():
    """Per channel: QuantizeMultiplier(double(in) * double(w) / double(out)) for each channel; per tensor one."""
    p = fc.make_params(0.5, 3, [0.25, 1.0, 3.0], 0.125, -7, "relu")
    assert p.per_channel and p.multiplier == (1 << 30, 1 << 30, 1610612736) and p.shift == (1, 3, 4)
    assert (p.input_offset, p.output_offset, p.activation_min, p.activation_max) == (-3, -7, -7, 127)
    q = fc.make_params(0.5, 3, [0.25], 0.125, -7)
    assert not q.per_channel and q.multiplier == (1 << 30,) and q.shift == (1,)
    m, s = q.channel(5)
    assert list(m) == [1 << 30] * 5 and list(s) == [1] * 5


def test_reference_approximates_the_float_product():
    """Sanity of the arithmetic itself: within one output step of the float product where nothing clamps."""
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (50, 40)).astype(np.int8)
    w = rng.integers(-128, 128, (12, 40)).astype(np.int8)
    b = rng.integers(-3000, 3000, 12).astype(np.int32)
    ws = rng.uniform(0.002, 0.01, 12)
    qi, qo = (0.05, -10), (0.6, 4)
    got = (fc.fc_ref(x, w, b, fc.make_params(*qi, ws, *qo)).astype(np.float64) - qo[1]) * np.float32(qo[0])
    want = fc.fc_float(x, w, b, *qi, ws)
    inside = np.abs(want / np.float32(qo[0]) + qo[1]) < 127
    assert inside.sum() > 300
    assert np.abs(got - want)[inside].max() <= 0.5 * qo[0] * (1 + 1e-3)


def test_depthwise_reference_is_the_definition():
    """The depthwise reference against a direct loop over outputs, channels and taps (taps outside the input
    omitted), on a case with padding on both sides and stride 2."""
    rng = np.random.default_rng(8)
    x = rng.integers(-128, 128, (9, 5)).astype(np.int8)
    w = rng.integers(-128, 128, (4, 5)).astype(np.int8)
    b = rng.integers(-2000, 2000, 5).astype(np.int32)
    p = fc.make_params(0.05, 7, list(rng.uniform(0.002, 0.02, 5)), 0.3, -3, "relu")
    out_w, pad = fc.conv_padding(9, 4, 2, "same")
    acc = np.zeros((out_w, 5), np.int64)
    for t in range(out_w):
        for c in range(5):
            acc[t, c] = b[c] + sum((int(x[t * 2 - pad + j, c]) + p.input_offset) * int(w[j, c]) for j in range(4)
                                   if 0 <= t * 2 - pad + j < 9)
    np.testing.assert_array_equal(fc.depthwise_conv1d_ref(x, w, b, p, 2, "same"), fc.requantize(acc, p))
    with pytest.raises(ValueError, match=r"\(4, 6\)"):
        fc.depthwise_conv1d_ref(x, np.zeros((4, 6), np.int8), None, p)


def test_conv_padding_is_tflms():
    assert fc.conv_padding(400, 5, 1, "same") == (400, 2)
    assert fc.conv_padding(402, 3, 2, "valid") == (200, 0)
    assert fc.conv_padding(17, 3, 2, "same") == (9, 1)
    assert fc.conv_padding(3, 7, 1, "same") == (3, 3)
    assert fc.conv_padding(10, 4, 3, "same") == (4, 1)


def test_bad_input_is_refused_naming_the_value():
    assert issubclass(fc.FcQuantError, ValueError)
    for args, shown in (((0.0, 0, 0.1, 0.1, 0), "0.0"), ((0.1, 0, [0.1, -0.5], 0.1, 0), "-0.5"),
                        ((0.1, 0, 0.1, float("nan"), 0), "nan"), ((0.1, 200, 0.1, 0.1, 0), "200"),
                        ((0.1, 0, 0.1, 0.1, -129), "-129")):
        with pytest.raises(fc.FcQuantError, match=re.escape(shown)):
            fc.make_params(*args)
    with pytest.raises(fc.FcQuantError, match="'gelu'"):
        fc.make_params(0.1, 0, 0.1, 0.1, 0, "gelu")
    p = fc.make_params(0.1, 0, 0.1, 0.1, 0)
    with pytest.raises(ValueError, match="int16"):
        fc.fc_ref(np.zeros((2, 3), np.int16), np.zeros((4, 3), np.int8), None, p)
    with pytest.raises(ValueError, match=r"\(4, 5\)"):
        fc.fc_ref(np.zeros((2, 3), np.int8), np.zeros((4, 5), np.int8), None, p)
    with pytest.raises(ValueError, match="int32 of shape"):
        fc.fc_ref(np.zeros((2, 3), np.int8), np.zeros((4, 3), np.int8), np.zeros(4, np.int64), p)
    with pytest.raises(ValueError, match="'full'"):
        fc.conv_padding(10, 3, 1, "full")


def test_the_shipped_models_depthwise_layer_takes_the_fast_path():
    """Its DEPTHWISE_CONV_2D (7 taps, 96 channels, SAME): channels a multiple of 4 (every group on the SXTB16 path),
    per-channel output shifts in -22 .. -1 and |bias| < 2^29 (the fast requantisation), no clamp narrower than int8."""
    dws = [la for la in fo.model_layers() if la.kind == "dw"]
    assert len(dws) == 1
    for la in dws:
        p = fc.make_params(*la.qi, la.w_scales, *la.qo, la.activation)
        assert la.channels % 4 == 0 and all(-22 <= s <= -1 for s in p.shift), p.shift
        assert (p.activation_min, p.activation_max) == (-128, 127)
        assert la.bias is None or np.abs(la.bias.astype(np.int64)).max() < 1 << 29


def test_every_fc_and_conv_of_the_shipped_model_takes_the_fast_path():
    """The device model's 23 FULLY_CONNECTED and 2 CONV_2D: int8, per-channel, depth <= MA_FC_S8_MAX_DEPTH, and (what
    the speed rests on) output shifts in -22 .. -1, |bias| < 2^29, no activation clamp narrower than int8, depths a
    multiple of 8 up to 256 and channels a multiple of 4 (blocks of 8 on ma_fc_rows_wide, which wants depths a multiple
    of 4 up to 256; a last block of 4 on ma_fc_rows)."""
    layers = [la for la in fo.model_layers() if la.kind != "dw"]
    assert sum(la.kind == "fc" for la in layers) >= 20 and sum(la.kind == "conv" for la in layers) == 2
    for la in layers:
        p = fc.make_params(*la.qi, la.w_scales, *la.qo, la.activation)
        assert p.per_channel and la.depth <= 256 and la.depth % 8 == 0 and la.channels % 4 == 0, la.index
        assert all(-22 <= s <= -1 for s in p.shift), (la.index, p.shift)
        assert (p.activation_min, p.activation_max) == (-128, 127), la.index
        assert la.bias is None or np.abs(la.bias.astype(np.int64)).max() < 1 << 29, la.index


# ---------------------------------------------------------------- C kernel == TFLM (host, sanitizers)
def _build_check(out: Path, vectors: Path, extra: list[str] = ()) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("needs a host C compiler (gcc)")
    exe = out / ("ma_fc_s8_check" + "".join(e.replace("-D", "_") for e in extra))
    subprocess.run([gcc, *HOST_CFLAGS, *extra, f"-I{KERNELS}", f"-I{vectors}", str(CHECK_C),
                    str(KERNELS / "ma_fc_s8.c"), "-o", str(exe)], check=True)
    return exe


def _assert_all_pass(rc: int, out: str, n_cases: int, cmsis: bool = False) -> None:
    assert rc == 0, out[-3000:]
    case_lines = [ln for ln in out.splitlines() if ln.startswith("case ")]
    assert len(case_lines) == n_cases and all(ln.endswith("PASS") for ln in case_lines), out[-3000:]
    assert all(", 0 bytes differ, guards intact" in ln for ln in case_lines), out[-3000:]
    if cmsis:
        assert all(", CMSIS-NN 0 bytes differ" in ln for ln in case_lines), out[-3000:]
    assert "api argument checks: PASS" in out
    assert f"PASS: 0 of {n_cases + 1} checks failed" in out


@pytest.mark.parametrize("path", ["portable", "dsp_emulated"])
def test_c_kernel_host_sanitizers(tmp_path, vectors_dir, cases, path):
    exe = _build_check(tmp_path, vectors_dir, ["-DMA_FC_S8_EMULATE_DSP"] if path == "dsp_emulated" else [])
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    _assert_all_pass(p.returncode, p.stdout + p.stderr, len(cases))


@pytest.mark.parametrize("path", ["portable", "dsp_emulated"])
def test_c_check_reports_a_wrong_byte(tmp_path, cases, path):
    """The checker is not vacuous: one flipped expected byte fails through the exit status."""
    c = next(c for c in cases if c.name == "saturating")
    bad = fo.Case(c.name, c.kind, c.x, c.w, c.bias, c.qi, c.w_scales, c.qo, c.activation, out=c.out.copy())
    bad.out[5, 7] ^= 1
    fo.write_header([cases[-1], bad], tmp_path / fo.HEADER_NAME)
    exe = _build_check(tmp_path, tmp_path, ["-DMA_FC_S8_EMULATE_DSP"] if path == "dsp_emulated" else [])
    p = subprocess.run([str(exe)], capture_output=True, text=True)
    assert p.returncode == 1 and "status 0, 1 bytes differ, guards intact: FAIL" in p.stdout, p.stdout


# ---------------------------------------------------------------- Cortex-M7 (QEMU), beside CMSIS-NN
def test_c_kernel_cortex_m7_qemu_equals_tflm_and_cmsis_nn(tmp_path):
    """The small vectors (every model layer on 37 rows, the adversarial cases, 12 random ones) on the Cortex-M7 build
    (-O2, the board's flags: the SMLAD / SMMLAR path) under qemu-system-arm -M mps2-an500; with a CMSIS-NN tree
    (../shared/tflm/cortex-m7-cmsis-nn or TFLM_M7_ROOT), CMSIS-NN's kernels as TFLM's CMSIS-NN FULLY_CONNECTED and
    CONV_2D call them run on the same vectors and must give TFLM's bytes too."""
    from microalign.export import tflm_host

    harness = qemu_harness()
    small = fo.default_cases(seed=0, small=True)
    fo.write_header(small, tmp_path / fo.HEADER_NAME)
    srcs, includes, defines = [str(KERNELS / "ma_fc_s8.c")], [str(KERNELS), str(tmp_path)], []
    m7 = tflm_host.find_tflm_m7_root()
    if m7 is not None:
        nn = Path(m7) / "third_party" / "cmsis_nn"
        srcs += [str(s) for s in fo.cmsis_nn_sources(nn)]
        includes += [str(nn / "Include"), str(nn)]
        defines.append("MA_CHECK_CMSIS_NN")
    fw = harness.Firmware(test=str(CHECK_C), srcs=srcs, includes=includes, build=tmp_path / "build", defines=defines)
    rc, out = fw.run_qemu(timeout=900)
    _assert_all_pass(rc, out, len(small), cmsis=m7 is not None)


# ---------------------------------------------------------------- the TFLM adapters (host TFLM)
def _model_of(c: fo.Case) -> tuple[bytes, np.ndarray]:
    n = c.w.shape[0]
    if c.kind == "fc":
        t, k = c.x.shape
        return fo.build_fc_tflite([1, t, k], c.qi, c.w, c.w_scales, c.bias, [1, t, n], c.qo, c.activation), \
            c.x.reshape(1, t, k)
    width, ch = c.x.shape
    if c.kind == "dw":
        return (fo.build_dwconv_tflite(width, ch, c.qi, c.w.reshape(1, 1, -1, ch), c.w_scales, c.bias, c.qo, c.stride,
                                       c.padding, c.activation), c.x.reshape(1, 1, width, ch))
    return (fo.build_conv_tflite(width, ch, c.qi, c.w.reshape(n, 1, -1, ch), c.w_scales, c.bias, c.qo, c.stride,
                                 c.padding, c.activation), c.x.reshape(1, 1, width, ch))


def _run_raw(host_tflm, tmp_path: Path, model: bytes, x: np.ndarray, dtype) -> tuple[np.ndarray, int]:
    (tmp_path / "in.bin").write_bytes(np.ascontiguousarray(x).tobytes())
    (tmp_path / "m.tflite").write_bytes(model)
    p = subprocess.run([str(host_tflm.runner), str(tmp_path / "m.tflite"), str(tmp_path / "in.bin"),
                        str(tmp_path / "out.bin")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    arena = int(re.search(r"arena=(\d+)", p.stdout).group(1))
    return np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype), arena


def test_adapter_equals_tflm_reference_int8(host_tflm, cases):
    """ma_tflm_run registers microalign::Register_FULLY_CONNECTED / Register_CONV_2D as the builtins: the same bytes
    as the PyPI TFLM on every case."""
    from microalign.export import tflm_host

    for c in cases:
        model, x = _model_of(c)
        got, _ = tflm_host.run_windows(host_tflm, model, x[None])
        assert np.array_equal(got.reshape(c.out.shape), c.out), f"{c.name}: {(got.ravel() != c.out.ravel()).sum()}"


def test_adapter_runs_the_kernel_and_falls_back_elsewhere(host_tflm, tmp_path):
    rng = np.random.default_rng(5)
    # ma_fc_s8 takes the int8 node: its scratch (17 bytes per depth) is in the arena; TFLM's reference FC asks for
    # none, as the float32 fallback shows (same tensor bytes: input and output 400 bytes each)
    arenas = {}
    for t, k, n in ((100, 4, 4), (1, 400, 400)):
        w = rng.integers(-128, 128, (n, k)).astype(np.int8)
        x = rng.integers(-128, 128, (1, t, k)).astype(np.int8)
        model = fo.build_fc_tflite([1, t, k], (0.05, 3), w, 0.004, None, [1, t, n], (0.3, -2))
        got, arenas["int8", k] = _run_raw(host_tflm, tmp_path, model, x, np.int8)
        np.testing.assert_array_equal(got, fo.run_tflm(model, x))
        fmodel = fo.build_fc_tflite([1, t, k], (1, 0), w.astype(np.float32) / 64, 1, None, [1, t, n], (1, 0),
                                    dtype="float32")
        xf = x.astype(np.float32) / 32
        got, arenas["float32", k] = _run_raw(host_tflm, tmp_path, fmodel, xf, np.float32)
        np.testing.assert_allclose(got, (xf.reshape(t, k) @ (w.astype(np.float32) / 64).T).ravel(), rtol=1e-5,
                                   atol=1e-4)
    assert arenas["float32", 400] == arenas["float32", 4]
    assert 17 * (400 - 4) - 16 <= arenas["int8", 400] - arenas["int8", 4] <= 17 * (400 - 4) + 64, arenas
    # keep_num_dims False, 2-D input [T, K] -> [T, N]: still the kernel, the same bytes
    w = rng.integers(-128, 128, (6, 10)).astype(np.int8)
    x = rng.integers(-128, 128, (7, 10)).astype(np.int8)
    b = rng.integers(-500, 500, 6).astype(np.int32)
    model = fo.build_fc_tflite([7, 10], (0.05, -4), w, [0.01] * 6, b, [7, 6], (0.2, 9), "relu6", keep_num_dims=False)
    got, _ = _run_raw(host_tflm, tmp_path, model, x, np.int8)
    np.testing.assert_array_equal(got, fo.run_tflm(model, x))
    np.testing.assert_array_equal(got.reshape(7, 6), fc.fc_ref(x, w, b, fc.make_params(0.05, -4, [0.01] * 6, 0.2, 9,
                                                                                          "relu6")))
    # CONV_2D with dilation 2, and of height 2: TFLM's own conv runs (same bytes as the PyPI runtime's)
    w4 = rng.integers(-128, 128, (4, 1, 3, 5)).astype(np.int8)
    x4 = rng.integers(-128, 128, (1, 1, 12, 5)).astype(np.int8)
    model = fo.build_conv_tflite(12, 5, (0.05, 2), w4, [0.01] * 4, None, (0.3, -1), 1, "same", dilation=2)
    got, _ = _run_raw(host_tflm, tmp_path, model, x4, np.int8)
    np.testing.assert_array_equal(got, fo.run_tflm(model, x4))
    w22 = rng.integers(-128, 128, (4, 2, 3, 5)).astype(np.int8)
    x22 = rng.integers(-128, 128, (1, 2, 12, 5)).astype(np.int8)
    model = fo.build_conv_tflite(12, 5, (0.05, 2), w22, [0.01] * 4, None, (0.3, -1), 1, "valid", height=2)
    got, _ = _run_raw(host_tflm, tmp_path, model, x22, np.int8)
    np.testing.assert_array_equal(got, fo.run_tflm(model, x22))
    assert got.size == 10 * 4 and len(np.unique(got)) > 5
    # DEPTHWISE_CONV_2D: ma_dwconv1d_s8 asks for ma_fc_s8_scratch_bytes(kw) = 144 + 18 ceil4(kw) bytes of scratch, so
    # 31 taps take 408 bytes more arena than 7 (TFLM's reference asks for none); a dilation of 2 runs TFLM's own
    # kernel; the same bytes as the PyPI runtime every time
    xd = rng.integers(-128, 128, (1, 1, 40, 12)).astype(np.int8)
    dw_arena = {}
    for kw, dil in ((7, 1), (31, 1), (7, 2)):
        wd = rng.integers(-128, 128, (1, 1, kw, 12)).astype(np.int8)
        model = fo.build_dwconv_tflite(40, 12, (0.05, 2), wd, list(rng.uniform(0.002, 0.02, 12)),
                                       rng.integers(-900, 900, 12).astype(np.int32), (0.3, -1), 1, "same",
                                       dilation=dil)
        got, dw_arena[kw, dil] = _run_raw(host_tflm, tmp_path, model, xd, np.int8)
        np.testing.assert_array_equal(got, fo.run_tflm(model, xd))
    assert 408 - 16 <= dw_arena[31, 1] - dw_arena[7, 1] <= 408 + 16, dw_arena
