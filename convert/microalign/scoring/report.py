"""What ``microalign eval --out DIR`` writes: per-utterance and per-word CSVs, the CDF plot, a JSON summary.

Files (one row per aligner and utterance / word; times in seconds, errors in ms):

- ``utterances.csv``: :data:`UTTERANCE_COLUMNS`
- ``words.csv``: :data:`WORD_COLUMNS` -- every reference word, matched or not, and every
  hypothesis word left unmatched (words matched by :func:`.metrics.match_words`)
- ``cdf.png``: CDF of the absolute boundary errors, one curve per aligner
- ``summary.json``: the data, the utterance count, per aligner the :class:`.metrics.Scores`
  and its failures, and the column descriptions below
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .metrics import TOLERANCES_MS, match_words

UTTERANCE_COLUMNS = {
    "aligner": "which aligner",
    "id": "utterance id",
    "status": "ok, or failed (the aligner raised an error: all its reference words count as unmatched)",
    "ref_words": "words in the reference",
    "hyp_words": "words the aligner returned",
    "matched": "words matched between reference and hypothesis (by aligning the word strings)",
    "mean_ms": "mean absolute boundary error over the matched words' starts and ends",
    "median_ms": "median absolute boundary error",
    "max_ms": "largest absolute boundary error",
    "start_mean_ms": "mean absolute error of word starts",
    "end_mean_ms": "mean absolute error of word ends",
    **{f"within_{t}ms_pct": f"share of boundaries within {t} ms (%)" for t in TOLERANCES_MS},
    "error": "the aligner's error message when status is failed",
}

WORD_COLUMNS = {
    "aligner": "which aligner",
    "id": "utterance id",
    "ref_index": "index of the word in the reference (blank: a hypothesis word matched to none)",
    "hyp_index": "index of the word in the hypothesis (blank: a reference word the aligner did not match)",
    "word": "the word (reference spelling when matched)",
    "ref_start": "reference start (s)",
    "ref_end": "reference end (s)",
    "hyp_start": "aligner's start (s)",
    "hyp_end": "aligner's end (s)",
    "start_err_ms": "hyp_start - ref_start in ms (signed: positive = the aligner is late)",
    "end_err_ms": "hyp_end - ref_end in ms (signed)",
}

def _f(x: float | None, nd: int = 1) -> str:
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{nd}f}"


def utterance_rows(run) -> list[dict[str, str]]:
    """Rows of ``utterances.csv`` for a :class:`.evaluate.EvalRun`."""
    rows = []
    for name in run.names:
        for u in run.utterances:
            hyp = run.hyps[name].get(u.id, [])
            pairs = match_words(u.words, hyp)
            s = np.array([1000 * abs(hyp[j].start - u.words[i].start) for i, j in pairs])
            e = np.array([1000 * abs(hyp[j].end - u.words[i].end) for i, j in pairs])
            b = np.concatenate([s, e])
            err = run.failures[name].get(u.id, "")
            row = {"aligner": name, "id": u.id, "status": "failed" if err else "ok", "ref_words": str(len(u.words)),
                   "hyp_words": str(len(hyp)), "matched": str(len(pairs)),
                   "mean_ms": _f(b.mean() if len(b) else None), "median_ms": _f(np.median(b) if len(b) else None),
                   "max_ms": _f(b.max() if len(b) else None), "start_mean_ms": _f(s.mean() if len(s) else None),
                   "end_mean_ms": _f(e.mean() if len(e) else None)}
            for t in TOLERANCES_MS:
                row[f"within_{t}ms_pct"] = _f(100.0 * np.mean(b <= t + 1e-6) if len(b) else None)
            row["error"] = err
            rows.append(row)
    return rows


def word_rows(run) -> list[dict[str, str]]:
    """Rows of ``words.csv`` for a :class:`.evaluate.EvalRun` (reference order; unmatched hypothesis
    words after the reference word they follow)."""
    rows = []
    for name in run.names:
        for u in run.utterances:
            hyp = run.hyps[name].get(u.id, [])
            by_ref = dict(match_words(u.words, hyp))
            matched_hyp = set(by_ref.values())
            extra: dict[int, list[int]] = {}      # unmatched hyp words, keyed by the ref index they follow
            last = -1
            inv = {j: i for i, j in by_ref.items()}
            for j in range(len(hyp)):
                if j in matched_hyp:
                    last = inv[j]
                else:
                    extra.setdefault(last, []).append(j)

            def hyp_only(j: int) -> dict[str, str]:
                h = hyp[j]
                return {"aligner": name, "id": u.id, "ref_index": "", "hyp_index": str(j), "word": h.label,
                        "ref_start": "", "ref_end": "", "hyp_start": f"{h.start:.3f}", "hyp_end": f"{h.end:.3f}",
                        "start_err_ms": "", "end_err_ms": ""}

            rows += [hyp_only(j) for j in extra.get(-1, [])]
            for i, r in enumerate(u.words):
                j = by_ref.get(i)
                row = {"aligner": name, "id": u.id, "ref_index": str(i), "hyp_index": "" if j is None else str(j),
                       "word": r.label, "ref_start": f"{r.start:.3f}", "ref_end": f"{r.end:.3f}",
                       "hyp_start": "", "hyp_end": "", "start_err_ms": "", "end_err_ms": ""}
                if j is not None:
                    h = hyp[j]
                    row.update(hyp_start=f"{h.start:.3f}", hyp_end=f"{h.end:.3f}",
                               start_err_ms=f"{1000 * (h.start - r.start):.1f}",
                               end_err_ms=f"{1000 * (h.end - r.end):.1f}")
                rows.append(row)
                rows += [hyp_only(j2) for j2 in extra.get(i, [])]
    return rows


def _write_csv(path: Path, columns, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def summary_dict(run, scores: dict, data: str) -> dict:
    return {"data": data, "n_utterances": len(run.utterances),
            "aligners": {name: {**scores[name][0].to_dict(), "n_failed": len(run.failures[name]),
                                "failed": dict(sorted(run.failures[name].items()))} for name in run.names},
            "columns": {"utterances.csv": UTTERANCE_COLUMNS, "words.csv": WORD_COLUMNS}}


def write_eval_outputs(out_dir: str | Path, run, scores: dict, data: str, title: str = "") -> list[Path]:
    """Write ``utterances.csv``, ``words.csv``, ``cdf.png`` and ``summary.json`` into ``out_dir``."""
    from .plots import plot_cdf

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "utterances.csv", out / "words.csv", out / "cdf.png", out / "summary.json"]
    _write_csv(paths[0], UTTERANCE_COLUMNS, utterance_rows(run))
    _write_csv(paths[1], WORD_COLUMNS, word_rows(run))
    plot_cdf({n: scores[n][1] for n in run.names}, paths[2], title=title or data)
    paths[3].write_text(json.dumps(summary_dict(run, scores, data), indent=2) + "\n", encoding="utf-8")
    return paths
