"""Executed Cortex-M7 instructions per call: fused ma_attention_s8 vs the builtin TFLM ops it replaces.

    .venv/bin/python eval/bench_attention.py [--t 125 250 500 750 1500] [--heads 1 4] [--out FILE.md]
    .venv/bin/python eval/bench_attention.py --model [--before OLD/ma_attention_s8.c] [--min-scratch]

``--model``: the shipped model's own attention calls (its 4 FA_ATTENTION operators per 4 s window, H = 1,
T = 200, D = 48) on the q, k, v they receive for eval/bench_firmware.py's 10 s input (the sample + silence;
``--seconds``), per 4 s window and per kernel function (Q·Kᵀ, softmax, P·V, ...; instructions per
multiply-accumulate and per score), one QEMU run with eval/qemu_plugins/insn_profile.c; every output byte
is compared with the numpy reference in the firmware (a run fails on any difference). ``--before`` puts
another ma_attention_s8.c beside this tree's (e.g. ``git show REV:tflm_app/kernels/ma_attention_s8.c``),
``--min-scratch`` adds this tree's kernel with ma_attention_s8_get_min_buffer_size bytes of scratch.
The other options are the synthetic sweep below.

Both run as test firmware on QEMU's mps2-an500 (Cortex-M7, arm-none-eabi-gcc -O2) and are counted
with the qemu-insn plugin (../shared/tools/qemu-insn, built under build/qemu-insn): instructions
per call = total(setup + call) - total(setup only), exact and repeatable. Instructions are not
cycles (the M7 dual-issues; no cycle model here).

- fused: one ma_attention_s8 call over all heads (dk = 32, the student's head size).
- builtin: TFLite Micro's own reference kernels (MUL, BATCH_MATMUL, SOFTMAX, the transpose of v,
  BATCH_MATMUL) compiled from a TFLM tree for the same M7 (eval/bench_attention_builtin.cc) when
  TFLM_ROOT points at one (gemmlowp's fixedpoint/ in TFLM_ROOT/third_party/gemmlowp or
  GEMMLOWP_ROOT); otherwise an ESTIMATE from the reference loops (marked so in the table).
  When H·T² int8 does not fit the board's 4 MB RAM the builtin runs one head and is scaled by H
  (its loops are per head; marked "×H").
- Quantisation: a student attention layer converted like the shipped model (needs the convert
  extras; with TIMIT in ../shared it is calibrated on real speech), else random plausible values.
  Inputs (see bench_attention_fw.c): "uniform" int8; "flat" (every query at its zero point: all
  scores of a row equal, every probability non-zero up to T = 512: the fused kernel's worst case);
  "peaky" (each query has one clearly best key). The fused kernel skips zero probabilities, so its
  P·V cost follows the non-zero count (column "non-zero p / row"). Where a row's exp-sum reaches
  512, TFLM's SOFTMAX aborts (TFLITE_CHECK): no builtin figure exists there.
- In mode 3 (T <= 250) the firmware also runs both and compares bytes: TFLM's reference kernels
  compiled for the M7 and the fused kernel must agree exactly.

Scratch: fused = ma_attention_s8_get_buffer_size on the M7 (O(T·D)), plus 1,592 B of parameters;
builtin = the int8 scores and probabilities, both live across SOFTMAX (2·H·T²), plus BATCH_MATMUL's
persistent transposed copy of v (H·T·dk). The reference kernels keep no int32 intermediates
(each accumulator lives in a register).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "convert"))

from microalign.kernels import attention_oracle as ao  # noqa: E402
from microalign.kernels import attention_ref as ar  # noqa: E402

BOARD_DIR = REPO / "tflm_app" / "board" / "mps2_an500"   # startup, board layer, memory_plan.ld
KERNELS = REPO / "tflm_app" / "kernels"
EVAL = REPO / "eval"
BUILD = REPO / "build" / "bench_attention"
DK = 32
RAM_FOR_SCORES = 2_700_000          # bytes of the 4 MB RAM left for the builtin's H·T² scores
ARM = ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb", "-O2", "-g",
       "-ffunction-sections", "-fdata-sections"]


def plugin_path() -> Path:
    so = REPO / "build" / "qemu-insn" / "insn_range.so"
    if not so.is_file():
        script = REPO.parent / "shared" / "tools" / "qemu-insn" / "build.sh"
        subprocess.run(["sh", str(script), str(so.parent)], check=True)
    return so


def tflm_paths() -> tuple[Path, Path] | None:
    root = os.environ.get("TFLM_ROOT")
    if not root:
        return None
    root = Path(root)
    cands = [os.environ.get("GEMMLOWP_ROOT"), root / "third_party" / "gemmlowp",
             root / "tensorflow" / "lite" / "micro" / "tools" / "make" / "downloads" / "gemmlowp"]
    for g in cands:
        if g and (Path(g) / "fixedpoint" / "fixedpoint.h").is_file():
            return root, Path(g)
    raise SystemExit(f"TFLM_ROOT={root}: gemmlowp's fixedpoint/ not found (set GEMMLOWP_ROOT)")


def get_quant(path: Path | None) -> tuple[ar.AttentionQuant, str]:
    if path is not None:
        return ar.AttentionQuant.from_dict(json.loads(path.read_text())), f"from {path}"
    try:
        timit = REPO.parent / "shared" / "data" / "timit-sample-dev"
        if timit.is_dir():
            attn, xs, src = ao.student_attention_inputs(n_windows=4, data_dir=timit)
        else:
            import torch
            from microalign.model.student import StudentAligner
            torch.manual_seed(0)
            attn, src = StudentAligner().eval().fuse().blocks[0].attn, "random-init student, noise calibration"
            xs = np.random.default_rng(0).standard_normal((4, 200, 128)).astype(np.float32)
        site = ao.find_attention(ao.convert_attention_layer(attn, xs))[0]
        return site.quant, f"converted student layer 0 ({src})"
    except ImportError as e:
        rng = np.random.default_rng(0)
        return ao.random_quant(rng, DK), f"random (converter unavailable: {e.name})"


INPUTS = {"uniform": 0, "flat": 1, "peaky": 2}


def lcg_inputs(h: int, t: int, inputs: str, q_zp: int):
    """The firmware's inputs, reproduced (for the non-zero statistics)."""
    n = h * t * DK
    kind = INPUTS[inputs]
    count = n + (4 if kind == 2 else 1) * n + n
    xs = np.empty(count, np.uint32)
    x = 12345
    for i in range(count):                        # x <- 1664525 x + 1013904223 mod 2^32, as bench_attention_fw.c
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        xs[i] = x
    b = (xs >> 24).astype(np.uint8).view(np.int8).astype(np.int64)
    q = b[:n].reshape(h, t, DK).astype(np.int8)
    if kind == 1:
        q = np.full_like(q, q_zp)
    if kind == 2:
        k = ((b[n:5 * n].reshape(n, 4).sum(1) * 83) >> 9).reshape(h, t, DK).astype(np.int8)
        q = k[:, (7 * np.arange(t) + 3) % t]
        v = b[5 * n:].reshape(h, t, DK).astype(np.int8)
    else:
        k = b[n:2 * n].reshape(h, t, DK).astype(np.int8)
        v = b[2 * n:].reshape(h, t, DK).astype(np.int8)
    return q, k, v


