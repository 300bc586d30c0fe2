"""Label transcribed corpora with a teacher: ``python -m microalign.teachers CORPUS=ROOT:OUT.jsonl ...``.

Examples::

    python -m microalign.teachers speechocean762=/data/so762-train:/out/speechocean.jsonl \\
        ljspeech=/data/ljspeech:/out/ljspeech.jsonl
    python -m microalign.teachers --teacher qwen --qwen-model /models/Qwen3-ForcedAligner-0.6B \\
        timit=/data/timit-dev:/out/timit_qwen.jsonl

All corpora are labelled one after the other by the same teacher in this
one process. speechocean762's own ``lexicon.txt`` is added to the
pocketsphinx teacher's lexicons automatically.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .labelling import label_corpus
from .corpora import READERS, CorpusError, speechocean762_lexicon


def _job(spec: str) -> tuple[str, Path, Path]:
    try:
        kind, rest = spec.split("=", 1)
        root, out = rest.rsplit(":", 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CORPUS=ROOT:OUT.jsonl, got {spec!r}") from None
    if kind not in READERS:
        raise argparse.ArgumentTypeError(f"unknown corpus {kind!r}; known: {', '.join(READERS)}")
    return kind, Path(root), Path(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m microalign.teachers", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jobs", nargs="+", type=_job, metavar="CORPUS=ROOT:OUT.jsonl",
                    help=f"corpus kind ({', '.join(READERS)}), its folder and the manifest to write")
    ap.add_argument("--teacher", choices=("pocketsphinx", "qwen"), default="pocketsphinx")
    ap.add_argument("--lexicon", action="append", default=[], type=Path,
                    help="extra ARPAbet lexicon for the pocketsphinx teacher (repeatable)")
    ap.add_argument("--letter-to-sound", default="auto", choices=("auto", "espeak", "rules", "none"))
    ap.add_argument("--no-phones", action="store_true", help="pocketsphinx: word timings only (faster)")
    ap.add_argument("--qwen-model", default=None, help="Qwen3-ForcedAligner folder (else $MICROALIGN_QWEN_ALIGNER)")
    ap.add_argument("--workers", type=int, default=0, help="worker processes (default: label in this process)")
    ap.add_argument("--resume", action="store_true", help="keep utterances already in an output manifest")
    ap.add_argument("--limit", type=int, default=0, help="label only the first N utterances of each corpus")
    args = ap.parse_args(argv)

    lexicons = list(args.lexicon)
    try:
        corpora = []
        for kind, root, out in args.jobs:
            utts = READERS[kind](root)
            if args.limit:
                utts = utts[: args.limit]
            if kind == "speechocean762":
                lexicons.append(speechocean762_lexicon(root))
            corpora.append((kind, utts, out))
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    if args.teacher == "pocketsphinx":
        from .pocketsphinx_teacher import PocketsphinxTeacher

        teacher = PocketsphinxTeacher(lexicons=lexicons, letter_to_sound=args.letter_to_sound,
                                      phones=not args.no_phones)
    else:
        from .qwen_teacher import QwenTeacher

        teacher = QwenTeacher(args.qwen_model)
    for kind, utts, out in corpora:  # failures are listed in OUT.failures.tsv, not fatal
        label_corpus(utts, teacher, out, workers=args.workers, resume=args.resume)
    return 0


if __name__ == "__main__":
    sys.exit(main())
