"""The device benchmark: executed Cortex-M7 instructions of the aligner firmware (tflm_app/app, TFLM) under
QEMU mps2-an500, per stage, for the shipped sample, 10 s and 60 s of speech (300 s extrapolated), with
CMSIS-NN and TFLM's reference kernels, fused (``FA_ATTENTION``) and builtin attention, the weight image's
QSPI traffic and XIP's cost through a 16 KB D-cache model; writes eval/results/device.md and prints it.

    python eval/bench_firmware.py                       # the whole table (≈ 10 min on 2 free cores)
    python eval/bench_firmware.py --quick               # CMSIS-NN + fused attention only

Each firmware run is profiled in ONE QEMU run by our TCG plugin eval/qemu_plugins/insn_profile.c
(compiled on first use into build/qemu_plugins/ against QEMU's ``qemu-plugin.h``: ``--plugin-header DIR``
or ``$QEMU_PLUGIN_H``, default build/qemu-insn/, which ``sh ../shared/tools/qemu-insn/build.sh
build/qemu-insn`` fetches). Stages are PC ranges taken from the firmware's linker map (every function is its
own input section, ``-ffunction-sections``): one label per object of ours (frontend, attention, decode,
hashes, ...) and per TFLM kernel file (operator kind); library code (CMSIS-NN, libc, libm, libgcc, TFLM's
shared kernel utilities, and C++ inline/template functions the linker kept one copy of) counts for the label of
the code that called it. The Cortex-M7 TFLM libraries are built once into build/tflm_m7/<tree>/ by
tflm_app/app/firmware.py.

Library use: ``profile_firmware(elf, image, input_block, build_profile_plugin(plugin_header_dir()))`` -> ``Profile``
(instructions and flash-window traffic per phase and stage); ``sample_input(seconds)`` -> the speech inputs.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tflm_app" / "app"))
sys.path.insert(0, str(REPO / "convert"))

import firmware as fw  # noqa: E402
import numpy as np  # noqa: E402

ASSETS = REPO / "convert" / "microalign" / "assets"
PLUGIN_SRC = REPO / "eval" / "qemu_plugins" / "insn_profile.c"
PLUGIN_BUILD = REPO / "build" / "qemu_plugins"
RESULTS = REPO / "eval" / "results"
HOP = 160
SAMPLE_RATE = 16000
CPU_HZ = 480e6

# --------------------------------------------------------------------------------------------- labels

#: display name of each label, in table order
LABELS = {
    "frontend": "frontend (ma_frontend)",
    "attention": "attention (FA_ATTENTION: ma_attention_s8 + adapter)",
    "op_fully_connected": "op: fully connected (FULLY_CONNECTED: ma_fc_s8 + adapter)",
    "op_conv": "op: conv 2D (1-D convs: ma_fc_s8 + adapter)",
    "op_depthwise_conv": "op: depthwise conv (1-D DEPTHWISE_CONV_2D: ma_fc_s8 + adapter)",
    "op_batch_matmul": "op: batch matmul (builtin attention)",
    "op_softmax": "op: softmax / log-softmax (LOG_SOFTMAX: ma_log_softmax_s8 + adapter)",
    "op_add_mul": "op: add / sub / mul (same-shape ADD: ma_add_s8 + adapter)",
    "op_norm": "op: mean / squared difference / rsqrt (layer norm)",
    "op_activation": "op: relu / logistic / tanh",
    "op_quantize": "op: quantize / dequantize",
    "op_data": "op: reshape / transpose / pad / gather / concat / slice / split",
    "interpreter": "TFLM interpreter (invoke loop, allocation, flatbuffer access)",
    "model_glue": "ma_model_tflm (model set-up, weight staging)",
    "decode": "decode (ma_decode_s8)",
    "app": "aligner application (ma_aligner, windows, transcript, JSON)",
    "boot_hash": "boot: image CRC-32 (ma_hash; + SHA-256 with -DMA_APP_IMAGE_CHECKS=MA_IMAGE_CHECK_ALL)",
    "boot_image": "boot: image header checks (ma_image)",
    "board": "board layer, console, startup",
    "other": "other",
}
MODEL_LABELS = ("attention", "op_fully_connected", "op_conv", "op_depthwise_conv", "op_batch_matmul", "op_softmax",
                "op_add_mul", "op_norm", "op_activation", "op_quantize", "op_data", "interpreter", "model_glue")
TFLM_KERNELS = {
    "fully_connected": "op_fully_connected", "conv": "op_conv", "depthwise_conv": "op_depthwise_conv",
    "batch_matmul": "op_batch_matmul", "softmax": "op_softmax", "log_softmax": "op_softmax",
    "add": "op_add_mul", "sub": "op_add_mul", "mul": "op_add_mul",
    "squared_difference": "op_norm", "reduce": "op_norm", "elementwise": "op_norm",
    "activations": "op_activation", "logistic": "op_activation", "tanh": "op_activation",
    "quantize": "op_quantize", "dequantize": "op_quantize",
    **{k: "op_data" for k in ("reshape", "transpose", "pad", "gather", "concatenation", "slice", "strided_slice",
                              "split", "squeeze", "expand_dims")},
}
#: TFLM objects that kernels call (count for the calling kernel)
TFLM_SHARED = {"kernel_util", "micro_tensor_utils", "quantization_util", "common", "tensor_ctypes", "micro_utils",
               "runtime_shape", "portable_tensor_utils", "tensor_utils"}
OURS = {"ma_frontend": "frontend", "ma_attention_s8": "attention", "fa_attention": "attention",
        "ma_decode_s8": "decode", "ma_hash": "boot_hash", "ma_image": "boot_image", "ma_model_tflm": "model_glue",
        "ma_log_softmax_s8": "op_softmax", "ma_log_softmax_tflm": "op_softmax",
        "ma_add_s8": "op_add_mul", "ma_add_tflm": "op_add_mul",
        "ma_fc_tflm": "op_fully_connected", "ma_conv_tflm": "op_conv",
        "ma_dwconv_tflm": "op_depthwise_conv",
        "ma_aligner": "app", "ma_windows": "app", "ma_transcript": "app", "ma_json": "app", "ma_quality": "app",
        "main": "app", "ma_tflm_log": "board"}
SHARED_LIBS = ("libc", "libc_nano", "libm", "libgcc", "libstdc++", "libstdc++_nano", "libsupc++", "libnosys",
               "librdimon", "librdimon_nano", "libg", "libg_nano")

_SECTION = re.compile(r"^ (\.text\S*)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*))?$")
_PLACED = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def map_text_sections(map_path: Path) -> list[tuple[int, int, str, bool]]:
    """(start, end, object, comdat) of every code input section the linker placed (from a GNU ld ``-Map`` file);
    ``comdat``: a C++ function (inline or template) that other objects emitted too, the linker keeping one copy
    (its section name is also among the discarded input sections): it belongs to no one object."""
    lines = Path(map_path).read_text(errors="replace").splitlines()
    try:
        cut = lines.index("Linker script and memory map")
    except ValueError:
        raise ValueError(f"{map_path} is not a GNU ld map file (no 'Linker script and memory map')") from None
    discarded = {m.group(1) for m in map(re.compile(r"^ (\.text\._Z\S+)").match, lines[:cut]) if m}
    lines = lines[cut:]
    out = []
    for i, line in enumerate(lines):
        m = _SECTION.match(line)
        if not m:
            continue
        if m.group(2) is not None:
            addr, size, obj = int(m.group(2), 16), int(m.group(3), 16), m.group(4)
        else:
            p = _PLACED.match(lines[i + 1]) if i + 1 < len(lines) else None
            if p is None:
                continue
            addr, size, obj = int(p.group(1), 16), int(p.group(2), 16), p.group(3)
        if size and addr:
            out.append((addr, addr + size, obj.strip(), m.group(1) in discarded))
    if not out:
        raise ValueError(f"no placed .text input sections in {map_path}")
    return out


def classify(obj: str) -> tuple[str, bool]:
    """(label, shared) of one object file named in the map (``/x/y/foo.c.o`` or ``/x/libz.a(foo.o)``)."""
    member = re.search(r"([^/()]+)\.a\(([^)]+)\)$", obj)
    lib, name = (member.group(1), member.group(2)) if member else ("", Path(obj).name)
    stem = re.sub(r"(\.(c|cc|cpp|S|s))?\.o(bj)?$", "", name)
    if lib in SHARED_LIBS or lib.startswith(("libc", "libm", "libgcc", "libstdc")):
        return "other", True
    if stem.startswith("arm_") or stem == "ma_fc_s8":  # CMSIS-NN; ma_fc_s8 serves both the FC and conv adapters
        return "other", True
    if stem in OURS:
        return OURS[stem], False
    if stem.startswith(("board_", "startup_")):
        return "board", False
    if lib == "libtflm":
        base = stem[:-len("_common")] if stem.endswith("_common") else stem
        if base in TFLM_KERNELS:
            return TFLM_KERNELS[base], False
        if stem in TFLM_SHARED:
            return "other", True
        return "interpreter", False
    if "/frontend/" in obj:
        return "frontend", False
    return "other", False


def text_symbol(elf: Path, name: str) -> int:
    """Address of the function ``name`` (Thumb bit cleared)."""
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 3 and p[2] == name and p[1] in "tT":
            return int(p[0], 16) & ~1
    raise ValueError(f"no function {name!r} in {elf}")


#: the memory plan of board/mps2_an500/memory_plan.ld: flash window and the uncached DTCM
QSPI_WINDOW = (0x60000000, 0x60200000)
UNCACHED = ((0x20000000, 0x20020000), (0x40000000, 0x60000000), (0xE0000000, 0x100000000))


def write_spec(elf: Path, path: Path, memory: bool, cache=(16384, 4, 32)) -> Path:
    """The plugin's spec file for ``elf`` (its map file beside it)."""
    sections = map_text_sections(Path(elf).with_suffix(".map"))
    rows = [f"label {k}" for k in LABELS]
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    weak = {int(p[0], 16) & ~1 for p in (line.split() for line in nm.splitlines()) if len(p) == 3 and p[1] == "W"}
    for lo, hi, obj, comdat in sorted(sections):
        comdat = comdat and lo in weak    # not a local function that happens to share a name with a discarded one
        label, shared = classify(obj)
        rows.append(f"range {lo:#x} {hi:#x} {label} {int(shared or comdat)}")
    rows += [f"phase {text_symbol(elf, 'ma_model_tflm_create'):#x} model_init",
             f"phase {text_symbol(elf, 'ma_aligner_align'):#x} align",
             f"mark {text_symbol(elf, 'ma_model_run_window'):#x} windows",
             f"window {QSPI_WINDOW[0]:#x} {QSPI_WINDOW[1]:#x}"]
    rows += [f"uncached {lo:#x} {hi:#x}" for lo, hi in UNCACHED]
    rows += [f"cache {cache[0]} {cache[1]} {cache[2]}", f"memory {int(memory)}"]
    Path(path).write_text("\n".join(rows) + "\n")
    return Path(path)

