"""The runtime layer, tested once and run per backend of the registry (as torchaudio runs its tests per device).

Backends whose runtime is not installed skip with the reason. Model files:
the shipped one when the package has it (torch, tflite, tflm); for onnx, an
export of the shipped checkpoint made here; for any backend, the folder
``$MICROALIGN_CONVERTED`` (written by ``microalign convert``) when set.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

from microalign.runtime import (BACKEND_NAMES, BACKENDS, BackendUnavailableError, FrameScores, MissingModelError,
                                frame_scores, load_backend, pad_window, window_owners, window_starts)

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
SAMPLE = ASSETS / "sample.wav"
TEXT = (ASSETS / "sample.txt").read_text().strip()


@pytest.fixture(scope="session")
def sample_pcm() -> np.ndarray:
    from microalign.audio import load_audio

    return load_audio(SAMPLE, quiet=True)


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> dict:
    """backend name -> model file, or the reason there is none."""
    out: dict[str, Path | str] = {}
    converted = os.environ.get("MICROALIGN_CONVERTED")
    for name, spec in BACKENDS.items():
        if converted and name != "torch" and (Path(converted) / spec.asset).is_file():
            out[name] = Path(converted) / spec.asset
        elif spec.shipped:
            out[name] = spec.default_model()
        elif name == "onnx" and not spec.unavailable() and not BACKENDS["tflite"].unavailable():
            from microalign.export import stages
            from microalign.export.graph import ExportAligner
            from microalign.model import load_checkpoint

            d = tmp_path_factory.mktemp("onnx")
            stages.export_onnx(ExportAligner(load_checkpoint()[0]), d / spec.asset, d / "onnx.log")
            out[name] = d / spec.asset
        else:
            out[name] = (f"no {spec.asset} shipped: set MICROALIGN_CONVERTED to a `microalign convert` output "
                         "folder to test this backend")
    return out


_LOADED: dict = {}


@pytest.fixture(params=BACKEND_NAMES)
def backend(request, model_files):
    name = request.param
    reason = BACKENDS[name].unavailable()
    if reason:
        pytest.skip(reason)
    if isinstance(model_files[name], str):
        pytest.skip(model_files[name])
    if name not in _LOADED:
        _LOADED[name] = load_backend(name, model_files[name])
    return _LOADED[name]


@pytest.fixture(scope="session")
def torch_backend():
    return load_backend("torch")


@pytest.fixture(scope="session")
def export_graph_backend():
    """The float reference of the converted models: the export graph (BatchNorm folded, which moves
    log-probabilities far below the int8 floor by up to ~0.1)."""
    return load_backend("torch", export_graph=True)


# --------------------------------------------------------------------------- per backend
def test_window_scores(backend, sample_pcm):
    from microalign.frontend import features_from_pcm

    spec = BACKENDS[backend.name]
    win = pad_window(features_from_pcm(sample_pcm), 0, backend.window)
    fs = backend(win)
    assert isinstance(fs, FrameScores)
    assert fs.values.shape == (backend.window, len(backend.tokens)) == (400, 28)
    assert fs.is_int8 == spec.int8
    assert fs.values.dtype == (np.int8 if spec.int8 else np.float32)
    assert (fs.scale is not None) == spec.int8 and (fs.zero_point is not None) == spec.int8
    lp = fs.log_probs()
    assert lp.dtype == np.float32 and np.all(lp <= 1e-6)
    mass = np.exp(lp.astype(np.float64)).sum(axis=1)            # log-probabilities: each frame sums to ~1
    assert np.all(np.abs(mass - 1) < (0.25 if spec.int8 else 1e-4)), (mass.min(), mass.max())
    assert np.array_equal(backend(win).values, fs.values)        # deterministic
    assert len(np.unique(lp.argmax(axis=1))) > 5                 # speech: many different best tokens


def test_window_scores_agree_with_torch(backend, export_graph_backend, sample_pcm):
    from microalign.frontend import features_from_pcm

    feats = features_from_pcm(sample_pcm)
    win = pad_window(feats, 300, backend.window)
    ref, got = export_graph_backend.log_probs(win), backend.log_probs(win)
    floor = -15.9375                                             # int8 LOG_SOFTMAX saturates here
    err = np.abs(np.maximum(got, floor) - np.maximum(ref, floor))
    if BACKENDS[backend.name].int8:
        assert np.mean(ref.argmax(1) == got.argmax(1)) > 0.9 and err.mean() < 0.3, err.mean()
    elif backend.name == "torch":                                # the training graph: folding moves it a little
        assert np.array_equal(ref.argmax(1), got.argmax(1)) and err.max() < 0.1, err.max()
    else:                                                        # converted from the export graph
        assert err.max() < 1e-3, err.max()


def test_ten_seconds_are_stitched_from_owner_windows(backend, sample_pcm):
    """10 s of audio (three windows): every frame's scores are its owner window's, unchanged."""
    from microalign.frontend import features_from_pcm

    pcm = np.concatenate([sample_pcm, sample_pcm[:16000 * 10 - len(sample_pcm)]])
    feats = features_from_pcm(pcm)
    assert len(feats) == 1000
    fs = frame_scores(feats, backend)
    assert fs.values.shape == (1000, 28) and fs.values.dtype == (np.int8 if backend.is_int8 else np.float32)
    starts = window_starts(len(feats), backend.window)
    assert starts == [0, 300, 600]
    owner = window_owners(len(feats), starts, backend.window)
    assert sorted(set(owner.tolist())) == [0, 1, 2]
    for k, s in enumerate(starts):
        idx = np.nonzero(owner == k)[0]
        assert np.array_equal(fs.values[idx], backend(pad_window(feats, s, backend.window)).values[idx - s])
    if backend.is_int8:
        assert (fs.scale, fs.zero_point) == backend.output_quant


def test_sample_aligns_like_torch(backend, torch_backend):
    from microalign.align import align_file

    ref = align_file(SAMPLE, TEXT, torch_backend)
    got = align_file(SAMPLE, TEXT, backend)
    assert [w.word for w in got.words] == [w.word for w in ref.words]
    assert [w.source for w in got.words][-1] == "£10,500."
    shift = np.mean([abs(a.start - b.start) + abs(a.end - b.end) for a, b in zip(ref.words, got.words)]) / 2
    assert shift <= (0.02 if backend.is_int8 else 0.001), f"{backend.name}: {shift * 1000:.1f} ms from torch"


# --------------------------------------------------------------------------- the registry
def test_registry_is_consistent():
    assert BACKEND_NAMES == tuple(BACKENDS) == ("torch", "onnx", "tflite-float", "tflite", "tflm")
    for name, spec in BACKENDS.items():
        assert spec.name == name
        assert spec.default_model().name == spec.asset and spec.asset.endswith(spec.suffix)
        assert spec.int8 == ("int8" in spec.asset), name              # the converter's file names
    assert BACKENDS["torch"].shipped and BACKENDS["tflm"].shipped


def test_every_consumer_uses_the_registry():
    from microalign.cli import main
    from microalign.scoring import compare

    for cmd in ("align", "eval"):
        choice = next(p for p in main.commands[cmd].params if p.name == "backend").type
        assert tuple(choice.choices) == BACKEND_NAMES, cmd
    assert tuple(compare.STAGES) == BACKEND_NAMES
    assert set(compare.LABELS) == set(BACKEND_NAMES)


def test_unknown_backend_lists_the_names():
    with pytest.raises(ValueError, match="unknown backend 'coreml'; choose one of torch, onnx, tflite-float"):
        load_backend("coreml")


@pytest.mark.parametrize("name", [n for n, s in BACKENDS.items() if not s.shipped] or ["(all shipped)"])
def test_unshipped_model_says_how_to_make_it(name, monkeypatch):
    if name not in BACKENDS:
        pytest.skip("every backend has a shipped model")
    monkeypatch.setitem(BACKENDS, name, dataclasses.replace(BACKENDS[name], module="numpy"))  # runtime "installed"
    with pytest.raises(MissingModelError) as e:
        load_backend(name)
    msg = str(e.value)
    assert BACKENDS[name].asset in msg and "microalign convert" in msg and "\n" not in msg


def test_missing_runtime_names_package_and_extra(monkeypatch):
    spec = dataclasses.replace(BACKENDS["tflm"], module="microalign_no_such_runtime")
    monkeypatch.setitem(BACKENDS, "tflm", spec)
    assert "microalign_no_such_runtime" in spec.unavailable()
    match = r"microalign_no_such_runtime.*pip install tflite-micro; its wheels exist for x86-64 Linux only"
    with pytest.raises(BackendUnavailableError, match=match):
        load_backend("tflm")


def test_model_of_the_wrong_kind(tmp_path):
    if BACKENDS["tflm"].unavailable():
        pytest.skip(BACKENDS["tflm"].unavailable())
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_backend("tflm", tmp_path / "missing.tflite")
    (tmp_path / "model.onnx").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"needs a \.tflite model, got model\.onnx"):
        load_backend("tflm", tmp_path / "model.onnx")


def test_token_table_must_match_the_output_width(tmp_path):
    """A model whose recorded token table has another size than its output is refused, naming both."""
    if BACKENDS["tflm"].unavailable():
        pytest.skip(BACKENDS["tflm"].unavailable())
    from microalign.model.checkpoint import sidecar_path
    from microalign.text.tokens import TokenTable

    model = tmp_path / "student_int8.tflite"
    model.write_bytes(BACKENDS["tflm"].default_model().read_bytes())
    sidecar_path(model).write_text(json.dumps(TokenTable(tuple("abcde")).to_dict()))
    with pytest.raises(ValueError, match="scores 28 tokens per frame but its token table has 6"):
        load_backend("tflm", model)


def test_backend_window_checks(torch_backend):
    w = np.zeros((400, 40), np.int8)
    with pytest.raises(ValueError, match=r"\(400, 40\)"):
        torch_backend.run(w[:100])
    with pytest.raises(TypeError, match="int8"):
        torch_backend.run(w.astype(np.float32))
