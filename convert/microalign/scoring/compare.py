"""What each conversion stage costs: the same utterances through every backend, against PyTorch float.

Evaluation, not conversion: it runs converted models through
:mod:`microalign.runtime` and the aligner and scores them with
:mod:`microalign.scoring`. Per stage (every backend of
:data:`microalign.runtime.BACKENDS`: ``torch``, ``onnx``, ``tflite-float``,
``tflite`` int8, ``tflm`` int8):

- output error of the frame log-probabilities against the reference stage
  (X-CUBE-AI style: rmse, mae, l2r, cosine; see :mod:`.metrics`) and
  frame-argmax agreement, over every frame of every utterance;
- word-boundary accuracy against the corpus timings, through the aligner
  itself (:func:`microalign.align.align_pcm`, whose int8 path is the
  integer-exact decoder) and the project scorer
  (:func:`microalign.scoring.score_utterances`);
- how far the stage's word boundaries move from the reference stage's.

Each backend runs once per window: the aligner reuses the frame scores
computed for the output errors.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..export.metrics import output_errors
from ..runtime import BACKEND_NAMES, BACKENDS, Backend, frame_scores, load_backend

STAGES = BACKEND_NAMES
LABELS = {name: spec.label for name, spec in BACKENDS.items()}


def stage_backends(checkpoint, converted_dir: str | Path, stages: Sequence[str] = STAGES) -> dict[str, Backend]:
    """Backends for the stages: ``torch`` from the checkpoint, the others from a
    :func:`~microalign.export.convert_checkpoint` folder (the registry's file name for each)."""
    out = {}
    for s in stages:
        if s not in BACKENDS:
            raise ValueError(f"unknown stage {s!r}; choose among {', '.join(BACKENDS)}")
        out[s] = load_backend(s, checkpoint if s == "torch" else Path(converted_dir) / BACKENDS[s].asset)
    return out


class _Cached:
    """A window scorer that remembers its answers (the aligner re-asks for the same windows)."""

    def __init__(self, backend: Backend) -> None:
        self.backend, self.window, self.tokens, self.seconds = backend, backend.window, backend.tokens, 0.0
        self._memo: dict[bytes, object] = {}

    def __call__(self, win: np.ndarray):
        key = win.tobytes()
        if key not in self._memo:
            t = time.perf_counter()
            self._memo[key] = self.backend(win)
            self.seconds += time.perf_counter() - t
        return self._memo[key]

    def clear(self) -> None:
        self._memo.clear()


@dataclass
class StageResult:
    name: str
    output: dict                                   # output errors vs the reference stage (all frames)
    scores: object = None                          # microalign.scoring.Scores vs corpus timings
    errors: list = field(default_factory=list)     # microalign.scoring.UtteranceErrors per utterance
    shift_ms: float | None = None                  # mean |boundary - reference stage's boundary|
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0                           # model time

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    def to_dict(self) -> dict:
        return {"stage": self.name, "label": self.label, "output_vs_reference": self.output,
                "boundaries": self.scores.to_dict() if self.scores is not None else None,
                "shift_vs_reference_ms": self.shift_ms, "failures": self.failures,
                "model_seconds": round(self.seconds, 3)}


@dataclass
class Comparison:
    reference: str
    n_utterances: int
    n_frames: int
    stages: dict[str, StageResult]
    words: dict[str, dict[str, list]]             # stage -> utterance id -> word Segments

    def table(self) -> str:
        """Markdown table, one row per stage."""
        head = ("| stage | argmax agree % | rmse | mae | l2r | cosine | mean boundary err ms | median ms | "
                f"≤20 ms % | shift vs {self.reference} ms | failed |\n|---|" + "---:|" * 10)
        rows = [head]
        for r in self.stages.values():
            o = r.output
            b = (f"{r.scores.mean_ms:.1f} | {r.scores.median_ms:.1f} | {r.scores.within_ms['20']:.1f}"
                 if r.scores is not None else "– | – | –")
            shift = f"{r.shift_ms:.2f}" if r.shift_ms is not None else "–"
            rows.append(f"| {r.label} | {100 * o['argmax']:.2f} | {o['rmse']:.4f} | {o['mae']:.4f} | {o['l2r']:.4f} | "
                        f"{o['cosine']:.5f} | {b} | {shift} | {len(r.failures)} |")
        return "\n".join(rows)

    def to_dict(self) -> dict:
        return {"reference": self.reference, "n_utterances": self.n_utterances, "n_frames": self.n_frames,
                "stages": {k: v.to_dict() for k, v in self.stages.items()}}


def compare_stages(utterances: Sequence, backends: dict[str, Backend], reference: str = "torch",
                   align: bool = True, progress: bool = True) -> Comparison:
    """Run ``utterances`` (:class:`microalign.corpus.Utterance`) through every backend and compare.

    ``align=False`` skips the aligner (output errors only). An utterance the
    aligner rejects for a stage counts as unmatched words for that stage
    and is listed in its ``failures``.
    """
    from ..align import align_pcm
    from ..audio import load_audio
    from ..corpus import Segment
    from ..frontend import features_from_pcm
    from .metrics import score_utterances

    if reference not in backends:
        raise ValueError(f"reference stage {reference!r} is not among the backends {list(backends)}")
    scorers = {k: _Cached(b) for k, b in backends.items()}
    logp: dict[str, list[np.ndarray]] = {k: [] for k in backends}
    words: dict[str, dict[str, list]] = {k: {} for k in backends}
    failures: dict[str, list[str]] = {k: [] for k in backends}
    for n, u in enumerate(utterances, 1):
        pcm = load_audio(u.audio, quiet=True)
        feats = features_from_pcm(pcm)
        for k, sc in scorers.items():
            logp[k].append(frame_scores(feats, sc).log_probs())
            if align:
                try:
                    words[k][u.id] = [Segment(w.word, w.start, w.end) for w in align_pcm(pcm, u.text, sc).words]
                except ValueError as e:
                    failures[k].append(f"{u.id}: {e}")
            sc.clear()
        if progress:
            print(f"\rcompare: {n}/{len(utterances)} utterances", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    ref_lp = np.concatenate(logp[reference])
    refs = {u.id: u.words for u in utterances if u.words}
    results: dict[str, StageResult] = {}
    for k in backends:
        r = StageResult(k, output_errors(ref_lp, np.concatenate(logp[k])), failures=failures[k],
                        seconds=scorers[k].seconds)
        if align and refs:
            r.scores, r.errors = score_utterances(refs, {i: w for i, w in words[k].items() if i in refs})
            both = [i for i in words[reference] if i in words[k] and words[reference][i]]
            if both:
                shift, _ = score_utterances({i: words[reference][i] for i in both}, {i: words[k][i] for i in both})
                r.shift_ms = shift.mean_ms
        results[k] = r
    return Comparison(reference, len(utterances), len(ref_lp), results, words)


# ---------------------------------------------------------------------- plots
def _figure(**kw):
    """A matplotlib Figure without pyplot: no backend switch (plots stay inline in notebooks)."""
    from matplotlib.figure import Figure

    return Figure(**kw)


def plot_boundary_cdf(cmp: Comparison, path: str | Path, title: str = "", xmax: float = 200.0) -> None:
    """CDF of absolute word-boundary errors, one curve per stage."""
    from .metrics import boundary_errors_ms
    from .plots import draw_cdf

    fig = _figure(figsize=(6, 4), dpi=120)
    draw_cdf(fig.subplots(), {r.label: boundary_errors_ms(r.errors) if r.errors else np.zeros(0)
                              for r in cmp.stages.values()}, title, xmax)
    fig.tight_layout()
    fig.savefig(path)


def plot_utterance(utt, cmp: Comparison, path: str | Path, float_stage: str = "torch", int8_stage: str = "tflm") -> None:
    """Waveform and log-mel spectrogram (the model's int8 input) with reference, float and int8 word boundaries."""
    from ..audio import load_audio
    from ..frontend import FRAME_SECONDS, SAMPLE_RATE, features_from_pcm

    pcm = load_audio(utt.audio, quiet=True)
    feats = features_from_pcm(pcm)
    t = np.arange(len(pcm)) / SAMPLE_RATE
    fig = _figure(figsize=(11, 5.5), dpi=110)
    a1, a2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
    a1.plot(t, pcm / 32768.0, lw=0.4, color="0.35")
    a2.imshow(feats.T.astype(np.float32), origin="lower", aspect="auto", cmap="magma",
              extent=(0, len(feats) * FRAME_SECONDS, 0, feats.shape[1]))
    sets = [("reference", utt.words, None, "-", 1.6),
            (LABELS[float_stage], cmp.words[float_stage].get(utt.id, []), "tab:cyan", "--", 1.2),
            (LABELS[int8_stage], cmp.words[int8_stage].get(utt.id, []), "tab:red", ":", 1.4)]
    for ax, ref_color in ((a1, "black"), (a2, "white")):
        for label, ws, color, ls, lw in sets:
            xs = sorted({x for w in ws for x in (w.start, w.end)})
            for j, x in enumerate(xs):
                ax.axvline(x, color=color or ref_color, ls=ls, lw=lw, label=label if j == 0 and ax is a1 else None)
    for w in utt.words:
        a1.text((w.start + w.end) / 2, 1.02, w.label, transform=a1.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=7, rotation=30)
    a1.set(ylabel="amplitude", ylim=(-1, 1))
    a1.legend(loc="lower right", fontsize=7, ncol=3)
    a2.set(xlabel="time (s)", ylabel="mel band (int8 feature)")
    fig.suptitle(f"{utt.id}: reference vs {LABELS[float_stage]} vs {LABELS[int8_stage]}", fontsize=10, y=0.995)
    fig.tight_layout()
    fig.savefig(path)


def plot_output_error(cmp: Comparison, path: str | Path) -> None:
    """Bar chart of output rmse and argmax disagreement per stage against the reference."""
    rs = [r for r in cmp.stages.values() if r.name != cmp.reference]
    fig = _figure(figsize=(9, 3.2), dpi=110)
    a1, a2 = fig.subplots(1, 2)
    names = [r.label for r in rs]
    a1.barh(names, [r.output["rmse"] for r in rs], color="tab:blue")
    a1.set(xlabel=f"rmse of log-probs vs {LABELS.get(cmp.reference, cmp.reference)}")
    a2.barh(names, [100 * (1 - r.output["argmax"]) for r in rs], color="tab:orange")
    a2.set(xlabel="frames whose argmax differs (%)")
    a2.set_yticklabels([])
    for ax, vals, fmt in ((a1, [r.output["rmse"] for r in rs], "{:.2g}"),
                          (a2, [100 * (1 - r.output["argmax"]) for r in rs], "{:.2f}")):
        for y, v in enumerate(vals):
            ax.text(v, y, " " + fmt.format(v), va="center", fontsize=7)
        ax.margins(x=0.2)
    fig.tight_layout()
    fig.savefig(path)


def calibration_sweep(utterances: Sequence, reference: Backend, converted_dir: str | Path, calibration,
                      sizes: Sequence[int], seed: int = 0, align: bool = True, stage: str = "tflm") -> list[dict]:
    """How the int8 model moves with the calibration-set size: one requantised model per size, run in ``stage``.

    Returns one row per size: output errors against ``reference`` and, with
    ``align``, mean boundary error (ms) and the shift from the reference's boundaries.
    """
    from ..export.convert import requantize

    models = {n: requantize(converted_dir, calibration, n, seed=seed) for n in sizes}
    runs = {"ref": reference, **{f"{stage} n={n}": load_backend(stage, p) for n, p in models.items()}}
    cmp = compare_stages(utterances, runs, reference="ref", align=align, progress=False)   # reference runs once
    rows = []
    for n, path in models.items():
        r = cmp.stages[f"{stage} n={n}"]
        rows.append({"n_calib": n, "model": str(path), **{k: r.output[k] for k in ("argmax", "rmse", "cosine")},
                     "mean_ms": r.scores.mean_ms if r.scores is not None else None, "shift_ms": r.shift_ms})
    return rows


def sweep_table(rows: list[dict]) -> str:
    out = ["| calibration windows | argmax agree % | rmse | cosine | mean boundary err ms | shift vs float ms |",
           "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        mean = f"{r['mean_ms']:.1f}" if r["mean_ms"] is not None else "–"
        shift = f"{r['shift_ms']:.2f}" if r["shift_ms"] is not None else "–"
        out.append(f"| {r['n_calib']} | {100 * r['argmax']:.2f} | {r['rmse']:.4f} | {r['cosine']:.5f} | {mean} | {shift} |")
    return "\n".join(out)
