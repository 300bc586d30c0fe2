"""Python side of tflm_app/app/Makefile: build the application (or one of its test firmwares) for
the host (ASan + UBSan) or for QEMU's mps2-an500 on the board layer, and run it.

    sys.path.insert(0, "tflm_app/app"); from firmware import AppFirmware, missing_tools
    fw = AppFirmware(main="../tests/test_ma_app_parts.c", build=tmp_path, extra_includes=[vectors_dir])
    rc, out = fw.run_host()
    rc, out = fw.run_qemu(image="student_qspi.bin", input="input.bin")   # loaded into PSRAM

Exit codes: the firmware's return value; 254 = CPU fault; 124 = timeout.

The aligner firmware with TFLM for the Cortex-M7 (``make elf-tflm``):

    elf = build_tflm_firmware(tflm_m7_root(), build=tmp_path)          # CMSIS-NN kernels
    elf = build_tflm_firmware(tflm_host_root(), build=tmp_path)        # TFLM's reference kernels
    rc, out = run_elf(elf, image="student_qspi.bin", input="input.bin")

The TFLM library is compiled once per tree into ``build/tflm_m7/<tree>/`` (make reuses the
objects; concurrent builds wait on a file lock there).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from microalign.export.tflm_host import file_lock, find_tflm_m7_root, find_tflm_root

HERE = Path(__file__).resolve().parent
RUN = HERE.parent / "board" / "mps2_an500" / "run.sh"


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

    def _make(self, target: str) -> Path:
        name = Path(self.main).stem
        args = ["make", "-s", "-C", str(HERE), target, f"MAIN={self.main}", f"BOARD={self.board}",
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

    def run_host(self, timeout: float = 600) -> tuple[int, str]:
        exe = self._make("host")
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


# ---------------------------------------------------------------- the firmware with TFLM (Cortex-M7)

REPO = HERE.parents[1]
M7_TFLM_BUILD = REPO / "build" / "tflm_m7"
# TFLM trees and the build lock are the host TFLM build's (microalign.export.tflm_host)
tflm_m7_root = find_tflm_m7_root
tflm_host_root = find_tflm_root


def build_tflm_firmware(root: Path, build: Path, mode: str = "xip", jobs: int = 2, lib_build: Path = M7_TFLM_BUILD,
                        defines: list[str] | None = None, timeout: float = 3600) -> Path:
    """Build ``main.c`` + the app + board/mps2_an500 + TFLM (tree ``root``) for QEMU's Cortex-M7; returns the ELF.
    The tree's TFLM library is built first when missing (``make -j{jobs}``, under a lock)."""
    if mode not in ("xip", "staged"):
        raise ValueError(f"weight mode {mode!r} is not implemented (have: xip, staged)")
    root = Path(root).resolve()
    build = Path(build).resolve()
    common = ["make", "-s", "-C", str(HERE), f"TFLM_M7_ROOT={root}", f"M7_TFLM_BUILD={Path(lib_build).resolve()}",
              f"BUILD={build}", f"MODE={mode}", f"DEFINES={' '.join('-D' + d for d in defines or [])}"]
    with file_lock(Path(lib_build) / f".{root.name}.lock"):
        p = subprocess.run(["nice", "-n", "10", *common, f"-j{jobs}", "m7-lib"], capture_output=True, text=True,
                           timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"building TFLM from {root} for the Cortex-M7 failed:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    p = subprocess.run([*common, "elf-tflm"], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"linking the firmware failed:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return build / f"microalign_app_{root.name}_{mode}.elf"


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
