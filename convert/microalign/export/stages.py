"""The conversion stages, each writing one artefact and checking it before the next stage runs.

    ExportAligner ──torch.onnx (dynamo, opset 18)──▶ student.onnx
    student.onnx (a copy) ──onnx2tf (SavedModel only, -kat)──▶ saved_model/
    saved_model ──TFLiteConverter──▶ student_float32.tflite
    saved_model ──TFLiteConverter (TFLITE_BUILTINS_INT8, int8 I/O,
                  per-channel, representative dataset)──▶ student_int8.tflite

The toolchain's chatter (TensorFlow's C++ logging, onnx2tf's tables) goes to
``logs/<stage>.log`` in the output folder; a failure raises
:class:`ConversionError` naming the stage, with the end of its log.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

INPUT_NAME = "features"
OUTPUT_NAME = "log_probs"
OPSET = 18


class ConversionError(RuntimeError):
    """A conversion stage failed or produced an unusable artefact."""

    def __init__(self, stage: str, message: str, log: str = "") -> None:
        tail = "\n".join(log.strip().splitlines()[-15:]) if log.strip() else ""
        super().__init__(f"{stage}: {message}" + (f"\n--- end of the {stage} log ---\n{tail}" if tail else ""))
        self.stage, self.log = stage, log


def quiet_tensorflow() -> None:
    """Quieter, reproducible TensorFlow (effective only before TF is first imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


@contextlib.contextmanager
def logged(log_path: Path) -> Iterator[list[str]]:
    """Send Python and C output of the block to ``log_path``; the text is also yielded (filled on exit)."""
    from .tflm import captured_native_output

    buf = io.StringIO()
    out: list[str] = []
    native: list[str] = []
    try:
        with captured_native_output() as native:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                yield out
    finally:
        text = buf.getvalue() + "".join(native)
        out.append(text)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------- ONNX
def export_onnx(model, path: Path, log_path: Path) -> None:
    """Export a batch-1 :class:`ExportAligner` with the dynamo exporter (one self-contained file)."""
    import onnx
    import torch

    cfg = model.cfg
    x = torch.zeros(1, cfg.window, cfg.n_mels)
    tmp = Path(tempfile.mkdtemp(prefix="onnx-", dir=path.parent))
    try:
        with logged(log_path) as log:
            try:
                torch.onnx.export(model, (x,), str(tmp / "model.onnx"), dynamo=True, opset_version=OPSET,
                                  input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], external_data=False,
                                  verbose=False)
                err = None
            except Exception as e:  # the exporter raises many types
                err = e
        if err is not None:
            raise ConversionError("onnx", f"torch.onnx.export failed: {type(err).__name__}: {err}", log[0])
        proto = onnx.load(str(tmp / "model.onnx"))
        _strip_metadata(proto)
        onnx.save(proto, str(path), save_as_external_data=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _strip_metadata(proto) -> None:
    """Drop the exporter's per-node provenance (source paths and line numbers): same model, same bytes anywhere."""
    g = proto.graph
    proto.doc_string = g.doc_string = ""
    for item in [*g.node, *g.input, *g.output, *g.value_info, *g.initializer]:
        del item.metadata_props[:]
        if hasattr(item, "doc_string"):
            item.doc_string = ""


def check_onnx(path: Path, window: int, n_mels: int, n_tokens: int) -> list[str]:
    """Load and check the ONNX model; returns its operator types."""
    import onnx

    if not path.is_file() or path.stat().st_size == 0:
        raise ConversionError("onnx", f"{path} was not written")
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except Exception as e:
        raise ConversionError("onnx", f"{path.name} does not load: {e}") from None

    def dims(v):
        return [d.dim_value for d in v.type.tensor_type.shape.dim]

    if [i.name for i in proto.graph.input] != [INPUT_NAME] or dims(proto.graph.input[0]) != [1, window, n_mels]:
        raise ConversionError("onnx", f"unexpected inputs {[(i.name, dims(i)) for i in proto.graph.input]}")
    if dims(proto.graph.output[0]) != [1, window, n_tokens]:
        raise ConversionError("onnx", f"unexpected output shape {dims(proto.graph.output[0])}")
    return [n.op_type for n in proto.graph.node]


# ------------------------------------------------------------------- onnx2tf
def onnx_to_saved_model(onnx_path: Path, saved_model_dir: Path, log_path: Path) -> None:
    """onnx2tf on a copy of the ONNX file (it overwrites its input), writing the SavedModel only.

    ``keep_shape_absolutely_input_names`` keeps the ``[1, T, F]`` input layout
    (onnx2tf would otherwise read it as NCW and transpose it). onnx2tf may
    exit 0 after failing, or call ``sys.exit``: both are caught and the
    SavedModel is checked.
    """
    quiet_tensorflow()
    work = Path(tempfile.mkdtemp(prefix="onnx2tf-", dir=saved_model_dir.parent))
    try:
        shutil.copyfile(onnx_path, work / "model.onnx")
        with logged(log_path) as log:
            err = None
            try:
                import onnx2tf
                import tf_keras

                tf_keras.backend.clear_session()    # layer-name counters: same names (bytes) on every run
                onnx2tf.convert(input_onnx_file_path=str(work / "model.onnx"), output_folder_path=str(work / "tf"),
                                keep_shape_absolutely_input_names=[INPUT_NAME], non_verbose=True,
                                verbosity="error")
            except SystemExit as e:
                err = f"onnx2tf exited with status {e.code}"
            except Exception as e:
                err = f"onnx2tf raised {type(e).__name__}: {e}"
        if err:
            raise ConversionError("onnx2tf", err, log[0])
        if not (work / "tf" / "saved_model.pb").is_file():
            raise ConversionError("onnx2tf", "no SavedModel was written (onnx2tf reported success)", log[0])
        if saved_model_dir.exists():
            shutil.rmtree(saved_model_dir)
        saved_model_dir.mkdir(parents=True)
        for name in ("saved_model.pb", "variables", "assets", "fingerprint.pb"):
            src = work / "tf" / name
            if src.exists():
                shutil.move(str(src), str(saved_model_dir / name))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------- TFLite
def _converter(saved_model_dir: Path):
    quiet_tensorflow()
    import tensorflow as tf

    return tf, tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))


