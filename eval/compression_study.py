"""Compression study: what each compressed student costs and keeps, float and int8, side by side.

For every ``--variant NAME=CHECKPOINT`` (the float baseline, a structurally
pruned and fine-tuned model, a smaller distilled student, ...): parameters,
MACs per audio second, int8 flatbuffer and TFLM arena bytes (the model is
converted with ``microalign convert``'s pipeline and calibration), and the
word-boundary error of the float model (PyTorch) and the int8 model (TFLM
PyPI runtime, integer-exact decoder) on each ``--data`` corpus. Writes
``<out>/compression.md`` and ``compression.json``.

Example::

    python eval/compression_study.py --calibration data/calib \\
        --variant baseline=convert/microalign/assets/student.pt \\
        --variant pruned=runs/pruned/student.pt --variant small=runs/small/student.pt \\
        --data ../shared/data/timit-sample-dev --data data/synth/espeak/test.jsonl --limit 100 \\
        --work out/compression --out reports/compression
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _variant(spec: str) -> tuple[str, Path]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=CHECKPOINT, got {spec!r}")
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"checkpoint not found: {path}")
    return name, Path(path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", type=_variant, action="append", required=True, metavar="NAME=CHECKPOINT",
                   help="a student to measure (repeatable; the first is the baseline)")
    p.add_argument("--calibration", type=Path, required=True, help="calibration source (manifest or folder)")
    p.add_argument("--n-calib", type=int, default=400, help="calibration windows (default 400)")
    p.add_argument("--data", type=Path, action="append", required=True,
                   help="corpus with word timings (TIMIT folder, TextGrid folder, manifest); repeatable")
    p.add_argument("--limit", type=int, default=None, help="first N utterances of each corpus")
    p.add_argument("--work", type=Path, required=True, help="folder for the converted models (one per variant)")
    p.add_argument("--out", type=Path, required=True, help="folder for compression.md/json")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from microalign.data.readers import corpus_tag, read_corpus
    from microalign.export import convert_checkpoint
    from microalign.scoring.compare import compare_stages, stage_backends
    from microalign.model import count_parameters, load_checkpoint

    corpora = {}
    for d in a.data:
        utts = list(read_corpus(d))[:a.limit]
        if not utts:
            sys.exit(f"error: no utterances in {d}")
        tag = corpus_tag(d)
        if tag in corpora:
            sys.exit(f"error: two corpora named {tag}")
        corpora[tag] = utts
    rows = []
    for name, ckpt in a.variant:
        model, meta = load_checkpoint(ckpt)
        res = convert_checkpoint(ckpt, a.work / name, a.calibration, n_calib=a.n_calib)
        row = {"variant": name, "checkpoint": str(ckpt), "config": model.cfg.to_dict(),
               "parameters": count_parameters(model), "macs_per_second": res.macs_per_second,
               "int8_bytes": res.int8_bytes, "float32_bytes": res.float32_bytes, "arena_bytes": res.arena_bytes,
               "teacher": meta.get("teacher"), "pruned": meta.get("pruned"), "errors": {}}
        backends = stage_backends(ckpt, a.work / name, ("torch", "tflm"))
        for tag, utts in corpora.items():
            cmp = compare_stages(utts, backends)
            row["errors"][tag] = {"float_mean_ms": cmp.stages["torch"].scores.mean_ms,
                                  "int8_mean_ms": cmp.stages["tflm"].scores.mean_ms,
                                  "float_median_ms": cmp.stages["torch"].scores.median_ms,
                                  "int8_median_ms": cmp.stages["tflm"].scores.median_ms,
                                  "argmax_agreement": cmp.stages["tflm"].output["argmax"]}
        rows.append(row)
        print(json.dumps({k: row[k] for k in ("variant", "parameters", "int8_bytes", "errors")}), flush=True)
    tags = list(corpora)
    head = ("| variant | parameters | MAC/s (M) | int8 bytes | arena bytes | "
            + " | ".join(f"{t} float ms | {t} int8 ms" for t in tags) + " |\n|---|" + "---:|" * (4 + 2 * len(tags)))
    lines = [head]
    for r in rows:
        errs = " | ".join(f"{r['errors'][t]['float_mean_ms']:.1f} | {r['errors'][t]['int8_mean_ms']:.1f}" for t in tags)
        lines.append(f"| {r['variant']} | {r['parameters']:,} | {r['macs_per_second'] / 1e6:.2f} | {r['int8_bytes']:,} | "
                     f"{r['arena_bytes'] or 0:,} | {errs} |")
    table = "\n".join(lines)
    a.out.mkdir(parents=True, exist_ok=True)
    md = ["# Compression study\n",
          f"Calibration: `{a.calibration}` ({a.n_calib} windows). Mean absolute word-boundary error (ms); float = "
          "PyTorch, int8 = TFLM PyPI runtime with the integer-exact decoder. Corpora: "
          + ", ".join(f"{t} ({len(u)} utterances)" for t, u in corpora.items()) + ".\n", table, ""]
    (a.out / "compression.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (a.out / "compression.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(table)
    print(f"wrote {a.out}/compression.md and compression.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
