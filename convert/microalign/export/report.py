"""The conversion report: one dict, written as ``report.json`` and rendered as ``report.md``."""
from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

import numpy as np

TOOLS = ("torch", "tensorflow", "onnx", "onnx2tf", "onnxruntime", "ai-edge-litert", "tflite-micro")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _versions() -> dict[str, str]:
    out = {}
    for t in TOOLS:
        try:
            out[t] = metadata.version(t)
        except metadata.PackageNotFoundError:
            out[t] = "not installed"
    return out


def build_report(*, model, meta: dict, checkpoint: str, calib, pinned: bool, attention: str, info, float_bytes: int,
                 onnx_path: Path, int8_path: Path, arena, checks: dict, durations: dict) -> dict:
    from ..model import count_parameters, macs_per_second, macs_per_window

    cfg = model.cfg
    acts = info.activation_tensors()
    biggest = max(acts, key=lambda t: t.nbytes)
    in_q, out_q = info.io_quant()
    parts = macs_per_window(cfg)
    return {
        "format": "microalign-conversion-report/1",
        "checkpoint": checkpoint,
        "checkpoint_sha256": _sha256(Path(checkpoint)) if Path(checkpoint).is_file() else None,
        "model": {"config": cfg.to_dict(), "parameters": count_parameters(model), "meta": meta,
                  "export_attention": attention},
        "tools": _versions(),
        "calibration": {**calib.describe(), "input_range_pinned": pinned},
        "artefacts": {
            "onnx": {"file": onnx_path.name, "bytes": onnx_path.stat().st_size},
            "tflite_float32": {"file": "student_float32.tflite", "bytes": float_bytes},
            "tflite_int8": {"file": int8_path.name, "bytes": int8_path.stat().st_size,
                            "sha256": _sha256(int8_path)},
        },
        "int8": {
            "input": {"shape": list(info.tensors[info.inputs[0]].shape), "scale": in_q[0], "zero_point": in_q[1]},
            "output": {"shape": list(info.tensors[info.outputs[0]].shape), "scale": out_q[0], "zero_point": out_q[1]},
            "n_ops": len(info.ops),
            "op_histogram": info.op_histogram(),
            "int8_only": not info.int8_problems(),
            "weight_bytes": info.weight_bytes(),
            "activations": {"n_tensors": len(acts), "total_bytes": sum(t.nbytes for t in acts),
                            "largest_bytes": biggest.nbytes, "largest": biggest.name,
                            "largest_shape": list(biggest.shape)},
        },
        "macs": {"per_window_model": int(sum(parts.values())), "per_window_by_part": parts,
                 "per_window_graph": info.macs(), "graph_by_op": info.macs_by_op(),
                 "per_second": macs_per_second(cfg), "window_seconds": cfg.window * 0.01},
        "tflm": {"loads": True, "arena": arena.to_dict() if arena else None,
                 "note": "measured with the PyPI tflite-micro runtime on x86-64 (reference kernels); "
                         "a 32-bit target needs slightly less persistent memory"},
        "checks": checks,
        "durations_s": {k: round(v, 2) for k, v in durations.items()},
        "tensors": [t.quant_dict() for t in info.tensors],
    }


def _fmt_scale(d: dict) -> str:
    if "scale" in d:
        return f"{d['scale']:.6g}", str(d["zero_point"])
    if "channels" in d:
        return f"{d['channels']} ch: {d['scale_min']:.3g}…{d['scale_max']:.3g}", ",".join(map(str, d["zero_points"]))
    return "—", "—"


