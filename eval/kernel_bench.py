"""What the kernel benchmarks share: a C kernel alone in a Cortex-M7 test firmware under QEMU (mps2-an500),
its executed instructions counted by the qemu-insn plugin (insn_range.so).

- :func:`plugin`: the plugin, built on first use with ../shared/tools/qemu-insn/build.sh (or
  ``$QEMU_INSN_DIR/build.sh``) into build/qemu-insn, outside git.
- :func:`c_array`: a one-line C array of a benchmark's generated case header.
- :func:`count`: build a benchmark firmware (tflm_app/app/firmware.py's test build: the board's Cortex-M7
  flags), run it once under QEMU and return its total instructions; the firmware checks its own outputs and
  must print `` ok``.
- :func:`arg_parser`: a benchmark's command line with ``--opt``; :func:`ready`: the plugin, or None (saying
  which) without the Arm toolchain or QEMU.

Used by eval/bench_add.py, eval/bench_log_softmax.py, eval/bench_decode.py and eval/bench_quality.py.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tflm_app" / "app"))
from firmware import Firmware, missing_tools  # noqa: E402

KERNELS = REPO / "tflm_app" / "kernels"
PLUGIN_BUILD = REPO / "build" / "qemu-insn"
PLUGIN_SCRIPT = Path(os.environ.get("QEMU_INSN_DIR", REPO.parent / "shared" / "tools" / "qemu-insn")) / "build.sh"


def plugin() -> Path:
    """build/qemu-insn/insn_range.so, built first if absent."""
    so = PLUGIN_BUILD / "insn_range.so"
    if not so.exists():
        subprocess.run(["sh", str(PLUGIN_SCRIPT), str(PLUGIN_BUILD)], check=True)
    return so


def c_array(ctype: str, name: str, v) -> str:
    """``static const ctype name[n] = {...};`` of integer ``v`` (any shape, flattened) on one line."""
    v = np.asarray(v).ravel()
    return f"static const {ctype} {name}[{v.size}] = {{" + ",".join(str(int(x)) for x in v) + "};\n"


def count(test: Path, srcs: list[Path], workdir: Path, so: Path, defines: list[str], opt: str, name: str,
          includes: list[Path] = ()) -> int:
    """Total instructions of one QEMU run of benchmark firmware ``test`` built with ``srcs`` (``opt``,
    ``defines``; includes: tflm_app/kernels, ``workdir``, where the build goes and the case header is, then
    ``includes``). Raises RuntimeError with the firmware's output when it does not print `` ok``."""
    fw = Firmware(test=str(test), srcs=[str(s) for s in srcs],
                  includes=[str(KERNELS), str(workdir), *(str(i) for i in includes)],
                  build=workdir, defines=defines, opt=opt, name=name)
    total, _, out = fw.count_instructions(so)
    if " ok" not in out:
        raise RuntimeError(out)
    return total


def arg_parser(doc: str) -> argparse.ArgumentParser:
    """A benchmark's command line: its docstring's first line, and ``--opt``."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--opt", default="-O2", help="optimisation of the kernel build (default -O2, the firmware's)")
    return ap


def ready() -> Path | None:
    """The plugin (see :func:`plugin`); None, after saying on stderr what is missing, without the Arm toolchain
    or qemu-system-arm."""
    missing = missing_tools(qemu=True)
    if missing:
        print(f"needs {', '.join(missing)}", file=sys.stderr)
        return None
    return plugin()
