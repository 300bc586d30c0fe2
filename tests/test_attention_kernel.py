"""The fused int8 attention kernel equals TFLite Micro's builtin subgraph byte for byte.

Oracle: the PyPI ``tflite-micro`` runtime running ``[MUL] → BATCH_MATMUL → [MUL] → SOFTMAX →
BATCH_MATMUL`` as its own .tflite: cut out of a student attention layer converted the shipped
model's way (PyTorch → ONNX → onnx2tf → int8 TFLite; needs torch/onnx2tf/tensorflow, cached
once per session) and written directly from random quantisation parameters (no TensorFlow).
Checked against it: the numpy reference (``microalign.kernels.attention_ref``) and the C kernel
(``tflm_app/kernels/ma_attention_s8.c``) built on the host with ASan/UBSan (portable path, and
the DSP path with emulated intrinsics) and as Cortex-M7 firmware under QEMU mps2-an500 (with the
tflm_app/app/firmware.py (board/mps2_an500); skipped with a message when the toolchain or QEMU is missing).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, qemu_harness
from microalign.kernels import attention_oracle as ao
from microalign.kernels import attention_ref as ar

KERNELS = REPO / "tflm_app" / "kernels"
CHECK_C = REPO / "convert" / "microalign" / "kernels" / "c" / "ma_attention_s8_check.c"
HOST_CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
               "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


# ---------------------------------------------------------------- fixtures (once per session)
@pytest.fixture(scope="session")
def random_cases() -> list[ao.Case]:
    return ao.default_cases(seed=0)


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """A student attention layer converted to int8 TFLite the shipped model's way, and its cut subgraph."""
    for mod in ("torch", "onnx2tf", "tensorflow", "ai_edge_litert"):
        pytest.importorskip(mod, reason=f"the conversion oracle needs {mod} (pip install -e '.[convert]')")
    shared = Path(os.environ.get("MICROALIGN_SHARED", REPO.parent / "shared"))
    timit = shared / "data" / "timit-sample-dev"
    if timit.is_dir():
        attn, xs, source = ao.student_attention_inputs(n_windows=6, layer=0, data_dir=timit)
    else:                     # no real speech on this machine: calibrate on noise, no real-activation test
        import torch
        from microalign.model.student import StudentAligner
        torch.manual_seed(0)
        attn = StudentAligner().eval().fuse().blocks[0].attn
        xs = np.random.default_rng(0).standard_normal((6, 200, 128)).astype(np.float32)
        source = None
    model = ao.convert_attention_layer(attn, xs[:4], tmp_path_factory.mktemp("att_convert"))
    sites = ao.find_attention(model)
    return {"model": model, "sites": sites, "held_out": xs[4:], "source": source,
            "shape": (attn.h, xs.shape[1], xs.shape[1], attn.dk)}


@pytest.fixture(scope="session")
def converted_cases(converted) -> list[ao.Case]:
    """Cases from the converted layer: random inputs and, with TIMIT, its real q, k, v."""
    site = converted["sites"][0]
    cut = ao.cut_attention(converted["model"], site)
    rng = np.random.default_rng(3)
    shape = (site.heads, site.q_len, site.head_dim)
    q, k, v = (rng.integers(-128, 128, shape).astype(np.int8) for _ in range(3))
    cases = [ao.Case(f"converted_random_h{site.heads}_t{site.q_len}", site.quant, q, k, v, ao.run_tflm(cut, q, k, v))]
    if converted["source"] is not None:
        for n, x in enumerate(converted["held_out"]):
            q, k, v = (a.reshape(shape) for a in ao.capture_litert(converted["model"], x[None],
                                                                     [site.q, site.k, site.v]))
            cases.append(ao.Case(f"converted_timit{n}_h{site.heads}_t{site.q_len}", site.quant, q, k, v, ao.run_tflm(cut, q, k, v)))
    return cases


@pytest.fixture(scope="session")
def dsp_path_cases() -> list[ao.Case]:
    return make_dsp_path_cases()


