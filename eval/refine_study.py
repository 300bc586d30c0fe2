"""Boundary refinement: what the local posterior of each junction buys, and how its settings were chosen.

For every utterance of every set the model's frame scores are computed once and decoded (the
Viterbi path the aligner uses); the word boundaries are then scored as the path gives them
(``viterbi``) and as :mod:`microalign.decode.refine` re-estimates them, over a grid of its settings
(characters per side of a junction x emission temperature x estimator: the posterior median or mean x
whether boundaries next to a decoded pause are refined too). Settings are ranked by their mean error
relative to ``viterbi``, averaged over the *selection* sets (synthetic held-out voices and
teacher-labelled held-out real speech); the choice is the one with the fewest characters per side
(the device's cost grows with them) among those within :data:`TOLERANCE` of the best. Sets named
with ``--report`` (the TIMIT dev sample) are scored and printed but never used to choose.

    python eval/refine_study.py \\
        --select espeak=data/synth/espeak/test.jsonl:300 --select festival=data/synth/festival/test.jsonl \\
        --select ljspeech_heldout=data/teacher/ljspeech_heldout.jsonl \\
        --select speechocean_heldout=data/teacher/speechocean_heldout.jsonl \\
        --report dev=../shared/data/timit-sample-dev

Writes ``eval/results/refine.md`` (``-o``). The int8 arithmetic (``refine_int``, the C kernel's
reference) is scored at the shipped settings with ``--backend tflm`` beside the float one. For the
shipped settings each set also gets the paired bootstrap interval of the change (refined minus
``viterbi``; 2000 draws of utterances, seed 0, as ``eval/model_selection.py``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "convert"))

from microalign.align import decode_scores, features_from_pcm, frame_scores  # noqa: E402
from microalign.audio import load_audio  # noqa: E402
from microalign.corpus import Segment  # noqa: E402
from microalign.data.readers import read_corpus  # noqa: E402
from microalign.decode import compact  # noqa: E402
from microalign.decode import refine as R  # noqa: E402
from microalign.runtime import load_backend  # noqa: E402
from microalign.scoring.metrics import TABLE_HEADER, score_utterances  # noqa: E402
from microalign.text import normalize  # noqa: E402
from microalign.text.tokens import ENGLISH  # noqa: E402
from model_selection import N_BOOT, bootstrap_means, utterance_sums  # noqa: E402

CHARS = (2, 3)              # 1 character per side lost on every selection set in the first grid (chars 1-3, T 0.3-1)
TEMPERATURES = (1.0, 0.7, 0.5)   # and 0.3 with it
ESTIMATORS = ("median", "mean")
PAUSES = (False, True)
#: settings within this much (relative error) of the best count as equal; the cheapest of them is chosen
TOLERANCE = 0.005


def _set(text: str) -> tuple[str, str, int | None]:
    name, eq, spec = text.partition("=")
    if not eq or not name or not spec:
        raise argparse.ArgumentTypeError(f"expected NAME=DATA[:N], got {text!r}")
    path, colon, n = spec.rpartition(":")
    if colon and n.isdigit():
        return name, path, int(n)
    return name, spec, None


def decoded(scorer, data: str, limit: int | None, desc: str):
    """Per utterance: (id, reference words, words, compacted scores, local words, frame max, decode)."""
    utts = list(read_corpus(Path(data)))[:limit]
    if not utts:
        raise SystemExit(f"error: no utterances with word timings in {data}")
    out = []
    table = getattr(scorer, "tokens", None) or ENGLISH
    for u in tqdm(utts, desc=desc, leave=False):
        words = normalize(u.text, table)
        tokens = [table.encode_word(w.text) for w in words]
        s = frame_scores(features_from_pcm(load_audio(u.audio)), scorer)
        d = decode_scores(s, tokens)
        cols, local, fm = compact(s.values, tokens)
        out.append((u.id, u.words, words, cols, local, fm, d, s.is_int8))
    return out


def _label(how) -> str:
    return f"chars={how[0]} T={how[1]} {how[2]}{', pauses too' if how[3] else ''}"


def hypotheses(items, how) -> dict:
    hyps = {}
    for uid, _, words, cols, local, fm, d, is_int8 in items:
        if how == "viterbi":
            st, en = d.word_spans[:, 0] * 10, d.word_spans[:, 1] * 10
        elif how == "int":
            r = R.refine_int(cols, local, d.token_spans, d.word_spans, d.min_char_frames, fm)
            st, en = r.start_ms, r.end_ms
        else:
            chars, temp, est, pauses = how
            lp = cols if not is_int8 else (cols.astype(np.float64) - 127.0) / 16.0
            fmx = fm if not is_int8 else (fm.astype(np.float64) - 127.0) / 16.0
            r = R.refine_float(lp, local, d.token_spans, d.word_spans, d.min_char_frames, fmx,
                               temperature=temp, chars=chars, estimator=est, pauses=pauses)
            st, en = r.start_ms, r.end_ms
        hyps[uid] = [Segment(w.text, a / 1000.0, b / 1000.0) for w, a, b in zip(words, st, en)]
    return hyps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--select", action="append", default=[], type=_set, metavar="NAME=DATA[:N]",
                    help="a set the settings are chosen on (repeat; :N = its first N utterances)")
    ap.add_argument("--report", action="append", default=[], type=_set, metavar="NAME=DATA[:N]",
                    help="a set only reported, never used to choose (repeat)")
    ap.add_argument("--model", default=None, help="student checkpoint (default: the shipped one)")
    ap.add_argument("--backend", action="append", choices=["torch", "tflm"], default=None,
                    help="backends (repeat; default torch; tflm adds the integer arithmetic at the shipped settings)")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "eval" / "results" / "refine.md")
    a = ap.parse_args(argv)
    if not a.select:
        ap.error("give at least one --select set")
    backends = a.backend or ["torch"]
    grid = [(c, t, e, p) for c in CHARS for t in TEMPERATURES for e in ESTIMATORS for p in PAUSES]
    shipped = (R.REFINE_CHARS, R.REFINE_TEMPERATURE, "median", R.REFINE_PAUSES)
    rows, sel, deltas = [], {}, []     # sel[(set, how)] = mean ms (torch, selection sets)
    for backend in backends:
        scorer = load_backend(backend, a.model) if a.model else load_backend(backend)
        for role, sets in (("select", a.select), ("report", a.report)):
            for name, data, limit in sets:
                items = decoded(scorer, data, limit, f"{backend} {name}")
                refs = {it[0]: it[1] for it in items}
                hows = ["viterbi"] + (grid if backend == "torch" else [shipped]) + (["int"] if items[0][7] else [])
                errs = {}
                for how in hows:
                    sc, errs[how] = score_utterances(refs, hypotheses(items, how))
                    label = how if isinstance(how, str) else _label(how)
                    if how == "int":
                        label = "int8 arithmetic (ma_refine_s8), shipped settings"
                    if how == shipped:
                        label += " (shipped)"
                    rows.append((backend, role, name, label, sc))
                    if role == "select" and backend == "torch":
                        sel[(name, how)] = sc.mean_ms
                    print(f"{backend} {name:22s} {label:45s} mean {sc.mean_ms:5.1f} ms  <=50 {sc.within_ms['50']:5.1f} %",
                          flush=True)
                idx = np.random.default_rng(0).integers(0, len(items), size=(N_BOOT, len(items)))
                base = bootstrap_means(*utterance_sums(errs["viterbi"]), idx)
                new = "int" if "int" in errs else shipped
                mean = {h: float(np.sum(utterance_sums(e)[0]) / np.sum(utterance_sums(e)[1])) for h, e in errs.items()}
                d = bootstrap_means(*utterance_sums(errs[new]), idx) - base
                deltas.append((backend, role, name, "int8 arithmetic" if new == "int" else "float", mean["viterbi"],
                               mean[new], np.percentile(d, 2.5), np.percentile(d, 97.5)))
    names = [n for n, _, _ in a.select]
    ranked = sorted((float(np.mean([sel[(n, how)] / sel[(n, "viterbi")] for n in names])), how) for how in grid)
    chosen = min(((how[0], i), how) for i, (v, how) in enumerate(ranked) if v <= ranked[0][0] + TOLERANCE)[1]
    lines = ["# Boundary refinement: the local posterior of each junction", "",
             "`python eval/refine_study.py " + " ".join(sys.argv[1:] if argv is None else argv) + "`", "",
             "Each set's frame scores are computed and decoded once; `viterbi` scores the decoded path's boundaries "
             "(10 ms frame edges), the other rows the same path's boundaries re-estimated by "
             "`microalign.decode.refine` (characters per side of a junction, emission temperature, estimator: the "
             "posterior median or mean of the crossing; pauses too: the boundaries next to a decoded pause and at the "
             "recording's edges refined as well). Settings are ranked by their mean error relative to `viterbi`, averaged over the selection sets; report-only sets never "
             f"choose. Chosen: the fewest characters per side among the settings within {TOLERANCE} of the best "
             "(the device's cost grows with the characters).", "",
             "| rank | settings | mean error / viterbi's, over the selection sets |", "|---|---|---|"]
    for i, (v, k) in enumerate(ranked, 1):
        tags = [t for t, c in (("chosen", k == chosen), ("shipped", k == shipped)) if c]
        lines.append(f"| {i} | {_label(k)}{' (' + ', '.join(tags) + ')' if tags else ''} | {v:.3f} |")
    lines += ["", "## What the shipped settings buy (paired bootstrap, 95 %)", "",
              "| backend | set | role | arithmetic | viterbi mean ms | refined mean ms | Δ ms [95 % CI] |",
              "|---|---|---|---|---|---|---|"]
    for backend, role, name, arith, v, r, lo, hi in deltas:
        lines.append(f"| {backend} | {name} | {'selection' if role == 'select' else 'report only'} | {arith} | {v:.1f} | "
                     f"{r:.1f} | {r - v:+.1f} [{lo:+.1f}, {hi:+.1f}] |")
    lines += [""]
    cur = None
    for backend, role, name, label, sc in rows:
        if (backend, name) != cur:
            cur = (backend, name)
            lines += ["", f"## {name} ({'selection' if role == 'select' else 'report only'}, {backend})", "",
                      TABLE_HEADER.replace("| aligner |", "| boundaries |")]
        lines.append(sc.row(label))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print(f"best on the selection sets: {ranked[0][1]}; chosen {chosen}; shipped {shipped}; wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