def softmax_stats(qt: ar.AttentionQuant, h: int, t: int, inputs: str) -> tuple[float, bool]:
    """(mean non-zero probabilities per row, whether TFLM's SOFTMAX would abort on some row)."""
    q, k, v = lcg_inputs(h, t, inputs, qt.q.zero_point)
    p = ar.make_params(qt)
    aborts = bool((ar.softmax_exponent(ar.scores_ref(q, k, p), p) > 31).any())
    _, probs = ar.attention_ref(q, k, v, p, return_probs=True)
    return float((probs > -128).sum(-1).mean()), aborts


def trained_like_quant() -> ar.AttentionQuant:
    """A synthetic stand-in for a trained layer: activations within +-6.4, logits within +-8 (int8 step 1/16).

    (The random-init student's converted layer has logits within about +-0.15, so its softmax is
    flat for any input.)"""
    T = ar.TensorQuant
    c = DK ** -0.5
    return ar.AttentionQuant(q=T(0.05, 0), k=T(0.05, 0), v=T(0.05, 0), scores=T(1 / 16, 0), out=T(0.02, 0),
                             q_mul=ar.ConstMul(127, T(c / 255, -128), T(0.05 * c, 0)))


def write_config(d: Path, qt: ar.AttentionQuant, t: int, h: int, bh: int, mode: int, inputs: str) -> None:
    f = lambda x: repr(float(np.float32(x))) + "f"  # noqa: E731
    m = qt.q_mul
    d.mkdir(parents=True, exist_ok=True)
    (d / "bench_attention_config.h").write_text(
        f"/* written by eval/bench_attention.py */\n#define BENCH_T {t}\n#define BENCH_H {h}\n"
        f"#define BENCH_BUILTIN_H {bh}\n#define BENCH_DK {DK}\n#define BENCH_MODE {mode}\n"
        f"#define BENCH_INPUTS {INPUTS[inputs]}\n#define BENCH_C_VALUE {m.const}\n"
        "static const bench_attention_quant bench_quant = {"
        f"{f(qt.q.scale)}, {qt.q.zero_point}, {f(m.const_q.scale)}, {m.const_q.zero_point}, "
        f"{f(m.out.scale)}, {m.out.zero_point}, {f(qt.k.scale)}, {qt.k.zero_point}, "
        f"{f(qt.scores.scale)}, {qt.scores.zero_point}, {f(qt.softmax_beta)}, "
        f"{f(qt.v.scale)}, {qt.v.zero_point}, {f(qt.out.scale)}, {qt.out.zero_point}}};\n")