def make_dsp_path_cases() -> list[ao.Case]:
    """Cases aimed at the DSP path's later additions: the unrolled head size 48 (the shipped model's),
    P·V over key pairs (odd key counts: a last key without a partner; windows starting at odd keys),
    the output's fast requantisation and its fallback (output shift > 0), the largest |P·V|
    accumulator (one key, weight 255, every v - zv = -255; two tied keys), and the shipped model's
    own quantisation at its size."""
    rng = np.random.default_rng(11)
    T = ar.TensorQuant
    cases = [ao.random_case(rng, "d48_h1_q9_k13", 1, 9, 13, 48),
             ao.random_case(rng, "d48_extreme_h2_q7_k200", 2, 7, 200, 48, extreme=True),
             ao.windowed_case(rng, "d48_window_5_4_h1_t31", 1, 31, 48, (5, 4))]
    base = dict(q=T(0.05, 3), k=T(0.05, -2), scores=T(0.05, 1))
    # BATCH_MATMUL(p, v)'s real multiplier 0.5 / 256 / 1e-4 = 19.5: shift +5, not the fast form
    cases.append(ao.quant_case(rng, "pv_shiftpos_h2_q6_k9_d20", ar.AttentionQuant(v=T(0.5, 0), out=T(1e-4, 2), **base),
                               2, 6, 9, 20))
    big = ar.AttentionQuant(v=T(0.02, 127), out=T(0.5, 0), **base)
    cases.append(ao.quant_case(rng, "pv_max_acc_h1_q3_k1_d16", big, 1, 3, 1, 16, fill=(0, 0, -128)))
    cases.append(ao.quant_case(rng, "pv_tied_h1_q4_k2_d17", big, 1, 4, 2, 17, fill=(5, 5, -128)))
    shipped = REPO / "convert" / "microalign" / "assets" / "student_int8.tflite"
    if shipped.is_file():
        from microalign.export import flatbuffer as fbk
        site = fbk.find_attention(shipped.read_bytes())[0]
        cases.append(ao.quant_case(rng, "shipped_site0_h1_t200_d48", site.quant, site.heads, site.q_len,
                                   site.kv_len, site.head_dim))
    return cases


def test_dsp_path_cases_cover_what_they_claim(dsp_path_cases):
    by = {c.name: c for c in dsp_path_cases}
    p = ar.make_params(by["pv_shiftpos_h2_q6_k9_d20"].quant)
    assert p.pv_shift > 0
    c = by["pv_max_acc_h1_q3_k1_d16"]
    _, probs = ar.attention_ref(c.q, c.k, c.v, ar.make_params(c.quant), return_probs=True)
    assert (probs == 127).all() and (c.v.astype(int) - c.quant.v.zero_point == -255).all()
    assert any(c.k.shape[1] % 2 for c in dsp_path_cases) and any(c.window for c in dsp_path_cases)
    for c in dsp_path_cases:           # the TFLM oracle's output is what the reference computes
        assert np.array_equal(ar.attention_ref(c.q, c.k, c.v, ar.make_params(c.quant), window=c.window), c.out), c.name


@pytest.fixture(scope="session")
def vectors_dir(tmp_path_factory, random_cases, dsp_path_cases, request) -> Path:
    """The C header with every case (converted-layer cases too when the converter is installed)."""
    cases = list(random_cases) + list(dsp_path_cases)
    try:
        cases += request.getfixturevalue("converted_cases")
    except pytest.skip.Exception:
        pass
    d = tmp_path_factory.mktemp("att_vectors")
    ao.write_header(cases, d / ao.HEADER_NAME)
    return d


# ---------------------------------------------------------------- numpy reference == TFLM
def test_reference_equals_tflm_on_generated_cases(random_cases):
    for c in random_cases:
        if c.name.startswith("ref_only"):
            continue
        out = ar.attention_ref(c.q, c.k, c.v, ar.make_params(c.quant), window=c.window)
        assert np.array_equal(out, c.out), f"{c.name}: {(out != c.out).sum()} bytes differ"


