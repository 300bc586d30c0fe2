"""PyTorch → ONNX → TFLite (float32, full int8) → TFLM: artefacts, op set, runtimes, determinism.

One conversion per session (a seeded random student with non-trivial
BatchNorm statistics, calibrated on the bundled sample's features); the
determinism test converts a second time. Needs the ``convert`` extra.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("onnx2tf")
pytest.importorskip("tflite_micro")
pytest.importorskip("ai_edge_litert")

from microalign.export import ConversionError, UnsupportedOpError, convert_checkpoint, read_tflite, requantize  # noqa: E402,E501
from microalign.export.convert import DEVICE_FILE, FLOAT_FILE, INT8_FILE, ONNX_FILE  # noqa: E402
from microalign.frontend import INPUT_SCALE, features_from_pcm  # noqa: E402
from microalign.runtime import load_backend  # noqa: E402

N_CALIB = 3
ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"


def random_student(seed: int = 0):
    """A seeded untrained student whose BatchNorms have non-trivial statistics (so fusing matters)."""
    import torch

    from microalign.model import StudentAligner

    torch.manual_seed(seed)
    m = StudentAligner()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm1d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    return m.eval()


@pytest.fixture(scope="session")
def sample_features() -> list[np.ndarray]:
    from microalign.audio import load_audio

    return [features_from_pcm(load_audio(ASSETS / "sample.wav", quiet=True))]


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    from microalign.model import save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "random_student.pt"
    save_checkpoint(path, random_student(), meta={"note": "test: random weights"})
    return path


@pytest.fixture(scope="session")
def converted(tmp_path_factory, checkpoint, sample_features):
    lines: list[str] = []
    out = tmp_path_factory.mktemp("convert") / "a"
    result = convert_checkpoint(checkpoint, out, sample_features, n_calib=N_CALIB, seed=0, progress=lines.append)
    return result, lines


@pytest.fixture(scope="session")
def window(sample_features) -> np.ndarray:
    return sample_features[0][:400]


# --------------------------------------------------------------------------- artefacts
def test_artefacts_exist_and_load(converted):
    import onnx

    res, lines = converted
    assert len(lines) == 8 and all(line.startswith("convert [") for line in lines)
    for p in (res.onnx, res.tflite_float32, res.tflite_int8, res.tflite_device, res.report_md, res.report_json):
        assert p.is_file() and p.stat().st_size > 0, p
    assert (res.saved_model / "saved_model.pb").is_file()
    onnx.checker.check_model(onnx.load(str(res.onnx)))
    for name, path in (("tflite-float", res.tflite_float32), ("tflite", res.tflite_int8), ("tflm", res.tflite_int8),
                       ("onnx", res.onnx)):
        b = load_backend(name, path)
        assert (b.window, b.n_mels) == (400, 40)
    report = json.loads(res.report_json.read_text())
    assert report["int8"]["int8_only"] is True
    assert report["artefacts"]["tflite_int8"]["bytes"] == res.int8_bytes
    assert report["tflm"]["arena"]["min_arena_bytes"] == res.arena_bytes > 0
    assert report["macs"]["per_window_graph"] == report["macs"]["per_window_model"]
    assert len(report["calibration"]["windows"]) == N_CALIB
    md = res.report_md.read_text()
    for heading in ("## int8 graph", "## Sizes", "TFLM arena", "## MACs", "## Quantisation per tensor"):
        assert heading in md


def test_device_model_is_written_and_checked_against_the_int8_model(converted):
    """student_device.tflite (attention fused into FA_ATTENTION) gave the int8 model's scores byte for
    byte: in TFLM when a tree is found (TFLM_ROOT, default ../shared/tflm/host), else the numpy oracle."""
    from microalign.export import flatbuffer as fbk
    from microalign.export.surgery import device_flatbuffer
    from microalign.export.tflm_host import find_tflm_root

    res, lines = converted
    check = res.device_check
    assert check["method"] == ("tflm" if find_tflm_root() is not None else "numpy-oracle")
    n_softmax = read_tflite(res.tflite_int8).op_histogram()["SOFTMAX"]
    assert check["fa_attention_ops"] == n_softmax >= 1 and check["identical_bytes"] > 0
    assert res.tflite_device.read_bytes() == device_flatbuffer(res.tflite_int8).data
    assert fbk.find_attention(res.tflite_device) == []
    line = next(ln for ln in lines if ln.startswith("convert [7/8] device"))
    assert ("in TFLM" in line) == (check["method"] == "tflm") and "identical" in line
    report = json.loads(res.report_json.read_text())
    assert report["checks"]["device_vs_tflite_int8"]["method"] == check["method"]
    assert report["artefacts"]["tflite_device"]["fa_attention"] == n_softmax


def test_int8_graph_is_pure_int8(converted):
    info = read_tflite(converted[0].tflite_int8)
    assert info.int8_problems() == []
    names = set(info.op_histogram())
    assert not names & {"QUANTIZE", "DEQUANTIZE"}
    assert not any(n.startswith(("CUSTOM", "Flex")) for n in names)
    assert all(t.dtype in ("int8", "int32") for t in info.tensors)
    assert {t.dtype for t in info.activation_tensors()} == {"int8"}
    (in_s, in_z), (out_s, out_z) = info.io_quant()
    assert (in_s, in_z) == (INPUT_SCALE, 0)            # device features go in unchanged
    assert (out_s, out_z) == (1 / 16, 127)             # TFLite's fixed LOG_SOFTMAX output quantisation
    for op in info.ops:                                # weights per output channel
        if op.name in ("FULLY_CONNECTED", "CONV_2D"):
            w = info.tensors[op.inputs[1]]
            assert w.dtype == "int8" and len(w.scale) == w.shape[0], (op.name, w.name)


def test_float_artefacts_match_torch(converted, window):
    res = converted[0]
    ref = load_backend("torch", res.report["checkpoint"]).log_probs(window)
    for name, path in (("onnx", res.onnx), ("tflite-float", res.tflite_float32)):
        y = load_backend(name, path).log_probs(window)
        assert y.shape == (400, 28) and y.dtype == np.float32
        np.testing.assert_allclose(y, ref, atol=1e-3, err_msg=name)


def test_tflm_runs_the_int8_model(converted, window):
    from microalign.export.metrics import int8_lsb_diff, output_errors

    res = converted[0]
    tflm = load_backend("tflm", res.tflite_int8)
    raw = tflm.run(window)
    assert raw.dtype == np.int8 and raw.shape == (400, 28)
    assert tflm.output_quant == (1 / 16, 127)
    lp = tflm.log_probs(window)
    total = np.exp(lp.astype(np.float64)).sum(axis=1)                 # log-probs: each frame sums to ~1
    assert np.all(lp <= 0) and np.all(np.abs(total - 1) < 0.25), (total.min(), total.max())
    lite = load_backend("tflite", res.tflite_int8).run(window)
    assert int8_lsb_diff(raw, lite)["max_lsb"] <= 8                    # TFLM vs LiteRT reference kernels
    ref = load_backend("torch", res.report["checkpoint"]).log_probs(window)
    assert output_errors(ref, lp)["cosine"] > 0.99


def test_measured_arena_is_the_smallest(converted):
    from microalign.export.tflm import arena_fits

    data = converted[0].tflite_int8.read_bytes()
    n = converted[0].arena_bytes
    assert arena_fits(data, n)
    assert not arena_fits(data, n - 64)


def test_backend_interface(converted, window):
    from microalign.runtime import FrameScores

    res = converted[0]
    b = load_backend("tflite", res.tflite_int8)
    fs = b(window)
    assert isinstance(fs, FrameScores) and fs.is_int8 and (fs.scale, fs.zero_point) == (1 / 16, 127)
    assert not load_backend("tflite-float", res.tflite_float32)(window).is_int8
    with pytest.raises(ValueError, match=r"\(400, 40\)"):
        b.run(window[:100])
    with pytest.raises(TypeError, match="int8"):
        b.run(window.astype(np.float32))
    with pytest.raises(ValueError, match="int8 model; backend tflite-float"):
        load_backend("tflite-float", res.tflite_int8)
    with pytest.raises(ValueError, match=".tflite"):
        load_backend("tflm", res.onnx)
    with pytest.raises(ValueError, match="unknown backend"):
        load_backend("coreml", res.onnx)
    with pytest.raises(FileNotFoundError):
        load_backend("tflm", res.out_dir / "missing.tflite")


def test_aligner_runs_on_tflm(converted):
    """The lead's pipeline takes a backend as its window scorer (int8 path: the integer decoder)."""
    from microalign.align import align_file

    b = load_backend("tflm", converted[0].tflite_int8)
    text = (ASSETS / "sample.txt").read_text()
    al = align_file(ASSETS / "sample.wav", text, b)
    assert len(al.words) > 5
    assert all(0 <= w.start <= w.end <= al.duration for w in al.words)


