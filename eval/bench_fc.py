"""Cortex-M7 instructions of the int8 FULLY_CONNECTED / 1-D CONV_2D kernel (ma_fc_s8) per model window, counted under
QEMU, beside CMSIS-NN's.

A model's int8 FULLY_CONNECTED operators and its CONV_2D operators of height 1 (the shipped device model's by
default: their weights, biases, quantisations and shapes read from the model) run once per 4 s window. This benchmark
builds eval/bench_fc_fw.c (the kernel alone, -O2, the board's Cortex-M7 flags) with one window of them (random
inputs; TFLM's output for each, from the PyPI tflite-micro runtime, is checked by the firmware) and counts executed
instructions with the qemu-insn plugin: per window = the difference between runs with 2 and 1 calls of every
operator, each call as the TFLM adapter (tflm_app/tflm/ma_fc_tflm.cc) makes it per Eval (the weights' 16-bit packing
and the kernel); and, with a CMSIS-NN tree (TFLM_M7_ROOT or ../shared/tflm/cortex-m7-cmsis-nn), CMSIS-NN on the
same data as TFLM's CMSIS-NN kernels call it (what the firmware ran before). Instructions, not cycles (CPI 1 at
480 MHz for the ms column).

    .venv/bin/python eval/bench_fc.py [--model path/to/device.tflite]

Needs arm-none-eabi-gcc, qemu-system-arm and the plugin (built on first use with
../shared/tools/qemu-insn/build.sh into build/qemu-insn, outside git).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from kernel_bench import KERNELS, REPO, arg_parser, count, ready  # eval/kernel_bench.py
from microalign.kernels import fc_oracle as fo


def count_fc(workdir: Path, so: Path, calls: int, impl: int, opt: str, cmsis_nn: Path | None) -> int:
    # ma_fc_case.h / ma_fc_cmsis_nn.h (the kernel / CMSIS-NN as TFLM calls it, shared with the C check)
    srcs, includes = [KERNELS / "ma_fc_s8.c"], [REPO / "convert" / "microalign" / "kernels" / "c"]
    if impl == 1:
        srcs += fo.cmsis_nn_sources(cmsis_nn)
        includes += [cmsis_nn / "Include", cmsis_nn]
    return count(REPO / "eval" / "bench_fc_fw.c", srcs, workdir, so, [f"BENCH_CALLS={calls}", f"BENCH_IMPL={impl}"],
                 opt, f"bench{calls}{impl}", includes)


def main(argv: list[str] | None = None) -> int:
    ap = arg_parser(__doc__)
    ap.add_argument("--model", type=Path, default=fo.DEVICE_MODEL, help="the model whose layers run (default: shipped)")
    a = ap.parse_args(argv)
    so = ready()
    if so is None:
        return 2
    rng = np.random.default_rng(0)
    cases = fo.model_cases(rng, path=a.model)
    if not cases:
        print(f"{a.model} has no int8 FULLY_CONNECTED or 1-D CONV_2D", file=sys.stderr)
        return 2
    from microalign.export import tflm_host

    m7 = tflm_host.find_tflm_m7_root()
    cmsis_nn = Path(m7) / "third_party" / "cmsis_nn" if m7 is not None else None
    kinds = {"fc": "fully connected", "conv": "conv 2D", "dw": "depthwise conv"}
    geo = [c.geometry() for c in cases]
    macs = {k: sum(g["rows"] * g["depth"] * g["channels"] for c, g in zip(cases, geo) if c.kind == k) for k in kinds}
    res = {}
    with tempfile.TemporaryDirectory(prefix="bench_fc_") as tmp:
        for kind in kinds:
            sel = [c for c in cases if c.kind == kind]
            if not sel:
                continue
            d = Path(tmp) / kind
            fo.write_header(sel, d / fo.HEADER_NAME)
            for impl in (0, 1) if cmsis_nn is not None else (0,):
                c1, c2 = (count_fc(d, so, calls, impl, a.opt, cmsis_nn) for calls in (1, 2))
                res[kind, impl] = c2 - c1
    print(f"ma_fc_s8, one window of {a.model.name}'s {len(cases)} int8 FULLY_CONNECTED / 1-D CONV_2D operators "
          f"(Cortex-M7, {a.opt}, QEMU mps2-an500; the model's weights, random inputs, outputs checked against TFLM):")
    for kind, label in kinds.items():
        if (kind, 0) not in res:
            continue
        n_ops = sum(c.kind == kind for c in cases)
        ours = res[kind, 0]
        line = (f"  {label} ({n_ops} ops, {macs[kind] / 1e6:.2f} M MAC): ma_fc_s8 {ours:,} instructions "
                f"({ours / macs[kind]:.3f} per MAC, {ours / 480e6 * 1e3:.2f} ms at 480 MHz, CPI 1)")
        if (kind, 1) in res:
            ref = res[kind, 1]
            line += f"; CMSIS-NN {ref:,} ({ref / macs[kind]:.3f} per MAC) -> {ref / ours:.2f}x fewer"
        print(line)
    total = sum(res[k, 0] for k in kinds if (k, 0) in res)
    mac = sum(macs.values())
    line = f"  all: ma_fc_s8 {total:,} instructions per window ({total / mac:.3f} per MAC)"
    if cmsis_nn is not None:
        ref = sum(res[k, 1] for k in kinds if (k, 1) in res)
        line += f"; CMSIS-NN {ref:,} ({ref / mac:.3f} per MAC) -> {ref - total:,} fewer per window"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
