"""What int8 costs, stage by stage: the same utterances through PyTorch float, ONNX Runtime float,
LiteRT float, LiteRT int8 (reference kernels) and TFLM int8.

The stages are the backends of ``microalign.runtime.BACKENDS``; the comparison
itself is ``microalign.scoring.compare``. Per stage: frame-argmax agreement
and output error against PyTorch float (rmse, mae, l2r, cosine; X-CUBE-AI
validate style), and word-boundary accuracy through the aligner
(``microalign.align``) scored with ``microalign.scoring``. Writes ``<out>/compare.md`` (the tables),
``<out>/compare.json``, and PNGs: boundary-error CDF per stage and per
corpus, output error per stage, one utterance's waveform and spectrogram
with reference, float and int8 word boundaries.

Examples::

    # models converted beforehand with `microalign convert` (or convert_checkpoint)
    python eval/compare_backends.py --checkpoint student.pt --converted out/convert \\
        --data ../shared/data/timit-sample-dev --data data/synth --split test --out reports/int8

    # convert first (calibration windows from the training manifests), then a calibration-size sweep
    python eval/compare_backends.py --checkpoint student.pt --convert-to out/convert \\
        --calibration data/synth --data ../shared/data/timit-sample-dev --out reports/int8 \\
        --calib-sweep 16,64,256,1024
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from microalign.runtime import BACKEND_NAMES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=None, help="student checkpoint (default: the shipped model)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--converted", type=Path, help="folder written by convert_checkpoint (student.onnx, *.tflite)")
    g.add_argument("--convert-to", type=Path, help="convert the checkpoint into this folder first")
    p.add_argument("--calibration", type=Path, help="calibration source for --convert-to (manifest or folder)")
    p.add_argument("--n-calib", type=int, default=200, help="calibration windows for --convert-to (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, action="append", required=True,
                   help="corpus with word timings: TIMIT folder, TextGrid folder or manifest (repeatable)")
    p.add_argument("--split", default=None, help="manifest split to read from a folder of manifests (e.g. test)")
    p.add_argument("--limit", type=int, default=None, help="first N utterances of each corpus")
    p.add_argument("--stages", default=",".join(BACKEND_NAMES),
                   help=f"comma-separated stages among {', '.join(BACKEND_NAMES)} "
                        "(torch must be among them: it is the reference)")
    p.add_argument("--no-align", action="store_true", help="output errors only (skip the aligner and scorer)")
    p.add_argument("--calib-sweep", default="", help="comma-separated calibration sizes to requantise and compare "
                   "in TFLM (e.g. 16,64,256,1024; needs --calibration)")
    p.add_argument("--plot-utterance", default=None, help="utterance id for the waveform plot (default: the first)")
    p.add_argument("--out", type=Path, required=True, help="output folder for compare.md/json and the PNGs")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from microalign.data.readers import corpus_tag, read_corpus
    from microalign.scoring.compare import (calibration_sweep, compare_stages, plot_boundary_cdf, plot_output_error,
                                            plot_utterance, stage_backends, sweep_table)

    stages = [s.strip() for s in a.stages.split(",") if s.strip()]
    sizes = [int(n) for n in a.calib_sweep.split(",") if n.strip()]
    if sizes and a.calibration is None:
        sys.exit("error: --calib-sweep needs --calibration")
    unknown = [s for s in stages if s not in BACKEND_NAMES]
    if unknown:
        sys.exit(f"error: unknown stage(s) {', '.join(unknown)}; choose among {', '.join(BACKEND_NAMES)}")
    if "torch" not in stages:
        sys.exit("error: --stages must include torch (the reference)")
    converted = a.converted
    if a.convert_to is not None:
        if a.calibration is None:
            sys.exit("error: --convert-to needs --calibration")
        from microalign.export import convert_checkpoint

        convert_checkpoint(a.checkpoint, a.convert_to, a.calibration, n_calib=a.n_calib, seed=a.seed)
        converted = a.convert_to
    backends = stage_backends(a.checkpoint, converted, stages)
    a.out.mkdir(parents=True, exist_ok=True)
    md = [f"# Backend comparison\n\nModel: `{a.checkpoint or 'shipped'}`, converted models: `{converted}`. "
          "Output errors are against PyTorch float on every frame (log-probs clipped at the int8 floor, -15.94); "
          "boundary errors against the corpus word timings.\n"]
    summary = {"checkpoint": str(a.checkpoint), "converted": str(converted), "corpora": {}}
    for data in a.data:
        utts = list(read_corpus(data, a.split))[:a.limit]
        if not utts:
            sys.exit(f"error: no utterances in {data}")
        t0 = time.perf_counter()
        cmp = compare_stages(utts, backends, align=not a.no_align)
        tag = corpus_tag(data)
        md += [f"## {data} ({cmp.n_utterances} utterances, {cmp.n_frames} frames, {time.perf_counter() - t0:.0f} s)\n",
               cmp.table(), ""]
        for r in cmp.stages.values():
            for f in r.failures[:5]:
                md.append(f"- {r.label} failed on {f}")
        summary["corpora"][str(data)] = cmp.to_dict()
        plot_output_error(cmp, a.out / f"output_error_{tag}.png")
        if not a.no_align:
            plot_boundary_cdf(cmp, a.out / f"boundary_cdf_{tag}.png", title=f"{tag}: word-boundary error per stage")
            pick = next((u for u in utts if u.id == a.plot_utterance), utts[0])
            if "tflm" in backends:
                plot_utterance(pick, cmp, a.out / f"utterance_{tag}.png", int8_stage="tflm")
        print(f"{data}:\n{cmp.table()}\n")
        if sizes:
            rows = calibration_sweep(utts, backends["torch"], converted, a.calibration, sizes, seed=a.seed,
                                     align=not a.no_align)
            md += [f"### int8 (TFLM) against calibration-set size, {tag}\n", sweep_table(rows), ""]
            summary["corpora"][str(data)]["calibration_sweep"] = rows
            print(sweep_table(rows) + "\n")
    (a.out / "compare.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (a.out / "compare.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {a.out}/compare.md, compare.json and PNGs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
