#!/usr/bin/env python3
"""The spine's accuracy report: the shipped student beside real and naive peers.

Runs, in one process and on the same files:
- the shipped float student and any other students named with --student
  (e.g. the same model trained with and without teacher-labelled real speech),
- pocketsphinx's own forced alignment (a real-speech HMM aligner),
- the naive baseline (words spread over the voiced region by character count),
on the TIMIT dev sample (manual boundaries) and on the synthetic held-out split,
and writes a Markdown table (and JSON, and a CDF plot) under --out.

    .venv/bin/python eval/spine_report.py --timit ../shared/data/timit-sample-dev \\
        --synthetic-test data/synth/espeak/test.jsonl --student "synthetic + real=runs/main/student.pt"
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from microalign.align import TorchScorer
from microalign.data.readers import read_corpus
from microalign.scoring import TABLE_HEADER
from microalign.scoring.evaluate import evaluate, pocketsphinx_aligner, student_aligner, uniform_aligner
from microalign.scoring.plots import plot_cdf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timit", type=Path, help="TIMIT-layout dev folder (.wav/.wrd/.txt)")
    ap.add_argument("--synthetic-test", type=Path, action="append", default=[],
                    help="held-out synthetic manifest(s) (repeatable)")
    ap.add_argument("--student", action="append", default=[], metavar="NAME=CHECKPOINT",
                    help="another student to score beside the shipped one (repeatable), e.g. "
                         "'synthetic + real speech=runs/main/student.pt'")
    ap.add_argument("--limit", type=int, default=None, help="utterances per synthetic set (default all)")
    ap.add_argument("--out", type=Path, default=Path("reports/spine"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    aligners = {"student (shipped, float)": student_aligner(TorchScorer())}
    for spec in args.student:
        name, sep, path = spec.partition("=")
        if not sep:
            ap.error(f"--student wants NAME=CHECKPOINT, got {spec!r}")
        aligners[f"student: {name}"] = student_aligner(TorchScorer(path))
    sets = []
    if args.timit:
        sets.append(("TIMIT dev (real, manual boundaries)", list(read_corpus(args.timit)), True))
    for m in args.synthetic_test:
        sets.append((f"synthetic held-out: {m.parent.name}", list(read_corpus(m))[: args.limit], False))
    lines, js = ["# Spine accuracy report", ""], {}
    for title, utts, with_peers in sets:
        al = dict(aligners)
        if with_peers:
            al["pocketsphinx (peer)"] = pocketsphinx_aligner()
        al["naive baseline (voiced region, by characters)"] = uniform_aligner()
        res = evaluate(utts, al)
        lines += [f"## {title}: {len(utts)} utterances", "", TABLE_HEADER]
        lines += [s.row(n) for n, (s, _) in res.items()] + [""]
        js[title] = {n: s.to_dict() for n, (s, _) in res.items()}
        slug = title.split(":")[0].split(" ")[0].lower()
        plot_cdf({n: e for n, (_, e) in res.items()}, args.out / f"cdf_{slug}.png", title=title)
    text = "\n".join(lines)
    (args.out / "report.md").write_text(text + "\n")
    (args.out / "report.json").write_text(json.dumps(js, indent=2) + "\n")
    print(text)
    print(f"\nwrote {args.out}/report.md")


if __name__ == "__main__":
    main()
