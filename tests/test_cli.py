"""The command line on the shipped model and sample: output formats parse back, bad input fails cleanly."""
import csv
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from microalign.cli import main

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
SAMPLE = ASSETS / "sample.wav"
TEXT = (ASSETS / "sample.txt").read_text()


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def aligned(runner):
    out = {}
    for fmt in ("json", "textgrid", "srt", "vtt", "csv"):
        r = runner.invoke(main, ["align", str(SAMPLE), "--text", TEXT, "--format", fmt])
        assert r.exit_code == 0, r.output
        out[fmt] = r.stdout
    return out


def test_json_schema_and_sanity(aligned):
    d = json.loads(aligned["json"])
    assert list(d)[:3] == ["version", "backend", "model"]
    assert set(d) == {"version", "backend", "model", "audio", "duration", "score", "warnings", "words"}
    assert d["warnings"] == [] and 0.5 < d["score"] <= 1     # a correct recording: no warning
    words = d["words"]
    assert [w["word"] for w in words][:6] == ["but", "in", "the", "twenty", "seventh", "george"]
    assert words[-1]["source"] == "£10,500."
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    for w in words:
        assert 0 <= w["start"] < w["end"] <= d["duration"] + 1e-6
        assert 0 < w["confidence"] <= 1
        assert "".join(c["char"] for c in w["chars"]) == w["word"]
        assert w["chars"][0]["start"] == w["start"] and w["chars"][-1]["end"] == w["end"]
    # the sample has speech from the first to the last second: words spread over it
    assert words[0]["start"] < 1.0 and words[-1]["end"] > d["duration"] - 1.5


def test_textgrid_parses_with_praatio(aligned, tmp_path):
    from praatio import textgrid

    p = tmp_path / "a.TextGrid"
    p.write_text(aligned["textgrid"])
    tg = textgrid.openTextgrid(str(p), includeEmptyIntervals=False)
    js = json.loads(aligned["json"])["words"]
    words = tg.getTier("words").entries
    assert [e.label for e in words] == [w["word"] for w in js]
    assert [round(e.start, 3) for e in words] == [w["start"] for w in js]
    assert len(tg.getTier("chars").entries) == sum(len(w["chars"]) for w in js)
    # the transcript's own tokens, spelling and punctuation kept, each spanning its spoken words
    src = tg.getTier("transcript").entries
    assert " ".join(e.label for e in src) == " ".join(TEXT.split())
    last = [w for w in js if w["source"] == "£10,500."]
    assert src[-1].label == "£10,500." and len(last) > 1
    assert (round(src[-1].start, 3), round(src[-1].end, 3)) == (last[0]["start"], last[-1]["end"])


def _cues(text):
    return re.findall(r"(\d\d):(\d\d):(\d\d)[,.](\d{3}) --> (\d\d):(\d\d):(\d\d)[,.](\d{3})\n(.+)", text)


def _sec(h, m, s, ms):
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_are_phrases_in_the_transcripts_words(aligned, fmt):
    js = json.loads(aligned["json"])["words"]
    cues = _cues(aligned[fmt])
    text = [re.sub(r"<[^>]+>", "", c[8]) for c in cues]
    # the transcript as written (not the normalised words), cut into phrases, not one cue per word
    assert " ".join(text) == " ".join(TEXT.split())
    assert 1 < len(cues) < len(js) // 2
    assert _sec(*cues[0][:4]) == js[0]["start"] and _sec(*cues[-1][4:8]) == js[-1]["end"]
    for c, d in zip(cues, cues[1:]):          # a cue ends at punctuation or before a pause
        assert c[8].endswith((".", ",", ";", ":", "!", "?")) or _sec(*d[:4]) - _sec(*c[4:8]) >= 0.3 - 1e-9
    if fmt == "vtt":
        assert aligned[fmt].startswith("WEBVTT\n")
        # karaoke: every word after a cue's first is preceded by its start time
        tags = [t for c in cues for t in re.findall(r"<(\d\d):(\d\d):(\d\d)\.(\d{3})>", c[8])]
        firsts = {_sec(*c[:4]) for c in cues}
        starts = [w["start"] for w in js if w["start"] not in firsts]
        assert len(tags) == len(TEXT.split()) - len(cues)
        assert all(any(abs(_sec(*t) - s) < 1e-6 for s in starts) for t in tags)
        secs = [_sec(*t) for t in tags]
        assert secs == sorted(secs)
    else:
        assert "<" not in aligned[fmt]


