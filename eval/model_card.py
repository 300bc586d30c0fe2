#!/usr/bin/env python3
"""Write the shipped model's card (MODEL_CARD.md) from its checkpoint metadata and a spine report.

    .venv/bin/python eval/model_card.py --report reports/spine/report.json \\
        --out convert/microalign/assets/MODEL_CARD.md
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from microalign.decode import MIN_CHAR_FRAMES
from microalign.decode import refine as R
from microalign.model import load_checkpoint, macs_per_window
from microalign.scoring import TABLE_HEADER, Scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="checkpoint (default: shipped)")
    ap.add_argument("--report", type=Path, required=True, help="report.json written by eval/spine_report.py")
    ap.add_argument("--int8-report", type=Path, default=None, help="the shipped int8 model's report.json")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    model, meta = load_checkpoint(args.model)
    cfg = model.cfg
    macs = macs_per_window(cfg)
    lines = [
        "# Model card: microalign student", "",
        "A character-level acoustic model for forced alignment on a Cortex-M7: int8 log-mel frames in "
        "(40 × 10 ms, `frontend/features.py`), log-probabilities over 28 tokens (silence, apostrophe, a–z) "
        "out, one per 10 ms frame. Decoding is a Viterbi forced alignment over the transcript's characters.", "",
        "## Architecture", "",
        f"- window {cfg.window} frames ({cfg.window / 100:.1f} s), conv stem {cfg.stem} ch (k={cfg.kernel}) at 10 ms, "
        f"{'two strided convs' if cfg.downsample == 4 else 'strided conv'} to {10 * cfg.downsample} ms, "
        f"depthwise positional conv (k={cfg.pos_kernel}), {cfg.n_layers} transformer layers "
        f"(d={cfg.d_model}, {cfg.n_heads} heads, FFN {cfg.d_ff}, ReLU, BatchNorm folded at export), "
        f"{10 * cfg.downsample} → 10 ms upsampling with a skip from the stem (d={cfg.d_out}), {cfg.n_tokens} outputs",
        f"- parameters: {meta.get('parameters', sum(p.numel() for p in model.parameters())):,}",
        f"- multiply-accumulates: {sum(macs.values()) / (cfg.window / 100) / 1e6:.2f} M per second of audio "
        f"({', '.join(f'{k} {v / 1e6:.2f} M' for k, v in macs.items())} per window)", "",
        "## Training", "",
        "Loss: cross-entropy on silence frames plus, inside each labelled word span, the negative log of the sum "
        "over all monotonic alignments of the word's characters (`train/loss.py`): word boundaries are supervised, "
        "character boundaries are latent."
        + (f" Plus {meta['train'].get('distill')} × the per-frame KL divergence from a larger student's frame "
           f"distributions (distillation; teacher `{Path(meta['teacher']).parent.name}/{Path(meta['teacher']).name}`)."
           if meta.get("teacher") else ""), "",
        "Real speech (speechocean762, LJ Speech) carries *consensus* labels (`microalign data consensus`): "
        "pocketsphinx's word timings where the student of the previous round agrees within 50 ms (the mean of "
        "both), every other word and the pauses around it ignored by the loss." if any(
            "cons" in s["name"] for s in meta.get("sources", [])) else "", "",
        "| source | utterances | hours | share of windows |", "|---|---|---|---|",
    ]
    total_w = sum(s["weight"] for s in meta.get("sources", [])) or 1.0
    for s in meta.get("sources", []):
        lines.append(f"| {s['name']} | {s['utterances']} | {s['hours']:.2f} | {100 * s['weight'] / total_w:.0f} % |")
    tr = meta.get("train", {})
    lines += ["", f"Schedule: {tr.get('steps')} steps of {tr.get('batch')} windows, AdamW lr {tr.get('lr')}, "
              f"seed {tr.get('seed')}, augmentation {'on' if tr.get('augment') else 'off'}; "
              f"initialised from: {meta.get('init', 'scratch')}.", ""]
    if args.int8_report:
        r = json.loads(args.int8_report.read_text())
        lines += ["## int8 (TensorFlow Lite Micro)", "",
                  f"`student_int8.tflite`: {r['artefacts']['tflite_int8']['bytes']:,} bytes, full int8 "
                  f"({sum(r['int8']['op_histogram'].values())} operators), TFLM arena "
                  f"{r['tflm']['arena']['min_arena_bytes']:,} bytes; calibrated on {r['calibration']['n_windows']} "
                  f"windows of synthetic and real speech. Report: `student_int8_report.md`.", ""]
    lines += ["## Decoding", "",
              f"Viterbi over the transcript's characters with optional silence between words; every character "
              f"lasts at least {MIN_CHAR_FRAMES} frames ({10 * MIN_CHAR_FRAMES} ms; `eval/min_char_frames.py` chose "
              "it on synthetic held-out speech and teacher-labelled LJ Speech, not on the dev set). Word boundaries "
              "are then placed between frames: each junction at its expected crossing under the posterior of a "
              f"local graph ({R.REFINE_CHARS} characters of each word and the optional silence, emission "
              f"temperature {R.REFINE_TEMPERATURE}; `decode/refine.py`, settings chosen by `eval/refine_study.py` "
              "on the same kind of held-out sets).", ""]
    lines += ["## Scores", "", "Measured by `eval/spine_report.py` (TIMIT dev sample, synthetic held-out splits; "
              "the same run also scores the other students named below, pocketsphinx and the naive baseline).", ""]
    for title, res in json.loads(args.report.read_text()).items():
        lines += [f"### {title}", "", TABLE_HEADER]
        lines += [Scores.from_dict(v).row(name) for name, v in res.items()] + [""]
    lines += ["## Limits", "",
              "- English letters and apostrophes only; other scripts need new tokens and retraining.",
              "- Trained on synthetic speech (espeak-ng, festival) and on real read speech labelled by "
              "pocketsphinx (speechocean762: non-native adults and children; LJ Speech: one native speaker); "
              "conversational, noisy or far-field speech is less well covered.",
              "- Frames are 10 ms: a boundary between frames is an expectation over the frames around it, "
              "not a measurement finer than the model's resolution.", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
