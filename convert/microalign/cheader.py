"""Writing generated C headers (the single source of truth for constants shared with C), and the
test-vector headers the C check programs compile in."""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Callable


def write_text(out_dir: str | Path, filename: str, text: str) -> Path:
    """Write ``text`` as ``out_dir/filename`` (folder created if needed); returns its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / filename
    path.write_bytes(text.encode("utf-8"))
    return path


def generator_main(generator: str, doc: str, write_header: Callable[[Path], Path],
                   argv: list[str] | None = None) -> int:
    """``python -m <generator> --out DIR``: the command line of a header generator."""
    ap = argparse.ArgumentParser(prog=f"python -m {generator}", description=doc.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory (tflm_app/generated)")
    args = ap.parse_args(argv)
    print(write_header(args.out))
    return 0


def c_array(ctype: str, name: str, values, per_line: int = 24) -> str:
    """``static const ctype name[n] = {...};`` of integer ``values`` (any shape, flattened), two-space
    indented, ``per_line`` values a line; an empty array becomes one zero (C forbids empty arrays)."""
    import numpy as np

    vals = [str(int(x)) for x in np.asarray(values).ravel()] or ["0"]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    return f"static const {ctype} {name}[{len(vals)}] = {{\n  " + ",\n  ".join(lines) + "\n};\n"


def tflm_runtime_version() -> str:
    """The installed PyPI ``tflite-micro`` runtime's version (named in test-vector headers it produced)."""
    import importlib.metadata as md

    try:
        return md.version("tflite-micro")
    except md.PackageNotFoundError:
        return "unknown"


def vectors_main(argv: list[str] | None, *, generator: str, header_name: str, doc: str,
                 default_cases: Callable[[int, bool], list], write: Callable[[list, Path, int], Path]) -> int:
    """``python -m <generator> --out DIR [--seed N] [--small]``: the command line of a kernel's
    test-vector generator; writes ``DIR/header_name`` and prints its path and hash."""
    ap = argparse.ArgumentParser(prog=f"python -m {generator}", description=doc.split("\n")[0])
    ap.add_argument("--out", required=True, help=f"directory for {header_name}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--small", action="store_true", help="small cases only (fits a test firmware easily)")
    a = ap.parse_args(argv)
    path = write(default_cases(a.seed, a.small), Path(a.out) / header_name, a.seed)
    print(f"wrote {path} ({hashlib.sha256(path.read_bytes()).hexdigest()[:12]})")
    return 0
