"""TFLM adapters (tflm_app/kernels/tflm/): FA_DECODE and FA_ATTENTION run through a real
MicroInterpreter equal the plain C kernels byte for byte.

Needs a tflite-micro source tree in TFLM_ROOT (with flatbuffers headers, version pinned by its
schema, in $TFLM_ROOT/third_party/flatbuffers/include or FLATBUFFERS_INC) and g++ with ASan.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tflm_root() -> Path:
    root = os.environ.get("TFLM_ROOT")
    if not root:
        pytest.skip("TFLM_ROOT not set: point it at a tflite-micro source tree to build and "
                    "test the FA_DECODE / FA_ATTENTION adapters (TFLM is not on any registry)")
    path = Path(root)
    if not (path / "tensorflow/lite/micro/micro_interpreter.h").is_file():
        pytest.skip(f"TFLM_ROOT={root} is not a tflite-micro tree (no tensorflow/lite/micro)")
    return path


def test_tflm_adapters_match_c_kernels(tmp_path):
    root = _tflm_root()
    if shutil.which("g++") is None or shutil.which("make") is None:
        pytest.skip("g++ / make not installed")
    build = Path(os.environ.get("MA_TFLM_BUILD", tmp_path / "tflm"))
    cmd = ["nice", "-n", "19", "make", "-f", str(REPO / "tflm_app/Makefile.tflm"),
           f"TFLM_ROOT={root}", f"BUILD={build}", f"-j{os.environ.get('MA_TFLM_JOBS', '1')}", "test"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600)
    out = proc.stdout[-6000:] + proc.stderr[-6000:]
    assert proc.returncode == 0, out
    assert "PASS: 0 failed checks" in proc.stdout, out
    assert proc.stdout.count("FA_ATTENTION") >= 3 and " 0 bytes differ" in proc.stdout, out


def test_tflm_fa_decode_matches_numpy_reference(tmp_path):
    """FA_DECODE in a MicroInterpreter equals microalign.decode.viterbi_align_int."""
    root = _tflm_root()
    import numpy as np

    from microalign.decode.viterbi_int import viterbi_align_int

    build = Path(os.environ.get("MA_TFLM_BUILD", tmp_path / "tflm"))
    proc = subprocess.run(["nice", "-n", "19", "make", "-f", str(REPO / "tflm_app/Makefile.tflm"),
                           f"TFLM_ROOT={root}", f"BUILD={build}", "all"],
                          cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rng = np.random.default_rng(4)
    cases = [(60, [[3, 4], [5]], 0, 0), (120, [[1, 1, 1], [20, 9], [7, 7, 2, 14]], 3, 0),
             (9, [[2, 3, 4, 5, 6, 7, 8, 9, 10]], 0, 0), (300, [[k % 27 + 1 for k in range(j, j + 5)] for j in range(12)], -2, 16)]
    for T, words, pen, band in cases:
        V = 28
        scores = rng.integers(-128, 1, size=(T, V)).astype(np.int8)
        ids = [t for w in words for t in w]
        cmax, nmax = len(ids) + 3, len(words) + 2
        hdr = np.array([T, V, cmax, nmax, pen, band, 64], np.int32)
        blob = (hdr.tobytes() + scores.tobytes() + np.array(ids + [0] * 3, np.int32).tobytes()
                + np.array([len(w) for w in words] + [0, 0], np.int32).tobytes())
        (tmp_path / "in.bin").write_bytes(blob)
        rc = subprocess.run([str(build / "fa_ops_test"), "decode", str(tmp_path / "in.bin"),
                             str(tmp_path / "out.bin")], capture_output=True, text=True)
        assert rc.returncode == 0, rc.stdout + rc.stderr
        out = np.frombuffer((tmp_path / "out.bin").read_bytes(), np.int32)
        ref = viterbi_align_int(scores, words, silence_penalty=pen, band=band)
        n, c = len(words), len(ids)
        assert out[0] == 0 and out[1] == ref.score
        ws = out[2:2 + 4 * nmax].reshape(nmax, 4)
        np.testing.assert_array_equal(ws[:n, :2], ref.word_spans)
        np.testing.assert_array_equal(ws[:n, 2], ref.word_score_sum)
        np.testing.assert_array_equal(ws[:n, 3], ref.word_frames)
        assert (ws[n:] == -1).all()
        ts = out[2 + 4 * nmax:].reshape(cmax, 2)
        np.testing.assert_array_equal(ts[:c], ref.token_spans)
        assert (ts[c:] == -1).all()


def test_tflm_runs_surgery_output(tmp_path):
    """The surgery's device flatbuffer (FA_ATTENTION + FA_DECODE, options in flexbuffers) loads,
    prepares and runs in a real MicroInterpreter."""
    root = _tflm_root()
    pytest.importorskip("tflite_micro")
    from test_surgery import tiny_attention_model

    from microalign.export.surgery import device_flatbuffer

    build = Path(os.environ.get("MA_TFLM_BUILD", tmp_path / "tflm"))
    proc = subprocess.run(["nice", "-n", "19", "make", "-f", str(REPO / "tflm_app/Makefile.tflm"),
                           f"TFLM_ROOT={root}", f"BUILD={build}", "all"],
                          cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    res = device_flatbuffer(tiny_attention_model(log_softmax=False), max_tokens=6, max_words=3)
    assert res.attention_fused == 1
    (tmp_path / "device.tflite").write_bytes(res.data)
    run = subprocess.run([str(build / "fa_ops_test"), "run", str(tmp_path / "device.tflite")],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "RUN OK" in run.stdout and "status=0" in run.stdout, run.stdout + run.stderr
