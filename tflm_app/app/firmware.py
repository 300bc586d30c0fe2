"""Python side of tflm_app/app/Makefile, the one firmware driver of tflm_app/: build the application,
its test firmwares or the kernels' and frontend's test firmwares for the host (ASan + UBSan) or for
QEMU's mps2-an500 on the board layer (board/mps2_an500: startup, memory_plan.ld, run.sh), and run them.

    sys.path.insert(0, "tflm_app/app"); from firmware import AppFirmware, missing_tools
    fw = AppFirmware(main="../tests/test_ma_app_parts.c", build=tmp_path, extra_includes=[vectors_dir])
    rc, out = fw.run_host()
    rc, out = fw.run_qemu(image="student_qspi.bin", input="input.bin")   # loaded into PSRAM
    total, in_range, out = fw.count_instructions(plugin_so, lo, hi)     # qemu-insn's insn_range.so

A test firmware is one C file with ``int main(void)`` that prints with ``printf`` and returns the
number of failed checks (0 = pass; exit codes are 8-bit); ``Firmware(test=..., srcs=[kernel.c],
includes=[...])`` is the same with the kernels' tests' argument names. The board layer and
``sources.mk``'s MA_APP_SRCS are always linked (unused code is garbage-collected).
Exit codes: the firmware's return value; 254 = CPU fault; 124 = timeout.

The aligner firmware with TFLM for the Cortex-M7 (``make elf-tflm``):

    elf = build_tflm_firmware(tflm_m7_root(), build=tmp_path)          # CMSIS-NN kernels
    elf = build_tflm_firmware(tflm_host_root(), build=tmp_path)        # TFLM's reference kernels
    rc, out = run_elf(elf, image="student_qspi.bin", input="input.bin")

    elf = build_tflm_firmware(tflm_m7_root(), build=tmp_path, mode="flash", image="student_qspi.bin")

Weight modes: ``xip`` (image in the QSPI region), ``staged`` (constants copied per operator into SRAM),
``flash`` (the image linked into the firmware's flash; ``image=`` required, ``run_elf`` needs no image).
The TFLM library is compiled once per tree into ``build/tflm_m7/<tree>/`` (make reuses the
objects; concurrent builds wait on a file lock there: ``build_m7_tflm_lib``).
``read_sources()`` parses ``tflm_app/sources.mk``, the source list every build uses.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from microalign.export.tflm_host import file_lock, find_tflm_m7_root, find_tflm_root

HERE = Path(__file__).resolve().parent
TFLM_APP = HERE.parent
RUN = TFLM_APP / "board" / "mps2_an500" / "run.sh"
SOURCES_MK = TFLM_APP / "sources.mk"
WEIGHT_MODES = ("xip", "staged", "flash")


def read_sources(path: Path = SOURCES_MK) -> dict[str, list[str]]:
    """The variables of ``tflm_app/sources.mk`` (``NAME = words``, ``NAME += words``, ``\\`` continuations,
    ``#`` comments) as lists of paths relative to ``tflm_app/``. Anything else is a ValueError naming
    the line: the file must stay this simple for the other builds (STM32CubeIDE) that read it."""
    out: dict[str, list[str]] = {}
    text = Path(path).read_text(encoding="utf-8")
    logical, buf = [], ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        logical.append(buf + line)
        buf = ""
    for line in logical:
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\+?=)\s*(.*)", line)
        if not m or "$" in m.group(3):
            raise ValueError(f"{path}: not a plain `NAME = words` line: {line.strip()!r}")
        name, op, words = m.group(1), m.group(2), m.group(3).split()
        out[name] = (out.get(name, []) + words) if op == "+=" else words
    return out


def missing_tools(qemu: bool = True) -> list[str]:
    tools = ["make", "arm-none-eabi-gcc", "qemu-system-arm"] if qemu else ["make", "gcc"]
    return [t for t in tools if shutil.which(t) is None]


@dataclass
class AppFirmware:
    main: str
    build: Path
    extra_includes: list[str] = field(default_factory=list)
    extra_srcs: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    board: str = "mps2_an500"
    opt: str = "-O2"
    name: str | None = None
    layout: str = "plan"      # "test": board/mps2_an500/memory_plan.ld's test layout (4 MB flash, 2 MB DTCM)

    def _make(self, target: str) -> Path:
        name = self.name or Path(self.main).stem
        args = ["make", "-s", "-C", str(HERE), target, f"MAIN={self.main}", f"BOARD={self.board}", f"NAME={name}",
                f"LAYOUT={self.layout}",
                f"BUILD={Path(self.build).resolve()}", f"OPT={self.opt}",
                f"EXTRA_INCLUDES={' '.join(map(str, self.extra_includes))}",
                f"EXTRA_SRCS={' '.join(map(str, self.extra_srcs))}",
                f"DEFINES={' '.join('-D' + d for d in self.defines)}"]
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"build failed ({' '.join(args)}):\n{p.stdout}\n{p.stderr}")
        return Path(self.build).resolve() / (name + (".elf" if target == "elf" else ".host"))

    def build_elf(self) -> Path:
        return self._make("elf")

    def build_host(self) -> Path:
        return self._make("host")

    def run_host(self, timeout: float = 600) -> tuple[int, str]:
        exe = self.build_host()
        p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    def run_qemu(self, image: str | Path | None = None, input: str | Path | None = None,  # noqa: A002
                 timeout: float = 600, plugin: str | None = None, serial: str | None = None) -> tuple[int, str]:
        """Run under QEMU; ``serial="stdio"`` shows UART0 (firmware built with MA_BOARD_CONSOLE_UART)."""
        elf = self.build_elf()
        env = dict(os.environ, QEMU_TIMEOUT=str(int(timeout)))
        env.pop("SERIAL", None)
        if serial is not None:
            env["SERIAL"] = serial
        env.pop("IMAGE", None)
        env.pop("INPUT", None)
        if image is not None:
            env["IMAGE"] = str(Path(image).resolve())
        if input is not None:
            env["INPUT"] = str(Path(input).resolve())
        cmd = [str(RUN), str(elf)] + ([plugin] if plugin else [])
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout + 30)
        return p.returncode, p.stdout + p.stderr

    def count_instructions(self, plugin_so: str | Path, lo: int = 0, hi: int = 0) -> tuple[int, int, str]:
        """(total, in [lo, hi)) guest instructions of one QEMU run (qemu-insn's insn_range.so), and its output."""
        rc, out = self.run_qemu(plugin=f"{plugin_so},lo={lo:#x},hi={hi:#x}")
        m = re.search(r"total_insns=(\d+) range_insns=(\d+)", out)
        if rc != 0 or not m:
            raise RuntimeError(f"firmware failed (exit {rc}):\n{out}")
        return int(m.group(1)), int(m.group(2)), out


def Firmware(test: str, srcs: list[str] | None = None, includes: list[str] | None = None,  # noqa: N802
             build: Path = HERE.parents[1] / "build" / "qemu", defines: list[str] | None = None, opt: str = "-O2",
             name: str | None = None) -> AppFirmware:
    """A kernel's or the frontend's test firmware: ``test`` (the file with main()) + ``srcs`` (the code under
    test) with ``includes``, as an AppFirmware in the board's test memory layout (their generated vectors exceed
    the H743's 2 MB flash and 128 KB DTCM)."""
    return AppFirmware(main=str(test), build=Path(build), extra_includes=[str(i) for i in includes or []],
                       extra_srcs=[str(x) for x in srcs or []], defines=list(defines or []), opt=opt, name=name,
                       layout="test")


# ---------------------------------------------------------------- the firmware with TFLM (Cortex-M7)

REPO = HERE.parents[1]
M7_TFLM_BUILD = REPO / "build" / "tflm_m7"
# TFLM trees and the build lock are the host TFLM build's (microalign.export.tflm_host)
tflm_m7_root = find_tflm_m7_root
tflm_host_root = find_tflm_root


def build_m7_tflm_lib(root: Path, jobs: int = 2, lib_build: Path = M7_TFLM_BUILD, timeout: float = 3600) -> Path:
    """TFLM (tree ``root``) compiled for the Cortex-M7 into ``lib_build/<tree>/libtflm.a`` (``make m7-lib``): cold
    the first time (minutes), then make only checks the objects. Under a file lock, so parallel test workers
    and benchmarks build each tree once; returns the library."""
    root = Path(root).resolve()
    lib_build = Path(lib_build).resolve()
    lib_build.mkdir(parents=True, exist_ok=True)
    args = ["nice", "-n", "10", "make", "-s", "-C", str(HERE), f"TFLM_M7_ROOT={root}", f"M7_TFLM_BUILD={lib_build}",
            f"-j{jobs}", "m7-lib"]
    with file_lock(lib_build / f".{root.name}.lock"):
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"building TFLM from {root} for the Cortex-M7 failed:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return lib_build / root.name / "libtflm.a"


def build_tflm_firmware(root: Path, build: Path, mode: str = "xip", jobs: int = 2, lib_build: Path = M7_TFLM_BUILD,
                        defines: list[str] | None = None, timeout: float = 3600, image: str | Path | None = None,
                        name: str | None = None) -> Path:
    """Build ``main.c`` + the app + board/mps2_an500 + TFLM (tree ``root``) for QEMU's Cortex-M7; returns the ELF
    (``build/<name>.elf``, name default ``microalign_app_<tree>_<mode>``). The tree's TFLM library is built first
    when missing (``build_m7_tflm_lib``). ``mode="flash"`` links ``image`` (a student_qspi.bin) into the firmware;
    the firmware's own objects are reused between builds of the same tree, mode and defines in ``build``."""
    if mode not in WEIGHT_MODES:
        raise ValueError(f"weight mode {mode!r} is not one of {', '.join(WEIGHT_MODES)}")
    if (mode == "flash") != (image is not None):
        raise ValueError(f"image= is {'required' if mode == 'flash' else 'only used'} with mode='flash' "
                         f"(mode={mode!r}, image={image!r})")
    if image is not None and not Path(image).is_file():
        raise ValueError(f"weight image {image} does not exist")
    root = Path(root).resolve()
    build = Path(build).resolve()
    name = name or f"microalign_app_{root.name}_{mode}"
    build_m7_tflm_lib(root, jobs=jobs, lib_build=lib_build, timeout=timeout)
    args = ["make", "-s", "-C", str(HERE), f"-j{jobs}", f"TFLM_M7_ROOT={root}",
            f"M7_TFLM_BUILD={Path(lib_build).resolve()}", f"BUILD={build}", f"MODE={mode}", f"FW_NAME={name}",
            f"DEFINES={' '.join('-D' + d for d in defines or [])}", "elf-tflm"]
    if image is not None:
        args.append(f"IMAGE={Path(image).resolve()}")
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"building the firmware failed:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return build / f"{name}.elf"


def app_report(out: str) -> dict[str, int]:
    """The numbers main.c prints with ``-DMA_APP_REPORT`` (the keys present in ``out``): ``arena``, ``stack``
    (TFLM arena used, main stack painted), ``aligner_sram`` / ``aligner_sram_reserved``, ``aligner_ext`` /
    ``aligner_ext_reserved`` (the aligner's SRAM and external RAM used of reserved), ``frontend_frames`` /
    ``frames`` / ``carried_frames`` / ``windows`` (``ma_aligner_get_stats``), and in staged mode ``ops``,
    ``tensors``, ``staged_bytes`` (copied per window), ``largest_op``, ``staging_buffer``, ``staging_arena_tail``
    (the staging buffer and plan, taken from the end of the arena: not in ``arena``)."""
    nums: dict[str, int] = {}
    m = re.search(r"# arena used (\d+) bytes, stack (\d+) bytes", out)
    if m:
        nums["arena"], nums["stack"] = int(m.group(1)), int(m.group(2))
    m = re.search(r"# aligner memory: sram (\d+) of (\d+) bytes, external (\d+) of (\d+) bytes", out)
    if m:
        nums.update(aligner_sram=int(m.group(1)), aligner_sram_reserved=int(m.group(2)),
                    aligner_ext=int(m.group(3)), aligner_ext_reserved=int(m.group(4)))
    m = re.search(r"# aligner frontend: (\d+) of (\d+) frames computed, (\d+) carried between (\d+) windows", out)
    if m:
        nums.update(frontend_frames=int(m.group(1)), frames=int(m.group(2)), carried_frames=int(m.group(3)),
                    windows=int(m.group(4)))
    m = re.search(r"# staged weights: (\d+) ops, (\d+) constant tensors, (\d+) bytes per window \(largest op (\d+)\), "
                  r"buffer (\d+) bytes", out)
    if m:
        nums.update(ops=int(m.group(1)), tensors=int(m.group(2)), staged_bytes=int(m.group(3)),
                    largest_op=int(m.group(4)), staging_buffer=int(m.group(5)))
    m = re.search(r"# staged weights: .*, arena tail (\d+) bytes", out)
    if m:
        nums["staging_arena_tail"] = int(m.group(1))
    return nums


def run_elf(elf: Path, image: str | Path | None = None, input: str | Path | None = None,  # noqa: A002
            timeout: float = 600, plugin: str | None = None) -> tuple[int, str]:
    """Run a built firmware under QEMU (board/mps2_an500/run.sh) with the image and input block in PSRAM;
    returns (exit code, stdout + stderr)."""
    env = dict(os.environ, QEMU_TIMEOUT=str(int(timeout)))
    for k in ("SERIAL", "IMAGE", "INPUT"):
        env.pop(k, None)
    if image is not None:
        env["IMAGE"] = str(Path(image).resolve())
    if input is not None:
        env["INPUT"] = str(Path(input).resolve())
    p = subprocess.run([str(RUN), str(elf)] + ([plugin] if plugin else []), capture_output=True, text=True, env=env,
                       timeout=timeout + 30)
    return p.returncode, p.stdout + p.stderr