def build(d: Path, tflm: tuple[Path, Path] | None, mode: int, kernel: Path = KERNELS / "ma_attention_s8.c") -> Path:
    objs = []
    inc = [f"-I{d}", f"-I{KERNELS}", f"-I{EVAL}", f"-I{BOARD_DIR.parent}", f"-I{REPO / 'tflm_app' / 'generated'}"]
    for src in (BOARD_DIR / "startup_mps2_an500.c", BOARD_DIR / "board_mps2_an500.c",
                BOARD_DIR.parent / "ma_cortex_m_rt.c", EVAL / "bench_attention_fw.c", kernel):
        o = d / (src.stem + ".o")
        subprocess.run(["arm-none-eabi-gcc", *ARM, "-std=c99", *inc, "-c", str(src), "-o", str(o)], check=True)
        objs.append(o)
    if mode >= 2:
        root, gemm = tflm
        stub = d / "ruy" / "profiler" / "instrumentation.h"      # TFLM builds stub ruy's profiler out too
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#pragma once\nnamespace ruy { namespace profiler { struct ScopeLabel {\n"
                        "  template <typename... A> explicit ScopeLabel(A...) {} }; } }\n")
        cxx = ["arm-none-eabi-g++", *ARM, "-std=c++17", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics",
               "-DNDEBUG", "-DTF_LITE_STATIC_MEMORY", f"-I{root}", f"-I{gemm}", f"-I{d}", f"-I{EVAL}"]
        for src in (EVAL / "bench_attention_builtin.cc",
                    root / "tensorflow/lite/kernels/internal/common.cc",
                    root / "tensorflow/lite/kernels/internal/quantization_util.cc"):
            o = d / (src.stem + ".o")
            subprocess.run([*cxx, "-c", str(src), "-o", str(o)], check=True)
            objs.append(o)
    elf = d / "bench.elf"
    # the board's test layout (memory_plan.ld): 4 MB flash, 2 MB DTCM, 64 KB stack
    subprocess.run(["arm-none-eabi-g++", *ARM, "-T", str(BOARD_DIR / "memory_plan.ld"), "-nostartfiles",
                    "-Wl,--defsym=MA_TEST_LAYOUT=1", "-Wl,--defsym=STACK_SIZE=64K",
                    "--specs=nano.specs", "-Wl,--gc-sections", *map(str, objs), "-lm", "-o", str(elf)], check=True)
    return elf


