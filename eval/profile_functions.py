"""Executed Cortex-M7 instructions per 4 s model window of individual functions (CMSIS-NN kernels, memcpy).

``eval/bench_firmware.py`` charges library code to the TFLM operator that called it; this script splits the
hot CMSIS-NN functions out (one QEMU run of the aligner firmware with the profiling plugin
``eval/qemu_plugins/insn_profile.c``, one label per function), and adds the multiply-accumulates of the model's
FULLY_CONNECTED and CONV_2D operators, so instructions per MAC can be read off. It answers which CMSIS-NN
routine an operator really runs: with this TFLM commit, FULLY_CONNECTED with more than two output dimensions and
an input depth divisible by 4 already runs ``arm_convolve_1x1_s8_fast`` -> ``arm_nn_mat_mult_nt_t_s8`` (TFLM's
``kernels/cmsis_nn/fully_connected.cc``), the routine a 1x1 CONV_2D would run.

    python eval/profile_functions.py                         # the ELF eval/bench_firmware.py built (CMSIS-NN, FA)
    python eval/profile_functions.py --elf path/to/fw.elf --seconds 10
    python eval/profile_functions.py --function compress --function ma_crc32 --boot   # what the boot costs

The ELF must have been built from this tree (the weight image written here carries the generated headers'
hashes, which the firmware checks). Its ``.map`` file must lie beside it.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval"))
sys.path.insert(0, str(REPO / "tflm_app" / "app"))

import bench_firmware as bf  # noqa: E402
import firmware as fw  # noqa: E402

#: functions given their own label (the plugin takes at most 64 labels)
FUNCTIONS = ("arm_nn_mat_mult_nt_t_s8", "arm_convolve_1x1_s8_fast", "arm_convolve_s8", "arm_nn_mat_mult_kernel_s8_s16",
             "arm_convolve_wrapper_s8", "arm_fully_connected_wrapper_s8", "arm_fully_connected_per_channel_s8",
             "arm_fully_connected_s8", "arm_nn_vec_mat_mult_t_per_ch_s8", "arm_nn_vec_mat_mult_t_s8",
             "arm_depthwise_conv_s8", "arm_depthwise_conv_wrapper_s8", "arm_depthwise_conv_s8_opt",
             "arm_elementwise_add_s8", "ma_add_s8", "arm_s8_to_s16_unordered_with_offset", "arm_convolve_1_x_n_s8",
             "ma_fc_rows_wide_asm", "ma_fc_rows_wide", "ma_fc_rows", "ma_fc_blk_rows", "ma_fc_run", "memcpy", "memset")


def model_macs(model: Path) -> dict[str, int]:
    """Multiply-accumulates per window of the FULLY_CONNECTED and CONV_2D operators of ``model``."""
    from microalign.export import flatbuffer as fbk

    m = fbk.load(model)
    sg = m.subgraphs[0]
    macs = {"FULLY_CONNECTED": 0, "CONV_2D": 0}
    for op in sg.operators:
        name = fbk.op_name(m, op)
        if name not in macs:
            continue
        w = fbk.shape(sg.tensors[int(op.inputs[1])])           # FC [O, I]; conv [O, KH, KW, I]
        out = fbk.shape(sg.tensors[int(op.outputs[0])])
        rows = 1
        for d in out[:-1]:
            rows *= d
        k = 1
        for d in w[1:]:
            k *= d
        macs[name] += rows * out[-1] * k
    return macs


def spec_rows(elf: Path, extra: tuple[str, ...] = ()) -> list[str]:
    nm = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    wanted = set(FUNCTIONS) | set(extra)
    funcs = []
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tT" and p[3] in wanted:
            lo = int(p[0], 16) & ~1
            funcs.append((lo, lo + int(p[1], 16), p[3]))
    labels = list(bf.LABELS) + sorted({f[2] for f in funcs})
    rows = [f"label {k}" for k in labels]
    rows += [f"range {lo:#x} {hi:#x} {name} 0" for lo, hi, name in sorted(funcs)]
    for lo, hi, obj, comdat in sorted(bf.map_text_sections(elf.with_suffix(".map"))):
        if any(a < hi and lo < b for a, b, _ in funcs):
            continue                      # the object of a function labelled above
        label, shared = bf.classify(obj)
        rows.append(f"range {lo:#x} {hi:#x} {label} {int(shared or comdat)}")
    rows += [f"phase {bf.text_symbol(elf, 'ma_aligner_align'):#x} align",
             f"mark {bf.text_symbol(elf, 'ma_model_run_window'):#x} windows", "memory 0"]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elf", type=Path, default=bf.BUILD / "cmsis-nn_fused_xip" /
                    "microalign_app_cortex-m7-cmsis-nn_xip.elf", help="firmware ELF (default %(default)s)")
    ap.add_argument("--model", default="student_device.tflite", help="model under convert/microalign/assets/")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of speech (the sample + silence)")
    ap.add_argument("--plugin-header", help="directory of QEMU's qemu-plugin.h (see eval/bench_firmware.py)")
    ap.add_argument("--min", type=float, default=0.05, help="list labels above this many M per window")
    ap.add_argument("--function", action="append", default=[], metavar="NAME",
                    help="also label this function (repeatable; at most 64 labels in all)")
    ap.add_argument("--boot", action="store_true", help="also list the boot phase (before ma_aligner_align), in M")
    a = ap.parse_args(argv)
    if not a.elf.is_file() or not a.elf.with_suffix(".map").is_file():
        raise SystemExit(f"{a.elf} (and its .map) not found: run python eval/bench_firmware.py --quick, or pass --elf")
    plugin = bf.build_profile_plugin(bf.plugin_header_dir(a.plugin_header))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        spec = d / "spec.txt"
        spec.write_text("\n".join(spec_rows(a.elf, tuple(a.function))) + "\n")
        image, inp, desc = bf.write_case(d, a.model, a.seconds)
        rc, out = fw.run_elf(a.elf, image, inp, timeout=3600, plugin=f"{plugin},spec={spec}")
    if rc != 0:
        raise SystemExit(f"firmware failed (exit {rc}):\n{out[-2000:]}")
    prof = bf.parse_profile(out)
    w = prof.marks.get("windows", 0)
    if not w:
        raise SystemExit("no model window ran")
    print(f"{a.elf.name}, {a.model}, {desc}: {w} windows; executed instructions per window (align phase)")
    for (ph, lb), v in sorted(prof.insns.items(), key=lambda kv: -kv[1]):
        if ph == "align" and v / w >= a.min * 1e6:
            print(f"  {lb:42s} {v / w / 1e6:8.2f} M")
    if a.boot:
        print("boot phase (once), executed instructions")
        for (ph, lb), v in sorted(prof.insns.items(), key=lambda kv: -kv[1]):
            if ph != "align" and v >= a.min * 1e6:
                print(f"  {lb:42s} {v / 1e6:8.2f} M")
    macs = model_macs(bf.ASSETS / a.model)
    print(f"MACs per window: FULLY_CONNECTED {macs['FULLY_CONNECTED'] / 1e6:.2f} M, CONV_2D {macs['CONV_2D'] / 1e6:.2f} M")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