# --------------------------------------------------------------------------- determinism
def test_conversion_is_deterministic(converted, checkpoint, sample_features, tmp_path):
    res = converted[0]
    again = convert_checkpoint(checkpoint, tmp_path / "b", sample_features, n_calib=N_CALIB, seed=0,
                               measure_arena=False, progress=None)
    for name in (ONNX_FILE, FLOAT_FILE, INT8_FILE, DEVICE_FILE):
        assert (again.out_dir / name).read_bytes() == (res.out_dir / name).read_bytes(), name


def test_requantize_other_calibration(converted, sample_features):
    p = requantize(converted[0].out_dir, sample_features, 2, seed=1)
    assert p.is_file() and read_tflite(p).int8_problems() == []
    assert p.read_bytes() != converted[0].tflite_int8.read_bytes()


# --------------------------------------------------------------------------- failures
def test_unsupported_op_is_named(converted):
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    from microalign.export.tflm import load_tflm

    m = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(bytearray(converted[0].tflite_int8.read_bytes()), 0))
    for code in m.operatorCodes:                     # pretend PAD were GELU (no TFLM kernel)
        if code.builtinCode == fb.BuiltinOperator.PAD:
            code.builtinCode, code.deprecatedBuiltinCode = fb.BuiltinOperator.GELU, 127
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(UnsupportedOpError, match="GELU") as e:
        load_tflm(bytes(b.Output()))
    assert e.value.ops == ["GELU"]