def test_csv_parses_back(aligned):
    rows = list(csv.DictReader(io.StringIO(aligned["csv"])))
    js = json.loads(aligned["json"])["words"]
    assert [r["label"] for r in rows if r["level"] == "word"] == [w["word"] for w in js]
    assert sum(r["level"] == "char" for r in rows) == sum(len(w["chars"]) for w in js)


def test_output_file(runner, tmp_path):
    out = tmp_path / "o.json"
    r = runner.invoke(main, ["align", str(SAMPLE), "--text", "but in the", "-o", str(out)])
    assert r.exit_code == 0 and json.loads(out.read_text())["words"][0]["word"] == "but"


def _write(path, audio, sr=16000):
    sf.write(str(path), audio, sr)
    return str(path)


def bad_inputs(tmp):
    rng = np.random.default_rng(0)
    speech, _ = sf.read(str(SAMPLE), dtype="float32")
    (tmp / "garbage.wav").write_bytes(b"RIFF not really a wav file")
    (tmp / "empty.wav").write_bytes(b"")
    (tmp / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    # (arguments, text the one error line must hold, exit status: 1 bad input, 2 bad usage)
    return [
        ([str(tmp / "missing.wav"), "--text", "hi"], "not found", 1),
        ([_write(tmp / "silence.wav", np.zeros(16000)), "--text", "hello"], "silent", 1),
        ([str(tmp / "garbage.wav"), "--text", "hi"], "cannot read audio", 1),
        ([str(tmp / "empty.wav"), "--text", "hi"], "cannot read audio", 1),
        ([str(SAMPLE), "--text", "  ... "], "empty", 1),
        ([str(SAMPLE), "--text", "你好"], "not in the token table", 1),
        ([_write(tmp / "short.wav", speech[:1600]), "--text", "this sentence is far too long for a tenth of a second"],
         "too long", 1),
        ([str(SAMPLE), "--text-file", str(tmp / "nope.txt")], "not found", 1),
        ([str(SAMPLE), "--text-file", str(tmp / "latin1.txt")], "not UTF-8", 1),
        ([str(SAMPLE), "--text", "hi", "--model", str(tmp / "none.pt")], "none.pt", 1),
        ([str(SAMPLE), "--text", "hi", "--backend", "tflm", "--model", str(tmp / "garbage.wav")], ".tflite", 1),
        ([str(SAMPLE)], "exactly one of --text or --text-file", 2),
        ([str(SAMPLE), "--text", "hi", "--format", "docx"], "docx", 2),
        ([str(SAMPLE), "--text", "hi", "--backend", "coreml"], "coreml", 2),
    ]


def _error_line(r) -> str:
    """The one ``Error: ...`` line of a failed run; nothing on stdout, no traceback."""
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.stdout == "", r.stdout
    assert "Traceback" not in r.output
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, r.stderr
    return errors[0]


def test_bad_input_one_line_error(runner, tmp_path):
    for args, needle, status in bad_inputs(tmp_path):
        if "tflm" in args and importlib.util.find_spec("tflite_micro") is None:
            continue
        r = runner.invoke(main, ["align", *args])
        assert r.exit_code == status, (args, r.exit_code, r.output)
        err = _error_line(r)
        assert needle in err, (args, err)
        if status == 1:   # bad input: the message alone, no usage block
            assert r.stderr.strip() == err, (args, r.stderr)


def test_missing_backend_runtime_is_one_line(runner, monkeypatch):
    import dataclasses

    from microalign.runtime import BACKENDS

    monkeypatch.setitem(BACKENDS, "tflm", dataclasses.replace(BACKENDS["tflm"], module="microalign_no_such_runtime"))
    r = runner.invoke(main, ["align", str(SAMPLE), "--text", "but", "--backend", "tflm"])
    assert r.exit_code == 1
    assert "microalign_no_such_runtime" in _error_line(r) and "pip install tflite-micro" in r.stderr


def test_unshipped_backend_model_says_how_to_make_it(runner, monkeypatch):
    import dataclasses

    from microalign.runtime import BACKENDS

    spec = dataclasses.replace(BACKENDS["onnx"], module="numpy", asset="student_not_shipped.onnx")
    monkeypatch.setitem(BACKENDS, "onnx", spec)
    r = runner.invoke(main, ["align", str(SAMPLE), "--text", "but", "--backend", "onnx"])
    assert r.exit_code == 1
    err = _error_line(r)
    assert "student_not_shipped.onnx" in err and "microalign convert" in err and "--model" in err


def test_convert_without_its_extra_names_it(runner, monkeypatch, tmp_path):
    from microalign.cli import convert_cmd

    monkeypatch.setattr(convert_cmd, "CONVERT_MODULES", ("microalign_no_such_converter",))
    r = runner.invoke(main, ["convert", "--calibration", str(tmp_path), "-o", str(tmp_path / "out")])
    assert r.exit_code == 1
    err = _error_line(r)
    assert "microalign_no_such_converter" in err and "microalign[convert]" in err
    assert not (tmp_path / "out").exists()


def test_data_label_is_a_click_command(runner, tmp_path):
    r = runner.invoke(main, ["data", "label"])                      # no corpus: usage error, not the help
    assert r.exit_code == 2 and "Missing argument" in _error_line(r) and "Options:" not in r.output
    r = runner.invoke(main, ["data", "label", "wav=/x:/y.jsonl"])
    assert r.exit_code == 2 and "unknown corpus 'wav'" in _error_line(r)
    r = runner.invoke(main, ["data", "label", "timit/x.jsonl"])
    assert r.exit_code == 2 and "expected CORPUS=ROOT:OUT.jsonl" in _error_line(r)
    out = tmp_path / "t.jsonl"
    r = runner.invoke(main, ["data", "label", f"timit={tmp_path / 'no_timit'}:{out}"])
    assert r.exit_code == 1 and "no_timit" in _error_line(r)
    assert not out.exists()
    r = runner.invoke(main, ["data", "label", "--help"])
    assert r.exit_code == 0 and "CORPUS=ROOT:OUT.jsonl" in r.stdout and "--teacher" in r.stdout


def test_resampled_stereo_input_is_converted(runner, tmp_path):
    import librosa

    x, _ = sf.read(str(SAMPLE), dtype="float32")
    y = librosa.resample(x, orig_sr=16000, target_sr=44100)
    p = _write(tmp_path / "stereo44k.wav", np.stack([y, y], 1), 44100)
    r = runner.invoke(main, ["align", p, "--text", TEXT])
    assert r.exit_code == 0
    assert "resampled from 44100 Hz" in r.stderr and "mixed down to mono" in r.stderr
    a = json.loads(r.stdout)["words"]
    b = json.loads(runner.invoke(main, ["align", str(SAMPLE), "--text", TEXT]).stdout)["words"]
    assert np.mean([abs(u["start"] - v["start"]) for u, v in zip(a, b)]) < 0.03


def test_help_everywhere():
    from microalign.cli._common import offered_backends

    cmds = ([], ["align"], ["eval"], ["train"], ["prune"], ["data"], ["data", "synth"], ["data", "label"],
            ["data", "consensus"], ["convert"], ["headers"])
    for cmd in cmds:
        r = subprocess.run([sys.executable, "-m", "microalign", *cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.startswith(f"Usage: python -m microalign {' '.join(cmd)}".rstrip()), \
            (cmd, r.stdout[:200], r.stderr)
        if cmd == ["align"]:
            assert all(name in r.stdout for name in offered_backends())
            assert "onnx" not in r.stdout and "tflite-float" not in r.stdout   # their models do not ship
    top = subprocess.run([sys.executable, "-m", "microalign", "--help"], capture_output=True, text=True).stdout
    for name in ("align", "eval", "train", "prune", "data", "convert", "headers"):
        assert f"  {name} " in top, name
