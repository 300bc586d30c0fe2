"""Regenerate the golden outputs: the shipped model's JSON for the bundled sample, one file per backend.

    python tests/golden/regenerate.py            # rewrite tests/golden/*.json, print what changed
    python tests/golden/regenerate.py --check    # print the diff only; exit status 1 if anything differs

Each file is exactly what ``microalign align convert/microalign/assets/sample.wav
--text-file convert/microalign/assets/sample.txt --backend B`` prints when run
from the root of the checkout that holds the imported ``microalign`` package
(so the ``"audio"`` field is the same wherever the repository lives, and
``PYTHONPATH=<other checkout>/convert`` regenerates from another checkout);
it is made in-process with click's ``CliRunner``, as ``tests/test_golden.py`` does.
A change that moves the outputs on purpose regenerates these files and
quotes the printed diff in its notes; any other change must leave them
byte-identical.
"""
from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE_WAV = "convert/microalign/assets/sample.wav"
SAMPLE_TXT = "convert/microalign/assets/sample.txt"

#: golden file -> the ``microalign align`` options after the audio and transcript
CASES: dict[str, list[str]] = {
    "sample_torch.json": ["--backend", "torch"],
    "sample_tflm.json": ["--backend", "tflm"],
}


def backend_of(name: str) -> str:
    args = CASES[name]
    return args[args.index("--backend") + 1]


def render(name: str) -> str:
    """What the CLI prints today for the golden case ``name``."""
    from click.testing import CliRunner

    import microalign
    from microalign.cli import main

    root = Path(microalign.__file__).resolve().parents[2]       # <root>/convert/microalign/__init__.py
    if not (root / SAMPLE_WAV).is_file():
        raise FileNotFoundError(f"{root / SAMPLE_WAV} not found: run from a checkout of the repository")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        r = CliRunner().invoke(main, ["align", SAMPLE_WAV, "--text-file", SAMPLE_TXT, *CASES[name]])
    finally:
        os.chdir(cwd)
    if r.exit_code != 0:
        tail = " / ".join(r.output.strip().splitlines()[-3:])
        raise RuntimeError(f"{name}: microalign align exited with {r.exit_code}: {tail}"
                           + (f" ({r.exception!r})" if r.exception and not isinstance(r.exception, SystemExit) else ""))
    return r.stdout


def diff(name: str, old: str, new: str) -> list[str]:
    return list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     f"tests/golden/{name} (committed)", f"tests/golden/{name} (now)"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare; do not write")
    ap.add_argument("names", nargs="*", default=list(CASES), help=f"golden files (default: all of {', '.join(CASES)})")
    a = ap.parse_args(argv)
    changed = 0
    for name in a.names:
        if name not in CASES:
            ap.error(f"unknown golden file {name!r}; known: {', '.join(CASES)}")
        path = HERE / name
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = render(name)
        if old == new:
            print(f"{name}: unchanged")
            continue
        changed += 1
        lines = diff(name, old, new)
        sys.stdout.writelines(lines if old else [f"{name}: new file ({len(new)} bytes)\n"])
        if lines and not lines[-1].endswith("\n"):
            print()
        if not a.check:
            path.write_text(new, encoding="utf-8", newline="")
            print(f"wrote {path}")
    return 1 if a.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