# --------------------------------------------------------------------------------------------- plugin


def plugin_header_dir(given: str | None = None) -> Path:
    for d in (given, os.environ.get("QEMU_PLUGIN_H"), REPO / "build" / "qemu-insn"):
        if d and (Path(d) / "qemu-plugin.h").is_file():
            return Path(d)
    raise SystemExit("qemu-plugin.h not found: pass --plugin-header DIR or set QEMU_PLUGIN_H; "
                     "`sh ../shared/tools/qemu-insn/build.sh build/qemu-insn` fetches it (Debian's qemu source)")


def build_profile_plugin(header_dir: Path, out: Path = PLUGIN_BUILD) -> Path:
    """Compile eval/qemu_plugins/insn_profile.c (when newer than the .so) and return the .so."""
    so = Path(out) / "insn_profile.so"
    if so.is_file() and so.stat().st_mtime >= PLUGIN_SRC.stat().st_mtime:
        return so
    so.parent.mkdir(parents=True, exist_ok=True)
    glib = subprocess.run(["pkg-config", "--cflags", "--libs", "glib-2.0"], capture_output=True, text=True)
    if glib.returncode != 0:
        raise SystemExit("pkg-config glib-2.0 failed: install libglib2.0-dev")
    flags = glib.stdout.split()
    p = subprocess.run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", f"-I{header_dir}", str(PLUGIN_SRC), "-o", str(so),
                        *flags], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"building {PLUGIN_SRC} failed:\n{p.stderr}")
    return so


