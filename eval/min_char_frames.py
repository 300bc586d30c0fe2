"""How the minimum character duration of the decoder moves the boundary error, per corpus.

The model runs once per utterance; the float decoder then aligns with every
``--k`` (frames per character, :func:`microalign.decode._core.expand_min_frames`).
Choose the value on corpora that are not the dev set (synthetic held-out
splits, teacher-labelled real speech) and only *report* the dev set.

Example::

    python eval/min_char_frames.py --data data/teacher/ljspeech.jsonl \\
        --data data/synth/festival/test.jsonl --data data/synth/espeak/test.jsonl \\
        --data ../shared/data/timit-sample-dev --limit 80
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=None, help="student checkpoint (default: the shipped model)")
    p.add_argument("--data", type=Path, action="append", required=True, help="labelled corpus (repeatable)")
    p.add_argument("--k", default="1,2,3,4", help="comma-separated minimum frames per character")
    p.add_argument("--limit", type=int, default=None, help="first N utterances of each corpus")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    a = p.parse_args(argv)
    ks = [int(x) for x in a.k.split(",") if x.strip()]
    if not ks or min(ks) < 1:
        p.error("--k: need integers >= 1")

    from tqdm import tqdm

    from microalign.align import TorchScorer, decode_scores, frame_scores
    from microalign.audio import load_audio
    from microalign.corpus import Segment
    from microalign.data.readers import read_corpus
    from microalign.frontend import FRAME_SECONDS, features_from_pcm
    from microalign.scoring.metrics import score_utterances
    from microalign.text import normalize
    from microalign.text.tokens import encode_word

    scorer = TorchScorer(a.model)
    results = {}
    print("| corpus | " + " | ".join(f"k={k} mean / median ms" for k in ks) + " |\n|---|" + "---:|" * len(ks))
    for d in a.data:
        utts = list(read_corpus(d))[:a.limit]
        if not utts:
            sys.exit(f"error: no utterances in {d}")
        cached = []
        for u in tqdm(utts, desc=d.name, unit="utt", leave=False):
            words = [w.text for w in normalize(u.text)]
            cached.append((u, words, frame_scores(features_from_pcm(load_audio(u.audio, quiet=True)), scorer)))
        row = {}
        for k in ks:
            hyps = {}
            for u, words, s in cached:
                r = decode_scores(s, [encode_word(w) for w in words], min_char_frames=k)
                hyps[u.id] = [Segment(w, a_ * FRAME_SECONDS, b_ * FRAME_SECONDS) for w, (a_, b_) in zip(words, r.word_spans)]
            sc, _ = score_utterances({u.id: u.words for u, _, _ in cached}, hyps)
            row[k] = {"mean_ms": sc.mean_ms, "median_ms": sc.median_ms}
        results[str(d)] = row
        print(f"| {d} ({len(utts)}) | " + " | ".join(f"{row[k]['mean_ms']:.1f} / {row[k]['median_ms']:.1f}" for k in ks)
              + " |", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
