"""Writing generated C headers (the single source of truth for constants shared with C)."""
from __future__ import annotations

import argparse
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
