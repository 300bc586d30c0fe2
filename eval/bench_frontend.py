"""Cortex-M7 instructions per frame of the C frontend (tflm_app/frontend), counted with unicorn.

Cross-compiles ``ma_frontend.c`` with ``arm-none-eabi-gcc`` (Cortex-M7 flags, -O2 by default),
runs ``ma_frontend_compute_frame``, ``ma_frontend_power_frame`` and the direct-DFT reference
(``test/fe_reference.c``) on a few frames (speech when
the TIMIT sample is present, white noise and silence otherwise) in unicorn's Cortex-M7 model,
checks the features equal ``features_from_pcm`` byte for byte, and prints instructions per frame
plus a Markdown line for the report. Instructions, not cycles: the M7 dual-issues, so time needs
a stated CPI (the line gives MHz for 100 frames/s at CPI 1).

    .venv/bin/python eval/bench_frontend.py [--opt -O2] [--wav file.wav]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FRONTEND = REPO / "tflm_app" / "frontend"
GENERATED = REPO / "tflm_app" / "generated"
CFLAGS = ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb", "-std=c99",
          "-ffreestanding", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra"]
CODE_BASE = 0x0800_0000   # flash
RAM_BASE = 0x2000_0000    # DTCM: stack and buffers
RAM_SIZE = 0x2_0000
RETURN_ADDR = 0x0900_0000  # bx lr lands here: stop


def build(workdir: Path, opt: str) -> tuple[Path, dict[str, int]]:
    """ELF image as a flat binary at CODE_BASE and its symbol table {name: address}."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        raise RuntimeError("arm-none-eabi-gcc not found (Debian: apt-get install gcc-arm-none-eabi)")
    ld = workdir / "bench.ld"
    ld.write_text(f"""ENTRY(ma_frontend_compute_frame)
SECTIONS {{
  . = {CODE_BASE:#x};
  .text : {{ *(.text*) }}
  .rodata : {{ *(.rodata*) }}
  .data : {{ *(.data*) }}
  .bss : {{ *(.bss*) *(COMMON) }}
}}
""")
    elf = workdir / "fe.elf"
    subprocess.run([gcc, *CFLAGS, opt, f"-I{FRONTEND}", f"-I{GENERATED}", str(FRONTEND / "ma_frontend.c"),
                    str(FRONTEND / "test" / "fe_reference.c"), "-nostdlib", "-Wl,--gc-sections",
                    "-Wl,-u,ma_frontend_power_frame", "-Wl,-u,fe_reference_power_frame", f"-T{ld}",
                    "-o", str(elf), "-lgcc"], check=True)
    binf = workdir / "fe.bin"
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(binf)], check=True)
    syms = {}
    for line in subprocess.run(["arm-none-eabi-nm", str(elf)], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return binf, syms


class M7:
    """Calls Thumb functions of the image in unicorn's Cortex-M7 and counts instructions."""

    def __init__(self, image: bytes):
        import unicorn as uc
        from unicorn import arm_const as A

        self.uc, self.A = uc, A
        self.mu = uc.Uc(uc.UC_ARCH_ARM, uc.UC_MODE_THUMB | uc.UC_MODE_MCLASS)
        self.mu.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M7)
        size = (len(image) + 0xFFFF) & ~0xFFFF
        self.mu.mem_map(CODE_BASE, size)
        self.mu.mem_write(CODE_BASE, image)
        self.mu.mem_map(RAM_BASE, RAM_SIZE)
        self.mu.mem_map(RETURN_ADDR, 0x1000)
        self.count = 0

        def hook(mu, addr, size, user):
            self.count += 1

        self.mu.hook_add(uc.UC_HOOK_CODE, hook)

    def call(self, addr: int, args: list[int]) -> int:
        """Run the function at addr (Thumb) with up to 4 int args; returns instructions executed."""
        A = self.A
        for reg, v in zip((A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3), args):
            self.mu.reg_write(reg, v)
        self.mu.reg_write(A.UC_ARM_REG_SP, RAM_BASE + RAM_SIZE - 16)
        self.mu.reg_write(A.UC_ARM_REG_LR, RETURN_ADDR | 1)
        self.count = 0
        self.mu.emu_start(addr | 1, RETURN_ADDR, count=50_000_000)
        return self.count

    def write(self, addr: int, data: bytes) -> None:
        self.mu.mem_write(addr, data)

    def read(self, addr: int, n: int) -> bytes:
        return bytes(self.mu.mem_read(addr, n))


