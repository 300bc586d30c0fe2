"""Memory plan report of the aligner firmware (issue 10 item 5): what each named region of the STM32H743
plan holds and how much of it is used, for recordings of 10 s, 60 s and 300 s, under QEMU's Cortex-M7.

    .venv/bin/python eval/memory_report.py                      # -> eval/results/memory.md
    .venv/bin/python eval/memory_report.py --seconds 10 300 -o /tmp/memory.md

The firmware (tflm_app/app/main.c, CMSIS-NN TFLM tree, built with MA_APP_REPORT, in each weight mode: xip,
staged, flash) runs on QEMU mps2-an500
with board/mps2_an500/memory_plan.ld, i.e. the H743's regions and sizes (DTCM 128 KB, AXI SRAM 512 KB,
SRAM1-3 288 KB); the input block is read from a host file with semihosting (-DMA_BOARD_INPUT_FILE), as a
UART stream would arrive, so a 300 s recording (9.6 MB of PCM) fits QEMU's 16 MB PSRAM next to the
13 MB of external RAM. Each figure names its method:

- linker: section sizes and addresses from ``arm-none-eabi-size -A`` of the ELF, assigned to the regions
  of the link map's "Memory Configuration"; buffers by symbol size (``arm-none-eabi-nm -S``);
- arena used: ``ma_model_tflm_arena_used`` (TFLM's ``MicroInterpreter::arena_used_bytes``);
- aligner memory: ``ma_aligner_memory_used`` (peak bytes of the SRAM block and of external RAM);
- stack: painting (startup_mps2_an500.c fills the stack with 0xA5A5A5A5 at reset, ``ma_board_stack_used``
  finds the deepest overwritten word after the run);
- staging: ``ma_model_tflm_staging`` of the staged build (buffer bytes, bytes per window, and the staging
  buffer + plan that ``ma_model_tflm_create`` takes from the end of the arena, sized from the model).

Peak SRAM = DTCM (.data + .bss + heap reserve + painted stack) + AXI SRAM (arena used by the interpreter +
staging buffer and plan at the arena's end (staged mode) + aligner SRAM used + AXI .bss other than the arena and
the aligner's block) + SRAM1-3 (.bss placed there): the bytes the run needed. "Reserved" is what the linker sets
aside (the sizes the firmware is built with). The goal (issue 11): at most 256 KB (262,144 B) at any length.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tflm_app" / "app"))
import firmware as FW  # noqa: E402

ASSETS = REPO / "convert" / "microalign" / "assets"
OUT = REPO / "eval" / "results" / "memory.md"
SRAM_REGIONS = ("DTCM", "AXISRAM", "SRAM123")
SR = 16000
GOAL = 256 * 1024
MODES = ("xip", "staged", "flash")   # the weight modes (tflm_app/app/README.md)


def recording(seconds: float) -> tuple[np.ndarray, str]:
    """The shipped sample repeated (each copy followed by 0.5 s of silence) and padded with silence to
    ``seconds``, with its transcript repeated as often (what the 60 s test of tests/test_app_tflm.py does)."""
    from microalign.audio import load_audio

    pcm = load_audio(ASSETS / "sample.wav")
    text = (ASSETS / "sample.txt").read_text(encoding="utf-8").strip()
    unit = np.concatenate([pcm, np.zeros(SR // 2, np.int16)])
    n = max(1, int(seconds * SR) // len(unit))
    total = int(round(seconds * SR))
    if n * len(unit) > total:
        raise ValueError(f"{seconds} s is shorter than one copy of the sample ({len(unit) / SR:.2f} s)")
    out = np.zeros(total, np.int16)
    out[:n * len(unit)] = np.tile(unit, n)
    return out, " ".join([text] * n)


def regions(map_file: Path) -> dict[str, tuple[int, int]]:
    """name -> (origin, length) from the link map's Memory Configuration."""
    text = map_file.read_text()
    block = text.split("Memory Configuration", 1)[1].split("Linker script and memory map", 1)[0]
    out = {}
    for m in re.finditer(r"^(\w+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)", block, re.M):
        if m.group(1) != "Name":
            out[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))
    return out