def _write_tflite(stage: str, saved_model_dir: Path, path: Path, log_path: Path, configure=None) -> None:
    """Convert the SavedModel (``configure(tf, converter)`` sets the options) and write the flatbuffer;
    any converter error becomes a :class:`ConversionError` of ``stage`` with the log."""
    with logged(log_path) as log:
        try:
            tf, conv = _converter(saved_model_dir)
            if configure is not None:
                configure(tf, conv)
            data, err = conv.convert(), None
        except Exception as e:
            data, err = None, e
    if err is not None:
        raise ConversionError(stage, f"{type(err).__name__}: {err}", log[0])
    path.write_bytes(data)


def saved_model_to_float_tflite(saved_model_dir: Path, path: Path, log_path: Path) -> None:
    _write_tflite("tflite-float", saved_model_dir, path, log_path)


def saved_model_to_int8_tflite(saved_model_dir: Path, path: Path, representative: np.ndarray,
                               log_path: Path) -> None:
    """Full-int8 conversion: int8 input and output, per-channel weights, only TFLITE_BUILTINS_INT8.

    ``representative``: float32 ``[N, 1, T, F]`` model inputs, fed in order.
    The converter fails loudly on any operation it cannot make int8.
    """
    def dataset() -> Iterator[list[np.ndarray]]:
        for x in representative:
            yield [x]

    def configure(tf, conv) -> None:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = dataset
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        conv._experimental_disable_per_channel = False
        conv._experimental_disable_per_channel_quantization_for_dense_layers = False

    _write_tflite("tflite-int8", saved_model_dir, path, log_path, configure)