def test_frames(wav: Path | None) -> dict[str, np.ndarray]:
    """name -> int16 frame of WIN samples."""
    from microalign.frontend import features as F

    rng = np.random.default_rng(0)
    frames = {"silence": np.zeros(F.WIN, np.int16),
              "noise (full scale)": rng.integers(-32768, 32768, F.WIN).astype(np.int16)}
    if wav is not None and wav.exists():
        import soundfile as sf

        pcm, sr = sf.read(wav, dtype="int16")
        if sr == F.SAMPLE_RATE and pcm.ndim == 1 and len(pcm) > 100 * F.HOP + F.WIN:
            fr = F.frame_signal(pcm)
            frames["speech (loudest frame)"] = fr[np.argmax(np.abs(fr).sum(1))].astype(np.int16)
    return frames


def run(opt: str = "-O2", wav: Path | None = None) -> dict:
    from microalign.frontend import features as F

    with tempfile.TemporaryDirectory() as d:
        binf, syms = build(Path(d), opt)
        m7 = M7(binf.read_bytes())
    frame_addr, out_addr, pw_addr = RAM_BASE, RAM_BASE + 0x1000, RAM_BASE + 0x2000
    results = {}
    for name, frame in test_frames(wav).items():
        m7.write(frame_addr, frame.tobytes())
        n_feat = m7.call(syms["ma_frontend_compute_frame"], [frame_addr, out_addr])
        got = np.frombuffer(m7.read(out_addr, F.N_MELS), np.int8)
        # Frame 1 of a signal starts at HOP - PAD_LEFT: prepend that many zeros.
        want = F.features_from_pcm(np.concatenate([np.zeros(F.HOP - F.PAD_LEFT, np.int16), frame]))
        if not np.array_equal(got, want[1]):
            raise AssertionError(f"{name}: Cortex-M7 features differ from features_from_pcm")
        n_pow = m7.call(syms["ma_frontend_power_frame"], [frame_addr, pw_addr])
        pw = np.frombuffer(m7.read(pw_addr, 8 * F.N_BINS), np.int64)
        if not np.array_equal(pw, F.power_spectrum(frame[None, :].astype(np.int64))[0]):
            raise AssertionError(f"{name}: Cortex-M7 power spectrum differs from power_spectrum")
        n_ref = m7.call(syms["fe_reference_power_frame"], [frame_addr, pw_addr])
        if m7.read(pw_addr, 8 * F.N_BINS) != pw.tobytes():
            raise AssertionError(f"{name}: direct-DFT reference differs on the Cortex-M7")
        results[name] = {"frame": n_feat, "dft_power": n_pow, "direct_dft_power": n_ref}
    return results


def markdown(results: dict, opt: str) -> str:
    worst = max(r["frame"] for r in results.values())
    dft = max(r["dft_power"] for r in results.values())
    ref = max(r["direct_dft_power"] for r in results.values())
    return (f"| C frontend, Cortex-M7 `{opt}` (unicorn) | {worst:,} instructions/frame "
            f"(DFT+power {dft:,}, {ref / dft:.1f}x fewer than the direct DFT's {ref:,}; mel+log+int8 "
            f"{worst - dft:,}) | {worst * 100 / 1e6:.1f} M instructions per second of audio: "
            f"{worst * 100 / 480e6 * 100:.1f} % of a 480 MHz M7 at 1 instruction/cycle |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opt", default="-O2", help="optimisation flag (-O2, -O3, -Os)")
    ap.add_argument("--wav", type=Path, default=None,
                    help="16 kHz mono WAV for a speech frame (default: a TIMIT dev file when present)")
    args = ap.parse_args(argv)
    wav = args.wav
    if wav is None:
        shared = Path(os.environ.get("MICROALIGN_SHARED", REPO.parent / "shared"))
        cands = sorted((shared / "data" / "timit-sample-dev").glob("*/*.wav"))
        wav = cands[0] if cands else None
    res = run(args.opt, wav)
    for name, r in res.items():
        print(f"{name:24s} compute_frame {r['frame']:>9,}  power_frame {r['dft_power']:>9,}  "
              f"direct DFT power {r['direct_dft_power']:>9,} instructions")
    print(markdown(res, args.opt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
