"""The command line of the test-vector generators (``python -m microalign.kernels.<kernel>_oracle``).

Each oracle writes one C header of cases (inputs and the outputs TFLite's own kernels give) that
the C check programs compile in; this is their shared ``main``.
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Callable


def vectors_main(argv: list[str] | None, *, generator: str, header_name: str, doc: str,
                 default_cases: Callable[[int, bool], list], write: Callable[[list, Path, int], Path]) -> int:
    """Parse ``--out DIR [--seed N] [--small]``, write ``DIR/header_name`` and print its path and hash."""
    ap = argparse.ArgumentParser(prog=f"python -m {generator}", description=doc.split("\n")[0])
    ap.add_argument("--out", required=True, help=f"directory for {header_name}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--small", action="store_true", help="small cases only (fits a test firmware easily)")
    a = ap.parse_args(argv)
    path = write(default_cases(a.seed, a.small), Path(a.out) / header_name, a.seed)
    print(f"wrote {path} ({hashlib.sha256(path.read_bytes()).hexdigest()[:12]})")
    return 0