def sections(elf: Path) -> list[tuple[str, int, int]]:
    """(name, size, address) of the allocated sections (arm-none-eabi-size -A)."""
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            name, size, addr = parts[0], int(parts[1]), int(parts[2])
            if addr or name == ".text":
                rows.append((name, size, addr))
    return rows


def symbol_sizes(elf: Path, names: tuple[str, ...]) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] in names:
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def region_use(elf: Path) -> dict[str, dict[str, int]]:
    """region -> {section: bytes} (a section's load image in FLASH counts there too: .data)."""
    regs = regions(elf.with_suffix(".map"))
    use: dict[str, dict[str, int]] = {r: {} for r in regs}
    for name, size, addr in sections(elf):
        for r, (lo, n) in regs.items():
            if lo <= addr < lo + n:
                use[r][name] = size
    if ".data" in use.get("DTCM", {}):
        use["FLASH"][".data (load image)"] = use["DTCM"][".data"]
    return use


def measure(root: Path, work: Path, mode: str, seconds: float, image: Path) -> dict:
    """Build (incrementally) and run the firmware on a recording of ``seconds``; the numbers of one run."""
    from microalign.export import image as I

    pcm, text = recording(seconds)
    from microalign.text import normalize  # what `microalign normalize` prints

    spoken = " ".join(w.text for w in normalize(text))
    inp = work / "input.bin"     # the file the firmware reads by semihosting (same path for every length)
    inp.write_bytes(I.write_input_block(spoken, pcm))
    elf = FW.build_tflm_firmware(root, work, mode=mode, name=f"memory_{mode}",
                                 defines=["MA_APP_REPORT", f'MA_BOARD_INPUT_FILE=\\"{inp}\\"'],
                                 image=image if mode == "flash" else None)
    rc, out = FW.run_elf(elf, image=None if mode == "flash" else image, timeout=3600)
    if rc != 0:
        raise RuntimeError(f"firmware failed on {seconds} s (exit {rc}):\n{out[-3000:]}")
    n_words = sum(1 for ln in out.splitlines() if ln.startswith("{"))
    if n_words != len(spoken.split()):
        raise RuntimeError(f"{n_words} JSON lines for {len(spoken.split())} words")
    nums = FW.app_report(out)
    nums["words"] = n_words
    nums["seconds"] = len(pcm) / SR
    return {"elf": elf, **nums}


def peak_sram(use: dict[str, dict[str, int]], syms: dict[str, int], r: dict) -> tuple[int, dict[str, int]]:
    dtcm = use["DTCM"]
    parts = {
        "DTCM .data + .bss": dtcm.get(".data", 0) + dtcm.get(".bss", 0),
        "DTCM heap (reserved; TFLM and the app do not malloc)": dtcm.get(".heap", 0),
        "DTCM stack (painted)": r["stack"],
        "AXI SRAM: TFLM arena used": r["arena"],
        "AXI SRAM: staging buffer + plan (arena's end)": r.get("staging_arena_tail", 0),
        "AXI SRAM: aligner SRAM used": r["aligner_sram"],
        "AXI SRAM: other .bss": use["AXISRAM"].get(".axisram_bss", 0) - syms.get("arena", 0)
        - syms.get("aligner_sram", 0),
        "SRAM1-3: .bss": use.get("SRAM123", {}).get(".sram123_bss", 0),
    }
    return sum(parts.values()), parts