def render_markdown(r: dict) -> str:
    i8, mac, art = r["int8"], r["macs"], r["artefacts"]
    cal = r["calibration"]
    lines = [
        "# Conversion report", "",
        f"Checkpoint `{r['checkpoint']}` · {r['model']['parameters']:,} parameters · "
        f"window {r['model']['config']['window']} frames × {r['model']['config']['n_mels']} mels · "
        f"attention export `{r['model']['export_attention']}`", "",
        "## Artefacts", "",
        "| file | bytes |", "|---|---:|",
        *[f"| `{a['file']}` | {a['bytes']:,} |" for a in art.values()],
        "", f"int8 model sha256 `{art['tflite_int8']['sha256']}`", "",
        "## Calibration", "",
        f"{cal['n_windows']} windows of {cal['n_utterances']} utterances from `{cal['source']}`, seed {cal['seed']}; "
        f"input range pinned: {'yes' if cal['input_range_pinned'] else 'no'}.", "",
        "## int8 graph", "",
        f"Input {i8['input']['shape']} int8, scale {i8['input']['scale']:.6g}, zero point {i8['input']['zero_point']}; "
        f"output {i8['output']['shape']} int8, scale {i8['output']['scale']:.6g}, zero point {i8['output']['zero_point']}.",
        f"Pure int8 (no float tensors, no QUANTIZE/DEQUANTIZE, no custom/Flex ops): "
        f"**{'yes' if i8['int8_only'] else 'NO'}**.", "",
        "| operator | count | MACs / window |", "|---|---:|---:|",
        *[f"| {op} | {n} | {mac['graph_by_op'].get(op, 0):,} |" for op, n in i8["op_histogram"].items()],
        f"| **total** | **{i8['n_ops']}** | **{mac['per_window_graph']:,}** |", "",
        "## Sizes", "",
        "| | bytes |", "|---|---:|",
        *[f"| constant data, {k} | {v:,} |" for k, v in i8["weight_bytes"].items()],
        f"| activations, all {i8['activations']['n_tensors']} tensors summed | {i8['activations']['total_bytes']:,} |",
        f"| largest activation {i8['activations']['largest_shape']} | {i8['activations']['largest_bytes']:,} |",
    ]
    ar = r["tflm"]["arena"]
    if ar:
        lines += [f"| **TFLM arena, smallest that allocates** | **{ar['min_arena_bytes']:,}** |",
                  f"| · non-persistent (activation plan, scratch) | {ar['recorded_head']:,} |",
                  f"| · persistent (kernel data, tensor structs) | {ar['recorded_tail']:,} |",
                  *[f"| · · {k} | {v:,} |" for k, v in ar["breakdown"].items()]]
    lines += ["", f"TFLM: {r['tflm']['note']}.", "",
              "## MACs", "",
              f"{mac['per_window_model']:,} per {mac['window_seconds']:.0f} s window "
              f"(graph count {mac['per_window_graph']:,}) = **{mac['per_second'] / 1e6:.2f} M MAC per audio second**.",
              "", "| part | MACs / window |", "|---|---:|",
              *[f"| {k} | {v:,} |" for k, v in mac["per_window_by_part"].items()], "",
              "## Checks (on the first calibration windows)", "",
              "| check | result |", "|---|---|"]
    for name, c in r["checks"].items():
        lines.append(f"| {name} | " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                               for k, v in c.items()) + " |")
    lines += ["", "## Tools", "", ", ".join(f"{k} {v}" for k, v in r["tools"].items()), "",
              "## Quantisation per tensor", "",
              "| # | tensor | shape | dtype | const | scale | zero point |", "|---:|---|---|---|---|---|---|"]
    for t in r["tensors"]:
        scale, zp = _fmt_scale(t)
        name = t["name"] if len(t["name"]) <= 60 else "…" + t["name"][-59:]
        lines.append(f"| {t['index']} | `{name}` | {t['shape']} | {t['dtype']} | {'✓' if t['constant'] else ''} | "
                     f"{scale} | {zp} |")
    return "\n".join(lines) + "\n"


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_report(report: dict, out_dir: Path) -> tuple[Path, Path]:
    md, js = out_dir / "report.md", out_dir / "report.json"
    js.write_text(json.dumps(report, indent=1, default=_jsonable) + "\n", encoding="utf-8")
    md.write_text(render_markdown(report), encoding="utf-8")
    return md, js
