"""Cortex-M7 instructions per frame of the C frontend (tflm_app/frontend), counted with unicorn.

Cross-compiles ``ma_frontend.c`` with ``arm-none-eabi-gcc`` (Cortex-M7 flags, -O2 by default) for
each frontend definition (``fft``, ``dft``), runs ``ma_frontend_compute_frame``,
``ma_frontend_power_frame`` and the direct-DFT reference (``tflm_app/tests/frontend/fe_reference.c``) on a few frames
(speech when the TIMIT sample is present, white noise and silence otherwise) in unicorn's
Cortex-M7 model, checks the features equal ``features_from_pcm`` byte for byte, and prints
instructions per frame plus a Markdown line for the report. Instructions, not cycles: the M7
dual-issues, so time needs a stated CPI (the line gives the share of a 480 MHz M7 at CPI 1).
Optionally times the Python definition on long audio and measures each definition's int8 error
against a float64 log-mel.

    .venv/bin/python eval/bench_frontend.py [--opt -O2] [--definition fft|dft|both] [--wav file.wav]
        [--python-minutes 60] [--accuracy convert/microalign/assets/sample.wav ../shared/data/ljspeech-subset]
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


def build(workdir: Path, opt: str, definition: str = "fft") -> tuple[Path, dict[str, int]]:
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
    subprocess.run([gcc, *CFLAGS, opt, f"-DMA_FE_DEFINITION_FFT={int(definition == 'fft')}", f"-I{FRONTEND}", f"-I{GENERATED}", str(FRONTEND / "ma_frontend.c"),
                    str(FRONTEND.parent / "tests" / "frontend" / "fe_reference.c"), "-nostdlib", "-Wl,--gc-sections",
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


def run(opt: str = "-O2", wav: Path | None = None, definition: str | None = None,
        extra_frames: dict | None = None) -> dict:
    """Instructions per frame of ma_frontend_compute_frame and ma_frontend_power_frame built for
    ``definition`` (default features.DEFINITION) on the test frames (plus ``extra_frames``, name ->
    WIN samples); raises AssertionError on any difference from features.py. The test frames also
    run the direct-DFT reference (``direct_dft_power``: the baseline)."""
    from microalign.frontend import features as F

    definition = definition or F.DEFINITION
    with tempfile.TemporaryDirectory() as d:
        binf, syms = build(Path(d), opt, definition)
        m7 = M7(binf.read_bytes())
    frame_addr, out_addr, pw_addr = RAM_BASE, RAM_BASE + 0x1000, RAM_BASE + 0x2000
    results = {}
    base = test_frames(wav)
    for name, frame in {**base, **(extra_frames or {})}.items():
        frame = np.asarray(frame, np.int16)
        m7.write(frame_addr, frame.tobytes())
        n_feat = m7.call(syms["ma_frontend_compute_frame"], [frame_addr, out_addr])
        got = np.frombuffer(m7.read(out_addr, F.N_MELS), np.int8)
        # Frame 1 of a signal starts at HOP - PAD_LEFT: prepend that many zeros.
        want = F.features_from_pcm(np.concatenate([np.zeros(F.HOP - F.PAD_LEFT, np.int16), frame]), definition)
        if not np.array_equal(got, want[1]):
            raise AssertionError(f"{name}: Cortex-M7 features differ from features_from_pcm ({definition})")
        n_pow = m7.call(syms["ma_frontend_power_frame"], [frame_addr, pw_addr])
        pw = np.frombuffer(m7.read(pw_addr, 8 * F.N_BINS), np.int64)
        if not np.array_equal(pw, F.power_spectrum(frame[None, :], definition)[0]):
            raise AssertionError(f"{name}: Cortex-M7 power spectrum differs from power_spectrum ({definition})")
        results[name] = {"frame": n_feat, "power": n_pow}
        if name in base:
            n_ref = m7.call(syms["fe_reference_power_frame"], [frame_addr, pw_addr])
            if m7.read(pw_addr, 8 * F.N_BINS) != F.power_spectrum(frame[None, :], "dft")[0].tobytes():
                raise AssertionError(f"{name}: direct-DFT reference differs from power_spectrum(..., 'dft')")
            results[name]["direct_dft_power"] = n_ref
    return results


def qemu_insn(plugin: Path, frames: dict, definition: str, opt: str = "-O2", repeat: int = 8) -> float:
    """Instructions per ma_frontend_compute_frame call under QEMU (mps2-an500), counted by qemu-insn's
    plugin: firmware tflm_app/tests/frontend/fe_insn_main.c built with 0 and with `repeat` calls per frame, the
    difference of the totals per call. Raises if the firmware's features differ from Python's."""
    sys.path.insert(0, str(REPO / "tflm_app" / "app"))
    try:
        import firmware as harness
    finally:
        sys.path.pop(0)
    from microalign.frontend import features as F

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        fr = np.stack([np.asarray(v, np.int16) for v in frames.values()])
        want = np.stack([F.features_from_pcm(np.concatenate([np.zeros(F.HOP - F.PAD_LEFT, np.int16), f]),
                                             definition)[1] for f in fr])
        (d / "fe_bench_frames.h").write_text(
            f"#define FE_BENCH_NUM_FRAMES {len(fr)}\n"
            f"static const int16_t fe_bench_frames[{len(fr)}][{F.WIN}] = {{"
            + ",".join("{" + ",".join(map(str, f.tolist())) + "}" for f in fr) + "};\n"
            f"static const int8_t fe_bench_want[{len(fr)}][{F.N_MELS}] = {{"
            + ",".join("{" + ",".join(map(str, q.tolist())) + "}" for q in want) + "};\n")
        totals = []
        for rep in (0, repeat):
            fw = harness.Firmware(test=str(FRONTEND.parent / "tests" / "frontend" / "fe_insn_main.c"),
                                  srcs=[str(FRONTEND / "ma_frontend.c")],
                                  includes=[str(d), str(FRONTEND), str(GENERATED)], build=d / f"r{rep}",
                                  defines=[f"MA_FE_DEFINITION_FFT={int(definition == 'fft')}",
                                           f"FE_BENCH_REPEAT={rep}"], opt=opt)
            total, _, out = fw.count_instructions(plugin)
            if f"{len(fr)} frames x {rep} repeats, 0 differ" not in out:
                raise AssertionError(f"QEMU features differ from features_from_pcm ({definition}):\n{out}")
            totals.append(total)
    return (totals[1] - totals[0]) / (repeat * len(frames))


def markdown(results: dict, opt: str, definition: str) -> str:
    worst = max(r["frame"] for r in results.values())
    pw = max(r["power"] for r in results.values())
    ref = max(r.get("direct_dft_power", 0) for r in results.values())
    what = "fixed-point FFT" if definition == "fft" else "folded Q15 DFT"
    return (f"| C frontend, `{definition}` ({what}), Cortex-M7 `{opt}` (unicorn) | {worst:,} instructions/frame "
            f"(spectrum+power {pw:,}, {ref / pw:.1f}x fewer than the direct DFT's {ref:,}; mel+log+int8 "
            f"{worst - pw:,}) | {worst * 100 / 1e6:.2f} M instructions per second of audio: "
            f"{worst * 100 / 480e6 * 100:.2f} % of a 480 MHz M7 at 1 instruction/cycle |")


def python_speed(minutes: float, definition: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) features_from_pcm takes for `minutes` of audio (modulated noise, one
    call); CPU time is the one to compare on a loaded machine."""
    import time

    from microalign.frontend import features as F

    rng = np.random.default_rng(1)
    n = int(minutes * 60 * F.SAMPLE_RATE)
    pcm = (rng.normal(0, 3000, n) * (1 + np.sin(np.arange(n) * 2e-4))).clip(-32768, 32767).astype(np.int16)
    c0, t0 = time.process_time(), time.perf_counter()
    F.features_from_pcm(pcm, definition)
    return time.process_time() - c0, time.perf_counter() - t0