def test_bad_calibration_source_fails_before_converting(checkpoint, tmp_path):
    with pytest.raises(FileNotFoundError, match="calibration source"):
        convert_checkpoint(checkpoint, tmp_path, tmp_path / "nothing.jsonl", n_calib=2, progress=None)
    with pytest.raises(ValueError, match="int8"):
        convert_checkpoint(checkpoint, tmp_path, [np.zeros((50, 40), np.float32)], n_calib=2, progress=None)


def test_conversion_error_names_the_stage():
    e = ConversionError("onnx2tf", "no SavedModel was written", "line 1\nline 2")
    assert str(e).startswith("onnx2tf: no SavedModel") and "line 2" in str(e)


# --------------------------------------------------------------------------- pieces without TensorFlow
def test_export_graph_matches_the_model():
    import torch

    from microalign.export.graph import ExportAligner, check_equivalence

    m = random_student(1)
    x = torch.from_numpy(np.random.default_rng(0).integers(-128, 128, (2, 400, 40)).astype(np.float32) * INPUT_SCALE)
    for mode in ("per_head", "batched"):
        assert check_equivalence(m, ExportAligner(m, attention=mode), x) < 1e-4
    with pytest.raises(ValueError, match="attention mode"):
        ExportAligner(m, attention="flash")


def test_calibration_windows_are_reproducible(sample_features):
    from microalign.export.calibration import calibration_windows, pin_input_range

    a = calibration_windows(sample_features, 3, seed=0)
    b = calibration_windows(sample_features, 3, seed=0)
    assert a.windows.shape == (3, 400, 40) and a.windows.dtype == np.int8
    assert np.array_equal(a.windows, b.windows) and a.picks == b.picks
    assert sorted(s for _, s in a.picks) == [0, 300, len(sample_features[0]) - 400]   # the aligner's windows
    with pytest.raises(ValueError, match="only 3 windows"):
        calibration_windows(sample_features, 4)
    p = pin_input_range(a.windows)
    assert p.min() == -128 and p.max() == 127 and np.array_equal(p[1:], a.windows[1:])


def test_output_errors_metrics():
    from microalign.export.metrics import output_errors

    r = np.log(np.full((10, 4), 0.25))
    e = output_errors(r, r)
    assert e["rmse"] == 0 and e["cosine"] == pytest.approx(1) and e["argmax"] == 1
    p = r.copy()
    p[:, 0] += 1.0
    e = output_errors(r, p)
    assert e["mae"] == pytest.approx(0.25) and e["rmse"] == pytest.approx(0.5) and e["argmax"] == 1
    assert output_errors(np.full((2, 2), -40.0), np.full((2, 2), -20.0))["max_abs"] == 0   # below the int8 floor
