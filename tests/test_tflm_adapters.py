"""TFLite Micro built from source with the FA_ATTENTION adapter (tflm_app/tflm/), one build per test run.

The ``host_tflm`` fixture (tests/conftest.py) compiles the TFLM tree ($TFLM_ROOT, default
../shared/tflm/host) once into build/tflm; without a tree these tests skip naming TFLM_ROOT.

- ``fa_attention_test`` (KernelRunner, as TFLM's own kernel tests): the adapter equals the
  reference on every generated case and Prepare rejects what the kernel does not compute.
- Device models vs builtin-only models in the same TFLM: identical int8 outputs byte for byte —
  the shipped ``student_device.tflite`` against ``student_int8.tflite`` on the bundled sample, a tiny
  hand-built graph, and a wrong device model that must differ (the comparison can fail).
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from microalign.export import flatbuffer as fbk
from microalign.export import tflm_host

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
INT8 = ASSETS / "student_int8.tflite"
DEVICE = ASSETS / "student_device.tflite"


def _sample_windows(n: int) -> np.ndarray:
    from microalign.audio import load_audio
    from microalign.frontend import features_from_pcm

    f = features_from_pcm(load_audio(ASSETS / "sample.wav", quiet=True))
    starts = np.linspace(0, len(f) - 400, n).astype(int)
    return np.stack([f[s:s + 400] for s in starts])


def test_fa_attention_adapter_kernel_runner(host_tflm):
    from microalign.kernels import attention_oracle as ao

    p = subprocess.run([str(host_tflm.adapter_test)], capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    n_cases = len(ao.default_cases(seed=0, small=True))
    m = re.search(r"vectors: (\d+) of (\d+) cases equal the reference byte for byte", out)
    assert m and int(m.group(1)) == int(m.group(2)) == n_cases, out[-4000:]
    rejects = re.findall(r"prepare rejects: (.*)", out)
    assert len(rejects) == 8 and any("q_scale differs" in r for r in rejects), out[-4000:]
    assert "prepare accepts: repeated quantisation equal to the tensors'" in out
    assert len(re.findall(r"interpreter \S+: 0 bytes differ", out)) == 4, out[-4000:]
    m = re.search(r"PASS: 0 of (\d+) checks failed", out)
    assert m and int(m.group(1)) >= n_cases + 9 + 4, out[-4000:]


def test_shipped_device_model_equals_builtin_model_in_tflm(host_tflm):
    windows = _sample_windows(3)
    builtin, arena_b = tflm_host.run_windows(host_tflm, INT8, windows)
    device, arena_d = tflm_host.run_windows(host_tflm, DEVICE, windows)
    assert builtin.shape == (3, 400 * 28) and builtin.dtype == np.int8
    assert len(np.unique(builtin)) > 20                               # real scores, not a constant
    np.testing.assert_array_equal(device, builtin)
    assert arena_d < arena_b                                          # the point of fusing attention
    # and both equal what the PyPI TFLM runtime computes with the builtin model
    from microalign.export.tflm import load_tflm

    ip = load_tflm(INT8.read_bytes())
    for w, got in zip(windows, builtin):
        ip.set_input(w[None], 0)
        ip.invoke()
        np.testing.assert_array_equal(np.asarray(ip.get_output(0)).ravel(), got)


def test_device_check_in_tflm_passes_and_catches_a_wrong_device_model(host_tflm, tmp_path):
    from microalign.export.stages import ConversionError, check_device_model

    windows = _sample_windows(2)
    r = check_device_model(INT8, DEVICE, windows, tflm_root=host_tflm.root)
    assert r["method"] == "tflm" and r["fa_attention_ops"] == 4 and r["identical_bytes"] == 2 * 400 * 28
    m = fbk.load(DEVICE)
    op = next(o for o in m.subgraphs[0].operators if fbk.custom_code(m, o) == fbk.FA_ATTENTION)
    opts = fbk.custom_options(op)
    fbk.set_custom_options(op, {**opts, "s_scale": opts["s_scale"] * 1.5})
    bad = tmp_path / "bad_device.tflite"
    bad.write_bytes(fbk.save(m, 1 << 18))
    with pytest.raises(ConversionError, match="differs from student_int8.tflite in TFLM"):
        check_device_model(INT8, bad, windows, tflm_root=host_tflm.root)
    # options that contradict a tensor's quantisation: Prepare refuses the model
    fbk.set_custom_options(op, {**opts, "q_zp": 77})
    bad.write_bytes(fbk.save(m, 1 << 18))
    with pytest.raises(tflm_host.TFLMHostError, match="AllocateTensors failed"):
        tflm_host.run_windows(host_tflm, bad, windows)


def test_tiny_graph_device_model_equals_builtin_in_tflm(host_tflm):
    from test_surgery import tiny_attention_model

    from microalign.export.surgery import device_flatbuffer

    rng = np.random.default_rng(0)
    for kw in ({}, {"q_mul": False}, {"s_mul": False}):
        src = tiny_attention_model(log_softmax=False, **kw)
        # ma_tflm_run feeds input 0 only: make q, k, v constants of the builtin and device graphs
        m = fbk.load(src)
        sg = m.subgraphs[0]
        for t in list(sg.inputs)[1:]:
            b = fbk.schema().BufferT()
            b.data = rng.integers(-128, 128, 2 * 6 * 4).astype(np.int8).view(np.uint8)
            m.buffers.append(b)
            sg.tensors[int(t)].buffer = len(m.buffers) - 1
        sg.inputs = np.asarray(list(sg.inputs)[:1], np.int32)
        sg.outputs = np.asarray(list(sg.outputs)[1:], np.int32)     # the attention output
        builtin = fbk.save(m)
        res = device_flatbuffer(builtin)
        assert res.attention_fused == 1
        x = rng.integers(-128, 128, (1, 1, 10, 28)).astype(np.int8)
        out_b, _ = tflm_host.run_windows(host_tflm, builtin, x)
        out_d, _ = tflm_host.run_windows(host_tflm, res.data, x)
        assert len(np.unique(out_b)) > 3
        np.testing.assert_array_equal(out_d, out_b)


def test_missing_tree_is_reported_naming_tflm_root(monkeypatch, tmp_path):
    monkeypatch.setenv("TFLM_ROOT", str(tmp_path))
    with pytest.raises(ValueError, match="TFLM_ROOT=.*create_tflm_tree.py"):
        tflm_host.find_tflm_root()
