"""``convert_checkpoint``: PyTorch student → ONNX → SavedModel → float32 and full-int8 TFLite, checked and reported.

Output folder::

    student.onnx               float, opset 18 (dynamo exporter), batch 1
    saved_model/               onnx2tf's TensorFlow SavedModel
    student_float32.tflite     float reference for LiteRT
    student_int8.tflite        builtin-only int8 model: int8 in/out (input scale 1/32, zero point 0), any runtime
    student_device.tflite      what the device runs: student_int8.tflite with attention fused into FA_ATTENTION
                               (tflm_app/tflm/fa_attention.cc), checked to give identical int8 scores
    report.md, report.json     operators, sizes, MACs, TFLM arena, quantisation per tensor, checks
    logs/<stage>.log           what each tool printed

Same checkpoint, calibration source, ``n_calib`` and ``seed`` give the same
bytes in ``student.onnx``, ``student_float32.tflite``, ``student_int8.tflite`` and
``student_device.tflite``.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import stages
from .stages import ConversionError

ONNX_FILE = "student.onnx"
SAVED_MODEL_DIR = "saved_model"
FLOAT_FILE = "student_float32.tflite"
INT8_FILE = "student_int8.tflite"
DEVICE_FILE = "student_device.tflite"
N_STAGES = 8
N_CHECK_WINDOWS = 4            # calibration windows the numeric checks run on


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class ConversionResult:
    out_dir: Path
    onnx: Path
    saved_model: Path
    tflite_float32: Path
    tflite_int8: Path
    report_md: Path
    report_json: Path
    int8_bytes: int
    float32_bytes: int
    input_quant: tuple[float, int]
    output_quant: tuple[float, int]
    arena_bytes: int | None
    op_histogram: dict[str, int]
    macs_per_second: float
    durations: dict[str, float] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    tflite_device: Path | None = None        # None when convert_checkpoint(device=False)
    device_check: dict = field(default_factory=dict)   # check_device_model's result ("method" says which ran)

    def summary(self) -> str:
        arena = f"{self.arena_bytes:,} B arena" if self.arena_bytes else "arena not measured"
        return (f"{self.tflite_int8}: {self.int8_bytes:,} B int8, {arena}, "
                f"{self.macs_per_second / 1e6:.1f} M MAC/s, {sum(self.op_histogram.values())} ops")


def convert_checkpoint(checkpoint, out_dir: str | Path, calibration: str | Path | Sequence[np.ndarray], *,
                       n_calib: int = 200, seed: int = 0, attention: str = "per_head",
                       pin_input_scale: bool = True, measure_arena: bool = True, device: bool = True,
                       tflm_root: str | Path | None = "auto",
                       progress: Callable[[str], None] | None = _stderr) -> ConversionResult:
    """Convert a student to ONNX, float32 TFLite and full-int8 TFLite; write the report.

    checkpoint: path of a student checkpoint, ``None`` for the shipped model, or a
        :class:`~microalign.model.StudentAligner` (e.g. after pruning or QAT).
    calibration: int8 feature arrays ``[T, 40]``, a JSON-lines manifest or a folder
        of audio (see :mod:`.calibration`); ``n_calib`` windows are drawn with ``seed``.
    attention: ``"per_head"`` (smaller TFLM arena) or ``"batched"`` (see :mod:`.graph`).
    pin_input_scale: make the int8 input scale exactly 1/32 with zero point 0, so
        device features go in unchanged (fails if the converter does not comply).
    device: also write ``student_device.tflite`` (attention fused into ``FA_ATTENTION``) and check
        it gives the int8 model's scores byte for byte (:func:`.stages.check_device_model`): in a
        host build of TFLM when a tree is found (``tflm_root``; ``"auto"``: ``$TFLM_ROOT``, else
        ``../shared/tflm/host``), else with the numpy oracle of ``FA_ATTENTION``; ``None``: oracle.
    progress: called with one line per stage (default: stderr); ``None`` is silent.

    Raises :class:`ConversionError` (naming the stage) when a stage fails or its
    artefact does not load and run, including any operator TFLM lacks.
    """
    import torch

    from ..model import StudentAligner, load_checkpoint
    from .calibration import calibration_windows, pin_input_range
    from .graph import ExportAligner, check_equivalence
    from .report import build_report, write_report

    say = progress or (lambda _line: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    durations: dict[str, float] = {}
    checks: dict[str, dict] = {}
    t_all = time.perf_counter()

    def stage(k: int, name: str, t0: float, msg: str) -> None:
        durations[name] = time.perf_counter() - t0
        say(f"convert [{k}/{N_STAGES}] {name:<11} {msg} ({durations[name]:.1f} s)")

    # 1. model and calibration windows
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    if isinstance(checkpoint, StudentAligner):
        model, meta, ckpt_label = checkpoint.eval(), {}, "<in-memory model>"
    else:
        model, meta = load_checkpoint(checkpoint)
        from ..model import default_model_path

        ckpt_label = str(checkpoint if checkpoint is not None else default_model_path())
    cfg = model.cfg
    calib = calibration_windows(calibration, n_calib, seed=seed, window=cfg.window)
    windows = pin_input_range(calib.windows) if pin_input_scale else calib.windows
    from ..frontend import INPUT_SCALE

    representative = (windows.astype(np.float32) * np.float32(INPUT_SCALE))[:, None]   # [N, 1, T, F]
    check_windows = calib.windows[:N_CHECK_WINDOWS]
    stage(1, "calibration", t0, f"{len(calib)} windows from {calib.source} (seed {seed})")

    # 2. export graph and ONNX
    t0 = time.perf_counter()
    export = ExportAligner(model, attention=attention)
    xs = torch.from_numpy(check_windows.astype(np.float32) * np.float32(INPUT_SCALE))
    # folding drops constant (never-firing) channels, so the fused model is the float reference
    fused = model.fuse()
    with torch.no_grad():
        checks["fold_vs_torch"] = {"max_abs": max(float((model.eval()(x[None]) - fused(x[None])).abs().max())
                                                  for x in xs)}
    checks["export_graph_vs_fused"] = {"max_abs": check_equivalence(fused, export, xs)}
    onnx_path = out / ONNX_FILE
    stages.export_onnx(export, onnx_path, logs / "onnx.log")
    onnx_ops = stages.check_onnx(onnx_path, cfg.window, cfg.n_mels, cfg.n_tokens)
    from ..runtime.backends import OnnxBackend, TorchBackend

    ref = TorchBackend(model=fused)
    torch_out = [ref.log_probs(w) for w in check_windows]
    ob = OnnxBackend(onnx_path)
    err = max(float(np.abs(ob.log_probs(w) - r).max()) for w, r in zip(check_windows, torch_out))
    if err > 1e-3:
        raise ConversionError("onnx", f"ONNX Runtime output differs from PyTorch by {err:.3g}")
    checks["onnx_vs_torch"] = {"max_abs": err}
    stage(2, "onnx", t0, f"{onnx_path.name}: {len(onnx_ops)} nodes, {onnx_path.stat().st_size:,} B, "
                         f"max |Δ| vs torch {err:.1e}")

    # 3. onnx2tf
    t0 = time.perf_counter()
    sm = out / SAVED_MODEL_DIR
    stages.onnx_to_saved_model(onnx_path, sm, logs / "onnx2tf.log")
    stage(3, "onnx2tf", t0, f"{sm.name}/ written")

    # 4. float32 TFLite
    t0 = time.perf_counter()
    fpath = out / FLOAT_FILE
    stages.saved_model_to_float_tflite(sm, fpath, logs / "tflite_float.log")
    from ..runtime.backends import LiteRTBackend

    fb = _load_checked("tflite-float", LiteRTBackend, fpath, cfg)
    if fb.is_int8:
        raise ConversionError("tflite-float", "the float model came out quantised")
    float_out = [fb.log_probs(w) for w in check_windows]
    if float_out[0].shape != (cfg.window, cfg.n_tokens):
        raise ConversionError("tflite-float", f"output shape {float_out[0].shape}, expected ({cfg.window}, {cfg.n_tokens})")
    err = max(float(np.abs(f - r).max()) for f, r in zip(float_out, torch_out))
    if err > 1e-2:
        raise ConversionError("tflite-float", f"LiteRT float output differs from PyTorch by {err:.3g} "
                              "(a layout or conversion error)")
    checks["tflite_float_vs_torch"] = {"max_abs": err}
    stage(4, "tflite-fp32", t0, f"{fpath.name}: {fpath.stat().st_size:,} B, max |Δ| vs torch {err:.1e}")

    # 5. int8 TFLite
    t0 = time.perf_counter()
    ipath = out / INT8_FILE
    stages.saved_model_to_int8_tflite(sm, ipath, representative, logs / "tflite_int8.log")
    from .tflite_model import read_tflite

    info = read_tflite(ipath)
    problems = info.int8_problems()
    if problems:
        raise ConversionError("tflite-int8", "not a pure int8 graph: " + "; ".join(problems[:8]))
    in_q, out_q = info.io_quant()
    if pin_input_scale and (abs(in_q[0] - INPUT_SCALE) > 1e-9 or in_q[1] != 0):
        raise ConversionError("tflite-int8", f"input quantisation came out as scale {in_q[0]!r}, zero point "
                              f"{in_q[1]} instead of {INPUT_SCALE}, 0")
    ib = _load_checked("tflite-int8", LiteRTBackend, ipath, cfg)
    int8_raw = [ib.run(w) for w in check_windows]
    if int8_raw[0].shape != (cfg.window, cfg.n_tokens) or int8_raw[0].dtype != np.int8:
        raise ConversionError("tflite-int8", f"output is {int8_raw[0].dtype} {int8_raw[0].shape}, expected int8 "
                              f"({cfg.window}, {cfg.n_tokens})")
    int8_out = [ib.log_probs(w) for w in check_windows]
    from .metrics import int8_lsb_diff, output_errors

    checks["tflite_int8_vs_torch"] = output_errors(np.concatenate(torch_out), np.concatenate(int8_out))
    stage(5, "tflite-int8", t0, f"{ipath.name}: {ipath.stat().st_size:,} B, input scale {in_q[0]:.6g} zp {in_q[1]}, "
                                f"argmax agreement {checks['tflite_int8_vs_torch']['argmax']:.1%}")

    # 6. TFLite Micro
    t0 = time.perf_counter()
    from ..runtime.backends import TFLMBackend
    from .tflm import TFLMError, UnsupportedOpError, measure_arena as _measure

    try:
        tb = TFLMBackend(ipath)
        tflm_raw = [tb.run(w) for w in check_windows]
    except UnsupportedOpError as e:
        raise ConversionError("tflm", str(e), e.log) from None
    except TFLMError as e:
        raise ConversionError("tflm", str(e), e.log) from None
    checks["tflm_vs_tflite_int8"] = int8_lsb_diff(np.stack(tflm_raw), np.stack(int8_raw))
    arena = _measure(ipath.read_bytes()) if measure_arena else None
    stage(6, "tflm", t0, "loads and runs; " + (f"arena {arena.min_arena_bytes:,} B; " if arena else "")
          + f"max {checks['tflm_vs_tflite_int8']['max_lsb']} LSB from LiteRT int8")

    # 7. device model
    dpath, device_check = None, {}
    if device:
        t0 = time.perf_counter()
        dpath = out / DEVICE_FILE
        surgery = stages.write_device_model(ipath, dpath)
        device_check = stages.check_device_model(ipath, dpath, check_windows, tflm_root=tflm_root)
        checks["device_vs_tflite_int8"] = device_check
        how = ("in TFLM (host build, FA_ATTENTION adapter)" if device_check["method"] == "tflm"
               else "with the numpy oracle of FA_ATTENTION (no TFLM tree)")
        stage(7, "device", t0, f"{dpath.name}: {dpath.stat().st_size:,} B, {surgery.attention_fused} FA_ATTENTION; "
                               f"scores identical to {ipath.name} {how} on {device_check['windows']} windows")
    else:
        say(f"convert [7/{N_STAGES}] device      skipped (device=False)")

    # 8. report
    t0 = time.perf_counter()
    durations["total"] = time.perf_counter() - t_all
    report = build_report(model=model, meta=meta, checkpoint=ckpt_label, calib=calib, pinned=pin_input_scale,
                          attention=attention, info=info, float_bytes=fpath.stat().st_size, onnx_path=onnx_path,
                          int8_path=ipath, arena=arena, checks=checks, durations=durations)
    if dpath is not None:
        import hashlib

        report["artefacts"]["tflite_device"] = {"file": dpath.name, "bytes": dpath.stat().st_size,
                                                "sha256": hashlib.sha256(dpath.read_bytes()).hexdigest(),
                                                "fa_attention": surgery.attention_fused}
    md, js = write_report(report, out)
    stage(8, "report", t0, f"{md.name}, {js.name}")
    from ..model import macs_per_second

    return ConversionResult(out, onnx_path, sm, fpath, ipath, md, js, ipath.stat().st_size, fpath.stat().st_size,
                            in_q, out_q, arena.min_arena_bytes if arena else None, info.op_histogram(),
                            macs_per_second(cfg), durations, report, dpath, device_check)


def _load_checked(stage: str, cls, path: Path, cfg):
    try:
        b = cls(path)
    except Exception as e:
        raise ConversionError(stage, f"{path.name} does not load: {type(e).__name__}: {e}") from None
    if (b.window, b.n_mels) != (cfg.window, cfg.n_mels):
        raise ConversionError(stage, f"{path.name} has input [1, {b.window}, {b.n_mels}], expected "
                              f"[1, {cfg.window}, {cfg.n_mels}] (layout not kept?)")
    return b


def requantize(converted_dir: str | Path, calibration: str | Path | Sequence[np.ndarray], n_calib: int, *,
               seed: int = 0, pin_input_scale: bool = True, out_path: str | Path | None = None) -> Path:
    """Another int8 model from an existing conversion's SavedModel, with a different calibration set.

    For calibration studies: only the int8 stage runs (seconds, not a full
    conversion). Writes ``student_int8_n<n_calib>_s<seed>.tflite`` in
    ``converted_dir`` unless ``out_path`` is given; checks it is pure int8
    and loads in TFLM.
    """
    from ..frontend import INPUT_SCALE
    from .calibration import calibration_windows, pin_input_range
    from .tflite_model import read_tflite
    from .tflm import load_tflm

    d = Path(converted_dir)
    sm = d / SAVED_MODEL_DIR
    if not (sm / "saved_model.pb").is_file():
        raise FileNotFoundError(f"no SavedModel in {d} (run convert_checkpoint first)")
    if not (d / INT8_FILE).is_file():
        raise FileNotFoundError(f"no {INT8_FILE} in {d} (run convert_checkpoint first)")
    ref = read_tflite(d / INT8_FILE)
    window = ref.tensors[ref.inputs[0]].shape[1]
    calib = calibration_windows(calibration, n_calib, seed=seed, window=window)
    w = pin_input_range(calib.windows) if pin_input_scale else calib.windows
    path = Path(out_path) if out_path else d / f"student_int8_n{n_calib}_s{seed}.tflite"
    stages.saved_model_to_int8_tflite(sm, path, (w.astype(np.float32) * np.float32(INPUT_SCALE))[:, None],
                                      d / "logs" / f"{path.stem}.log")
    problems = read_tflite(path).int8_problems()
    if problems:
        raise ConversionError("tflite-int8", "not a pure int8 graph: " + "; ".join(problems[:8]))
    try:
        load_tflm(path.read_bytes())
    except RuntimeError as e:
        raise ConversionError("tflm", str(e)) from None
    return path
