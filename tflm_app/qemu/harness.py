"""Python side of the QEMU test-firmware infrastructure (used by the pytest tests of every kernel).

    from harness import Firmware            # sys.path.insert(0, "tflm_app/qemu")
    fw = Firmware(test="tests/test_ma_decode_s8.c", srcs=["../kernels/ma_decode_s8.c"],
                  includes=["../kernels", gen_dir], build=tmp_path)
    rc, out = fw.run_host()                  # gcc -fsanitize=address,undefined
    rc, out = fw.run_qemu()                  # arm-none-eabi-gcc, qemu-system-arm -M mps2-an500
    total, in_range = fw.count_instructions(plugin)   # with qemu-insn's insn_range.so

A test firmware is one C file with ``int main(void)`` that prints with ``printf`` and returns the
number of failures (0 = pass); paths are relative to this directory or absolute.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


def missing_tools(qemu: bool = True) -> list[str]:
    """Tools needed for QEMU runs that are not installed (empty list = all present)."""
    tools = ["arm-none-eabi-gcc", "qemu-system-arm"] if qemu else ["gcc"]
    return [t for t in tools if shutil.which(t) is None]


@dataclass
class Firmware:
    test: str
    srcs: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    build: Path = HERE.parents[1] / "build" / "qemu"
    defines: list[str] = field(default_factory=list)
    opt: str = "-O2"
    name: str | None = None

    def _make(self, target: str) -> Path:
        name = self.name or Path(self.test).stem
        args = ["make", "-s", "-C", str(HERE), target, f"TEST={self.test}", f"SRCS={' '.join(map(str, self.srcs))}",
                f"INCLUDES={' '.join('-I' + str(i) for i in self.includes)}",
                f"DEFINES={' '.join('-D' + d for d in self.defines)}", f"BUILD={Path(self.build).resolve()}",
                f"NAME={name}", f"OPT={self.opt}"]
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

    def run_qemu(self, timeout: float = 600, plugin: str | None = None) -> tuple[int, str]:
        elf = self.build_elf()
        env = dict(os.environ, QEMU_TIMEOUT=str(int(timeout)))
        cmd = [str(HERE / "run.sh"), str(elf)] + ([plugin] if plugin else [])
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout + 30)
        return p.returncode, p.stdout + p.stderr

    def count_instructions(self, plugin_so: str | Path, lo: int = 0, hi: int = 0) -> tuple[int, int, str]:
        """(total, in [lo, hi)) guest instructions of one run, and its output."""
        rc, out = self.run_qemu(plugin=f"{plugin_so},lo={lo:#x},hi={hi:#x}")
        m = re.search(r"total_insns=(\d+) range_insns=(\d+)", out)
        if rc != 0 or not m:
            raise RuntimeError(f"firmware failed (exit {rc}):\n{out}")
        return int(m.group(1)), int(m.group(2)), out
