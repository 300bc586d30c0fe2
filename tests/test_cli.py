"""The command line on the shipped model and sample: output formats parse back, bad input fails cleanly."""
import csv
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
    assert set(d) == {"audio", "duration", "words"}
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


def _cues(text):
    return re.findall(r"(\d\d):(\d\d):(\d\d)[,.](\d{3}) --> (\d\d):(\d\d):(\d\d)[,.](\d{3})\n(.+)", text)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_parse_back(aligned, fmt):
    js = json.loads(aligned["json"])["words"]
    cues = _cues(aligned[fmt])
    assert [c[8] for c in cues] == [w["word"] for w in js]
    h, m, s, ms = map(int, cues[3][:4])
    assert abs(h * 3600 + m * 60 + s + ms / 1000 - js[3]["start"]) < 1e-6
    if fmt == "vtt":
        assert aligned[fmt].startswith("WEBVTT\n")


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
    return [
        ([str(tmp / "missing.wav"), "--text", "hi"], "not found"),
        ([_write(tmp / "silence.wav", np.zeros(16000)), "--text", "hello"], "silent"),
        ([str(tmp / "garbage.wav"), "--text", "hi"], "cannot read audio"),
        ([str(tmp / "empty.wav"), "--text", "hi"], "cannot read audio"),
        ([str(SAMPLE), "--text", "  ... "], "empty"),
        ([str(SAMPLE), "--text", "你好"], "not in the token table"),
        ([_write(tmp / "short.wav", speech[:1600]), "--text", "this sentence is far too long for a tenth of a second"],
         "too long"),
        ([str(SAMPLE)], "exactly one of --text or --text-file"),
        ([str(SAMPLE), "--text-file", str(tmp / "nope.txt")], "not found"),
        ([str(SAMPLE), "--text", "hi", "--format", "docx"], "docx"),
    ]


def test_bad_input_one_line_error(runner, tmp_path):
    for args, needle in bad_inputs(tmp_path):
        r = runner.invoke(main, ["align", *args])
        assert r.exit_code != 0, args
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
        err = r.output.strip().splitlines()
        assert needle in r.output, (args, r.output)
        assert "Traceback" not in r.output


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
    for cmd in ([], ["align"], ["eval"], ["train"], ["prune"], ["data"], ["data", "consensus"]):
        r = subprocess.run([sys.executable, "-m", "microalign", *cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "Usage" in r.stdout, (cmd, r.stderr)
