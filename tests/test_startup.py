"""Start-up stays light: the CLI and the int8 alignment path import neither torch, TensorFlow nor
librosa, and the frontend tables computed without librosa are librosa's exactly.

(Timings are measured by ``eval/bench_startup.py``, a benchmark, not here.)"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
HEAVY = ("torch", "tensorflow", "librosa", "scipy", "numba", "onnx", "onnxruntime", "matplotlib", "pandas")


def _imported_after(code: str) -> list[str]:
    """Top-level packages of HEAVY that a fresh interpreter has imported after running ``code``."""
    prog = (f"import sys, json\n{code}\n"
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))")
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_cli_import_is_light():
    assert _imported_after("import microalign.cli") == []


def test_help_is_light():
    code = ("from microalign.cli import main\n"
            "for argv in (['--help'], ['align', '--help']):\n"
            "    try:\n        main(argv, standalone_mode=False)\n    except SystemExit:\n        pass")
    assert _imported_after(code) == []


def test_int8_alignment_imports_no_training_stack(tmp_path):
    out = tmp_path / "a.json"
    code = ("from microalign.cli import main\n"
            f"main(['align', {str(ASSETS / 'sample.wav')!r}, '--text-file', {str(ASSETS / 'sample.txt')!r}, "
            f"'-o', {str(out)!r}], standalone_mode=False)")
    assert _imported_after(code) == []
    d = json.loads(out.read_text())
    assert d["backend"] in ("tflm", "tflite") and len(d["words"]) > 20


def test_mel_table_is_librosas():
    librosa = pytest.importorskip("librosa")
    from microalign.frontend import features as F

    fb = librosa.filters.mel(sr=F.SAMPLE_RATE, n_fft=F.N_FFT, n_mels=F.N_MELS, fmin=F.F_MIN, fmax=F.F_MAX,
                             htk=True, norm=None)
    assert np.array_equal(F.MEL_Q12, np.round(fb * 4096.0).astype(np.int16))


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_resample_is_librosas_soxr_hq(sr):
    librosa = pytest.importorskip("librosa")
    from microalign.audio import resample

    x = (np.random.default_rng(sr).standard_normal(sr + 123) * 0.1).astype(np.float32)
    want = librosa.resample(x, orig_sr=sr, target_sr=16000, res_type="soxr_hq")
    assert np.array_equal(resample(x, sr), want)


def test_tflite_tokens_read_without_tflm():
    """The shipped int8 model's token table is read with the generic flatbuffers reader (no torch,
    no TFLM schema); it agrees with TFLite's generated schema, also on a model with embedded tokens."""
    pytest.importorskip("tflite_micro")
    from microalign.model import checkpoint as C
    from microalign.text import ENGLISH
    from microalign.text.model_file import tflite_metadata, tflite_tokens

    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    def schema_metadata(d: bytes) -> dict[str, bytes]:     # the same entries through TFLite's generated schema
        m = fb.Model.GetRootAs(d, 0)
        return {(m.Metadata(i).Name() or b"").decode(): bytes(m.Buffers(m.Metadata(i).Buffer()).DataAsNumpy())
                if m.Buffers(m.Metadata(i).Buffer()).DataLength() else b"" for i in range(m.MetadataLength())}

    data = (ASSETS / "student_int8.tflite").read_bytes()
    tagged = C.embed_tokens_metadata(data, ENGLISH)
    for d in (data, tagged):
        assert tflite_metadata(d) == schema_metadata(d)
    assert "microalign.tokens" in tflite_metadata(tagged)
    assert tflite_tokens(ASSETS / "student_int8.tflite") == C.tokens_for_model(ASSETS / "student_int8.tflite")
    with pytest.raises(ValueError, match="TFL3"):
        tflite_metadata(b"not a model at all")
    with pytest.raises(ValueError, match="corrupt"):
        tflite_metadata(data[:64])


def test_int8_alignment_skips_unused_runtime_parts(tmp_path):
    """The default backend's path loads TFLM's interpreter without the package's compression tools
    (PyYAML) and reads the version without importlib.metadata (the email package)."""
    pytest.importorskip("tflite_micro")
    out = tmp_path / "a.json"
    prog = ("import sys, json\nfrom microalign.cli import main\n"
            f"main(['align', {str(ASSETS / 'sample.wav')!r}, '--text-file', {str(ASSETS / 'sample.txt')!r}, "
            f"'--backend', 'tflm', '-o', {str(out)!r}], standalone_mode=False)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('yaml', 'email', 'tflite_micro'))))")
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    mods = json.loads(r.stdout.strip().splitlines()[-1])
    assert "tflite_micro.python.tflite_micro.runtime" in mods
    assert not [m for m in mods if m.startswith(("yaml", "email", "tflite_micro.tensorflow.lite.micro.compression"))]
    from importlib.metadata import version

    assert json.loads(out.read_text())["version"] == version("microalign")


def test_tflm_resource_variable_count_is_the_runtimes():
    pytest.importorskip("tflite_micro")
    from microalign.export.tflm import _runtime, count_resource_variables, load_tflm

    rt = _runtime()
    for name in ("student_int8.tflite", "student_device.tflite"):
        data = (ASSETS / name).read_bytes()
        assert count_resource_variables(data) == rt.count_resource_variables(data)
    interp = load_tflm((ASSETS / "student_int8.tflite").read_bytes())
    assert tuple(interp.get_input_details(0)["shape"])[0] == 1
    import tflite_micro                                    # the package itself is still whole when asked

    assert tflite_micro.compression.__name__.endswith("micro.compression") and tflite_micro.__version__
    assert tflite_micro.runtime is rt