def kb(n: int) -> str:
    return f"{n:,} B ({n / 1024:.1f} KB)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0, 300.0],
                    help="recording lengths to measure (default: 10 60 300)")
    ap.add_argument("-o", "--out", type=Path, default=OUT, help=f"markdown report (default {OUT.relative_to(REPO)})")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "memory_report",
                    help="build folder (firmware objects are reused between runs)")
    args = ap.parse_args(argv)
    missing = FW.missing_tools(qemu=True)
    if missing:
        ap.error(f"needs {', '.join(missing)}")
    root = FW.tflm_m7_root()
    if root is None:
        ap.error("no Cortex-M7 TFLM tree (TFLM_M7_ROOT, default ../shared/tflm/cortex-m7-cmsis-nn)")
    from microalign.export import image as I

    args.work.mkdir(parents=True, exist_ok=True)
    image = args.work / "student_qspi.bin"
    image.write_bytes(I.write_image((ASSETS / "student_device.tflite").read_bytes(), REPO / "tflm_app" / "generated"))

    runs = {}
    jobs = [(mode, s) for mode in MODES for s in args.seconds]
    for mode, s in tqdm(jobs, desc="firmware runs", unit="run"):
        runs[(mode, s)] = measure(root, args.work, mode, s, image)

    lines = ["# Memory plan of the aligner firmware (STM32H743 regions, measured under QEMU)", "",
             f"Generated by `eval/memory_report.py --seconds {' '.join(f'{s:g}' for s in args.seconds)}` "
             f"(TFLM tree `{root.name}`, the shipped model `student_device.tflite`; the recording is the shipped sample "
             "repeated with 0.5 s pauses, padded with silence). Methods: see the script's docstring.", ""]
    for mode in MODES:
        elf = runs[(mode, args.seconds[0])]["elf"]
        use = region_use(elf)
        regs = regions(elf.with_suffix(".map"))
        syms = symbol_sizes(elf, ("arena", "aligner_sram"))
        lines += [f"## {mode} weights: regions (linker: `arm-none-eabi-size -A`, link map)", "",
                  "| region | size | sections | reserved by the linker |", "|---|---|---|---|"]
        for r, (_, n) in regs.items():
            if r == "*default*":
                continue
            secs = use.get(r, {})
            lines.append(f"| {r} | {kb(n)} | {', '.join(f'`{k}` {v:,}' for k, v in secs.items()) or '-'} | "
                         f"{kb(sum(secs.values()))} |")
        lines += ["", f"Buffers (symbol sizes): TFLM arena {kb(syms.get('arena', 0))}, aligner SRAM "
                  f"{kb(syms.get('aligner_sram', 0))}.", "",
                  f"## {mode} weights: used per recording length (measured)", "",
                  "| recording | words | TFLM arena used | aligner SRAM used | stack (painted) | external RAM used | "
                  "**peak SRAM** |", "|---|---|---|---|---|---|---|"]
        peaks = []
        for s in args.seconds:
            r = runs[(mode, s)]
            peak, parts = peak_sram(use, syms, r)
            peaks.append(peak)
            lines.append(f"| {r['seconds']:.1f} s | {r['words']} | {r['arena']:,} | {r['aligner_sram']:,} | "
                         f"{r['stack']:,} | {r['aligner_ext']:,} | **{kb(peak)}** |")
        lines += ["", "Peak SRAM of the longest run, by part: "
                  + "; ".join(f"{k} {v:,}" for k, v in parts.items()) + ".", ""]
        if mode == "staged":
            r = runs[(mode, args.seconds[0])]
            lines += [f"Staging (`ma_model_tflm_staging`): {r['ops']} operators, {r['tensors']} constant tensors; "
                      f"buffer {r['staging_buffer']:,} B (two halves of the largest operator's {r['largest_op']:,} B) "
                      f"and its plan, {r['staging_arena_tail']:,} B together, taken from the end of the arena "
                      f"(AXI SRAM; sized from the model at start-up); {r['staged_bytes']:,} B copied from the QSPI "
                      "image per 4 s window.", ""]
        first = next(s for s, p in zip(args.seconds, peaks) if p == max(peaks))
        if len(set(peaks)) == 1:
            verdict = (f"Peak SRAM is the same at every length: {kb(peaks[0])} (the aligner's SRAM is placed at "
                       "start-up, the decoder's scratch for its widest band).")
        elif peaks[-1] == max(peaks) and all(a <= b for a, b in zip(peaks, peaks[1:])):
            verdict = (f"Peak SRAM grows with the length up to {kb(max(peaks))}, reached at {first:g} s and the same "
                       f"up to {args.seconds[-1]:g} s.")
        else:
            verdict = f"Peak SRAM is NOT bounded here: {', '.join(f'{p:,}' for p in peaks)} B."
        verdict += (f" Goal (at most {kb(GOAL)}): {'met' if max(peaks) <= GOAL else 'NOT met'}, "
                    f"{GOAL - max(peaks):+,} B of margin.")
        lines += [verdict + " What grows with the length (the transcript's arrays, audio, frame scores, decoder "
                  "checkpoints, per-word and per-token outputs, warnings) is in external RAM (the column above).", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
