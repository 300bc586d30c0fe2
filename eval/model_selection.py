"""Choose between student models: word-boundary error on every evaluation set, with bootstrap intervals.

Issue 13 asks that a model be chosen on synthetic held-out speech and held-out
teacher-labelled real speech, and that the TIMIT dev sample be reported with a
bootstrap confidence interval (40 utterances, 4 speakers: a standard error of
1–2 ms). For every model × set this prints and writes:

- mean / median absolute boundary error, share within 20 and 50 ms;
- the signed bias of starts and of ends (hyp − ref, ms: negative = early);
- a 95 % bootstrap interval of the mean (utterances resampled, 2,000 draws,
  seeded), and for every model after the first the paired difference to the
  first (the same resampled utterances for both), with its interval.

Usage::

    python eval/model_selection.py \\
        --model shipped=convert/microalign/assets/student.pt --model phones=runs/ft_phones/student.pt \\
        --set dev=../shared/data/timit-sample-dev --set espeak=data/synth/espeak/test.jsonl \\
        --out eval/results/model_selection.md

``--model NAME=PATH[@BACKEND]`` (backend default torch; a ``.tflite`` with
``@tflm`` scores the int8 model the device runs). Sets are anything
``microalign eval`` reads.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "convert"))

from microalign.batch.model import ModelSetup, check_model  # noqa: E402
from microalign.data.readers import read_corpus  # noqa: E402
from microalign.scoring.evaluate import evaluate, student_aligner  # noqa: E402
from microalign.scoring.metrics import UtteranceErrors  # noqa: E402

N_BOOT = 2000


def _pair(text: str, what: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{what} must be NAME=VALUE, got {text!r}")
    return name, value


def utterance_sums(errors: list[UtteranceErrors]) -> tuple[np.ndarray, np.ndarray]:
    """Per utterance: sum of absolute boundary errors (ms) and number of boundaries."""
    s = np.array([1000.0 * (np.abs(u.start_err).sum() + np.abs(u.end_err).sum()) for u in errors])
    n = np.array([2 * len(u.start_err) for u in errors], dtype=float)
    return s, n


def bootstrap_means(sums: np.ndarray, counts: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Boundary-weighted mean error of each bootstrap draw (rows of ``idx`` index utterances)."""
    return sums[idx].sum(1) / np.maximum(counts[idx].sum(1), 1)


def score_set(errors: list[UtteranceErrors]) -> dict:
    st = 1000.0 * np.concatenate([u.start_err for u in errors])
    en = 1000.0 * np.concatenate([u.end_err for u in errors])
    b = np.abs(np.concatenate([st, en]))
    return {"mean_ms": float(b.mean()), "median_ms": float(np.median(b)),
            "within_20ms_pct": float(100 * np.mean(b <= 20 + 1e-6)),
            "within_50ms_pct": float(100 * np.mean(b <= 50 + 1e-6)),
            "start_bias_ms": float(st.mean()), "end_bias_ms": float(en.mean()),
            "boundaries": int(len(b)), "matched_words": int(len(st)),
            "ref_words": int(sum(u.n_ref for u in errors))}


def model_errors(path: str, backend: str, data: str, utts: list, limit: int | None,
                 cache: Path | None) -> list[UtteranceErrors]:
    from microalign.decode import refine as R

    # the boundary refinement's settings are part of what is scored: a change of them invalidates the cache
    settings = f"refine {R.REFINE_CHARS} {R.REFINE_TEMPERATURE} {R.REFINE_REACH}"
    key = hashlib.sha256(Path(path).read_bytes() + f"|{backend}|{Path(data).resolve()}|{limit}|{settings}".encode()
                         ).hexdigest()
    hit = cache / f"{key[:24]}.pkl" if cache else None
    if hit is not None and hit.is_file():
        return pickle.loads(hit.read_bytes())
    errors = evaluate(utts, {"m": student_aligner(ModelSetup(backend, path)())}, progress=True)["m"][1]
    if hit is not None:
        cache.mkdir(parents=True, exist_ok=True)
        hit.write_bytes(pickle.dumps(errors))
    return errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--model", action="append", required=True, type=lambda t: _pair(t, "--model"),
                    metavar="NAME=PATH[@BACKEND]", help="a model to score (repeat; the first is the baseline)")
    ap.add_argument("--set", action="append", required=True, type=lambda t: _pair(t, "--set"),
                    metavar="NAME=DATA", help="an evaluation set (repeat)")
    ap.add_argument("--limit", type=int, default=None, help="score only the first N utterances of each set")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    ap.add_argument("--cache", type=Path, help="keep each model × set's errors here (keyed by the model file's "
                    "SHA-256, backend, set and limit) and reuse them")
    ap.add_argument("--out", type=Path, help="write a Markdown report here (and its figures as .json beside it)")
    args = ap.parse_args(argv)

    models = []
    for name, spec in args.model:
        path, _, backend = spec.partition("@")
        backend = backend or "torch"
        check_model(backend, path)
        models.append((name, path, backend))
    sets = []
    for name, data in args.set:
        utts = list(read_corpus(Path(data)))[:args.limit]
        if not utts:
            raise SystemExit(f"error: no utterances with word timings in {data}")
        sets.append((name, data, utts))

    rng = np.random.default_rng(args.seed)
    results: dict = {"models": {n: {"path": p, "backend": b} for n, p, b in models}, "sets": {}}
    lines = ["| set | model | mean ms [95 % CI] | Δ mean vs " + models[0][0] + " [95 % CI] | median ms | ≤20 ms % | "
             "≤50 ms % | start bias ms | end bias ms | matched/ref words |", "|---|" + "---|" * 9]
    for sname, data, utts in sets:
        idx = rng.integers(0, len(utts), size=(N_BOOT, len(utts)))
        base = None
        results["sets"][sname] = {"data": data, "utterances": len(utts), "models": {}}
        for mname, path, backend in models:
            errors = model_errors(path, backend, data, utts, args.limit, args.cache)
            sums, counts = utterance_sums(errors)
            r = score_set(errors)
            boots = bootstrap_means(sums, counts, idx)
            r["mean_ci95_ms"] = [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]
            delta = ""
            if base is None:
                base = boots
            else:
                d = boots - base
                r["delta_vs_first_ms"] = float(r["mean_ms"] - results["sets"][sname]["models"][models[0][0]]["mean_ms"])
                r["delta_ci95_ms"] = [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))]
                delta = f"{r['delta_vs_first_ms']:+.1f} [{r['delta_ci95_ms'][0]:+.1f}, {r['delta_ci95_ms'][1]:+.1f}]"
            results["sets"][sname]["models"][mname] = r
            line = (f"| {sname} | {mname} | {r['mean_ms']:.1f} [{r['mean_ci95_ms'][0]:.1f}, {r['mean_ci95_ms'][1]:.1f}] | "
                    f"{delta} | {r['median_ms']:.1f} | {r['within_20ms_pct']:.1f} | {r['within_50ms_pct']:.1f} | "
                    f"{r['start_bias_ms']:+.1f} | {r['end_bias_ms']:+.1f} | {r['matched_words']}/{r['ref_words']} |")
            lines.append(line)
            print(line, flush=True)
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        cmd = "python eval/model_selection.py " + " ".join(
            [f"--model {n}={p}@{b}" for n, p, b in models] + [f"--set {n}={d}" for n, d, _ in sets])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# Model selection\n\nProduced by `{cmd}` (bootstrap: {N_BOOT} draws of utterances, "
                            f"seed {args.seed}; Δ is paired: the same draws for both models).\n\n{table}\n")
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