def float_reference(pcm: np.ndarray) -> np.ndarray:
    """The features without fixed point: float64 window sin^2, float64 rfft, librosa's float mel
    filters, exact log2, the same int8 mapping before rounding and clipping ([T, N_MELS] float64,
    in int8 units)."""
    import librosa

    from microalign.frontend import features as F

    fb = librosa.filters.mel(sr=F.SAMPLE_RATE, n_fft=F.N_FFT, n_mels=F.N_MELS, fmin=F.F_MIN, fmax=F.F_MAX,
                             htk=True, norm=None).astype(np.float64)
    win = np.sin(np.pi * np.arange(F.WIN) / F.WIN) ** 2
    frames = F.frame_signal(pcm).astype(np.float64) * win
    p = np.abs(np.fft.rfft(frames, F.N_FFT, axis=1)) ** 2 / 16.0     # the integer definitions' scale
    m = p @ (fb * 4096.0).T
    L = 256.0 * np.log2(m + 1.0)
    return (L - F.LOG_OFFSET) * F.FEAT_MUL / 2.0 ** F.FEAT_SHIFT - 128.0


def accuracy(wavs: list[Path]) -> dict:
    """Per definition: |int8 feature - float reference| (reference clipped to [-128, 127]) on the wavs."""
    import soundfile as sf

    from microalign.frontend import features as F

    diffs = {d: [] for d in F.DEFINITIONS}
    changed = []
    for wav in wavs:
        pcm, sr = sf.read(wav, dtype="int16")
        if sr != F.SAMPLE_RATE or pcm.ndim != 1:
            raise ValueError(f"{wav}: expected 16 kHz mono, got {sr} Hz, shape {pcm.shape}")
        ref = np.clip(float_reference(pcm), -128, 127)
        q = {}
        for d in F.DEFINITIONS:
            q[d] = F.features_from_pcm(pcm, d).astype(np.float64)
            diffs[d].append(np.abs(q[d] - ref).ravel())
        changed.append(np.abs(q["fft"] - q["dft"]).ravel())
    out = {d: {"max": float(np.concatenate(v).max()), "mean": float(np.concatenate(v).mean())}
           for d, v in diffs.items()}
    ch = np.concatenate(changed)
    out["fft_vs_dft"] = {"changed": float((ch > 0).mean()), "max": float(ch.max()), "mean": float(ch.mean())}
    return out