@dataclass
class Profile:
    """One profiled run: instructions and flash-window traffic per (phase, label)."""
    total: int
    stdout: str
    insns: dict = field(default_factory=lambda: defaultdict(int))    # (phase, label) -> instructions
    # (phase, label) -> (loads, bytes, misses alone, misses shared, next-line misses alone, ... shared)
    window: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)                          # (phase, label) -> (accesses, misses)
    marks: dict = field(default_factory=dict)
    seconds: float = 0.0                                              # host wall time of the QEMU run

    def insn(self, label: str | None = None, phase: str | None = None) -> int:
        return sum(v for (ph, lb), v in self.insns.items() if (label is None or lb == label) and
                   (phase is None or ph == phase))

    def win(self, index: int, phase: str | None = None, labels=None) -> int:
        return sum(v[index] for (ph, lb), v in self.window.items() if (phase is None or ph == phase) and
                   (labels is None or lb in labels))

    @property
    def json_lines(self) -> str:
        return "".join(ln for ln in self.stdout.splitlines(keepends=True) if ln.startswith("{"))


def parse_profile(out: str) -> Profile:
    prof = Profile(total=-1, stdout=out)
    for line in out.splitlines():
        p = line.split()
        if not p or p[0] != "prof":
            continue
        if p[1] == "total":
            prof.total = int(p[2])
        elif p[1] == "mark":
            prof.marks[p[2]] = int(p[3])
        elif p[1] == "insn":
            prof.insns[(p[2], p[3])] += int(p[4])
        elif p[1] == "window":
            prof.window[(p[2], p[3])] = tuple(map(int, p[4:10]))
        elif p[1] == "data":
            prof.data[(p[2], p[3])] = tuple(map(int, p[4:6]))
    if prof.total < 0:
        raise RuntimeError(f"no profile in the QEMU output:\n{out[-3000:]}")
    return prof


def profile_firmware(elf: Path, image: Path, inp: Path, plugin: Path, memory: bool = True,
                     timeout: float = 3600, cache: Path | None = None) -> Profile:
    """Run ``elf`` once under QEMU with the profiling plugin; raises when the firmware fails. With ``cache`` (a
    folder), the QEMU output is kept there under the SHA-256 of the ELF, image, input, plugin and options, and
    reused while they are unchanged."""
    key = None
    if cache is not None:
        import hashlib
        h = hashlib.sha256(f"memory={memory}".encode())
        with tempfile.TemporaryDirectory() as tmp:
            spec = write_spec(elf, Path(tmp) / "spec.txt", memory)
            for f in (elf, image, inp, plugin, spec):
                h.update(Path(f).read_bytes())
        key = Path(cache) / (h.hexdigest()[:32] + ".txt")
        if key.is_file():
            text = key.read_text()
            dt, out = text.split("\n", 1)
            prof = parse_profile(out)
            prof.seconds = float(dt)
            return prof
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_spec(elf, Path(tmp) / "spec.txt", memory)
        t0 = time.monotonic()
        rc, out = fw.run_elf(elf, image, inp, timeout=timeout, plugin=f"{plugin},spec={spec}")
        dt = time.monotonic() - t0
    if rc != 0:
        raise RuntimeError(f"firmware {elf.name} failed (exit {rc}):\n{out[-3000:]}")
    prof = parse_profile(out)
    prof.seconds = dt
    if key is not None:
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_text(f"{dt:.1f}\n{out}")
    return prof

