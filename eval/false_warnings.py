"""How often the mismatch checks (:mod:`microalign.quality`) warn on correct recordings, and how
often they catch constructed mismatches (:mod:`microalign.quality.cases`).

Correct recordings: the TIMIT dev sample (never used to calibrate) and LJ Speech clips
LJ002-* (the calibration's ``data/teacher/ljspeech_heldout.jsonl:43`` holds every tenth clip of
LJ001-0006 ... LJ002-0161 and LJ002-0196 ... 0200: ten of LJ002-0061 ... LJ002-0161 among them).
Goal: warnings on at most 2 % of correct utterances. Mismatches: each correct pair turned into a partial transcript, an
unspoken word inserted, truncated audio, white noise, another clip's transcript.

    python eval/false_warnings.py --timit ../shared/data/timit-sample-dev \\
        --ljspeech ../shared/data/ljspeech-subset --lj-first LJ002-0061 --n-lj 100 --backend torch

Writes ``eval/results/quality.md`` (``-o``) and prints the same tables.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "convert"))

from microalign.align import align_pcm  # noqa: E402
from microalign.audio import load_audio  # noqa: E402
from microalign.quality import FEATURES, cases, load_calibration  # noqa: E402
from microalign.quality.features import SKIP_CLIP  # noqa: E402
from microalign.runtime import load_backend  # noqa: E402

SKIP, CTX = FEATURES.index("skip_gain"), FEATURES.index("context_loss")
# the warnings each constructed case is meant to draw (any of them counts as caught)
EXPECTED = {"partial_transcript": {"text_too_short", "stretched_word", "low_score", "unlikely_transcript"},
            "unspoken_word": {"unspoken_word", "squeezed_words"},
            "truncated_audio": {"text_too_long", "squeezed_words", "low_score", "unlikely_transcript"},
            "white_noise": {"no_speech", "low_score", "text_too_long", "unlikely_transcript"},
            "other_transcript": {"low_score", "text_too_long", "text_too_short", "stretched_word", "squeezed_words",
                                 "unspoken_word", "unlikely_transcript"}}


def corpora(timit: Path | None, lj: Path | None, lj_first: str, n_lj: int):
    out = {}
    if timit:
        from microalign.data.readers import read_timit

        out["TIMIT dev"] = [(u.id, u.audio, u.text) for u in read_timit(timit)]
    if lj:
        from microalign.teachers.corpora import read_ljspeech

        utts = [u for u in read_ljspeech(lj) if u.id >= lj_first][:n_lj]
        name = "LJ Speech " + (f"{utts[0].id}..{utts[-1].id}" if utts else "(none)")
        out[name] = [(u.id, u.audio, u.text) for u in utts]
    return out


def run(backend: str, sets: dict, with_cases: bool) -> tuple[list[str], dict, list[str], list[str]]:
    scorer = load_backend(backend)
    rows, details, evidence, word_ev = [], {}, [], []
    for name, utts in sets.items():
        t0 = time.time()
        flagged, codes, caught, tried, named = [], Counter(), Counter(), Counter(), 0
        ev = defaultdict(list)      # case -> (fit loss, score) of each aligned utterance
        wev = defaultdict(list)     # word-level evidence of the unspoken_word case (see WORD_EVIDENCE)
        without = Counter()         # caught without the transcript-level detector (unlikely_transcript)
        for j, (uid, audio, text) in enumerate(utts):
            pcm = load_audio(audio)
            al = align_pcm(pcm, text, scorer)
            ev["correct"].append((al.quality.stats["fit_loss"], al.score))
            fq = al.quality.features
            sus = int(np.argmax(al.quality.unspoken))          # the correct utterance's most suspicious word
            wev["correct words: most suspicious"].append((fq[sus, SKIP], fq[sus, CTX], al.quality.unspoken[sus]))
            if al.warnings:
                flagged.append(f"{uid}: " + "; ".join(w.line() for w in al.warnings))
                codes.update({w.code for w in al.warnings})
            if not with_cases:
                continue
            for case, make in cases.CASES.items():
                other = utts[(j + 1) % len(utts)][2]
                try:
                    p2, t2 = make(pcm, text, other) if case == "other_transcript" else make(pcm, text)
                except ValueError:
                    continue
                tried[case] += 1
                try:
                    bad = align_pcm(p2, t2, scorer)
                except ValueError:          # refused outright (e.g. transcript longer than the audio): caught
                    caught[case] += 1
                    without[case] += 1
                    continue
                got = {w.code for w in bad.warnings}
                ev[case].append((bad.quality.stats["fit_loss"], bad.score))
                if got & EXPECTED[case]:
                    caught[case] += 1
                if got & EXPECTED[case] - {"unlikely_transcript"}:
                    without[case] += 1
                if case == "unspoken_word":     # does a warning name the inserted word itself?
                    idx = [w.word for w in bad.words].index(cases.UNSPOKEN_WORD)
                    named += any(w.code == "unspoken_word" and w.word == idx for w in bad.warnings)
                    fq, pu = bad.quality.features, bad.quality.unspoken
                    wev["inserted word"].append((fq[idx, SKIP], fq[idx, CTX], pu[idx]))
                    for j in (idx - 1, idx + 1):
                        if 0 <= j < len(pu):
                            wev["its neighbours"].append((fq[j, SKIP], fq[j, CTX], pu[j]))
        n = len(utts)
        case_cols = " | ".join(f"{caught[c]}/{tried[c]}" + (f" (names it: {named})" if c == "unspoken_word" else "")
                               for c in cases.CASES) if with_cases else ""
        rows.append(f"| {backend} | {name} | {n} | {len(flagged)} ({100 * len(flagged) / max(n, 1):.1f} %) | "
                    f"{', '.join(f'{k} {v}' for k, v in sorted(codes.items())) or '–'} | {case_cols} | "
                    f"{time.time() - t0:.0f} s |")
        details[(backend, name)] = flagged
        for case, v in ev.items():
            f, sc = np.array(v).T
            evidence.append(f"| {backend} | {name} | {case} | {len(v)} | {np.median(f):.2f} [{f.min():.2f}–{f.max():.2f}] | "
                            f"{np.median(sc):.2f} [{sc.min():.2f}–{sc.max():.2f}] | "
                            + ("–" if case == "correct" else f"{without[case]}/{tried[case]} → {caught[case]}/{tried[case]}")
                            + " |")
        for who, v in wev.items():
            sk, cl, pu = np.array(v).T
            word_ev.append(f"| {backend} | {name} | {who} | {len(v)} | {_mr(sk, '.1f')} | {_mr(cl, '.2f')} | "
                           f"{_mr(pu, '.3f')} |")
    return rows, details, evidence, word_ev


def _mr(v: np.ndarray, fmt: str) -> str:
    return f"{np.median(v):{fmt}} [{v.min():{fmt}}–{v.max():{fmt}}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timit", type=Path)
    ap.add_argument("--ljspeech", type=Path)
    ap.add_argument("--lj-first", default="LJ002-0001")
    ap.add_argument("--n-lj", type=int, default=100)
    ap.add_argument("--backend", action="append", default=[])
    ap.add_argument("--no-cases", action="store_true", help="only the false-warning rate")
    ap.add_argument("-o", "--out", type=Path, default=Path(__file__).resolve().parent / "results" / "quality.md")
    a = ap.parse_args(argv)
    sets = corpora(a.timit, a.ljspeech, a.lj_first, a.n_lj)
    if not sets:
        ap.error("give --timit and/or --ljspeech")
    head = ["| backend | correct recordings | utterances | with a warning (false) | codes | "
            + " | ".join(f"{c} caught" for c in cases.CASES) + " | time |",
            "|---|---|---|---|---|" + "---|" * len(cases.CASES) + "---|"]
    rows, details, evidence, word_ev = [], {}, [], []
    cal_info = load_calibration().info
    cal_cmd = cal_info.get("command") or ("python eval/calibrate_confidence.py "
                                          + " ".join(f"--data {d}" for d in cal_info.get("fitted_on", [])))
    for b in a.backend or ["torch"]:
        r, d, e, w = run(b, sets, not a.no_cases)
        rows += r
        details |= d
        evidence += e
        word_ev += w
    lines = ["# Mismatch checks: false warnings on correct recordings, constructed mismatches caught", "",
             f"`python eval/false_warnings.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
             f"Quality calibration (`convert/microalign/assets/quality_calibration.json`): "
             f"`{cal_cmd}`",
             "",
             "A case counts as caught when it draws one of the warnings meant for it (or is refused with an error); "
             "for the inserted unspoken word, \"names it\" counts the cases where an unspoken_word warning names that word.",
             "", *head, *rows, "", "## Utterance evidence per case", "",
             "`fit loss`: how much better the model's own best reading (each frame's best token) explains the audio "
             "than the decoded transcript, in nats per speech frame (what the transcript-level detector, "
             "`unlikely_transcript`, reads with the score); median [min–max] over the aligned utterances. "
             "`caught`: by the other checks alone → with `unlikely_transcript` too.", "",
             "| backend | correct recordings | case | aligned | fit loss | score | caught |", "|---|---|---|---|---|---|---|",
             *evidence, "", "## Word evidence of the inserted unspoken word", "",
             "What the unspoken-word detector reads, median [min–max]: `skip_gain`, how much better the best path "
             "without the word explains its window (the previous word's last four characters to the next word's first "
             "four) than the decoded path does, in nats (negative: better skipped; clipped at ±"
             f"{SKIP_CLIP:.0f}); `context_loss`, the decoded path's loss against each frame's best token summed "
             "over the same window, in nats; `p(unspoken)`, the detector's probability (it warns above "
             f"{load_calibration().thresholds.unspoken_probability}). Rows: the inserted word, its two neighbours, and "
             "the most suspicious word of each correct utterance (what a threshold must stay above).", "",
             "| backend | correct recordings | words | n | skip_gain | context_loss | p(unspoken) |",
             "|---|---|---|---|---|---|---|", *word_ev, "", "## Warnings on correct recordings", ""]
    for (b, name), flagged in details.items():
        lines += [f"- {b}, {name}: " + ("none" if not flagged else "")] + [f"  - {f}" for f in flagged]
    text = "\n".join(lines) + "\n"
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