def main(argv: list[str] | None = None) -> int:
    from microalign.frontend import features as F

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opt", default="-O2", help="optimisation flag (-O2, -O3, -Os)")
    ap.add_argument("--definition", choices=[*F.DEFINITIONS, "both"], default="both")
    ap.add_argument("--wav", type=Path, default=None,
                    help="16 kHz mono WAV for a speech frame (default: a TIMIT dev file when present)")
    ap.add_argument("--qemu-insn", type=Path, default=None, metavar="insn_range.so",
                    help="also count instructions per frame under QEMU with this qemu-insn plugin "
                         "(../shared/tools/qemu-insn: build.sh)")
    ap.add_argument("--python-minutes", type=float, default=0.0,
                    help="also time the Python definition on this many minutes of audio")
    ap.add_argument("--accuracy", type=Path, nargs="*", default=None,
                    help="audio files or folders (.wav, .flac): int8 error of each definition against a "
                         "float64 log-mel")
    args = ap.parse_args(argv)
    wav = args.wav
    if wav is None:
        shared = Path(os.environ.get("MICROALIGN_SHARED", REPO.parent / "shared"))
        cands = sorted((shared / "data" / "timit-sample-dev").glob("*/*.wav"))
        wav = cands[0] if cands else None
    defs = list(F.DEFINITIONS) if args.definition == "both" else [args.definition]
    for d in defs:
        res = run(args.opt, wav, d)
        for name, r in res.items():
            print(f"{d}  {name:24s} compute_frame {r['frame']:>9,}  power_frame {r['power']:>9,}  "
                  f"direct DFT power {r['direct_dft_power']:>9,} instructions")
        print(markdown(res, args.opt, d))
        if args.qemu_insn is not None:
            per = qemu_insn(args.qemu_insn, test_frames(wav), d, args.opt)
            print(f"{d}  QEMU mps2-an500 (qemu-insn): {per:,.0f} instructions per compute_frame, "
                  f"features equal features_from_pcm")
        if args.python_minutes > 0:
            cpu, wall = python_speed(args.python_minutes, d)
            print(f"{d}  Python features_from_pcm: {cpu:.1f} s CPU ({wall:.1f} s wall) "
                  f"for {args.python_minutes:g} min of audio")
    if args.accuracy is not None:
        wavs = []
        for p in args.accuracy:
            wavs += sorted(f for f in p.rglob("*") if f.suffix.lower() in (".wav", ".flac")) if p.is_dir() else [p]
        acc = accuracy(wavs)
        for d in F.DEFINITIONS:
            print(f"{d}: |feature - float64 reference| over {len(wavs)} files: max {acc[d]['max']:.2f}, "
                  f"mean {acc[d]['mean']:.3f} int8 steps")
        c = acc["fft_vs_dft"]
        print(f"fft vs dft features: {100 * c['changed']:.1f} % differ, |difference| max {c['max']:.0f}, "
              f"mean {c['mean']:.3f} int8 steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