# --------------------------------------------------------------------------------------------- inputs


def sample_pcm() -> np.ndarray:
    from microalign.audio import load_audio
    return load_audio(ASSETS / "sample.wav")


def sample_text() -> str:
    from microalign.text import normalize
    return " ".join(w.text for w in normalize((ASSETS / "sample.txt").read_text(encoding="utf-8")))


def sample_input(seconds: float | None) -> tuple[np.ndarray, str, str]:
    """(pcm, spoken-form transcript, description) of about ``seconds`` of speech made of the shipped sample
    (8.44 s): None = the sample itself; else round(seconds / 8.94 s) copies of the sample, each followed by
    0.5 s of silence (tests/test_app_tflm.py's 60 s case: 7 copies, 62.55 s), and silence up to ``seconds``
    when they are shorter (10 s = the sample + 1.56 s of silence)."""
    pcm, text = sample_pcm(), sample_text()
    if seconds is None:
        return pcm, text, f"the shipped sample ({len(pcm) / SAMPLE_RATE:.2f} s, its transcript)"
    if not 1.0 <= seconds <= 3600.0:
        raise ValueError(f"seconds={seconds}: want 1..3600")
    unit = np.concatenate([pcm, np.zeros(SAMPLE_RATE // 2, np.int16)])
    copies = max(1, round(seconds * SAMPLE_RATE / len(unit)))
    out = np.concatenate([unit] * copies)
    out = np.concatenate([out, np.zeros(max(0, int(round(seconds * SAMPLE_RATE)) - len(out)), np.int16)])
    desc = (f"the sample + {(len(out) - len(pcm)) / SAMPLE_RATE:.2f} s of silence ({len(out) / SAMPLE_RATE:.2f} s)"
            if copies == 1 else f"the sample {copies} times, 0.5 s of silence after each "
            f"({len(out) / SAMPLE_RATE:.2f} s; its transcript repeated)")
    return out, " ".join([text] * copies), desc


def n_frames(n_samples: int) -> int:
    return -(-n_samples // HOP)


def window_count(frames: int) -> int:
    from microalign.runtime.windows import MARGIN, window_starts
    return len(window_starts(frames, 400, MARGIN))

# --------------------------------------------------------------------------------------------- the runs

BUILD = REPO / "build" / "bench_device"
MODELS = {"fused": "student_device.tflite", "builtin": "student_int8.tflite"}
#: the builtin-attention model needs 216,276 B of arena (issue 10), more than main.c's default 200 KB
BUILTIN_ARENA = 256 * 1024


@dataclass(frozen=True)
class Config:
    kernels: str      # "cmsis-nn" | "reference"
    attention: str    # "fused" | "builtin"
    mode: str = "xip"

    @property
    def name(self) -> str:
        return f"{self.kernels}_{self.attention}_{self.mode}"

    @property
    def title(self) -> str:
        att = "FA_ATTENTION" if self.attention == "fused" else "builtin attention"
        return f"{'CMSIS-NN' if self.kernels == 'cmsis-nn' else 'reference kernels'}, {att}, {self.mode}"


def tflm_tree(kernels: str) -> Path:
    root = fw.tflm_m7_root() if kernels == "cmsis-nn" else fw.tflm_host_root()
    if root is None:
        raise SystemExit(f"no TFLM tree for the {kernels} kernels: set TFLM_M7_ROOT (CMSIS-NN tree) / TFLM_ROOT "
                         "(TFLM's host tree, compiled for the M7 = reference kernels)")
    return Path(root)


def build_config(cfg: Config) -> Path:
    defines = ["MA_APP_REPORT"] + ([f"MA_ARENA_BYTES={BUILTIN_ARENA}u"] if cfg.attention == "builtin" else [])
    return fw.build_tflm_firmware(tflm_tree(cfg.kernels), BUILD / cfg.name, mode=cfg.mode, defines=defines)


def write_case(d: Path, model: str, seconds: float | None) -> tuple[Path, Path, str]:
    """(weight image of ``model``, input block of ``seconds`` of speech, description), written into ``d``."""
    from microalign.export import image as I
    image = d / (Path(model).stem + "_qspi.bin")
    if not image.exists():
        image.write_bytes(I.write_image((ASSETS / model).read_bytes()))
    pcm, text, desc = sample_input(seconds)
    inp = d / f"input_{'sample' if seconds is None else f'{seconds:g}s'}.bin"
    if not inp.exists():
        inp.write_bytes(I.write_input_block(text, pcm))
    return image, inp, desc


def cli_jsonl(d: Path, seconds: float | None) -> str:
    """What ``microalign align --backend tflm --format jsonl`` prints for the same input (the reference)."""
    import soundfile as sf
    pcm, spoken, _ = sample_input(seconds)
    copies = len(spoken.split()) // len(sample_text().split())
    wav, txt = d / f"cli_{seconds}.wav", d / f"cli_{seconds}.txt"
    sf.write(wav, pcm, SAMPLE_RATE, subtype="PCM_16")
    txt.write_text(" ".join([(ASSETS / "sample.txt").read_text(encoding="utf-8").strip()] * copies), encoding="utf-8")
    exe = Path(sys.executable).parent / "microalign"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "microalign.cli"]
    p = subprocess.run([*cmd, "align", str(wav), "--text-file", str(txt), "--backend", "tflm", "--format", "jsonl"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"microalign align failed:\n{p.stderr[-2000:]}")
    return p.stdout


#: the firmware's MA_APP_REPORT lines (arena, stack, aligner memory, staged bytes per window)
report_numbers = fw.app_report


def section_sizes(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[0].startswith(".") and p[1].isdigit():
            sizes[p[0]] = int(p[1])
    return sizes

# --------------------------------------------------------------------------------------------- the table

WRITEUP = {10: (0.8, 512 * 1024), 300: (18.5, 1024 * 1024)}   # the write-up's claims: seconds, peak bytes
GOAL_PER_AUDIO_S = 19e6      # issue 11: 0.4 s per 10 s of audio at 480 MHz and 1 instruction per cycle
IPC_RANGE = (1.0, 1.5)       # see the "time" note written into the report


@dataclass
class Run:
    cfg: Config
    seconds: float | None
    desc: str
    prof: Profile
    samples: int
    matches_cli: bool | None = None

    @property
    def frames(self) -> int:
        return n_frames(self.samples)

    @property
    def windows(self) -> int:
        return self.prof.marks.get("windows", 0)

    def per_window(self, label: str) -> float:
        return self.prof.insn(label, "align") / self.windows

    def per_frame(self, label: str) -> float:
        return self.prof.insn(label, "align") / self.frames

    @property
    def boot(self) -> int:
        return self.prof.insn(phase="start") + self.prof.insn(phase="model_init")


def plan(quick: bool) -> list[tuple[Config, float | None, bool]]:
    """(config, seconds of speech or None = the sample, profile memory accesses) of every run."""
    cm, st = Config("cmsis-nn", "fused"), Config("cmsis-nn", "fused", "staged")
    runs = [(cm, None, True), (cm, 10.0, True), (st, 10.0, True), (cm, 60.0, False)]
    if not quick:
        runs += [(Config("cmsis-nn", "builtin"), 10.0, True), (Config("reference", "fused"), 10.0, False),
                 (Config("reference", "builtin"), 10.0, False)]
    return runs


def extrapolate(r10: Run, r60: Run, seconds: float) -> tuple[float, float]:
    """(instructions, check) for ``seconds`` of speech from the 60 s run's unit costs: boot once, the model stages
    per window, decode per frame and the rest of the align phase per frame. ``check``: the same formula with the
    10 s run's unit costs predicting the 60 s run's instructions outside the decoder, relative error (the
    decoder's cost per frame depends on how far its band widens, so it is taken from the longest run)."""
    def units(r: Run) -> tuple[float, float, float]:
        model = sum(r.prof.insn(lb, "align") for lb in MODEL_LABELS) / r.windows
        decode = r.prof.insn("decode", "align") / r.frames
        rest = (r.prof.insn(phase="align") - model * r.windows - decode * r.frames) / r.frames
        return model, decode, rest
    m10, _, rest10 = units(r10)
    predicted = r10.boot + m10 * r60.windows + rest10 * r60.frames
    check = predicted / (r60.prof.total - r60.prof.insn("decode", "align")) - 1.0
    model, decode, rest = units(r60)
    frames = n_frames(int(seconds * SAMPLE_RATE))
    return r60.boot + model * window_count(frames) + (decode + rest) * frames, check


def fmt_m(x: float) -> str:
    if x < 50:
        return "–"
    return f"{x / 1e6:,.1f} M" if x >= 1e5 else f"{x / 1e3:,.1f} k"


def time_range(insns: float) -> str:
    lo, hi = insns / (IPC_RANGE[1] * CPU_HZ), insns / (IPC_RANGE[0] * CPU_HZ)
    return f"{hi:.2f} s ({lo:.2f} s at {IPC_RANGE[1]:g} IPC)"


def render(runs: list[Run], command: str, xip_lines: list[str], elf_sizes: dict, image_bytes: int,
           xip_cycles: float) -> str:
    by = {(r.cfg, r.seconds): r for r in runs}
    cm = Config("cmsis-nn", "fused")
    r10, r60 = by[(cm, 10.0)], by.get((cm, 60.0))
    cols = [r for r in runs if r.seconds == 10.0 and r.cfg.mode == "xip"]
    L = ["# Device benchmark: the aligner firmware on a Cortex-M7 (QEMU mps2-an500, TFLM)", "",
         f"Produced by `{command}` (eval/bench_firmware.py; one QEMU run per row with the profiling plugin "
         "eval/qemu_plugins/insn_profile.c). Instructions are executed Cortex-M7 instructions, exact; times are "
         "estimates (see *Time*).", ""]
    L += ["## Inputs", ""] + [f"- {s}: {d}" for s, d in {("sample" if r.seconds is None else f"{r.seconds:g} s"):
                                                       r.desc for r in runs}.items()] + [
        "- 300 s: extrapolated (see *End to end*): the QEMU board's 4 MB external RAM holds the audio of at most "
        "≈ 120 s (the aligner copies the audio there), so 300 s does not run here.", ""]
    L += ["## Instructions per stage (10 s of speech)", "",
          "| stage | unit | " + " | ".join(r.cfg.title for r in cols) + " |",
          "|---|---|" + "---|" * len(cols)]
    L.append("| frontend | per 10 ms frame | " + " | ".join(fmt_m(r.per_frame("frontend")) for r in cols) + " |")
    for lb in MODEL_LABELS:
        if any(r.prof.insn(lb, "align") for r in cols):
            L.append(f"| {LABELS[lb]} | per 4 s window | " + " | ".join(fmt_m(r.per_window(lb)) for r in cols) + " |")
    L.append("| **model, all stages** | per 4 s window | " + " | ".join(
        "**" + fmt_m(sum(r.per_window(lb) for lb in MODEL_LABELS)) + "**" for r in cols) + " |")
    L.append("| decode | per 10 ms frame | " + " | ".join(fmt_m(r.per_frame("decode")) for r in cols) + " |")
    L.append("| aligner application | per 10 ms frame | " + " | ".join(fmt_m(r.per_frame("app")) for r in cols) + " |")
    L.append("| boot: image CRC-32, checks, model set-up | once | " +
             " | ".join(fmt_m(r.boot) for r in cols) + " |")
    L.append("| **end to end** (10 s) | run | " + " | ".join(f"**{fmt_m(r.prof.total)}**" for r in cols) + " |")
    L.append("| windows / frames | | " + " | ".join(f"{r.windows} / {r.frames}" for r in cols) + " |")
    L.append("| JSON lines equal `microalign align --backend tflm --format jsonl` | | " +
             " | ".join({True: "yes", False: "**no**", None: "n/a"}[r.matches_cli] for r in cols) + " |")
    L += ["", "Library code (CMSIS-NN, libc, libm, TFLM's kernel utilities, C++ inline functions several objects "
          "emitted) counts for the stage that called it; the interpreter row is TFLM's invoke loop and tensor "
          "bookkeeping.", ""]

    # end to end
    L += ["## End to end", "", "| input | configuration | instructions | per audio second | decode share | "
          f"time at 480 MHz, 1 IPC ({IPC_RANGE[1]:g} IPC) | + XIP line fills | the write-up |",
          "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        if r.cfg.mode != "xip":
            continue
        secs = r.samples / SAMPLE_RATE
        wu = WRITEUP.get(round(secs)) if r.seconds else None
        xip = f"+{r.windows * xip_cycles / CPU_HZ:.2f} s" if r.cfg.kernels == "cmsis-nn" and r.cfg.attention == \
            "fused" else ""
        L.append(f"| {secs:.2f} s | {r.cfg.title} | {fmt_m(r.prof.total)} | {fmt_m(r.prof.total / secs)} | "
                 f"{100 * r.prof.insn('decode') / r.prof.total:.1f} % | {time_range(r.prof.total)} | {xip} | "
                 f"{f'{wu[0]} s' if wu else ''} |")
    if r60 is not None:
        t300, check = extrapolate(r10, r60, 300.0)
        w300 = window_count(n_frames(300 * SAMPLE_RATE))
        L.append(f"| 300 s (extrapolated) | {cm.title} | {fmt_m(t300)} | {fmt_m(t300 / 300)} | | {time_range(t300)} | "
                 f"+{w300 * xip_cycles / CPU_HZ:.2f} s | {WRITEUP[300][0]} s |")
        L += ["", "300 s = boot + the 60 s run's model instructions per window x windows + its decode and other "
              "align-phase instructions per frame x frames. The same formula with the 10 s run's unit costs predicts "
              f"the 60 s run's instructions outside the decoder within {100 * check:+.2f} %. The decoder costs "
              f"{fmt_m(r10.per_frame('decode'))} instructions per frame at 10 s and "
              f"{fmt_m(r60.per_frame('decode'))} at 62.55 s (it would cost more per frame only where its band must "
              "widen, up to a cap; the 60 s rate is taken for 300 s)."]
    L += ["", "*+ XIP line fills*: the weight image's D-cache misses per window (cache shared with all data) x one "
          "32-byte fill each over the EVAL board's dual-flash QSPI, every miss a new command (see the XIP section); "
          "zero in the staged and internal-flash modes."]
    L += [""]

    # memory
    rep = {r.seconds: report_numbers(r.prof.stdout) for r in runs if r.cfg == cm}
    dtcm = sum(elf_sizes.get(s, 0) for s in (".data", ".bss", ".heap", ".stack"))
    axi, sram123 = elf_sizes.get(".axisram_bss", 0), elf_sizes.get(".sram123_bss", 0)
    L += ["## Memory (CMSIS-NN, FA_ATTENTION, XIP)", "",
          "| | value |", "|---|---|"]
    static = sum(elf_sizes.get(s, 0) for s in (".data", ".bss", ".heap"))
    peaks = {}
    for s, n in rep.items():
        if n:
            peaks[s] = static + n["stack"] + n["arena"] + n.get("aligner_sram", 0)
            L.append(f"| measured at {'the sample' if s is None else f'{s:g} s'}: arena used / aligner SRAM used / "
                     f"main stack (painted) / aligner external RAM | {n['arena']:,} B / {n.get('aligner_sram', 0):,} B / "
                     f"{n['stack']:,} B / {n.get('aligner_ext', 0):,} B |")
    L += [f"| reserved SRAM (`arm-none-eabi-size -A`): DTCM .data+.bss+heap+stack | {dtcm:,} B "
          f"(.data+.bss+heap {static:,} B) |",
          f"| reserved SRAM: AXI SRAM (arena + aligner buffers) | {axi:,} B |",
          f"| reserved SRAM: SRAM1-3 (staging; XIP build) | {sram123:,} B |"]
    for s, v in peaks.items():
        L.append(f"| **peak SRAM used at {'the sample' if s is None else f'{s:g} s'}** (.data+.bss+heap + stack + "
                 f"arena + aligner SRAM) | **{v:,} B** |")
    L += [f"| peak SRAM reserved (linker; the same for every length) | {dtcm + axi + sram123:,} B "
          "(the write-up: 512 KB at 10 s, 1 MB at 300 s) |",
          f"| flash: firmware `.text` (code + constants) | {elf_sizes.get('.text', 0):,} B |",
          f"| QSPI flash: weight image | {image_bytes:,} B |"]
    stn = next((report_numbers(r.prof.stdout) for r in runs if r.cfg.mode == "staged"), {})
    st = next((r for r in runs if r.cfg.mode == "staged"), None)
    if stn:
        L.append(f"| staged: QSPI bytes per window (firmware report, exact) | {stn['staged_bytes']:,} B "
                 f"({stn['ops']} ops, {stn['tensors']} constant tensors, largest op {stn['largest_op']:,} B, "
                 f"staging buffer {stn['staging_buffer']:,} B) |")
    if st is not None:
        L.append(f"| staged: image bytes loaded per window (plugin trace, cross-check) | "
                 f"{st.prof.win(1, 'align') / st.windows:,.0f} B |")
    if len(peaks) > 1:
        sram = [rep[s]["aligner_sram"] for s in peaks]
        grows = "does not grow either (context, one JSON line and the decoder's scratch for its widest band, " \
                "placed once; what grows with length is in external RAM)" if len(set(sram)) == 1 else "grows"
        L += ["", "The arena and the stack do not grow with the audio's length; the aligner's SRAM " + grows + ": "
              + ", ".join(f"{rep[s]['aligner_sram']:,} B at {'the sample' if s is None else f'{s:g} s'}"
                          for s in peaks) + ". 300 s does not run on this "
              "board (see *Inputs*), so its peak is not measured."]
    L += ["", "Sections of the firmware (`arm-none-eabi-size -A`, CMSIS-NN, FA_ATTENTION, XIP): " + "; ".join(
        f"`{k}` {v:,} B" for k, v in elf_sizes.items() if v and not k.startswith((".debug", ".comment", ".ARM.attr")))
        + ". Code and constants go to the internal flash (`.text`, `.ARM.exidx`, `.init_array`, the `.data` load "
        "image); `.data`, `.bss`, heap and stack to DTCM; `.axisram_bss` to AXI SRAM; `.sram123_bss` to SRAM1-3; "
        "`.extram` to external RAM (board/mps2_an500/memory_plan.ld)."]
    L += [""]
    L += ["## XIP vs staged: the weight image through a 16 KB D-cache (10 s, CMSIS-NN, FA_ATTENTION)", ""] + xip_lines
    L += ["", "Model and sources: eval/xip_cache.py's docstring (STM32H743 L1 D-cache 16 KB, 4-way, 32-byte lines, LRU "
          "assumed; QUADSPI at 120 MHz, Quad I/O Fast Read, 26 command clocks + 4 bits per clock per flash). "
          "On QEMU the staged build's copies run on the CPU (memcpy in place of MDMA), counted in the "
          "`ma_model_tflm` row of the staged run; the H743's MDMA does them concurrently.", ""]

    # time note and budget
    per_s = r10.prof.total / (r10.samples / SAMPLE_RATE)
    arena = rep.get(10.0, {}).get("arena", 0)
    L += ["## Time", "",
          "QEMU has no cycle model. The times above divide instructions by 480 MHz at one instruction per cycle (the "
          f"issues' convention) and, in brackets, at {IPC_RANGE[1]:g}: the Cortex-M7 is an in-order, 6-stage, "
          "dual-issue core (Arm), at most 2 instructions per cycle; Arm publishes 5.01 CoreMark/MHz for the Cortex-M7 "
          "against 3.40 for the single-issue Cortex-M4 running the same Thumb-2 code, ≈ 1.5x the work per clock. "
          "Neither figure includes memory stalls: data misses to AXI SRAM and, in XIP mode, the QSPI line fills "
          "estimated above (add them); code in internal flash is assumed to run from the 16 KB I-cache.", "",
          "## Device budget", "",
          f"**{fmt_m(per_s)} instructions per audio second end to end** (10 s, CMSIS-NN, FA_ATTENTION; "
          f"goal ≤ 19 M for 0.4 s per 10 s at 1 IPC), **arena {arena:,} B**, **flash {elf_sizes.get('.text', 0):,} B code + "
          f"{image_bytes:,} B weight image**.", "",
          f"Of the 10 s run's {fmt_m(r10.prof.total)}, {fmt_m(r10.boot)} are the boot (image checks, model set-up), "
          f"once per power-on: a device already running aligns the 10 s in {fmt_m(r10.prof.total - r10.boot)} "
          f"({fmt_m((r10.prof.total - r10.boot) / (r10.samples / SAMPLE_RATE))} per audio second, "
          f"{(r10.prof.total - r10.boot) / 480e6:.2f} s at 480 MHz and 1 IPC).", ""]
    L += ["Runs (host wall time under QEMU with the plugin): " + "; ".join(
        f"{r.cfg.name} {'sample' if r.seconds is None else f'{r.seconds:g}s'} {r.prof.seconds:.0f} s"
        for r in runs), ""]
    return "\n".join(L)


def main(argv: list[str] | None = None) -> int:
    import xip_cache
    from tqdm import tqdm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CMSIS-NN with FA_ATTENTION only (XIP and staged)")
    ap.add_argument("--plugin-header",
                    help="directory of QEMU's qemu-plugin.h (default $QEMU_PLUGIN_H, build/qemu-insn)")
    ap.add_argument("--no-cache", action="store_true",
                    help="rerun QEMU even when build/bench_device/runs/ has this ELF's run on this input")
    ap.add_argument("--out", type=Path, default=RESULTS / "device.md", help="markdown report (default %(default)s)")
    a = ap.parse_args(argv)
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-nm", "qemu-system-arm", "gcc"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found")
    plugin = build_profile_plugin(plugin_header_dir(a.plugin_header))
    todo = plan(a.quick)
    configs = list(dict.fromkeys(c for c, _, _ in todo))
    elves = {}
    for cfg in tqdm(configs, desc="build firmware", unit="fw"):
        elves[cfg] = build_config(cfg)
    runs: list[Run] = []
    cli: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for cfg, seconds, memory in tqdm(todo, desc="QEMU runs", unit="run"):
            image, inp, desc = write_case(d, MODELS[cfg.attention], seconds)
            try:
                prof = profile_firmware(elves[cfg], image, inp, plugin, memory=memory,
                                        cache=None if a.no_cache else BUILD / "runs")
            except RuntimeError as e:
                if "generated headers" not in str(e):
                    raise
                # tflm_app/generated changed since the build (the image records their hashes): rebuild, rewrite
                print(f"\n{cfg.name}: generated headers changed since the build; rebuilding", file=sys.stderr)
                elves[cfg] = build_config(cfg)
                image.unlink()
                image, inp, desc = write_case(d, MODELS[cfg.attention], seconds)
                prof = profile_firmware(elves[cfg], image, inp, plugin, memory=memory,
                                        cache=None if a.no_cache else BUILD / "runs")
            if seconds not in cli:
                cli[seconds] = cli_jsonl(d, seconds)
            runs.append(Run(cfg, seconds, desc, prof, len(sample_input(seconds)[0]),
                            matches_cli=prof.json_lines == cli[seconds]))
        image_bytes = (d / "student_device_qspi.bin").stat().st_size
    cm = Config("cmsis-nn", "fused")
    by = {(r.cfg, r.seconds): r for r in runs}
    xip, st = by[(cm, 10.0)], by.get((Config("cmsis-nn", "fused", "staged"), 10.0))
    compute = sum(xip.per_window(lb) for lb in MODEL_LABELS)
    staged_bytes = report_numbers(st.prof.stdout).get("staged_bytes") if st else None
    xip_lines = xip_cache.xip_section(xip.prof, st.prof if st else None, xip.windows, st.windows if st else 1,
                                      MODEL_LABELS, compute, staged_bytes)
    shared = xip.prof.win(3, "align", MODEL_LABELS) / xip.windows
    xip_cycles = shared * xip_cache.LINKS[1].fill_cycles()
    command = "python eval/bench_firmware.py" + (" --quick" if a.quick else "")
    text = render(runs, command, xip_lines, section_sizes(elves[cm]), image_bytes, xip_cycles)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    bad = [r for r in runs if r.matches_cli is False]
    if bad:
        print(f"\nwarning: JSON lines differ from the CLI's for {', '.join(r.cfg.name for r in bad)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