def run(elf: Path, plugin: Path | None, timeout: int = 1800) -> tuple[int, int, str]:
    cmd = ["qemu-system-arm", "-M", "mps2-an500", "-nographic", "-monitor", "none", "-serial", "none",
           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    if plugin is not None:
        cmd += ["-plugin", f"{plugin},lo=0x0,hi=0x0", "-d", "plugin"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = p.stdout + p.stderr
    m = re.search(r"total_insns=(\d+)", out)
    return p.returncode, int(m.group(1)) if m else -1, out


def fused_scratch(t: int, dk: int = DK, least: bool = False) -> int:
    """ma_attention_s8_get_buffer_size on the M7 (get_min_buffer_size with ``least``): the softmax's tables,
    two q and score rows, the term list and (not ``least``) one head's v as int16 key pairs."""
    n = 1280 + 4 * ((dk + 3) // 4 * 4) + 2 * ((2 * t + 3) // 4 * 4) + 8 * (t + 1)
    return n if least else n + 4 * ((t + 1) // 2) * dk


def estimate_builtin(h: int, t: int) -> int:
    """Instruction ESTIMATE from the reference loops (no TFLM tree): ~7 per MAC in BATCH_MATMUL's inner
    loop (2 loads, 2 offset adds, multiply-add, compare, branch) plus ~25 per output for the requant,
    ~12 per element for MUL and the transpose, ~200 per SOFTMAX element (two exp evaluations and
    the rescale)."""
    macs = 2 * h * t * t * DK
    return 7 * macs + 25 * (h * t * t + h * t * DK) + 12 * 2 * h * t * DK + 200 * h * t * t


# ------------------------------------------------------------------ --model: the shipped model's calls
MODEL_INT8 = REPO / "convert" / "microalign" / "assets" / "student_int8.tflite"
#: kernel functions and the part of the work each one does (static functions GCC did not inline)
PARTS = {
    "ma_row2_scores": "Q·Kᵀ + score requantisation + row max (two query rows at a time)",
    "ma_row_scores": "Q·Kᵀ + score requantisation + row max (one row)",
    "ma_prep_q2": "two q rows to int16, interleaved for the 2x2 dot products",
    "ma_row_softmax": "softmax: exp sum, reciprocal, probabilities, term list",
    "ma_row_pv": "P·V over the non-zero probabilities + output requantisation (one key at a time)",
    "ma_row_pv_pairs": "P·V over key pairs with a non-zero probability + output requantisation",
    "ma_unpack_v_pairs": "v to int16 key pairs (once per head)",
    "ma_row_out": "softmax + P·V of a row (what was not split out)",
    "ma_max_s16": "row maximum of the scores (SSUB16/SEL)",
    "ma_attention_s8": "row loop, q row preparation, key window",
}
SETUP = ("ma_attention_s8_params_init", "ma_attention_s8_get_min_buffer_size", "ma_const_mul_map",
         "ma_quantize_multiplier", "ma_bmm_multiplier",
         "ma_quantize_multiplier_pos", "ma_attention_s8_get_buffer_size", "ma_attention_s8_dims_contiguous",
         "ma_valid_dims")


def model_calls(seconds: float, model: Path = MODEL_INT8) -> tuple[list[dict], int, str]:
    """The shipped model's attention calls on ``seconds`` of the benchmark audio (eval/bench_firmware.py's
    input: the sample, then silence): (calls, windows, description). Each call has the site's
    quantisation, q, k, v as the model computed them (LiteRT's reference kernels on the int8 model with
    the builtin attention subgraph, whose inputs are the device model's FA_ATTENTION inputs), the numpy
    reference's output and its non-zero probabilities per row."""
    sys.path.insert(0, str(EVAL))
    import bench_firmware as bf
    from ai_edge_litert import interpreter as lit
    from microalign.export import flatbuffer as fbk
    from microalign.frontend.features import features_from_pcm
    from microalign.runtime.windows import pad_window, window_starts

    buf = model.read_bytes()
    sites = fbk.find_attention(buf)
    if not sites:
        raise SystemExit(f"{model}: no attention subgraph")
    pcm, _, desc = bf.sample_input(seconds)
    feats = features_from_pcm(pcm)
    ip = lit.Interpreter(model_content=buf, experimental_op_resolver_type=lit.OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
    ip.allocate_tensors()
    d = ip.get_input_details()[0]
    scale, zp = d["quantization"]
    if abs(scale - 1 / 32) > 1e-12 or zp != 0:
        raise SystemExit(f"{model}: input quantisation {scale, zp}, expected the features' (1/32, 0)")
    win = int(d["shape"][1])
    calls = []
    starts = window_starts(len(feats), win)
    for s in starts:
        ip.set_tensor(d["index"], pad_window(feats, s, win)[None])
        ip.invoke()
        for n, site in enumerate(sites):
            shape = (site.heads, site.q_len, site.head_dim)
            q, k, v = (np.array(ip.get_tensor(t)).reshape(shape) for t in (site.q, site.k, site.v))
            out, probs = ar.attention_ref(q, k, v, ar.make_params(site.quant), return_probs=True)
            if not np.array_equal(out, np.array(ip.get_tensor(site.out)).reshape(shape)):
                raise SystemExit(f"window {s} site {n}: numpy reference != LiteRT's builtin attention")
            calls.append(dict(window=s, site=n, quant=site.quant, q=q, k=k, v=v, out=out,
                              nnz=(probs > -128).sum(-1)))
    return calls, len(starts), desc


def write_model_header(d: Path, calls: list[dict]) -> None:
    from microalign.cheader import c_array

    f = lambda x: repr(float(np.float32(x))) + "f"  # noqa: E731
    tq = lambda t: f"{{{f(t.scale)}, {t.zero_point}}}"  # noqa: E731
    lines = ["/* written by eval/bench_attention.py --model */", "#include \"ma_attention_s8.h\"",
             "typedef struct { int32_t heads, t, dk; ma_attention_s8_quant quant;",
             "  const int8_t *q, *k, *v, *expected; } bm_call;"]
    rows, max_elems, max_t, max_dk = [], 0, 0, 0
    for n, c in enumerate(calls):
        h, t, dk = c["q"].shape
        max_elems, max_t, max_dk = max(max_elems, h * t * dk), max(max_t, t), max(max_dk, dk)
        for name in ("q", "k", "v", "out"):
            lines.append(c_array("int8_t", f"bm_{n}_{name}", c[name].reshape(-1)))
        qt = c["quant"]
        if qt.q_mul is not None or qt.score_mul is not None:
            raise SystemExit("--model: MUL constants in the attention subgraph are not written "
                             "(none in the shipped model)")
        quant = (f"{{{tq(qt.q)}, {tq(qt.k)}, {tq(qt.v)}, {tq(qt.scores)}, {tq(qt.out)}, 0, {{0}}, 0, {{0}}, "
                 f"{f(qt.softmax_beta)}}}")
        rows.append(f"  {{{h}, {t}, {dk}, {quant}, bm_{n}_q, bm_{n}_k, bm_{n}_v, bm_{n}_out}},")
    lines += [f"#define BM_CALLS {len(calls)}", f"#define BM_MAX_ELEMS {max_elems}",
              f"#define BM_MAX_SCRATCH {fused_scratch(max_t, max_dk) + 64}",
              "static const bm_call bm_calls[BM_CALLS] = {", *rows, "};"]
    d.mkdir(parents=True, exist_ok=True)
    (d / "bench_attention_model.h").write_text("\n".join(lines) + "\n")


def build_model_fw(d: Path, kernel: Path, defines: tuple[str, ...] = ()) -> Path:
    objs = []
    inc = [f"-I{d}", f"-I{kernel.parent}", f"-I{KERNELS}", f"-I{EVAL}", f"-I{BOARD_DIR.parent}",
           f"-I{REPO / 'tflm_app' / 'generated'}"]
    for src in (BOARD_DIR / "startup_mps2_an500.c", BOARD_DIR / "board_mps2_an500.c",
                BOARD_DIR.parent / "ma_cortex_m_rt.c", EVAL / "bench_attention_model_fw.c", kernel):
        o = d / (src.stem + ".o")
        subprocess.run(["arm-none-eabi-gcc", *ARM, "-std=c99", *defines, *inc, "-c", str(src), "-o", str(o)],
                       check=True)
        objs.append(o)
    elf = d / "bench_model.elf"
    subprocess.run(["arm-none-eabi-gcc", *ARM, "-T", str(BOARD_DIR / "memory_plan.ld"), "-nostartfiles",
                    "-Wl,--defsym=MA_TEST_LAYOUT=1", "-Wl,--defsym=STACK_SIZE=64K", "--specs=nano.specs",
                    "-Wl,--gc-sections", *map(str, objs), "-lm", "-o", str(elf)], check=True)
    return elf


def kernel_functions(elf: Path, kernel_obj: Path) -> list[tuple[int, int, str]]:
    """(lo, hi, name) in ``elf`` of every function defined in ``kernel_obj``."""
    def syms(path):
        out = subprocess.run(["arm-none-eabi-nm", "-S", str(path)], capture_output=True, text=True, check=True).stdout
        return [ln.split() for ln in out.splitlines()]
    names = {p[3] for p in syms(kernel_obj) if len(p) == 4 and p[2] in "tT"}
    return sorted((int(p[0], 16) & ~1, (int(p[0], 16) & ~1) + int(p[1], 16), p[3])
                  for p in syms(elf) if len(p) == 4 and p[2] in "tT" and p[3] in names)


def profile_model(d: Path, elf: Path, kernel_obj: Path) -> dict[str, int]:
    """Instructions per kernel function (one QEMU run with eval/qemu_plugins/insn_profile.c)."""
    sys.path.insert(0, str(EVAL))
    import bench_firmware as bf
    so = bf.build_profile_plugin(bf.plugin_header_dir())
    funcs = kernel_functions(elf, kernel_obj)
    labels = sorted({name for _, _, name in funcs})
    spec = d / "spec.txt"
    spec.write_text("\n".join([f"label {n}" for n in labels] + [f"range {lo:#x} {hi:#x} {n} 0" for lo, hi, n in funcs]
                              + ["memory 0"]) + "\n")
    cmd = ["qemu-system-arm", "-M", "mps2-an500", "-nographic", "-monitor", "none", "-serial", "none",
           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
           "-plugin", f"{so},spec={spec}", "-d", "plugin"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    out = p.stdout + p.stderr
    if p.returncode != 0:
        raise SystemExit(f"{elf}: exit {p.returncode} (output bytes differing from the reference, or a failure):\n"
                         f"{out[-2000:]}")
    prof = bf.parse_profile(out)
    per = defaultdict(int)
    for (_, label), n in prof.insns.items():
        per[label] += n
    return dict(per)


def model_main(a) -> int:
    calls, windows, desc = model_calls(a.seconds)
    d = BUILD / "model"
    write_model_header(d, calls)
    kernels = [("before", a.before, ())] if a.before else []
    kernels.append(("this tree" if a.before or a.min_scratch else "", a.kernel_src, ()))
    if a.min_scratch:
        kernels.append(("this tree, least scratch", a.kernel_src, ("-DBM_MIN_SCRATCH",)))
    results = []
    for name, src, defines in kernels:
        kd = d / (re.sub(r"\W+", "_", name) or "kernel")
        kd.mkdir(parents=True, exist_ok=True)
        hdr = src.with_suffix(".h")
        if hdr.is_file() and hdr.parent != KERNELS:        # an older kernel with its own header
            shutil.copy(hdr, kd / "ma_attention_s8.h")
        shutil.copy(d / "bench_attention_model.h", kd / "bench_attention_model.h")
        elf = build_model_fw(kd, src, defines)
        per = profile_model(kd, elf, kd / (src.stem + ".o"))
        results.append((name, per))
    site0 = calls[0]
    h, t, dk = site0["q"].shape
    n_calls = len(calls) // windows
    qk_macs = sum(c["q"].shape[0] * c["q"].shape[1] * c["k"].shape[1] * c["q"].shape[2] for c in calls) / windows
    pv_macs = sum(int(c["nnz"].sum()) * c["q"].shape[2] for c in calls) / windows
    scores = sum(c["q"].shape[0] * c["q"].shape[1] * c["k"].shape[1] for c in calls) / windows
    rows_ = sum(c["q"].shape[0] * c["q"].shape[1] for c in calls) / windows
    n_v = sum(c["v"].size for c in calls) / windows
    nnz = np.concatenate([c["nnz"].ravel() for c in calls])
    cmd = " ".join(["python eval/bench_attention.py"] + [x for x in sys.argv[1:] if not x.startswith("--out")
                                                        and not x.endswith(".md")])
    L = [f"Command: `{cmd}`", "",
         f"Shipped model ({MODEL_INT8.name}'s attention sites = the device model's FA_ATTENTION): {n_calls} calls per "
         f"4 s window, each heads={h}, T={t}, head_dim={dk}; input {desc}, {windows} windows; q, k, v as the int8 "
         "model computed them (LiteRT reference kernels). Cortex-M7 (QEMU mps2-an500, arm-none-eabi-gcc -O2), "
         "executed instructions (eval/qemu_plugins/insn_profile.c, one label per kernel function), per 4 s window "
         "(sum over the windows' calls / windows). Every run compares each output byte with the numpy reference.", "",
         f"Per window: {qk_macs / 1e6:.2f} M Q·Kᵀ multiply-accumulates, {scores / 1e3:.1f} k scores, "
         f"{rows_:.0f} query rows, {pv_macs / 1e6:.2f} M P·V multiply-accumulates over the non-zero probabilities "
         f"(mean {nnz.mean():.1f} non-zero of {t} per row, max {nnz.max()}).", ""]
    hdr = "| part | unit | " + " | ".join(f"{n or 'instructions'} (M per window) | per unit" for n, _ in results) + " |"
    L += [hdr, "|---|---|" + "---|---|" * len(results)]
    units = {"ma_row2_scores": ("Q·Kᵀ MAC", qk_macs), "ma_prep_q2": ("q element", n_v),
             "ma_row_scores": ("Q·Kᵀ MAC", qk_macs),
             "ma_row_softmax": ("score", scores), "ma_row_pv": ("P·V MAC", pv_macs),
             "ma_row_pv_pairs": ("P·V MAC", pv_macs), "ma_unpack_v_pairs": ("v element", n_v),
             "ma_row_out": ("row", rows_), "ma_max_s16": ("score", scores),
             "ma_attention_s8": ("row", rows_)}
    names = [k for k in PARTS if any(k in per for _, per in results)]
    others = sorted({k for _, per in results for k in per} - set(PARTS) - set(SETUP) - {"other"})
    total = [sum(v for k, v in per.items() if k not in SETUP and k != "other") / windows for _, per in results]
    for k in names + others:
        unit, count = units.get(k, ("call", len(calls) / windows))
        cells = []
        for _, per in results:
            v = per.get(k, 0) / windows
            cells.append(f"{v / 1e6:.2f} | {v / count:.2f}")
        L.append(f"| {PARTS.get(k, k)} (`{k}`) | {unit} | " + " | ".join(cells) + " |")
    L.append("| **ma_attention_s8, all parts** | window | " +
             " | ".join(f"**{v / 1e6:.2f}** | {v / 1e6:.2f} M" for v in total) + " |")
    setup = [sum(per.get(k, 0) for k in SETUP) / len(calls) for _, per in results]
    L += ["", "Not per window: parameter set-up (`ma_attention_s8_params_init`, the adapter's Prepare, once per model "
          "load): " + ", ".join(f"{v / 1e3:.1f} k instructions per call" + (f" ({n})" if n else "")
                                 for (n, _), v in zip(results, setup)) + "."]
    text = "\n".join(L) + "\n"
    emit(text, a.out)
    return 0


def emit(text: str, out: Path | None) -> None:
    """Print the report, and write it to ``out`` when given (``--out``)."""
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--t", type=int, nargs="+", default=[125, 250, 500, 750, 1500])
    ap.add_argument("--heads", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--quant-json", type=Path, help="AttentionQuant.to_dict() JSON instead of converting")
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    ap.add_argument("--kernel-src", type=Path, default=KERNELS / "ma_attention_s8.c",
                    help="ma_attention_s8.c to measure (e.g. an older version, for a before/after table)")
    ap.add_argument("--fused-only", action="store_true", help="skip the builtin TFLM ops (fused counts only)")
    ap.add_argument("--model", action="store_true",
                    help="the shipped model's attention calls on real audio, per 4 s window and per kernel function")
    ap.add_argument("--seconds", type=float, default=10.0, help="--model: seconds of benchmark audio (default 10)")
    ap.add_argument("--before", type=Path, help="--model: also measure this ma_attention_s8.c (side by side)")
    ap.add_argument("--min-scratch", action="store_true",
                    help="--model: also measure with ma_attention_s8_get_min_buffer_size bytes of scratch")
    a = ap.parse_args(argv)
    if a.model:
        return model_main(a)
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"needs {tool}")
    plugin = plugin_path()
    tflm = tflm_paths()
    qt, source = get_quant(a.quant_json)
    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / "quant.json").write_text(json.dumps(qt.to_dict(), indent=1))
    scenarios = [("converted", qt, "uniform", None), ("converted", qt, "flat", 500),
                 ("trained-like", trained_like_quant(), "peaky", None)]
    rows, verified = [], []
    for qname, quant, inputs, t_max in scenarios:
        for t in a.t:
            if t_max is not None and t > t_max:
                continue
            for h in a.heads:
                nnz, aborts = softmax_stats(quant, h, t, inputs)
                bh = h if h * t * t <= RAM_FOR_SCORES else 1
                tag = f"{qname}_{inputs}_t{t}_h{h}"
                modes = [0, 1] + ([2] if tflm and not aborts and not a.fused_only else [])
                counts = {}
                for mode in modes:
                    d = BUILD / f"{tag}_m{mode}"
                    write_config(d, quant, t, h, bh, mode, inputs)
                    rc, n, out = run(build(d, tflm, mode, a.kernel_src), plugin)
                    if rc != 0 or n < 0:
                        raise SystemExit(f"{tag} mode {mode}: exit {rc}\n{out[-2000:]}")
                    counts[mode] = n
                if 2 in counts and t <= 250:
                    d = BUILD / f"{tag}_m3"
                    write_config(d, quant, t, h, bh, 3, inputs)
                    rc, _, out = run(build(d, tflm, 3, a.kernel_src), None)
                    if rc != 0:
                        raise SystemExit(f"{tag}: fused != TFLM reference kernels on the M7:\n{out}")
                    verified.append(tag)
                fused = counts[1] - counts[0]
                if aborts:
                    builtin, note = None, "TFLM SOFTMAX aborts (row exp-sum >= 512)"
                elif a.fused_only:
                    builtin, note = None, "not run (--fused-only)"
                elif tflm:
                    builtin = (counts[2] - counts[0]) * (h // bh)
                    note = "measured" + (f", 1 head x{h}" if bh != h else "")
                else:
                    builtin, note = estimate_builtin(h, t), "ESTIMATE"
                rows.append(dict(quant=qname, t=t, h=h, inputs=inputs, nnz=nnz, fused=fused, builtin=builtin,
                                 note=note, fused_scratch=fused_scratch(t),
                                 builtin_scratch=2 * h * t * t + h * t * DK))
                print(f"{tag}: fused {fused:,} builtin {builtin if builtin is None else f'{builtin:,}'} ({note}) "
                      f"nnz/row {nnz:.1f}", file=sys.stderr)
    lines = [f"Cortex-M7 (QEMU mps2-an500, arm-none-eabi-gcc 12 -O2), dk = {DK}. Quantisation 'converted': {source};"
             " 'trained-like': synthetic (bench_attention.trained_like_quant).",
             "Executed instructions per call (qemu-insn, exact); not cycles.", "",
             "| quantisation | inputs | T | heads | non-zero p / row | fused insns | builtin insns | builtin/fused"
             " | fused scratch B | builtin scratch B |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = "—" if r["builtin"] is None else f"{r['builtin']:,}"
        ratio = "—" if r["builtin"] is None else f"{r['builtin'] / r['fused']:.2f}"
        lines.append(f"| {r['quant']} | {r['inputs']} | {r['t']} | {r['h']} | {r['nnz']:.1f} | {r['fused']:,} |"
                     f" {b} ({r['note']}) | {ratio} | {r['fused_scratch']:,} | {r['builtin_scratch']:,} |")
    lines += ["", "fused scratch: ma_attention_s8_get_buffer_size (4-byte pointers), independent of heads; plus "
              "1,592 B of parameters (exp table, MUL tables). builtin scratch: int8 scores + probabilities (2·H·T², "
              "both live across SOFTMAX) + the persistent transposed v (H·T·dk)."]
    if verified:
        lines.append("Fused == TFLM reference kernels compiled for the M7, byte for byte: " + ", ".join(verified) + ".")
    text = "\n".join(lines) + "\n"
    emit(text, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
