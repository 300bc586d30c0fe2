"""Split teacher-labelled real speech into training and held-out parts (issue 13's model selection).

Held out: speechocean762 speakers whose number is 3 modulo 10 (8 of 78 speakers:
no speaker in both parts), every tenth LJ Speech clip in id order, and the five
clips around the bundled sample (LJ002-0196 … LJ002-0200). The held-out parts
keep the teacher's (pocketsphinx's) own timings: they score models, so they
must not be the consensus labels a model helped to make.

Usage::

    python eval/heldout_split.py data/teacher/speechocean.jsonl data/teacher/ljspeech.jsonl

writes ``<name>_train.jsonl`` and ``<name>_heldout.jsonl`` beside each input.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SAMPLE_CLIPS = {f"LJ002-0{k}" for k in range(196, 201)}


def held_out_ids(ids: list[str]) -> set[str]:
    """Held-out utterance ids of one corpus (speechocean762: 9-digit ids SSSSSNNNN; LJ Speech: LJnnn-nnnn)."""
    if all(i.startswith("LJ") for i in ids):
        return {i for k, i in enumerate(sorted(ids)) if k % 10 == 5} | (SAMPLE_CLIPS & set(ids))
    if all(len(i) == 9 and i.isdigit() for i in ids):
        return {i for i in ids if int(i[:5]) % 10 == 3}
    raise ValueError("unknown corpus: ids are neither LJ Speech (LJnnn-nnnn) nor speechocean762 (9 digits)")


def split(path: Path) -> tuple[int, int]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    ids = [json.loads(ln)["id"] for ln in lines]
    held = held_out_ids(ids)
    stem = path.with_suffix("")
    with open(f"{stem}_train.jsonl", "w") as tr, open(f"{stem}_heldout.jsonl", "w") as ho:
        for ln, i in zip(lines, ids):
            (ho if i in held else tr).write(ln + "\n")
    return len(ids) - len(held & set(ids)), len(held & set(ids))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="+", type=Path, help="teacher manifests (microalign data label)")
    args = ap.parse_args(argv)
    for p in args.manifests:
        if not p.is_file():
            raise SystemExit(f"error: manifest not found: {p}")
        try:
            n_train, n_held = split(p)
        except ValueError as e:
            raise SystemExit(f"error: {p}: {e}") from None
        print(f"{p}: {n_train} train, {n_held} held out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
