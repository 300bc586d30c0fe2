"""The conversion stages, each writing one artefact and checking it before the next stage runs.

    ExportAligner ──torch.onnx (dynamo, opset 18)──▶ student.onnx
    student.onnx (a copy) ──onnx2tf (SavedModel only, -kat)──▶ saved_model/
    saved_model ──TFLiteConverter──▶ student_float32.tflite
    saved_model ──TFLiteConverter (TFLITE_BUILTINS_INT8, int8 I/O,
                  per-channel, representative dataset)──▶ student_int8.tflite
    student_int8.tflite ──graph surgery (attention → FA_ATTENTION)──▶ student_device.tflite

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
def export_onnx(model, path: Path, log_path: Path, example=None) -> None:
    """Export a batch-1 :class:`ExportAligner` with the dynamo exporter (one self-contained file).

    ``example``: the example input (default zeros ``[1, cfg.window, cfg.n_mels]``), for other
    modules converted the same way (e.g. one attention layer for the kernel oracle).
    """
    import onnx
    import torch

    if example is None:
        cfg = model.cfg
        x = torch.zeros(1, cfg.window, cfg.n_mels)
    else:
        x = torch.as_tensor(example)
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


# ------------------------------------------------------------------- device model
def model_input_int8(windows: np.ndarray, in_quant: tuple[float, int]) -> np.ndarray:
    """int8 feature windows ``[N, T, F]`` as the model's int8 input: unchanged when its scale is 1/32 and
    zero point 0 (what the conversion pins), else requantised (as the runtime backends feed them)."""
    from ..frontend import INPUT_SCALE

    w = np.asarray(windows, dtype=np.int8)
    s, z = in_quant
    if abs(s - INPUT_SCALE) < 1e-12 and z == 0:
        return w
    return np.clip(np.rint(w.astype(np.float64) * INPUT_SCALE / s) + z, -128, 127).astype(np.int8)


def write_device_model(int8_path: Path, path: Path) -> "SurgeryResult":  # noqa: F821
    """Graph surgery on the int8 model (:func:`.surgery.device_flatbuffer`); fails when nothing was fused."""
    from .surgery import device_flatbuffer

    try:
        res = device_flatbuffer(int8_path)
    except ValueError as e:
        raise ConversionError("device", f"graph surgery failed: {e}") from None
    if res.attention_fused == 0:
        raise ConversionError("device", "no attention subgraph was fused into FA_ATTENTION: "
                              + ("; ".join(res.attention_skipped) or "the model has no SOFTMAX"))
    path.write_bytes(res.data)
    return res


def check_device_model(int8_path: Path, device_path: Path, windows: np.ndarray, *,
                       tflm_root: Path | None | str = "auto") -> dict:
    """Check that the device model computes exactly the builtin int8 model's scores on ``windows``
    (int8 features ``[N, T, F]``); raises :class:`ConversionError` ("device") otherwise.

    With a TFLM tree (``tflm_root``; ``"auto"``: :func:`.tflm_host.find_tflm_root`) both models run in a
    host build of TFLM with the ``FA_ATTENTION`` adapter and their int8 outputs must be identical
    (``method: "tflm"``). Without one (the PyPI runtime cannot load custom operators): the builtin
    model runs in the PyPI TFLM keeping every tensor, and each ``FA_ATTENTION`` operator — computed by
    the numpy reference of the kernel with the parameters read from the device model, as the adapter's
    Prepare reads them — must reproduce the output of the subgraph it replaced, byte for byte, on
    those activations; every other operator must be the builtin model's (``method: "numpy-oracle"``).
    """
    from . import flatbuffer as fbk
    from . import tflm_host

    builtin = fbk.load(int8_path)
    device = fbk.load(device_path)
    sg_b, sg_d = builtin.subgraphs[0], device.subgraphs[0]
    in_q = fbk.quant(sg_b.tensors[int(sg_b.inputs[0])])
    x = model_input_int8(windows, in_q) if in_q is not None else np.asarray(windows, np.int8)
    n_fa = sum(fbk.custom_code(device, op) == fbk.FA_ATTENTION for op in sg_d.operators)
    if tflm_root == "auto":
        try:
            tflm_root = tflm_host.find_tflm_root()
        except ValueError as e:
            raise ConversionError("device", str(e)) from None
    if tflm_root is not None:
        try:
            tflm = tflm_host.build_host_tflm(tflm_root)
            out_b, arena_b = tflm_host.run_windows(tflm, int8_path, x)
            out_d, arena_d = tflm_host.run_windows(tflm, device_path, x)
        except tflm_host.TFLMHostError as e:
            raise ConversionError("device", str(e), e.log) from None
        differ = int((out_b != out_d).sum())
        if differ:
            raise ConversionError("device", f"{device_path.name} differs from {int8_path.name} in TFLM: "
                                  f"{differ} of {out_b.size} output bytes on {len(x)} windows")
        return {"method": "tflm", "tflm_root": str(tflm_root), "windows": int(len(x)), "fa_attention_ops": n_fa,
                "identical_bytes": int(out_b.size), "arena_builtin": arena_b, "arena_device": arena_d}

    # numpy oracle of FA_ATTENTION on the builtin model's activations
    from ..kernels import attention_ref as ar
    from .tflm import load_tflm

    def names(model, sg, op):
        return (fbk.op_name(model, op), [fbk.tensor_name(sg.tensors[int(i)]) if i >= 0 else "" for i in op.inputs],
                [fbk.tensor_name(sg.tensors[int(i)]) for i in op.outputs])

    sites = fbk.find_attention(builtin)
    in_site = {i for s in sites for i in s.ops}
    rest_b = [names(builtin, sg_b, op) for i, op in enumerate(sg_b.operators) if i not in in_site]
    rest_d = [names(device, sg_d, op) for op in sg_d.operators if fbk.custom_code(device, op) != fbk.FA_ATTENTION]
    if rest_b != rest_d or n_fa != len(sites):
        raise ConversionError("device", f"{device_path.name} is not {int8_path.name} with its {len(sites)} "
                              f"attention subgraphs fused ({n_fa} FA_ATTENTION operators)")
    by_out = {fbk.tensor_name(sg_b.tensors[s.out]): s for s in sites}
    checks = []
    for op in sg_d.operators:
        if fbk.custom_code(device, op) != fbk.FA_ATTENTION:
            continue
        try:
            qt, window = fbk.fa_attention_quant(device, op)
            params = ar.make_params(qt)
        except ValueError as e:
            raise ConversionError("device", f"FA_ATTENTION: {e}") from None
        site = by_out[fbk.tensor_name(sg_d.tensors[int(op.outputs[0])])]
        checks.append((site, params, None if window == (-1, -1) else window))
    ip = load_tflm(int8_path.read_bytes(), preserve_all_tensors=True)
    compared = 0
    for w in x:
        ip.set_input(w[None], 0)
        ip.invoke()
        for s, params, window in checks:
            shp = (s.heads, -1, s.head_dim)
            q, k, v, o = (np.asarray(ip.GetTensor(int(t), 0)["tensor_data"]).reshape(shp).astype(np.int8)
                          for t in (s.q, s.k, s.v, s.out))
            got = ar.attention_ref(q, k, v, params, window=window)
            if not np.array_equal(got, o):
                raise ConversionError("device", f"FA_ATTENTION (numpy oracle) differs from the builtin attention "
                                      f"subgraph -> {fbk.tensor_name(sg_b.tensors[s.out])!r} in "
                                      f"{int((got != o).sum())} of {o.size} bytes")
            compared += o.size
    return {"method": "numpy-oracle", "windows": int(len(x)), "fa_attention_ops": n_fa,
            "identical_bytes": int(compared)}