def test_reference_equals_tflm_on_a_parameter_sweep():
    """200 random shapes and quantisations, both MUL placements, peaky/flat/saturating scores."""
    rng = np.random.default_rng(5)
    for i in range(200):
        h, tq, tk = int(rng.integers(1, 4)), int(rng.integers(1, 40)), int(rng.integers(1, 70))
        dk = int(rng.choice([1, 3, 4, 8, 16, 32, 64]))
        c = ao.random_case(rng, f"sweep{i}", h, tq, tk, dk, q_mul=bool(rng.integers(2)),
                           score_mul=bool(rng.integers(2)), extreme=bool(rng.integers(2)))
        out = ar.attention_ref(c.q, c.k, c.v, ar.make_params(c.quant))
        assert np.array_equal(out, c.out), f"case {i} ({c.quant}): {(out != c.out).sum()} bytes differ"


def test_window_means_keys_cut_per_row(random_cases):
    """A windowed row equals the full subgraph over that row's keys (TFLM runs per row)."""
    wins = [c for c in random_cases if c.window is not None]
    assert len(wins) >= 2
    for c in wins:
        assert np.array_equal(ar.attention_ref(c.q, c.k, c.v, ar.make_params(c.quant), window=c.window), c.out)


def test_tflm_softmax_aborts_where_the_kernel_goes_on():
    """TFLM's int8 SOFTMAX dies (TFLITE_CHECK) on a row whose exp-sum reaches 512; the reference
    (and C) finish it with every probability 0. Below that, they agree with TFLM."""
    c = ao.beyond_tflm_case(600)
    p = ar.make_params(c.quant)
    assert (ar.softmax_exponent(ar.scores_ref(c.q, c.k, p), p) > 31).all()
    assert (c.out == np.clip(p.pv_out_zp, -128, 127)).all()
    code = ("import numpy as np, sys; from microalign.kernels import attention_oracle as ao; "
            "c = ao.beyond_tflm_case(int(sys.argv[1])); "
            "m = ao.build_attention_tflite(c.quant, 1, 3, c.k.shape[1], 32); "
            "print(np.array_equal(ao.run_tflm(m, c.q, c.k, c.v), c.out))")
    ok = subprocess.run([sys.executable, "-c", code, "511"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "True", ok.stderr[-2000:]
    dies = subprocess.run([sys.executable, "-c", code, "600"], capture_output=True, text=True)
    assert dies.returncode != 0


def test_params_reject_what_tflm_rejects():
    T = ar.TensorQuant
    base = dict(q=T(0.02, 0), k=T(0.02, 0), v=T(0.02, 0), out=T(0.02, 0))
    with pytest.raises(ValueError):
        ar.make_params(ar.AttentionQuant(scores=T(1e-9, 0), **base))   # beta*scale*2^26 <= 1
    with pytest.raises(ValueError):
        ar.make_params(ar.AttentionQuant(scores=T(64.0, 0), **base))   # left shift > 30
    with pytest.raises(ValueError):
        T(0.0, 0)
    with pytest.raises(ValueError):
        ar.attention_ref(np.zeros((1, 2, 4), np.int8), np.zeros((1, 3, 5), np.int8), np.zeros((1, 3, 5), np.int8),
                         ar.make_params(ar.AttentionQuant(scores=T(0.05, 0), **base)))


# ---------------------------------------------------------------- the converted model's subgraph
def test_converted_layer_has_the_expected_attention_pattern(converted):
    sites = converted["sites"]
    assert len(sites) == 1, "one attention subgraph per converted layer"
    s = sites[0]
    assert (s.heads, s.q_len, s.kv_len, s.head_dim) == converted["shape"]     # the layer's heads and widths
    assert s.quant.q_mul is not None and s.quant.score_mul is None, "the converter scales q by dk^-0.5 with a MUL"
    cut = ao.load_model(ao.cut_attention(converted["model"], s))
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb
    codes = [max(cut.operatorCodes[o.opcodeIndex].builtinCode, cut.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode)
             for o in cut.subgraphs[0].operators]
    BO = fb.BuiltinOperator
    assert codes == [BO.MUL, BO.BATCH_MATMUL, BO.SOFTMAX, BO.BATCH_MATMUL]


def test_direct_build_equals_cut_subgraph(converted):
    """The TF-free builder writes the same subgraph the converter emits (same outputs in TFLM)."""
    s = converted["sites"][0]
    cut = ao.cut_attention(converted["model"], s)
    built = ao.build_attention_tflite(s.quant, s.heads, s.q_len, s.kv_len, s.head_dim)
    rng = np.random.default_rng(9)
    q, k, v = (rng.integers(-128, 128, (s.heads, s.q_len, s.head_dim)).astype(np.int8) for _ in range(3))
    assert np.array_equal(ao.run_tflm(cut, q, k, v), ao.run_tflm(built, q, k, v))


def test_reference_equals_tflm_on_the_converted_layer(converted_cases):
    for c in converted_cases:
        out = ar.attention_ref(c.q, c.k, c.v, ar.make_params(c.quant))
        assert np.array_equal(out, c.out), f"{c.name}: {(out != c.out).sum()} bytes differ"


def test_reference_equals_tflm_on_real_activations(converted, converted_cases):
    if converted["source"] is None:
        pytest.skip("needs ../shared/data/timit-sample-dev (real speech through the student)")
    real = [c for c in converted_cases if "timit" in c.name]
    assert real
    for c in real:
        assert np.array_equal(ar.attention_ref(c.q, c.k, c.v, ar.make_params(c.quant)), c.out), c.name


# ---------------------------------------------------------------- C kernel == TFLM
def _build_check(out: Path, vectors: Path, extra: list[str]) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("needs a host C compiler (gcc)")
    exe = out / "ma_attention_s8_check"
    subprocess.run([gcc, *HOST_CFLAGS, *extra, f"-I{KERNELS}", f"-I{vectors}", str(CHECK_C),
                    str(KERNELS / "ma_attention_s8.c"), "-o", str(exe)], check=True)
    return exe


def _assert_all_pass(rc: int, out: str, n_cases: int) -> None:
    lines = [ln for ln in out.splitlines() if ln.rstrip().endswith(("PASS", "FAIL", "SKIP"))]
    assert rc == 0, out[-3000:]
    assert "api argument checks: PASS" in out
    assert len(lines) == n_cases + 1 and all(ln.rstrip().endswith("PASS") for ln in lines), out[-3000:]


def _n_cases(vectors: Path) -> int:
    text = (vectors / ao.HEADER_NAME).read_text()
    return int(text.split("#define MA_ATT_NUM_CASES ")[1].split()[0])


@pytest.mark.parametrize("path", ["portable", "dsp_emulated"])
def test_c_kernel_host_sanitizers(tmp_path, vectors_dir, path):
    extra = ["-DMA_ATTENTION_S8_EMULATE_DSP"] if path == "dsp_emulated" else []
    exe = _build_check(tmp_path, vectors_dir, extra)
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    _assert_all_pass(p.returncode, p.stdout + p.stderr, _n_cases(vectors_dir))


def test_c_check_reports_a_wrong_byte(tmp_path, random_cases):
    """The checker is not vacuous: one flipped expected byte fails through the exit status."""
    c = random_cases[3]
    bad = ao.Case(c.name, c.quant, c.q, c.k, c.v, c.out.copy(), c.window)
    bad.out.flat[17] ^= 1
    ao.write_header([random_cases[0], bad], tmp_path / ao.HEADER_NAME)
    exe = _build_check(tmp_path, tmp_path, [])
    p = subprocess.run([str(exe)], capture_output=True, text=True)
    assert p.returncode == 1 and "contiguous 1" in p.stdout and "FAIL" in p.stdout


def test_c_kernel_cortex_m7_qemu(vectors_dir, tmp_path):
    """Same vectors on the Cortex-M7 build (DSP path: SXTAB16/SMLAD) under qemu-system-arm -M mps2-an500."""
    harness = qemu_harness()
    fw = harness.Firmware(test=str(CHECK_C), srcs=[str(KERNELS / "ma_attention_s8.c")],
                          includes=[str(KERNELS), str(vectors_dir)], build=tmp_path)
    rc, out = fw.run_qemu(timeout=600)
    _assert_all_pass(rc, out, _n_cases(vectors_dir))
