"""Executed Cortex-M7 instructions of the aligner firmware (tflm_app/app, TFLM + CMSIS-NN) on the shipped
sample under QEMU mps2-an500, in total and per object (frontend, attention, decode).

    python eval/bench_firmware.py --qemu-insn build/qemu-insn/insn_range.so [--mode xip|staged]

Builds the firmware with the Cortex-M7 TFLM tree (``$TFLM_M7_ROOT``, default ../shared/tflm/cortex-m7-cmsis-nn;
the TFLM library is compiled once into build/tflm_m7), writes the weight image and the input block (the
sample and its spoken-form transcript), and runs QEMU once per counted range with the qemu-insn plugin
(../shared/tools/qemu-insn: ``./build.sh build``). Time at 480 MHz is stated at one instruction per cycle:
QEMU models no pipeline, cache or QSPI wait states.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tflm_app" / "app"))
sys.path.insert(0, str(REPO / "convert"))

import firmware as fw  # noqa: E402

from microalign.audio import load_audio  # noqa: E402
from microalign.export import image as I  # noqa: E402
from microalign.text import normalize  # noqa: E402

ASSETS = REPO / "convert" / "microalign" / "assets"
#: counted ranges: symbols starting with ``ma_...`` plus the kernels' static helpers (exact names; the
#: ranges are address spans, so keep each object's functions together: they are, one object file each)
RANGES = {"frontend": ("ma_frontend",), "attention": ("ma_attention_s8",),
          "decode": ("ma_decode_s8", "=decode_band", "=step", "=row_argmax", "=row_max8", "=next_lo",
                     "=advance_smin", "=resolve_band", "=scratch_size", "=checkpoint_size", "=ceil_div")}


def symbol_range(elf: Path, prefixes: tuple[str, ...]) -> tuple[int, int]:
    """Address span of the text symbols named by ``prefixes`` (``"=name"``: exactly that name)."""
    exact = {x[1:] for x in prefixes if x.startswith("=")}
    starts = tuple(x for x in prefixes if not x.startswith("="))
    nm = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    spans = [(int(p[0], 16), int(p[0], 16) + int(p[1], 16)) for p in (line.split() for line in nm.splitlines())
             if len(p) == 4 and p[2] in "tT" and (p[3] in exact or p[3].startswith(starts))]
    if not spans:
        raise SystemExit(f"no symbol starting with {prefixes} in {elf}")
    return min(a for a, _ in spans), max(b for _, b in spans)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qemu-insn", required=True, help="path of the qemu-insn plugin (insn_range.so)")
    ap.add_argument("--mode", choices=("xip", "staged"), default="xip", help="weight mode of the firmware")
    a = ap.parse_args(argv)
    root = fw.tflm_m7_root()
    if root is None:
        raise SystemExit("no Cortex-M7 TFLM tree: set TFLM_M7_ROOT (a tree written by TFLM's create_tflm_tree.py)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        image, inp = d / "student_qspi.bin", d / "input.bin"
        image.write_bytes(I.write_image((ASSETS / "student_device.tflite").read_bytes()))
        pcm = load_audio(ASSETS / "sample.wav")
        spoken = " ".join(w.text for w in normalize((ASSETS / "sample.txt").read_text(encoding="utf-8")))
        inp.write_bytes(I.write_input_block(spoken, pcm))
        elf = fw.build_tflm_firmware(root, d, mode=a.mode)
        seconds = len(pcm) / 16000.0
        total = None
        rows = []
        for name, prefixes in RANGES.items():
            lo, hi = symbol_range(elf, prefixes)
            rc, out = fw.run_elf(elf, image, inp, plugin=f"{a.qemu_insn},lo={lo:#x},hi={hi:#x}")
            m = re.search(r"total_insns=(\d+) range_insns=(\d+)", out)
            if rc != 0 or m is None:
                raise SystemExit(f"firmware run failed (exit {rc}):\n{out[-2000:]}")
            total = int(m.group(1))
            rows.append((name, int(m.group(2))))
    per10 = total * 10.0 / seconds
    print(f"sample: {seconds:.2f} s of audio, {a.mode}, CMSIS-NN kernels ({root.name})")
    print(f"total: {total:,} instructions; per 10 s of audio {per10 / 1e6:.0f} M "
          f"= {per10 / 480e6:.2f} s at 480 MHz (1 instruction per cycle)")
    for name, n in rows:
        print(f"  {name:10s} {n:>13,}  ({100.0 * n / total:.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
