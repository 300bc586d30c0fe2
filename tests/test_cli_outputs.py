"""`microalign align` output traps: the format follows the -o extension, stdin, output paths checked
before the work, one-line write errors, run metadata in the JSON, a BOM, the offered backends."""
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from microalign.cli import main
from microalign.formats import FormatError, format_for

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
SAMPLE = ASSETS / "sample.wav"
TEXT = (ASSETS / "sample.txt").read_text(encoding="utf-8")
SHORT = "but in the twenty seventh"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the model is loaded: the error had to come before the work."""
    import microalign.runtime

    def boom(*a, **k):
        raise AssertionError("the model was loaded before the bad output was reported")

    monkeypatch.setattr(microalign.runtime, "load_backend", boom)


def _one_error(r) -> str:
    assert "Traceback" not in r.output and r.stdout == ""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    return lines[0]


# ----------------------------------------------------------------------------- format selection
@pytest.mark.parametrize("name,fmt", [("a.TextGrid", "textgrid"), ("a.textgrid", "textgrid"), ("a.JSON", "json"),
                                      ("a.jsonl", "jsonl"), ("a.CSV", "csv"), ("a.srt", "srt"), ("a.Vtt", "vtt")])
def test_format_for_extension(name, fmt):
    assert format_for(None, Path(name)) == fmt
    assert format_for(fmt.upper(), Path(name)) == fmt


def test_format_for_rules():
    assert format_for(None, None) == "json"
    assert format_for("TextGrid", None) == "textgrid"
    assert format_for("json", Path("out.txt")) == "json"          # an unknown extension: --format decides
    with pytest.raises(FormatError, match=r"--format json contradicts .*x\.TextGrid.*textgrid"):
        format_for("json", Path("x.TextGrid"))
    with pytest.raises(FormatError, match=r"out\.txt.*give --format"):
        format_for(None, Path("out.txt"))
    with pytest.raises(FormatError, match="'docx'"):
        format_for("docx", None)


def _parses_as(fmt: str, text: str, tmp_path) -> None:
    if fmt == "textgrid":
        from praatio import textgrid

        p = tmp_path / "check.TextGrid"
        p.write_text(text, encoding="utf-8")
        tg = textgrid.openTextgrid(str(p), includeEmptyIntervals=False)
        assert [e.label for e in tg.getTier("words").entries] == SHORT.split()
    elif fmt == "json":
        assert [w["word"] for w in json.loads(text)["words"]] == SHORT.split()
    elif fmt == "jsonl":
        lines = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        assert len(lines) >= len(SHORT.split())
    elif fmt == "csv":
        assert text.startswith("level,label,start,end,confidence\n")
    elif fmt == "srt":
        assert text.startswith("1\n00:00:00")
    elif fmt == "vtt":
        assert text.startswith("WEBVTT\n")


@pytest.mark.parametrize("name,fmt", [("o.TextGrid", "textgrid"), ("o.JSON", "json"), ("o.csv", "csv"),
                                      ("o.SRT", "srt"), ("o.vtt", "vtt")])
def test_output_extension_decides_the_format(runner, tmp_path, name, fmt):
    out = tmp_path / name
    r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT, "-o", str(out)])
    assert r.exit_code == 0, r.output
    _parses_as(fmt, out.read_text(encoding="utf-8"), tmp_path)


@pytest.mark.parametrize("spelling", ["TextGrid", "TEXTGRID", "textgrid"])
def test_format_option_any_case(runner, tmp_path, spelling):
    r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT, "--format", spelling])
    assert r.exit_code == 0, r.output
    _parses_as("textgrid", r.stdout, tmp_path)


def test_format_contradicting_extension_is_an_error_before_the_work(runner, tmp_path, no_work):
    out = tmp_path / "x.TextGrid"
    r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT, "--format", "json", "-o", str(out)])
    assert r.exit_code == 1
    assert "contradicts" in _one_error(r) and not out.exists()


# ----------------------------------------------------------------------------- output paths
def test_output_paths_checked_before_the_work(runner, tmp_path, no_work):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.json").mkdir()
    cases = [(tmp_path / "missing" / "o.json", "does not exist"),
             (tmp_path / "afile" / "o.json", "is not a directory"),
             (tmp_path / "adir.json", "is a directory")]
    for out, needle in cases:
        r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT, "-o", str(out)])
        assert r.exit_code == 1, (out, r.output)
        err = _one_error(r)
        assert needle in err and str(out) in err, err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_output_directory(runner, tmp_path, no_work):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT, "-o", str(d / "o.json")])
        assert r.exit_code == 1 and "permission denied" in _one_error(r)
    finally:
        d.chmod(0o700)


def test_missing_audio_reported_before_the_work(runner, tmp_path, no_work):
    r = runner.invoke(main, ["align", str(tmp_path / "nope.wav"), "--text", SHORT])
    assert r.exit_code == 1 and "audio file not found" in _one_error(r)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("where", ["file", "stdout"])
def test_write_error_is_one_line(tmp_path, where):
    """A full disk (/dev/full): one line on stderr, exit status 1, no traceback -- for -o and for stdout."""
    cmd = [sys.executable, "-m", "microalign", "align", str(SAMPLE), "--text", SHORT]
    if where == "file":
        r = subprocess.run(cmd + ["--format", "json", "-o", "/dev/full"], capture_output=True, text=True)
    else:
        with open("/dev/full", "w") as full:
            r = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == [lines[0]] and "No space left on device" in lines[0], r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr


# ----------------------------------------------------------------------------- transcript input
def test_transcript_from_stdin(runner):
    r = runner.invoke(main, ["align", str(SAMPLE), "--text-file", "-"], input=TEXT)
    assert r.exit_code == 0, r.output
    ref = runner.invoke(main, ["align", str(SAMPLE), "--text", TEXT])
    assert json.loads(r.stdout)["words"] == json.loads(ref.stdout)["words"]


@pytest.mark.parametrize("how", ["file", "text"])
def test_byte_order_mark_not_in_source(runner, tmp_path, how):
    if how == "file":
        p = tmp_path / "bom.txt"
        p.write_bytes(b"\xef\xbb\xbf" + SHORT.encode())
        args = ["--text-file", str(p)]
    else:
        args = ["--text", "\ufeff" + SHORT]
    r = runner.invoke(main, ["align", str(SAMPLE), *args])
    assert r.exit_code == 0, r.output
    words = json.loads(r.stdout)["words"]
    assert [w["source"] for w in words] == SHORT.split()
    assert "\ufeff" not in r.stdout


# ----------------------------------------------------------------------------- metadata, backends
def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_json_records_model_backend_version(runner):
    from microalign.cli._common import default_backend

    r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    backend = default_backend()
    assert backend in ("tflm", "tflite")                   # the default is the int8 model
    assert d["backend"] == backend
    assert d["model"] == {"name": "student_int8.tflite", "sha256": _sha256(ASSETS / "student_int8.tflite")}
    assert d["version"] == importlib.metadata.version("microalign")


def test_json_records_a_given_model(runner, tmp_path):
    pytest.importorskip("torch")
    r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT, "--backend", "TORCH"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["backend"] == "torch"
    assert d["model"] == {"name": "student.pt", "sha256": _sha256(ASSETS / "student.pt")}


def test_unshipped_backends_not_offered_but_kept_for_developers(runner):
    from microalign.cli._common import offered_backends
    from microalign.runtime import BACKENDS

    offered = offered_backends()
    assert "tflm" in offered and "tflite" in offered and "torch" in offered
    for name in ("onnx", "tflite-float"):
        assert (name in offered) == BACKENDS[name].shipped
        if not BACKENDS[name].shipped and not BACKENDS[name].unavailable():
            r = runner.invoke(main, ["align", str(SAMPLE), "--text", SHORT, "--backend", name])
            assert r.exit_code == 1 and "--model" in _one_error(r)      # accepted, says how to make a model


def test_default_backend_without_int8_runtime_names_what_to_install(monkeypatch):
    import dataclasses

    from microalign.cli._common import default_backend
    from microalign.runtime import BACKENDS, BackendUnavailableError

    for name in ("tflm", "tflite"):
        monkeypatch.setitem(BACKENDS, name, dataclasses.replace(BACKENDS[name], module="microalign_absent_runtime"))
    with pytest.raises(BackendUnavailableError, match="pip install tflite-micro.*ai-edge-litert"):
        default_backend()
